package gqlws_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/beian/beian/api/gqlws"
)

func TestSubscriptionStreamsInOrderThenCompletes(t *testing.T) {
	s := newServer(t, gqlws.Options{})
	c := dial(t, s)
	c.init()
	c.subscribe("1", `subscription { ticks(n: 5) { n } }`)
	for i := range 5 {
		if n := tickN(t, c.expect("next", "1")); n != i {
			t.Fatalf("tick %d arrived as %d", i, n)
		}
	}
	c.expect("complete", "1")
	eventually(t, "resolver returns", func() bool { return s.root.running.Load() == 0 })
}

func TestQueryGivesOneNextThenComplete(t *testing.T) {
	s := newServer(t, gqlws.Options{})
	c := dial(t, s)
	c.init()
	c.subscribe("q", `query { hello(name: "bob") }`)
	m := c.expect("next", "q")
	if want := `{"data":{"hello":"hello bob from alice"}}`; string(m.Payload) != want {
		t.Fatalf("payload %s, want %s", m.Payload, want)
	}
	c.expect("complete", "q")
}

func TestValidationFailureIsAnErrorMessage(t *testing.T) {
	tests := map[string]map[string]any{
		"unknown field": {"query": `subscription { nope }`},
		"syntax":        {"query": `subscription {`},
		"unknown name":  {"query": `query A { hello(name: "x") }`, "operationName": "B"},
	}
	for name, payload := range tests {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, gqlws.Options{})
			c := dial(t, s)
			c.init()
			c.send("subscribe", "v", payload)
			m := c.expect("error", "v")
			var errs []struct{ Message string }
			if err := json.Unmarshal(m.Payload, &errs); err != nil || len(errs) == 0 || errs[0].Message == "" {
				t.Fatalf("error payload %s is not a list of GraphQL errors (%v)", m.Payload, err)
			}
			// No complete follows an error: the next message answers the ping.
			c.send("ping", "", nil)
			c.expect("pong", "")
		})
	}
}

func TestResolverErrorIsANextNotAnError(t *testing.T) {
	s := newServer(t, gqlws.Options{})
	c := dial(t, s)
	c.init()
	c.subscribe("b", `subscription { broken { n } }`)
	m := c.expect("next", "b")
	if !strings.Contains(string(m.Payload), "stream unavailable") {
		t.Fatalf("payload %s lacks the resolver error", m.Payload)
	}
	c.expect("complete", "b")
}

func TestExecutorErrorIsAnErrorMessage(t *testing.T) {
	h := gqlws.NewHandler(failingExecutor{}, authenticate, gqlws.Options{Logger: slog.New(slog.DiscardHandler)})
	s := &server{Server: httptest.NewServer(h)}
	t.Cleanup(s.Close)
	c := dial(t, s)
	c.init()
	c.subscribe("1", `query { hello(name: "x") }`)
	m := c.expect("error", "1")
	if !strings.Contains(string(m.Payload), "no subscriptions") {
		t.Fatalf("payload %s", m.Payload)
	}
}

// failingExecutor refuses every operation, as graphql-go does for a schema without subscriptions.
type failingExecutor struct{}

func (failingExecutor) Subscribe(context.Context, string, string, map[string]any) (<-chan any, error) {
	return nil, errors.New("no subscriptions are offered by the schema")
}

