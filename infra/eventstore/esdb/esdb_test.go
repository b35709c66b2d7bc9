package esdb_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/infra/eventstore/esdb"
	"github.com/beian/beian/infra/eventstore/esdb/esdbtest"
	"github.com/beian/beian/infra/eventstore/eventstoretest"
)

// startPeer starts a protocol peer for one test. Its append limit is 4 MiB
// rather than the server's default 1 MiB: the suite appends a 1 MB event
// (a real server runs the suite with MaxAppendSize raised likewise).
func startPeer(t *testing.T, opts ...esdbtest.Option) *esdbtest.Peer {
	t.Helper()
	p, err := esdbtest.Start(append([]esdbtest.Option{esdbtest.MaxAppendSize(4 << 20)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func open(t testing.TB, cfg esdb.Config) *esdb.Store {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	s, err := esdb.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testWriter sends log lines to the test's log, so a failing test shows
// what the adapter said.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func TestConformance(t *testing.T) {
	var peers sync.Map // *esdb.Store → *esdbtest.Peer
	eventstoretest.Run(t, eventstoretest.Features{
		New: func(t *testing.T) eventstore.Store {
			p := startPeer(t)
			s := open(t, esdb.Config{URL: p.URL()})
			peers.Store(s, p)
			return s
		},
		// Reopen connects a new client to the same peer: what survives is
		// what the server acknowledged.
		Reopen: func(t *testing.T, s eventstore.Store) eventstore.Store {
			p, _ := peers.Load(s)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			fresh := open(t, esdb.Config{URL: p.(*esdbtest.Peer).URL()})
			peers.Store(fresh, p)
			return fresh
		},
	})
}

// TestConformanceRealServer runs the suite against a real EventStoreDB or
// KurrentDB (23.10 or later, MaxAppendSize at least 2 MiB) when
// BEIAN_TEST_ESDB_URL names one. Streams are unique per test, so a shared
// server does; the suite ignores other events in $all.
func TestConformanceRealServer(t *testing.T) {
	url := os.Getenv("BEIAN_TEST_ESDB_URL")
	if url == "" {
		t.Skip("BEIAN_TEST_ESDB_URL is not set (e.g. esdb://127.0.0.1:2113?tls=false): no real server to run the suite against; the peer runs it in TestConformance")
	}
	eventstoretest.Run(t, eventstoretest.Features{
		New: func(t *testing.T) eventstore.Store { return open(t, esdb.Config{URL: url}) },
		Reopen: func(t *testing.T, s eventstore.Store) eventstore.Store {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return open(t, esdb.Config{URL: url})
		},
	})
}

// TestAppendRefusals: what the adapter or the server refuses comes back as
// a plain error, not a conflict.
func TestAppendRefusals(t *testing.T) {
	p := startPeer(t, esdbtest.MaxAppendSize(esdbtest.DefaultMaxAppendSize))
	s := open(t, esdb.Config{URL: p.URL()})
	defer s.Close()
	ctx := context.Background()
	upper := eventstoretest.Event("t.v1", "x")
	upper.ID = strings.ToUpper(upper.ID)
	big := eventstoretest.Event("t.v1", strings.Repeat("x", esdbtest.DefaultMaxAppendSize))
	for _, tc := range []struct {
		name   string
		stream string
		event  eventstore.EventData
	}{
		{"system stream", "$settings", eventstoretest.Event("t.v1", "x")},
		{"id not a lower-case UUID", "filing-1", upper},
		{"id not a UUID", "filing-2", eventstore.EventData{ID: "evt-1", Type: "t.v1", Data: []byte(`{}`)}},
		{"over the server's append size", "filing-3", big},
	} {
		_, err := s.Append(ctx, tc.stream, eventstore.Any(), []eventstore.EventData{tc.event})
		var ee *eventstore.Error
		if !errors.As(err, &ee) || errors.Is(err, eventstore.ErrConflict) || ee.Stream != tc.stream {
			t.Errorf("%s: want *eventstore.Error naming the stream, got %T %v", tc.name, err, err)
		}
	}
	if _, err := s.ReadStream(ctx, "filing-3", 0, 1); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("a refused append wrote: %v", err)
	}
}

// TestClosed: after Close every operation, and a subscription waiting in
// Recv, ends with ErrClosed.
func TestClosed(t *testing.T) {
	p := startPeer(t)
	s := open(t, esdb.Config{URL: p.URL()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sub, err := s.SubscribeAll(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := sub.Recv(); err != nil || !m.CaughtUp {
		t.Fatalf("want caught up on an empty store: %+v, %v", m, err)
	}
	recvErr := make(chan error, 1)
	go func() {
		_, err := sub.Recv()
		recvErr <- err
	}()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-recvErr:
		if !errors.Is(err, eventstore.ErrClosed) {
			t.Fatalf("Recv after Close: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("Recv did not return after Close")
	}
	if err := s.Healthy(); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Healthy after Close: %v", err)
	}
	if _, err := s.Append(ctx, "filing-x", eventstore.Any(), []eventstore.EventData{eventstoretest.Event("t.v1", "x")}); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	if _, err := s.ReadStream(ctx, "filing-x", 0, 1); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("ReadStream after Close: %v", err)
	}
	if _, err := s.ReadAll(ctx, 0, 1); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("ReadAll after Close: %v", err)
	}
	if _, err := s.Head(ctx); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Head after Close: %v", err)
	}
	if _, err := s.SubscribeAll(ctx, 0); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("SubscribeAll after Close: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg      esdb.Config
		problems int
	}{
		{esdb.Config{URL: "esdb://127.0.0.1:2113?tls=false"}, 0},
		{esdb.Config{URL: "esdb+discover://cluster.example:2113"}, 0},
		{esdb.Config{URL: "esdb://a:2113,b:2113,c:2113"}, 0},
		{esdb.Config{}, 1},
		{esdb.Config{URL: "postgres://127.0.0.1:5432"}, 1},
		{esdb.Config{URL: "esdb://127.0.0.1:2113?tls=maybe"}, 1},
		{esdb.Config{URL: "", ResubscribeMin: time.Second, ResubscribeMax: time.Millisecond}, 2},
	} {
		err := tc.cfg.Validate()
		n := 0
		if err != nil {
			n = len(strings.Split(err.Error(), "\n"))
		}
		if n != tc.problems {
			t.Errorf("%+v: %d problems (%v), want %d", tc.cfg, n, err, tc.problems)
		}
	}
	if _, err := esdb.Open(esdb.Config{}); err == nil {
		t.Fatal("Open without a URL succeeded")
	}
}
