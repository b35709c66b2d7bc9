// Package eventstoretest is the conformance suite of the event-store port,
// in the style of watermill's pubsub/tests: every adapter runs it.
package eventstoretest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beian/beian/infra/eventstore"
	"github.com/google/uuid"
)

// Features describes an adapter to the suite.
type Features struct {
	// New returns an empty store; the suite closes it.
	New func(t *testing.T) eventstore.Store
	// Reopen closes a store and opens it again on the same storage, for the
	// durability test; nil when the adapter has no such notion.
	Reopen func(t *testing.T, s eventstore.Store) eventstore.Store
	// Concurrency is the number of racing writers; default 64.
	Concurrency int
}

// Run runs every conformance test.
func Run(t *testing.T, f Features) {
	if f.Concurrency == 0 {
		f.Concurrency = 64
	}
	tests := []struct {
		name string
		fn   func(*testing.T, Features)
	}{
		{"ExpectedRevision", testExpectedRevision},
		{"ConflictErrorCarriesContext", testConflictError},
		{"ReadStream", testReadStream},
		{"ReadAll", testReadAll},
		{"MetadataRoundTrip", testMetadata},
		{"RacingWriters", testRacingWriters},
		{"IdempotentAppend", testIdempotentAppend},
		{"CatchUpThenLive", testCatchUpThenLive},
		{"ResumeFromCheckpoint", testResume},
		{"LargeEvents", testLargeEvents},
		{"Unicode", testUnicode},
		{"Cancellation", testCancellation},
		{"InvalidAppend", testInvalidAppend},
		{"Reopen", testReopen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, f)
		})
	}
}

func newStore(t *testing.T, f Features) eventstore.Store {
	t.Helper()
	s := f.New(t)
	t.Cleanup(func() { s.Close() })
	return s
}

// Event builds an event with a fresh id and a recognisable payload.
func Event(typ string, payload string) eventstore.EventData {
	return eventstore.EventData{
		ID: uuid.NewString(), Type: typ, Data: []byte(fmt.Sprintf(`{"p":%q}`, payload)),
		Metadata: eventstore.Metadata{SchemaVersion: 1, OccurredAt: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)},
	}
}

func stream(t *testing.T) string { return "filing-" + uuid.NewString() }

func mustAppend(t *testing.T, s eventstore.Store, stream string, exp eventstore.ExpectedRevision, events ...eventstore.EventData) eventstore.AppendResult {
	t.Helper()
	r, err := s.Append(context.Background(), stream, exp, events)
	if err != nil {
		t.Fatalf("append to %s expecting %s: %v", stream, exp, err)
	}
	return r
}

func testExpectedRevision(t *testing.T, f Features) {
	s := newStore(t, f)
	ctx := context.Background()
	st := stream(t)
	if _, err := s.Append(ctx, st, eventstore.Exact(0), []eventstore.EventData{Event("t.v1", "x")}); !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("exact 0 on a new stream: want conflict, got %v", err)
	}
	r := mustAppend(t, s, st, eventstore.NoStream(), Event("t.v1", "a"), Event("t.v1", "b"))
	if r.Revision != 1 {
		t.Fatalf("two events on a new stream end at revision %d, want 1", r.Revision)
	}
	if _, err := s.Append(ctx, st, eventstore.NoStream(), []eventstore.EventData{Event("t.v1", "x")}); !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("no stream on an existing stream: want conflict, got %v", err)
	}
	if _, err := s.Append(ctx, st, eventstore.Exact(0), []eventstore.EventData{Event("t.v1", "x")}); !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("stale exact revision: want conflict, got %v", err)
	}
	r = mustAppend(t, s, st, eventstore.Exact(1), Event("t.v1", "c"))
	if r.Revision != 2 {
		t.Fatalf("revision %d, want 2", r.Revision)
	}
	r = mustAppend(t, s, st, eventstore.Any(), Event("t.v1", "d"))
	if r.Revision != 3 {
		t.Fatalf("revision %d, want 3", r.Revision)
	}
	r = mustAppend(t, s, stream(t), eventstore.Any(), Event("t.v1", "e"))
	if r.Revision != 0 {
		t.Fatalf("any on a new stream: revision %d, want 0", r.Revision)
	}
	events, err := s.ReadStream(ctx, st, 0, 100)
	if err != nil || len(events) != 4 {
		t.Fatalf("read %d events, %v; conflicting appends must write nothing", len(events), err)
	}
}

