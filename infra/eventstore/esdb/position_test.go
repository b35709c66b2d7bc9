package esdb_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/infra/eventstore/esdb"
	"github.com/beian/beian/infra/eventstore/esdb/esdbtest"
	"github.com/beian/beian/infra/eventstore/eventstoretest"
)

// TestMetadataOnTheWire: the event id is the ESDB event id, our metadata
// is the event's custom metadata as JSON, the content type is JSON, and
// RecordedAt is the server's "created", on every way of reading.
func TestMetadataOnTheWire(t *testing.T) {
	created := time.Date(2026, 5, 4, 3, 2, 1, 123456700, time.UTC) // .NET ticks are 100 ns
	p := startPeer(t, esdbtest.Clock(func() time.Time { return created }))
	s := open(t, esdb.Config{URL: p.URL()})
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e := eventstoretest.Event("filing.type_verified.v1", "m")
	e.Metadata = eventstore.Metadata{
		SchemaVersion: 2, ActorAccount: "acct-9", ActorRole: "reviewer", CommandID: uuid.NewString(), CommandHash: "h1",
		CorrelationID: uuid.NewString(), CausationID: uuid.NewString(), OccurredAt: time.Date(2026, 5, 4, 3, 0, 0, 987654321, time.UTC),
		PrevHash: "prev", Hash: "hash",
	}
	st := "filing-" + uuid.NewString()
	res, err := s.Append(ctx, st, eventstore.NoStream(), []eventstore.EventData{e})
	if err != nil {
		t.Fatal(err)
	}

	stored := p.Events()
	wire := stored[len(stored)-1]
	var onWire eventstore.Metadata
	if err := json.Unmarshal(wire.Metadata, &onWire); err != nil {
		t.Fatalf("custom metadata is not our JSON: %q: %v", wire.Metadata, err)
	}
	if wire.ID.String() != e.ID || wire.Type != e.Type || wire.ContentType != "application/json" || !bytes.Equal(wire.Data, e.Data) || wire.Stream != st {
		t.Fatalf("on the wire: %+v", wire)
	}
	if !onWire.OccurredAt.Equal(e.Metadata.OccurredAt) {
		t.Fatalf("occurred at %v on the wire", onWire.OccurredAt)
	}

	check := func(how string, g eventstore.RecordedEvent) {
		t.Helper()
		if g.ID != e.ID || g.Type != e.Type || !bytes.Equal(g.Data, e.Data) || g.Stream != st || g.Revision != 0 || g.Position != res.Position {
			t.Fatalf("%s: %+v", how, g)
		}
		if !g.RecordedAt.Equal(created) || g.RecordedAt.Location() != time.UTC {
			t.Fatalf("%s: recorded at %v, want the server's %v", how, g.RecordedAt, created)
		}
		if !g.Metadata.OccurredAt.Equal(e.Metadata.OccurredAt) {
			t.Fatalf("%s: occurred at %v", how, g.Metadata.OccurredAt)
		}
		g.Metadata.OccurredAt = e.Metadata.OccurredAt
		if g.Metadata != e.Metadata {
			t.Fatalf("%s: metadata\n got %+v\nwant %+v", how, g.Metadata, e.Metadata)
		}
	}
	byStream, err := s.ReadStream(ctx, st, 0, 1)
	if err != nil || len(byStream) != 1 {
		t.Fatalf("read stream: %v", err)
	}
	check("ReadStream", byStream[0])
	all, err := s.ReadAll(ctx, 0, 10)
	if err != nil || len(all) != 1 {
		t.Fatalf("read $all: %d events, %v (system events must be left out)", len(all), err)
	}
	check("ReadAll", all[0])
	sub, err := s.SubscribeAll(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	m, err := sub.Recv()
	if err != nil || m.Event == nil {
		t.Fatalf("subscription: %+v, %v", m, err)
	}
	check("SubscribeAll", *m.Event)
}

// TestPositions: positions are the adapter's own (even, with gaps), and
// both p and p+1 work as "from" and "after", which a server would refuse
// if the adapter passed p+1 through as a byte offset.
func TestPositions(t *testing.T) {
	p := startPeer(t)
	s := open(t, esdb.Config{URL: p.URL()})
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if head, err := s.Head(ctx); err != nil || head != 0 {
		t.Fatalf("head of a store with only system events: %d, %v", head, err)
	}
	var res []eventstore.AppendResult
	for i := range 6 {
		r, err := s.Append(ctx, "filing-"+uuid.NewString(), eventstore.NoStream(), []eventstore.EventData{eventstoretest.Event("t.v1", "x")})
		if err != nil {
			t.Fatal(err)
		}
		res = append(res, r)
		if i%2 == 0 { // system events between ours, more than a page can hide
			for range 3 {
				p.AppendSystemEvent("$stats-127.0.0.1:2113", "$statsCollected")
			}
		}
	}
	p.AppendSystemEvent("$settings", "$settings") // and after the last
	for i, r := range res {
		if r.Position%2 != 0 || r.Position < 2 || (i > 0 && r.Position <= res[i-1].Position+1) {
			t.Fatalf("positions %+v: want even, increasing, with gaps", res)
		}
	}
	head, err := s.Head(ctx)
	if err != nil || head != res[5].Position {
		t.Fatalf("head %d, %v; last event at %d", head, err, res[5].Position)
	}
	for _, tc := range []struct {
		from  uint64
		limit int
		want  []uint64
	}{
		{0, 100, positions(res)},
		{0, 2, positions(res[:2])},
		{res[2].Position, 2, positions(res[2:4])},
		{res[2].Position + 1, 2, positions(res[3:5])},
		{res[5].Position + 1, 10, nil},
	} {
		page, err := s.ReadAll(ctx, tc.from, tc.limit)
		if err != nil {
			t.Fatalf("ReadAll(%d, %d): %v", tc.from, tc.limit, err)
		}
		if got := positionsOf(page); !equal(got, tc.want) {
			t.Fatalf("ReadAll(%d, %d) = %v, want %v", tc.from, tc.limit, got, tc.want)
		}
	}
	for _, after := range []uint64{res[3].Position, res[3].Position + 1} {
		sub, err := s.SubscribeAll(ctx, after)
		if err != nil {
			t.Fatal(err)
		}
		var got []uint64
		for {
			m, err := sub.Recv()
			if err != nil {
				t.Fatal(err)
			}
			if m.CaughtUp {
				break
			}
			got = append(got, m.Event.Position)
		}
		sub.Close()
		if !equal(got, positions(res[4:])) {
			t.Fatalf("SubscribeAll(%d) delivered %v, want %v", after, got, positions(res[4:]))
		}
	}
}

func positions(rs []eventstore.AppendResult) []uint64 {
	var out []uint64
	for _, r := range rs {
		out = append(out, r.Position)
	}
	return out
}

func positionsOf(es []eventstore.RecordedEvent) []uint64 {
	var out []uint64
	for _, e := range es {
		out = append(out, e.Position)
	}
	return out
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