func TestProtocolViolationsCloseTheSocket(t *testing.T) {
	tests := []struct {
		name   string
		opts   gqlws.Options
		script func(c *client)
		code   websocket.StatusCode
		reason string
	}{
		{"bad token", gqlws.Options{}, func(c *client) {
			c.send("connection_init", "", map[string]any{"Authorization": "Bearer bad"})
		}, gqlws.CloseForbidden, "Forbidden"},
		{"no init in time", gqlws.Options{InitTimeout: 50 * time.Millisecond}, func(*client) {},
			gqlws.CloseInitTimeout, "Connection initialisation timeout"},
		{"second init", gqlws.Options{}, func(c *client) {
			c.init()
			c.send("connection_init", "", nil)
		}, gqlws.CloseTooManyInitRequests, "Too many initialisation requests"},
		{"subscribe before ack", gqlws.Options{}, func(c *client) {
			c.subscribe("1", `query { hello(name: "x") }`)
		}, gqlws.CloseUnauthorized, "Unauthorized"},
		{"duplicate id", gqlws.Options{}, func(c *client) {
			c.init()
			c.subscribe("dup", `subscription { ticks(n: 0, everyMs: 20) { n } }`)
			c.expect("next", "dup")
			c.subscribe("dup", `subscription { ticks(n: 1) { n } }`)
		}, gqlws.CloseSubscriberExists, "Subscriber for dup already exists"},
		{"invalid JSON", gqlws.Options{}, func(c *client) { c.sendRaw(`{"type":`) }, gqlws.CloseBadRequest, "Invalid message"},
		{"no type", gqlws.Options{}, func(c *client) { c.sendRaw(`{"id":"1"}`) }, gqlws.CloseBadRequest, "type is required"},
		{"unknown type", gqlws.Options{}, func(c *client) { c.send("start", "1", nil) }, gqlws.CloseBadRequest, `"start"`},
		{"server-only type", gqlws.Options{}, func(c *client) { c.send("next", "1", map[string]any{}) }, gqlws.CloseBadRequest, `"next"`},
		{"subscribe without id", gqlws.Options{}, func(c *client) {
			c.init()
			c.send("subscribe", "", map[string]any{"query": "{ hello(name: \"x\") }"})
		}, gqlws.CloseBadRequest, "id is required"},
		{"subscribe without query", gqlws.Options{}, func(c *client) {
			c.init()
			c.send("subscribe", "1", map[string]any{"variables": map[string]any{}})
		}, gqlws.CloseBadRequest, "needs a query"},
		{"subscribe variables not an object", gqlws.Options{}, func(c *client) {
			c.init()
			c.send("subscribe", "1", map[string]any{"query": "{ hello(name: \"x\") }", "variables": []int{1}})
		}, gqlws.CloseBadRequest, `Invalid "subscribe" message`},
		{"init payload not an object", gqlws.Options{}, func(c *client) { c.send("connection_init", "", []int{1}) },
			gqlws.CloseBadRequest, "payload must be an object"},
		{"message too big", gqlws.Options{ReadLimit: 128}, func(c *client) {
			c.init()
			c.subscribe("1", `query { hello(name: "`+strings.Repeat("x", 200)+`") }`)
		}, websocket.StatusMessageTooBig, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, tt.opts)
			c := dial(t, s)
			tt.script(c)
			c.expectClose(tt.code, tt.reason)
			s.waitIdle(t)
		})
	}
}

func TestWithoutSubprotocolCloses4406(t *testing.T) {
	s := newServer(t, gqlws.Options{})
	c := dial(t, s, "graphql-ws")
	c.expectClose(gqlws.CloseSubprotocolNotAcceptable, "Subprotocol not acceptable")
}

func TestPingIsAnsweredAndPongIgnored(t *testing.T) {
	s := newServer(t, gqlws.Options{})
	c := dial(t, s)
	c.send("ping", "", map[string]any{"seq": 7}) // allowed before connection_init
	if m := c.expect("pong", ""); string(m.Payload) != `{"seq":7}` {
		t.Fatalf("pong payload %s, want the ping's", m.Payload)
	}
	c.init()
	c.send("pong", "", nil)
	c.send("ping", "", nil)
	if m := c.expect("pong", ""); m.Payload != nil {
		t.Fatalf("pong payload %s, want none", m.Payload)
	}
}

func TestClientCompleteStopsTheResolver(t *testing.T) {
	s := newServer(t, gqlws.Options{})
	c := dial(t, s)
	c.init()
	c.subscribe("1", `subscription { ticks(n: 0, everyMs: 5) { n } }`)
	c.expect("next", "1")
	c.send("complete", "1", nil)
	eventually(t, "resolver ctx done", func() bool { return s.root.cancelled.Load() == 1 && s.root.running.Load() == 0 })

	// Results already in flight may still arrive, but nothing after the pong.
	c.send("ping", "", nil)
	for m := c.read(); m.Type != "pong"; m = c.read() {
		if m.Type != "next" || m.ID != "1" {
			t.Fatalf("unexpected %s %q after complete", m.Type, m.ID)
		}
	}
	time.Sleep(30 * time.Millisecond)
	c.send("ping", "", nil)
	c.expect("pong", "")

	// The id is free again.
	c.subscribe("1", `subscription { ticks(n: 2) { n } }`)
	c.expect("next", "1")
	c.expect("next", "1")
	c.expect("complete", "1")
}

