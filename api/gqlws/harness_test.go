package gqlws_test

// The test harness: a real graphql-go schema with a streaming subscription,
// NewHandler behind httptest, and a client speaking graphql-transport-ws over
// coder/websocket.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	graphql "github.com/graph-gophers/graphql-go"

	"github.com/beian/beian/api/gqlws"
)

// *graphql.Schema is an Executor as it is.
var _ gqlws.Executor = (*graphql.Schema)(nil)

const testSchema = `
schema { query: Query subscription: Subscription }
type Query { hello(name: String!): String! }
type Subscription {
	# ticks streams n ticks (endless when n <= 0), one every everyMs milliseconds,
	# each carrying pad bytes of filler.
	ticks(n: Int!, everyMs: Int = 0, pad: Int = 0): Tick!
	broken: Tick!
}
type Tick { n: Int! pad: String! }
`

// identityKey carries the identity Authenticate puts in the operations' context.
type identityKey struct{}

// root resolves the test schema and counts its running tick streams.
type root struct {
	running   atomic.Int32 // tick streams whose goroutine has not returned
	cancelled atomic.Int32 // tick streams that stopped because their ctx was done
}

func (r *root) Hello(ctx context.Context, args struct{ Name string }) string {
	who, _ := ctx.Value(identityKey{}).(string)
	return fmt.Sprintf("hello %s from %s", args.Name, who)
}

func (r *root) Ticks(ctx context.Context, args struct{ N, EveryMs, Pad int32 }) (<-chan *tick, error) {
	c := make(chan *tick)
	pad := strings.Repeat("x", int(args.Pad))
	r.running.Add(1)
	go func() {
		defer r.running.Add(-1)
		defer close(c)
		for i := int32(0); args.N <= 0 || i < args.N; i++ {
			if args.EveryMs > 0 && !sleep(ctx, time.Duration(args.EveryMs)*time.Millisecond) {
				r.cancelled.Add(1)
				return
			}
			select {
			case c <- &tick{n: i, pad: pad}:
			case <-ctx.Done():
				r.cancelled.Add(1)
				return
			}
		}
	}()
	return c, nil
}

func (r *root) Broken(ctx context.Context) (<-chan *tick, error) {
	return nil, errors.New("stream unavailable")
}

// sleep waits d or until ctx is done, reporting whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

type tick struct {
	n   int32
	pad string
}

func (t *tick) N() int32    { return t.n }
func (t *tick) Pad() string { return t.pad }

// authenticate accepts the token "good" as alice.
func authenticate(ctx context.Context, payload map[string]any) (context.Context, error) {
	if payload["Authorization"] != "Bearer good" {
		return nil, errors.New("bad token")
	}
	return context.WithValue(ctx, identityKey{}, "alice"), nil
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is NewHandler behind httptest, counting the sockets it serves.
type server struct {
	*httptest.Server
	root   *root
	logs   *syncBuffer
	active atomic.Int32
}

func newServer(t *testing.T, opts gqlws.Options) *server {
	t.Helper()
	s := &server{root: &root{}, logs: &syncBuffer{}}
	schema := graphql.MustParseSchema(testSchema, s.root)
	opts.Logger = slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := gqlws.NewHandler(schema, authenticate, opts)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.active.Add(1)
		defer s.active.Add(-1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// waitIdle waits until no socket is served any more.
func (s *server) waitIdle(t *testing.T) {
	t.Helper()
	eventually(t, "handlers return", func() bool { return s.active.Load() == 0 })
}

// eventually polls cond for up to ten seconds: closing a socket whose peer
// does not answer waits up to 5s for the close handshake.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// msg is a protocol message as the client sees it.
type msg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

type client struct {
	t  *testing.T
	ws *websocket.Conn
}

func dial(t *testing.T, s *server, subprotocols ...string) *client {
	t.Helper()
	if subprotocols == nil {
		subprotocols = []string{gqlws.Subprotocol}
	}
	return dialWith(t, s, &websocket.DialOptions{Subprotocols: subprotocols})
}

// dialWith connects with options of the test's choosing (e.g. a ping hook).
func dialWith(t *testing.T, s *server, opts *websocket.DialOptions) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http"), opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	ws.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = ws.CloseNow() })
	return &client{t: t, ws: ws}
}

func (c *client) sendRaw(s string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatalf("write %s: %v", s, err)
	}
}

func (c *client) send(typ, id string, payload any) {
	c.t.Helper()
	m := map[string]any{"type": typ}
	if id != "" {
		m["id"] = id
	}
	if payload != nil {
		m["payload"] = payload
	}
	b, _ := json.Marshal(m)
	c.sendRaw(string(b))
}

func (c *client) readErr() (msg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, data, err := c.ws.Read(ctx)
	if err != nil {
		return msg{}, err
	}
	var m msg
	if err := json.Unmarshal(data, &m); err != nil {
		c.t.Fatalf("server sent invalid JSON %s: %v", data, err)
	}
	return m, nil
}

func (c *client) read() msg {
	c.t.Helper()
	m, err := c.readErr()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

func (c *client) expect(typ, id string) msg {
	c.t.Helper()
	m := c.read()
	if m.Type != typ || m.ID != id {
		c.t.Fatalf("got %s %q %s, want %s %q", m.Type, m.ID, m.Payload, typ, id)
	}
	return m
}

func (c *client) init() {
	c.t.Helper()
	c.send("connection_init", "", map[string]any{"Authorization": "Bearer good"})
	c.expect("connection_ack", "")
}

func (c *client) subscribe(id, query string) {
	c.t.Helper()
	c.send("subscribe", id, map[string]any{"query": query})
}

// expectClose reads until the socket ends and checks the close code and reason.
func (c *client) expectClose(code websocket.StatusCode, reason string) {
	c.t.Helper()
	for {
		m, err := c.readErr()
		if err == nil {
			c.t.Logf("before close: %s %q %s", m.Type, m.ID, m.Payload)
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != code || !strings.Contains(ce.Reason, reason) {
			c.t.Fatalf("socket ended with %v, want close %d %q", err, code, reason)
		}
		return
	}
}

// tickN decodes the n of a ticks next payload.
func tickN(t *testing.T, m msg) int {
	t.Helper()
	var p struct {
		Data struct{ Ticks struct{ N int } }
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		t.Fatalf("payload %s: %v", m.Payload, err)
	}
	return p.Data.Ticks.N
}

// expectGoroutines waits for the goroutine count to fall back to baseline.
func expectGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, baseline %d:\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
