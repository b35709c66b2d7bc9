package esdbtest_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/beian/beian/infra/eventstore/esdb/esdbtest"
)

// These tests hold the peer to the protocol with the real client and no
// adapter in between: what the adapter's tests prove is only worth what
// the peer refuses.

func start(t *testing.T, opts ...esdbtest.Option) (*esdbtest.Peer, *esdb.Client) {
	t.Helper()
	p, err := esdbtest.Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	conf, err := esdb.ParseConnectionString(p.URL())
	if err != nil {
		t.Fatal(err)
	}
	conf.Logger = esdb.NoopLogging()
	c, err := esdb.NewClient(conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return p, c
}

func event(typ string) esdb.EventData {
	return esdb.EventData{EventID: uuid.New(), EventType: typ, ContentType: esdb.ContentTypeJson, Data: []byte(`{}`), Metadata: []byte(`{"m":1}`)}
}

func appendTo(t *testing.T, c *esdb.Client, stream string, exp esdb.ExpectedRevision, events ...esdb.EventData) (*esdb.WriteResult, error) {
	t.Helper()
	return c.AppendToStream(context.Background(), stream, esdb.AppendToStreamOptions{ExpectedRevision: exp}, events...)
}

func code(err error) esdb.ErrorCode {
	var e *esdb.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return -1
}

func drain(rs *esdb.ReadStream, err error) ([]*esdb.ResolvedEvent, error) {
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []*esdb.ResolvedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, ev)
	}
}

func TestExpectedRevisionAndRetries(t *testing.T) {
	_, c := start(t)
	a, b := event("t.v1"), event("t.v1")
	r, err := appendTo(t, c, "s", esdb.NoStream{}, a, b)
	if err != nil || r.NextExpectedVersion != 1 || r.CommitPosition == 0 || r.CommitPosition != r.PreparePosition {
		t.Fatalf("append to a new stream: %+v, %v", r, err)
	}
	cases := []struct {
		name   string
		exp    esdb.ExpectedRevision
		events []esdb.EventData
		got    string // the current revision the refusal names
	}{
		{"no stream on an existing one", esdb.NoStream{}, []esdb.EventData{event("t.v1")}, "but got '1'"},
		{"stale revision", esdb.Revision(0), []esdb.EventData{event("t.v1")}, "but got '1'"},
		{"revision ahead", esdb.Revision(7), []esdb.EventData{event("t.v1")}, "but got '1'"},
		{"partial retry", esdb.NoStream{}, []esdb.EventData{a, event("t.v1")}, "but got '1'"},
		{"partial retry with any", esdb.Any{}, []esdb.EventData{a, event("t.v1")}, "but got '1'"},
	}
	for _, tc := range cases {
		if _, err := appendTo(t, c, "s", tc.exp, tc.events...); code(err) != esdb.ErrorCodeWrongExpectedVersion || !strings.Contains(err.Error(), tc.got) {
			t.Errorf("%s: want wrong expected version naming %q, got %v", tc.name, tc.got, err)
		}
	}
	if _, err := appendTo(t, c, "other", esdb.Revision(0), event("t.v1")); code(err) != esdb.ErrorCodeWrongExpectedVersion || !strings.Contains(err.Error(), "no_stream") {
		t.Errorf("revision 0 of a missing stream: %v", err)
	}
	if _, err := appendTo(t, c, "other", esdb.StreamExists{}, event("t.v1")); code(err) != esdb.ErrorCodeWrongExpectedVersion {
		t.Errorf("stream exists on a missing stream: %v", err)
	}
	for _, exp := range []esdb.ExpectedRevision{esdb.NoStream{}, esdb.Any{}} {
		again, err := appendTo(t, c, "s", exp, a, b)
		if err != nil || again.NextExpectedVersion != 1 {
			t.Errorf("retry expecting %T: %+v, %v", exp, again, err)
		}
	}
	if r, err := appendTo(t, c, "s", esdb.Revision(1), event("t.v1")); err != nil || r.NextExpectedVersion != 2 {
		t.Fatalf("append at revision 1: %+v, %v", r, err)
	}
	events, err := drain(c.ReadStream(context.Background(), "s", esdb.ReadStreamOptions{}, 100))
	if err != nil || len(events) != 3 {
		t.Fatalf("%d events, %v: refused appends and retries must write nothing", len(events), err)
	}
}