func TestOperationLimitRefusesWithAnError(t *testing.T) {
	s := newServer(t, gqlws.Options{MaxOperations: 2})
	c := dial(t, s)
	c.init()
	c.subscribe("1", `subscription { ticks(n: 0, everyMs: 1000) { n } }`)
	c.subscribe("2", `subscription { ticks(n: 0, everyMs: 1000) { n } }`)
	c.subscribe("3", `subscription { ticks(n: 1) { n } }`)
	m := c.expect("error", "3")
	if !strings.Contains(string(m.Payload), "too many") {
		t.Fatalf("payload %s", m.Payload)
	}
}

func TestSocketCloseCancelsEveryOperation(t *testing.T) {
	s := newServer(t, gqlws.Options{})
	baseline := runtime.NumGoroutine() // includes the test server's accept loop
	var clients []*client
	for range 3 {
		c := dial(t, s)
		c.init()
		for id := range 3 {
			c.subscribe(fmt.Sprint(id), `subscription { ticks(n: 0, everyMs: 2) { n } }`)
		}
		// Every operation has sent a result, so every resolver runs; three
		// results of one fast operation would not say so.
		for started := map[string]bool{}; len(started) < 3; {
			m := c.read()
			if m.Type != "next" {
				t.Fatalf("got %s, want next", m.Type)
			}
			started[m.ID] = true
		}
		clients = append(clients, c)
	}
	if n := s.root.running.Load(); n != 9 {
		t.Fatalf("%d tick streams running, want 9", n)
	}
	clients[0].ws.Close(websocket.StatusNormalClosure, "bye")
	clients[1].ws.CloseNow() // abrupt: no close handshake
	clients[2].ws.Close(websocket.StatusGoingAway, "")
	eventually(t, "resolvers cancelled", func() bool { return s.root.cancelled.Load() == 9 && s.root.running.Load() == 0 })
	s.waitIdle(t)
	s.CloseClientConnections()
	expectGoroutines(t, baseline)
}

// TestSlowReaderIsDisconnected checks that a client that does not read loses
// its socket, not results: what it does receive is an unbroken prefix of the
// stream, and no complete.
func TestSlowReaderIsDisconnected(t *testing.T) {
	tests := []struct {
		name      string
		opts      gqlws.Options
		closeCode websocket.StatusCode // -1: the socket is torn down without a close frame
	}{
		// The kernel buffers fill, a write blocks past WriteTimeout, the socket is dropped.
		{"write timeout", gqlws.Options{WriteTimeout: 100 * time.Millisecond, SendQueue: 1 << 20}, -1},
		// The queue overflows first; once the client reads again the close frame reaches it.
		{"queue overflow", gqlws.Options{WriteTimeout: 30 * time.Second, SendQueue: 16}, gqlws.CloseClientTooSlow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.PingInterval = -1
			s := newServer(t, tt.opts)
			baseline := runtime.NumGoroutine()
			c := dial(t, s)
			c.init()
			c.subscribe("1", `subscription { ticks(n: 0, pad: 16384) { n pad } }`)
			eventually(t, "server gives up on the client", func() bool {
				return strings.Contains(s.logs.String(), "client too slow")
			})
			want := 0
			for {
				m, err := c.readErr()
				if err != nil {
					if code := websocket.CloseStatus(err); code != tt.closeCode {
						t.Fatalf("socket ended with %v (code %d), want code %d", err, code, tt.closeCode)
					}
					break
				}
				if m.Type != "next" || tickN(t, m) != want {
					t.Fatalf("got %s %s after %d ticks: a result was dropped", m.Type, m.Payload[:min(len(m.Payload), 40)], want)
				}
				want++
			}
			t.Logf("client received %d ticks before the close", want)
			eventually(t, "resolver cancelled", func() bool { return s.root.running.Load() == 0 })
			s.waitIdle(t)
			_ = c.ws.CloseNow()
			expectGoroutines(t, baseline)
		})
	}
}