func testConflictError(t *testing.T, f Features) {
	s := newStore(t, f)
	st := stream(t)
	mustAppend(t, s, st, eventstore.NoStream(), Event("t.v1", "a"))
	_, err := s.Append(context.Background(), st, eventstore.Exact(5), []eventstore.EventData{Event("t.v1", "b")})
	var ce *eventstore.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("want *ConflictError, got %T %v", err, err)
	}
	if ce.Stream != st || ce.Actual != 0 || ce.Op == "" {
		t.Fatalf("conflict error lacks context: %+v", ce)
	}
	if rev, ok := ce.Expected.Revision(); !ok || rev != 5 {
		t.Fatalf("conflict error names expected %s", ce.Expected)
	}
	if !strings.Contains(err.Error(), st) {
		t.Fatalf("message %q does not name the stream", err)
	}
}

func testReadStream(t *testing.T, f Features) {
	s := newStore(t, f)
	ctx := context.Background()
	_, err := s.ReadStream(ctx, stream(t), 0, 10)
	var nf *eventstore.NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("reading a missing stream: want not found, got %v", err)
	}
	st := stream(t)
	var want []eventstore.EventData
	for i := range 10 {
		want = append(want, Event("t.v1", fmt.Sprint(i)))
	}
	mustAppend(t, s, st, eventstore.NoStream(), want...)
	mustAppend(t, s, stream(t), eventstore.NoStream(), Event("other.v1", "noise"))
	got, err := s.ReadStream(ctx, st, 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0].Revision != 3 || got[3].Revision != 6 || got[0].ID != want[3].ID {
		t.Fatalf("read from 3 limit 4: %d events starting at %d", len(got), got[0].Revision)
	}
	tail, err := s.ReadStream(ctx, st, 10, 10)
	if err != nil || len(tail) != 0 {
		t.Fatalf("reading past the end: %d events, %v", len(tail), err)
	}
}

