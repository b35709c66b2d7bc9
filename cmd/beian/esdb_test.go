package main

import (
	"testing"

	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/infra/eventstore/esdb/esdbtest"
)

// TestServeOnEventStoreDB runs a filing to submission with the log in
// EventStoreDB (an in-process peer speaking its gRPC protocol: no server
// runs here) and checks the read models and the hash chain on it.
func TestServeOnEventStoreDB(t *testing.T) {
	peer, err := esdbtest.Start(esdbtest.MaxAppendSize(4 << 20))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(peer.Stop) // after the service's own cleanup: it closes first
	p := startWith(t, config{Data: t.TempDir(), Dev: true, EventStore: peer.URL()})
	a := p.actors("acct-esdb")
	id, _, pos := fillFiling(t, a)
	progress(a.applicant, id, pos) // read back through the projections
	events, err := p.svc.log.ReadStream(t.Context(), "filing-"+id, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eventstore.VerifyChain(events); err != nil {
		t.Fatalf("hash chain in EventStoreDB: %v", err)
	}
}