func TestKeepAlive(t *testing.T) {
	t.Run("a reading client stays", func(t *testing.T) {
		// The server sends its next ping only after the last one's pong came
		// back, so the client receiving ping k+1 proves that ping k was
		// answered and the socket survived it. The test waits for those
		// pings (events), not for a time. Pings come often, but the pong's
		// deadline is long: a loaded machine under -race missed 10 ms, 250 ms
		// and once even 1 s when the deadline was the interval. A pong that
		// never came would still end the socket, and the test, after it.
		const proven = 10
		s := newServer(t, gqlws.Options{PingInterval: 20 * time.Millisecond, PongTimeout: 10 * time.Second})
		pings := make(chan struct{}, 64)
		c := dialWith(t, s, &websocket.DialOptions{Subprotocols: []string{gqlws.Subprotocol},
			OnPingReceived: func(context.Context, []byte) bool {
				select {
				case pings <- struct{}{}:
				default:
				}
				return true // coder/websocket answers with a pong
			}})
		c.init()
		c.subscribe("1", `subscription { ticks(n: 0, everyMs: 10) { n } }`)
		// Read without pause, as a live client does: the pong to a ping is
		// written by the reader as it reads the ping.
		msgs := make(chan msg, 1024)
		ended := make(chan error, 1)
		go func() {
			for {
				_, data, err := c.ws.Read(context.Background())
				if err != nil {
					ended <- err
					close(msgs)
					return
				}
				var m msg
				if err := json.Unmarshal(data, &m); err != nil {
					ended <- fmt.Errorf("invalid JSON %s: %w", data, err)
					close(msgs)
					return
				}
				msgs <- m
			}
		}()
		next := 0
		guard := time.NewTimer(60 * time.Second) // a hung test, not a timing assertion
		defer guard.Stop()
		for seen := 0; seen <= proven; {
			select {
			case <-pings:
				seen++
			case m, ok := <-msgs:
				if !ok {
					t.Fatalf("socket ended after %d pings: %v\n%s", seen, <-ended, s.logs)
				}
				if m.Type != "next" || m.ID != "1" || tickN(t, m) != next {
					t.Fatalf("got %s %q %s, want tick %d", m.Type, m.ID, m.Payload, next)
				}
				next++
			case <-guard.C:
				t.Fatalf("only %d pings in 60s", seen)
			}
		}
		// Still open and serving after the keep-alive rounds: a new
		// operation runs to its end on the same socket.
		c.send("complete", "1", nil)
		c.subscribe("2", `subscription { ticks(n: 3) { n } }`)
		var got []string
		for done := false; !done; {
			m, ok := <-msgs
			if !ok {
				t.Fatalf("socket ended: %v\n%s", <-ended, s.logs)
			}
			switch {
			case m.ID == "1" && m.Type == "next": // sent before the server read the complete
			case m.ID == "2":
				got = append(got, m.Type)
				done = m.Type != "next"
			default:
				t.Fatalf("unexpected %s %q %s", m.Type, m.ID, m.Payload)
			}
		}
		if want := []string{"next", "next", "next", "complete"}; !slices.Equal(got, want) {
			t.Fatalf("operation 2 got %v, want %v", got, want)
		}
		if strings.Contains(s.logs.String(), "keep-alive") {
			t.Fatalf("the server logged a keep-alive failure:\n%s", s.logs)
		}
	})
	t.Run("a silent client is closed", func(t *testing.T) {
		s := newServer(t, gqlws.Options{PingInterval: 20 * time.Millisecond})
		c := dial(t, s)
		// The client initialises and never reads, so it answers no ping.
		// (Reading the ack would answer a ping that came first: under load
		// the ack can come after the pong's deadline.)
		c.send("connection_init", "", map[string]any{"Authorization": "Bearer good"})
		s.waitIdle(t)
		if !strings.Contains(s.logs.String(), "keep-alive") {
			t.Fatalf("server did not log the keep-alive failure:\n%s", s.logs)
		}
	})
}
