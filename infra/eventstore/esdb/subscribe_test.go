package esdb_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/infra/eventstore/esdb"
	"github.com/beian/beian/infra/eventstore/eventstoretest"
)

// lockedBuffer collects log output written from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestResubscribes: the server goes away under a live subscription and
// comes back; the subscription resumes after the last event it delivered,
// with nothing lost, nothing twice and one caught-up signal. Down long
// enough, the client gives up rediscovering the server and the adapter
// replaces it.
func TestResubscribes(t *testing.T) {
	cases := []struct {
		name     string
		downtime time.Duration
		query    string
	}{
		{"connections dropped", 0, ""},
		{"server down past the client's discovery", 1500 * time.Millisecond, "&maxDiscoverAttempts=2&discoveryInterval=50"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := startPeer(t)
			var logs lockedBuffer
			s := open(t, esdb.Config{
				URL: p.URL() + tc.query, ResubscribeMin: 20 * time.Millisecond, ResubscribeMax: 200 * time.Millisecond,
				Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
			})
			defer s.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var want []string
			appendN := func(n int) {
				t.Helper()
				for range n {
					e := eventstoretest.Event("t.v1", "x")
					if _, err := s.Append(ctx, "filing-"+uuid.NewString(), eventstore.NoStream(), []eventstore.EventData{e}); err != nil {
						t.Fatalf("append: %v\nlog:\n%s", err, logs.String())
					}
					want = append(want, e.ID)
				}
			}
			appendN(5)
			sub, err := s.SubscribeAll(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			var got []string
			caughtUp := 0
			recv := func(n int) {
				t.Helper()
				for len(got) < n {
					m, err := sub.Recv()
					if err != nil {
						t.Fatalf("after %d events: %v\nlog:\n%s", len(got), err, logs.String())
					}
					if m.CaughtUp {
						caughtUp++
						continue
					}
					got = append(got, m.Event.ID)
				}
			}
			recv(5)

			p.Stop()
			if tc.downtime > 0 {
				// Appends fail while the server is away, within their context,
				// and Healthy says so.
				short, stop := context.WithTimeout(ctx, 5*time.Second)
				_, err := s.Append(short, "filing-"+uuid.NewString(), eventstore.NoStream(), []eventstore.EventData{eventstoretest.Event("t.v1", "lost")})
				stop()
				if err == nil {
					t.Fatal("an append succeeded with the server down")
				}
				if s.Healthy() == nil {
					t.Fatalf("healthy with the server down (the append failed with %v)", err)
				}
				time.Sleep(tc.downtime)
			}
			if err := p.Restart(); err != nil {
				t.Fatal(err)
			}
			appendN(5)
			recv(10)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("delivered %v\nwant      %v", got, want)
			}
			// One more event proves nothing is left over from the old
			// subscription (a duplicate would come first) and the signal was
			// not repeated.
			appendN(1)
			recv(11)
			if got[10] != want[10] || caughtUp != 1 {
				t.Fatalf("last event %s (want %s), caught up %d times\nlog:\n%s", got[10], want[10], caughtUp, logs.String())
			}
			if err := s.Healthy(); err != nil {
				t.Fatalf("unhealthy after the server came back: %v", err)
			}
			if !strings.Contains(logs.String(), "resubscribing") {
				t.Fatalf("the drop was not logged:\n%s", logs.String())
			}
			if tc.downtime > 0 && !strings.Contains(logs.String(), "starting a new one") {
				t.Fatalf("the client was not replaced:\n%s", logs.String())
			}
		})
	}
}

// TestIdleSubscriptionStays: the client pings every 10 s; a server that
// does not permit it closes the connection after a few pings. The peer
// permits them like a real server, so an idle subscription lives on.
func TestIdleSubscriptionStays(t *testing.T) {
	t.Parallel()
	p := startPeer(t)
	var logs lockedBuffer
	s := open(t, esdb.Config{URL: p.URL(), Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sub, err := s.SubscribeAll(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if m, err := sub.Recv(); err != nil || !m.CaughtUp {
		t.Fatalf("%+v, %v", m, err)
	}
	time.Sleep(35 * time.Second)
	e := eventstoretest.Event("t.v1", "late")
	if _, err := s.Append(ctx, "filing-"+uuid.NewString(), eventstore.NoStream(), []eventstore.EventData{e}); err != nil {
		t.Fatal(err)
	}
	m, err := sub.Recv()
	if err != nil || m.Event == nil || m.Event.ID != e.ID {
		t.Fatalf("%+v, %v", m, err)
	}
	if strings.Contains(logs.String(), "dropped") {
		t.Fatalf("the idle subscription dropped:\n%s", logs.String())
	}
}