func testReadAll(t *testing.T, f Features) {
	s := newStore(t, f)
	ctx := context.Background()
	for range 5 {
		mustAppend(t, s, stream(t), eventstore.NoStream(), Event("t.v1", "a"), Event("t.v1", "b"))
	}
	all, err := s.ReadAll(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 10 {
		t.Fatalf("read %d events, want at least 10", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].Position <= all[i-1].Position {
			t.Fatalf("positions not increasing: %d then %d", all[i-1].Position, all[i].Position)
		}
	}
	head, err := s.Head(ctx)
	if err != nil || head != all[len(all)-1].Position {
		t.Fatalf("head %d, %v; last event at %d", head, err, all[len(all)-1].Position)
	}
	from := all[3].Position
	page, err := s.ReadAll(ctx, from, 2)
	if err != nil || len(page) != 2 || page[0].Position != from {
		t.Fatalf("ReadAll(from=%d, 2): %d events, %v", from, len(page), err)
	}
}

func testMetadata(t *testing.T, f Features) {
	s := newStore(t, f)
	st := stream(t)
	e := Event("filing.type_verified.v1", "m")
	e.Metadata = eventstore.Metadata{
		SchemaVersion: 3, ActorAccount: "acct-1", ActorRole: "applicant", CommandID: uuid.NewString(),
		CommandHash: "abc", CorrelationID: uuid.NewString(), CausationID: uuid.NewString(),
		OccurredAt: time.Date(2026, 3, 2, 10, 0, 0, 123456789, time.UTC), PrevHash: "p", Hash: "h",
	}
	r := mustAppend(t, s, st, eventstore.NoStream(), e)
	got, err := s.ReadStream(context.Background(), st, 0, 1)
	if err != nil || len(got) != 1 {
		t.Fatalf("read back: %v", err)
	}
	g := got[0]
	if g.ID != e.ID || g.Type != e.Type || !bytes.Equal(g.Data, e.Data) || g.Stream != st || g.Position != r.Position {
		t.Fatalf("event changed: %+v", g)
	}
	if !g.Metadata.OccurredAt.Equal(e.Metadata.OccurredAt) {
		t.Fatalf("occurred at %v, want %v", g.Metadata.OccurredAt, e.Metadata.OccurredAt)
	}
	g.Metadata.OccurredAt = e.Metadata.OccurredAt
	if g.Metadata != e.Metadata {
		t.Fatalf("metadata changed:\n got %+v\nwant %+v", g.Metadata, e.Metadata)
	}
	if g.RecordedAt.IsZero() {
		t.Fatal("no recorded time")
	}
}

// testRacingWriters: writers race on one stream, each appending at the
// revision it last saw. Exactly one wins each revision; the stream ends with
// every winner's event once, without gaps.
func testRacingWriters(t *testing.T, f Features) {
	s := newStore(t, f)
	ctx := context.Background()
	st := stream(t)
	mustAppend(t, s, st, eventstore.NoStream(), Event("t.v1", "seed"))
	const rounds = 5
	var mu sync.Mutex
	winners := map[uint64]string{}
	var wg sync.WaitGroup
	for w := range f.Concurrency {
		wg.Go(func() {
			for round := range rounds {
				events, err := s.ReadStream(ctx, st, 0, 10000)
				if err != nil {
					t.Error(err)
					return
				}
				head := events[len(events)-1].Revision
				e := Event("t.v1", fmt.Sprintf("w%d-r%d", w, round))
				r, err := s.Append(ctx, st, eventstore.Exact(head), []eventstore.EventData{e})
				switch {
				case errors.Is(err, eventstore.ErrConflict):
				case err != nil:
					t.Error(err)
					return
				default:
					mu.Lock()
					if prev, dup := winners[r.Revision]; dup {
						t.Errorf("revision %d won twice: %s and %s", r.Revision, prev, e.ID)
					}
					winners[r.Revision] = e.ID
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	events, err := s.ReadStream(ctx, st, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != len(winners)+1 {
		t.Fatalf("%d events stored, %d appends acknowledged", len(events), len(winners)+1)
	}
	for i, e := range events {
		if e.Revision != uint64(i) {
			t.Fatalf("gap: event %d has revision %d", i, e.Revision)
		}
		if i > 0 && winners[e.Revision] != e.ID {
			t.Fatalf("revision %d holds %s, acknowledged %s", e.Revision, e.ID, winners[e.Revision])
		}
	}
	if len(winners) < rounds {
		t.Fatalf("only %d appends won in %d rounds", len(winners), rounds)
	}
}

func testIdempotentAppend(t *testing.T, f Features) {
	s := newStore(t, f)
	ctx := context.Background()
	st := stream(t)
	batch := []eventstore.EventData{Event("t.v1", "a"), Event("t.v1", "b")}
	first := mustAppend(t, s, st, eventstore.NoStream(), batch...)
	again, err := s.Append(ctx, st, eventstore.NoStream(), batch)
	if err != nil || again != first {
		t.Fatalf("retry: %+v, %v; want %+v", again, err, first)
	}
	mustAppend(t, s, st, eventstore.Exact(1), Event("t.v1", "c"))
	late, err := s.Append(ctx, st, eventstore.NoStream(), batch)
	if err != nil || late != first {
		t.Fatalf("late retry after more events: %+v, %v; want %+v", late, err, first)
	}
	events, _ := s.ReadStream(ctx, st, 0, 100)
	if len(events) != 3 {
		t.Fatalf("%d events; retries must write nothing", len(events))
	}
	// A partial overlap is no retry: the append expected a revision that
	// has passed, so it conflicts.
	if _, err := s.Append(ctx, st, eventstore.NoStream(), []eventstore.EventData{batch[0], Event("t.v1", "z")}); !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("a stored id with a new one: want conflict, got %v", err)
	}
	if _, err := s.Append(ctx, st, eventstore.Exact(0), []eventstore.EventData{batch[1], Event("t.v1", "z")}); !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("the right first id, then a new one: want conflict, got %v", err)
	}
	events, _ = s.ReadStream(ctx, st, 0, 100)
	if len(events) != 3 {
		t.Fatalf("%d events after refused appends, want 3", len(events))
	}
}

// testCatchUpThenLive: a subscriber that starts while writers append sees
// every event once, in position order, with the caught-up signal once.
func testCatchUpThenLive(t *testing.T, f Features) {
	s := newStore(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const before, during = 200, 400
	for i := range before {
		mustAppend(t, s, stream(t), eventstore.NoStream(), Event("t.v1", fmt.Sprint(i)))
	}
	all, _ := s.ReadAll(ctx, 0, 100000)
	startAfter := uint64(0)
	if len(all) > before {
		startAfter = all[len(all)-before-1].Position // ignore events of other tests on shared stores
	}
	sub, err := s.SubscribeAll(ctx, startAfter)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range during / 8 {
				if _, err := s.Append(ctx, stream(t), eventstore.NoStream(), []eventstore.EventData{Event("t.v1", fmt.Sprint(w, i))}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	seen, caughtUp := 0, 0
	last := startAfter
	for seen < before+during {
		m, err := sub.Recv()
		if err != nil {
			t.Fatalf("after %d events: %v", seen, err)
		}
		if m.CaughtUp {
			caughtUp++
			if seen < before {
				t.Fatalf("caught up after %d of the %d stored events", seen, before)
			}
			continue
		}
		if m.Event.Position <= last {
			t.Fatalf("position %d after %d", m.Event.Position, last)
		}
		last = m.Event.Position
		seen++
	}
	wg.Wait()
	if caughtUp != 1 {
		t.Fatalf("caught-up signal sent %d times", caughtUp)
	}
}

func testResume(t *testing.T, f Features) {
	s := newStore(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := stream(t)
	var ids []string
	for i := range 6 {
		e := Event("t.v1", fmt.Sprint(i))
		ids = append(ids, e.ID)
		mustAppend(t, s, st, eventstore.Any(), e)
	}
	events, _ := s.ReadStream(ctx, st, 0, 10)
	checkpoint := events[2].Position
	sub, err := s.SubscribeAll(ctx, checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var got []string
	for len(got) < 3 {
		m, err := sub.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if m.Event != nil && m.Event.Stream == st {
			got = append(got, m.Event.ID)
		}
	}
	if strings.Join(got, ",") != strings.Join(ids[3:], ",") {
		t.Fatalf("resumed with %v, want %v", got, ids[3:])
	}
}

func testLargeEvents(t *testing.T, f Features) {
	s := newStore(t, f)
	st := stream(t)
	e := Event("t.v1", strings.Repeat("大", 1<<20/3))
	mustAppend(t, s, st, eventstore.NoStream(), e)
	got, err := s.ReadStream(context.Background(), st, 0, 1)
	if err != nil || !bytes.Equal(got[0].Data, e.Data) {
		t.Fatalf("a 1 MB event did not round-trip: %v", err)
	}
}

func testUnicode(t *testing.T, f Features) {
	s := newStore(t, f)
	st := "filing-备案-" + uuid.NewString()
	e := Event("filing.entity_submitted.v1", "深圳市示例科技有限公司 🏢 \u200b")
	e.Metadata.ActorAccount = "账号-1"
	mustAppend(t, s, st, eventstore.NoStream(), e)
	got, err := s.ReadStream(context.Background(), st, 0, 1)
	if err != nil || !bytes.Equal(got[0].Data, e.Data) || got[0].Metadata.ActorAccount != "账号-1" || got[0].Stream != st {
		t.Fatalf("unicode did not round-trip: %+v, %v", got, err)
	}
}

func testCancellation(t *testing.T, f Features) {
	s := newStore(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	st := stream(t)
	if _, err := s.Append(ctx, st, eventstore.Any(), []eventstore.EventData{Event("t.v1", "a")}); !errors.Is(err, context.Canceled) {
		t.Fatalf("append with a cancelled context: %v", err)
	}
	if _, err := s.ReadStream(context.Background(), st, 0, 1); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("a cancelled append wrote: %v", err)
	}
	if _, err := s.ReadAll(ctx, 0, 10); err == nil {
		t.Fatal("read with a cancelled context succeeded")
	}
	subCtx, stop := context.WithCancel(context.Background())
	sub, err := s.SubscribeAll(subCtx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	done := make(chan error, 1)
	go func() {
		for {
			m, err := sub.Recv()
			if err != nil {
				done <- err
				return
			}
			_ = m
		}
	}()
	time.Sleep(50 * time.Millisecond)
	stop()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Recv after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Recv did not return after its context was cancelled")
	}
}

func testInvalidAppend(t *testing.T, f Features) {
	s := newStore(t, f)
	ctx := context.Background()
	if _, err := s.Append(ctx, "", eventstore.Any(), []eventstore.EventData{Event("t.v1", "a")}); err == nil {
		t.Fatal("empty stream name accepted")
	}
	if _, err := s.Append(ctx, stream(t), eventstore.Any(), nil); err == nil {
		t.Fatal("append of nothing accepted")
	}
	e := Event("t.v1", "a")
	if _, err := s.Append(ctx, stream(t), eventstore.Any(), []eventstore.EventData{e, e}); !errors.Is(err, eventstore.ErrDuplicateEventID) {
		t.Fatalf("one id twice in an append: %v", err)
	}
}

// testReopen: every acknowledged event is found, in order and with its
// metadata, after the store is closed and opened again.
func testReopen(t *testing.T, f Features) {
	if f.Reopen == nil {
		t.Skip("the adapter has no reopen")
	}
	s := f.New(t)
	ctx := context.Background()
	st := stream(t)
	var acked []eventstore.EventData
	for round := range 3 {
		for i := range 5 {
			e := Event("t.v1", fmt.Sprint(round, i))
			e.Metadata.CommandID = uuid.NewString()
			mustAppend(t, s, st, eventstore.Any(), e)
			acked = append(acked, e)
		}
		s = f.Reopen(t, s)
	}
	defer s.Close()
	got, err := s.ReadStream(ctx, st, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(acked) {
		t.Fatalf("%d events after reopening, %d acknowledged", len(got), len(acked))
	}
	for i := range got {
		if got[i].ID != acked[i].ID || got[i].Metadata.CommandID != acked[i].Metadata.CommandID || got[i].Revision != uint64(i) {
			t.Fatalf("event %d differs after reopening", i)
		}
	}
	// Positions go on increasing after a reopen; whether they are gap-free
	// is the adapter's business (SQLite's own tests check that it is).
	r := mustAppend(t, s, st, eventstore.Exact(uint64(len(acked)-1)), Event("t.v1", "after"))
	if r.Position <= got[len(got)-1].Position {
		t.Fatalf("position after reopening %d, not after %d", r.Position, got[len(got)-1].Position)
	}
}
