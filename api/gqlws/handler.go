package gqlws

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// Executor runs an operation and streams its results. *graphql.Schema's
// Subscribe method has exactly this shape; each value it yields is a
// *graphql.Response. Any other value is sent as the next payload as it marshals.
type Executor interface {
	Subscribe(ctx context.Context, query, operationName string, variables map[string]interface{}) (<-chan interface{}, error)
}

// Authenticate checks the connection_init payload (e.g. {"Authorization":
// "Bearer …"}) and returns the context the operations of this connection run
// with, carrying the identity. An error closes the socket with CloseForbidden.
// The returned context's values are kept; its cancellation is joined with the
// socket's, so it need not derive from ctx.
type Authenticate func(ctx context.Context, payload map[string]any) (context.Context, error)

// Options tune a handler. A zero or negative value takes the default, except
// PingInterval, where a negative value turns pings off.
type Options struct {
	InitTimeout    time.Duration // default 10s: no connection_init in time → CloseInitTimeout
	PingInterval   time.Duration // default 15s: how often the server pings (the next ping waits for the last pong)
	PongTimeout    time.Duration // default PingInterval: no pong within it → CloseKeepAliveTimeout
	WriteTimeout   time.Duration // default 10s: a write blocked longer → CloseClientTooSlow
	ReadLimit      int64         // default 64 KiB per message; larger → 1009 Message Too Big
	MaxOperations  int           // default 32 concurrent operations per connection
	SendQueue      int           // default 1024 messages waiting for the writer; more → CloseClientTooSlow
	Logger         *slog.Logger  // default slog.Default()
	OriginPatterns []string      // passed to websocket.AcceptOptions; empty: browsers may connect from the same origin only
}

// withDefaults returns o with every unset field filled in.
func (o Options) withDefaults() Options {
	if o.InitTimeout <= 0 {
		o.InitTimeout = 10 * time.Second
	}
	if o.PingInterval == 0 {
		o.PingInterval = 15 * time.Second
	}
	if o.PongTimeout <= 0 {
		o.PongTimeout = o.PingInterval
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = 64 << 10
	}
	if o.MaxOperations <= 0 {
		o.MaxOperations = 32
	}
	if o.SendQueue <= 0 {
		o.SendQueue = 1024
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// handler is the http.Handler NewHandler returns.
type handler struct {
	exec Executor
	auth Authenticate
	opts Options
}

// NewHandler returns the WebSocket endpoint for exec. It panics when exec or
// auth is nil: an endpoint without either is a wiring mistake.
func NewHandler(exec Executor, auth Authenticate, opts Options) http.Handler {
	if exec == nil {
		panic("gqlws: NewHandler needs an Executor")
	}
	if auth == nil {
		panic("gqlws: NewHandler needs an Authenticate func")
	}
	return &handler{exec: exec, auth: auth, opts: opts.withDefaults()}
}

// ServeHTTP upgrades the request and serves the socket until it closes.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:   []string{Subprotocol},
		OriginPatterns: h.opts.OriginPatterns,
	})
	if err != nil {
		// Accept has already answered the request with an HTTP error.
		h.opts.Logger.DebugContext(r.Context(), "gqlws: upgrade refused", "err", err)
		return
	}
	if ws.Subprotocol() != Subprotocol {
		_ = ws.Close(CloseSubprotocolNotAcceptable, "Subprotocol not acceptable")
		return
	}
	ws.SetReadLimit(h.opts.ReadLimit)
	newSession(r.Context(), ws, h).run()
}
