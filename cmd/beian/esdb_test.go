package main

import (
	"strings"
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

// TestAuditOnEventStoreDB: `beian audit` reads and checkpoints the log
// where the service keeps it, here EventStoreDB, not only the embedded file.
func TestAuditOnEventStoreDB(t *testing.T) {
	peer, err := esdbtest.Start(esdbtest.MaxAppendSize(4 << 20))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(peer.Stop)
	data := t.TempDir()
	p := startWith(t, config{Data: data, Dev: true, EventStore: peer.URL()})
	id, _, _ := fillFiling(t, p.actors("acct-esdb-audit"))

	on := []string{"--data", data, "--event-store", peer.URL()}
	if out, code := beian(t, append([]string{"audit", "replay", id, "--json"}, on...)...); code != 0 || !strings.Contains(out, `"status": "submitted"`) ||
		!strings.Contains(out, "示例科技") {
		t.Fatalf("replay from EventStoreDB, personal data opened with keys.db (exit %d):\n%s", code, out)
	}
	if out, code := beian(t, append([]string{"audit", "checkpoint"}, on...)...); code != 0 || !strings.Contains(out, "root") {
		t.Fatalf("checkpoint (exit %d): %s", code, out)
	}
	if out, code := beian(t, append([]string{"audit", "verify", id}, on...)...); code != 0 || !strings.Contains(out, "verified") {
		t.Fatalf("verify (exit %d): %s", code, out)
	}
	if out, code := beian(t, append([]string{"audit", "verify", "--all"}, on...)...); code != 0 || !strings.Contains(out, "checkpoints") {
		t.Fatalf("verify --all (exit %d): %s", code, out)
	}
	// The embedded log of the same data directory is empty: the commands
	// above did not read it.
	if out, code := beian(t, "audit", "verify", id, "--data", data); code == 0 {
		t.Fatalf("verify on the empty embedded log passed: %s", out)
	}
}