func TestReads(t *testing.T) {
	p, c := start(t)
	ctx := context.Background()
	var ids []uuid.UUID
	for range 5 {
		e := event("t.v1")
		ids = append(ids, e.EventID)
		if _, err := appendTo(t, c, "s", esdb.Any{}, e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := drain(c.ReadStream(ctx, "missing", esdb.ReadStreamOptions{}, 10)); code(err) != esdb.ErrorCodeResourceNotFound {
		t.Fatalf("missing stream: %v", err)
	}
	fwd, err := drain(c.ReadStream(ctx, "s", esdb.ReadStreamOptions{From: esdb.Revision(1)}, 2))
	if err != nil || len(fwd) != 2 || fwd[0].Event.EventNumber != 1 || fwd[0].Event.EventID != ids[1] {
		t.Fatalf("forwards from 1: %v", err)
	}
	back, err := drain(c.ReadStream(ctx, "s", esdb.ReadStreamOptions{From: esdb.End{}, Direction: esdb.Backwards}, 2))
	if err != nil || len(back) != 2 || back[0].Event.EventNumber != 4 || back[1].Event.EventNumber != 3 {
		t.Fatalf("backwards from the end: %v", err)
	}
	e := fwd[0].Event
	if e.CreatedDate.IsZero() || e.ContentType != "application/json" || string(e.UserMetadata) != `{"m":1}` || e.Position.Commit == 0 {
		t.Fatalf("event as read: %+v", e)
	}

	all, err := drain(c.ReadAll(ctx, esdb.ReadAllOptions{}, 100))
	if err != nil || len(all) != 7 || !strings.HasPrefix(all[0].Event.StreamID, "$") {
		t.Fatalf("$all: %d events (want the 2 system events and 5), %v", len(all), err)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Event.Position.Commit <= all[i-1].Event.Position.Commit+1 {
			t.Fatalf("positions %d then %d: a log has gaps", all[i-1].Event.Position.Commit, all[i].Event.Position.Commit)
		}
	}
	third := all[4].Event.Position
	from, err := drain(c.ReadAll(ctx, esdb.ReadAllOptions{From: third}, 1))
	if err != nil || len(from) != 1 || from[0].Event.Position != third {
		t.Fatalf("reading from a position includes it: %v", err)
	}
	before, err := drain(c.ReadAll(ctx, esdb.ReadAllOptions{From: third, Direction: esdb.Backwards}, 1))
	if err != nil || len(before) != 1 || before[0].Event.Position != all[3].Event.Position {
		t.Fatalf("reading backwards from a position excludes it: %v", err)
	}
	last, err := drain(c.ReadAll(ctx, esdb.ReadAllOptions{From: esdb.End{}, Direction: esdb.Backwards}, 1))
	if err != nil || len(last) != 1 || last[0].Event.EventID != ids[4] {
		t.Fatalf("backwards from the end: %v", err)
	}
	inside := esdb.Position{Commit: third.Commit + 1, Prepare: third.Prepare + 1}
	if _, err := drain(c.ReadAll(ctx, esdb.ReadAllOptions{From: inside}, 1)); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("reading from inside a record: want InvalidArgument, got %v", err)
	}
	if got := p.Events(); len(got) != 7 || got[6].ID != ids[4] || got[6].Created.IsZero() {
		t.Fatalf("stored events: %+v", got)
	}
}

func TestSubscription(t *testing.T) {
	p, c := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 3 {
		if _, err := appendTo(t, c, "s", esdb.Any{}, event("t.v1")); err != nil {
			t.Fatal(err)
		}
	}
	stored := p.Events()
	sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: esdb.Position{Commit: stored[3].Position, Prepare: stored[3].Position}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	next := func() *esdb.SubscriptionEvent {
		t.Helper()
		ev := sub.Recv()
		if ev.SubscriptionDropped != nil {
			t.Fatalf("dropped: %v", ev.SubscriptionDropped.Error)
		}
		return ev
	}
	if ev := next(); ev.EventAppeared == nil || ev.EventAppeared.Event.EventID != stored[4].ID {
		t.Fatalf("subscribing from a position must start after it: %+v", ev)
	}
	if ev := next(); ev.CaughtUp == nil {
		t.Fatalf("want caught up after the stored events, got %+v", ev)
	}
	live := event("t.v1")
	if _, err := appendTo(t, c, "s", esdb.Any{}, live); err != nil {
		t.Fatal(err)
	}
	if ev := next(); ev.EventAppeared == nil || ev.EventAppeared.Event.EventID != live.EventID {
		t.Fatalf("want the live event, got %+v", ev)
	}
	p.Stop()
	if ev := sub.Recv(); ev.SubscriptionDropped == nil {
		t.Fatalf("a stopped peer must drop the subscription, got %+v", ev)
	}
	if err := p.Restart(); err != nil {
		t.Fatal(err)
	}
	if got := len(p.Events()); got != 6 {
		t.Fatalf("%d events after a restart, want 6", got)
	}
}

func TestAppendSizeLimit(t *testing.T) {
	_, c := start(t, esdbtest.MaxAppendSize(1000))
	big := event("t.v1")
	big.Data = []byte(`"` + strings.Repeat("x", 1000) + `"`)
	if _, err := appendTo(t, c, "s", esdb.Any{}, big); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("append over the limit: want InvalidArgument, got %v", err)
	}
}

// TestStringIDs: a reader may ask for ids as strings; the v4 client never
// does, so the raw gRPC client asks.
func TestStringIDs(t *testing.T) {
	p, c := start(t)
	e := event("t.v1")
	if _, err := appendTo(t, c, "s", esdb.Any{}, e); err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(p.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	read, err := api.NewStreamsClient(conn).Read(context.Background(), &api.ReadReq{Options: &api.ReadReq_Options{
		StreamOption: &api.ReadReq_Options_Stream{Stream: &api.ReadReq_Options_StreamOptions{
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte("s")},
			RevisionOption:   &api.ReadReq_Options_StreamOptions_Start{Start: &shared.Empty{}},
		}},
		CountOption:  &api.ReadReq_Options_Count{Count: 1},
		FilterOption: &api.ReadReq_Options_NoFilter{NoFilter: &shared.Empty{}},
		UuidOption:   &api.ReadReq_Options_UUIDOption{Content: &api.ReadReq_Options_UUIDOption_String_{String_: &shared.Empty{}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := read.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetEvent().GetEvent().GetId().GetString_(); got != e.EventID.String() {
		t.Fatalf("id %q, want %s", got, e.EventID)
	}
}
