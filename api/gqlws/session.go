package gqlws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// session is one socket: the read loop runs on the ServeHTTP goroutine, one
// writer goroutine owns every write of a message, a keep-alive goroutine pings,
// and each operation has a goroutine of its own.
type session struct {
	ws   *websocket.Conn
	exec Executor
	auth Authenticate
	opts Options
	log  *slog.Logger

	// ctx ends when the socket closes; operations, the writer and the timers
	// stop with it.
	ctx    context.Context
	cancel context.CancelFunc
	// ioCtx is never cancelled: coder/websocket drops the TCP connection
	// without a close frame when the context of a pending Read or Write ends,
	// so reads and writes are bounded by Close and by timeouts instead.
	ioCtx     context.Context
	out       *outbox
	wg        sync.WaitGroup
	closeOnce sync.Once

	// Owned by the read loop, except initSeen, which awaitInit watches.
	initSeen      chan struct{}
	initReceived  bool
	opBase        context.Context // nil until connection_ack
	releaseOpBase context.CancelFunc

	mu  sync.Mutex
	ops map[string]*operation
}

func newSession(parent context.Context, ws *websocket.Conn, h *handler) *session {
	ctx, cancel := context.WithCancel(parent)
	return &session{
		ws: ws, exec: h.exec, auth: h.auth, opts: h.opts, log: h.opts.Logger,
		ctx: ctx, cancel: cancel, ioCtx: context.WithoutCancel(parent),
		out:      newOutbox(h.opts.SendQueue),
		initSeen: make(chan struct{}),
		ops:      make(map[string]*operation),
	}
}

// run serves the socket and returns once every goroutine of the session has ended.
func (s *session) run() {
	s.wg.Add(3)
	go s.writeLoop()
	go s.keepAlive()
	go s.awaitInit()
	if ce := s.readLoop(); ce != nil {
		s.shutdown(ce.code, ce.reason)
		s.wg.Wait()
	} else {
		// The socket is gone. A write timeout also breaks the connection
		// under the reader, so let the writer report first why it ended.
		s.cancel()
		s.wg.Wait()
		s.shutdown(CloseNormal, "")
	}
	if s.releaseOpBase != nil {
		s.releaseOpBase()
	}
}

// shutdown closes the socket once with code and reason, cancelling every operation.
func (s *session) shutdown(code websocket.StatusCode, reason string) {
	s.closeOnce.Do(func() {
		s.cancel()
		s.out.close()
		level := slog.LevelInfo
		if code == CloseNormal {
			level = slog.LevelDebug
		}
		s.log.Log(s.ctx, level, "gqlws: closing socket", "code", int(code), "reason", reason)
		_ = s.ws.Close(code, truncateReason(reason))
	})
}

// readLoop handles client messages until the socket ends or the client breaks
// the protocol, which it returns.
func (s *session) readLoop() *closeError {
	for {
		_, data, err := s.ws.Read(s.ioCtx)
		if err != nil {
			s.log.Debug("gqlws: read ended", "err", err)
			return nil
		}
		if ce := s.handle(data); ce != nil {
			return ce
		}
	}
}

// handle dispatches one client message.
func (s *session) handle(data []byte) *closeError {
	m, ce := parseMessage(data)
	if ce != nil {
		return ce
	}
	switch m.Type {
	case typeConnectionInit:
		return s.onInit(m.Payload)
	case typePing:
		return s.sendControl(typePong, m.Payload)
	case typeSubscribe:
		return s.onSubscribe(m)
	case typeComplete:
		s.onComplete(m.ID)
	}
	return nil // pong: nothing to do
}

// onInit authenticates the connection and acknowledges it.
func (s *session) onInit(raw json.RawMessage) *closeError {
	if s.initReceived {
		return closeErr(CloseTooManyInitRequests, "Too many initialisation requests")
	}
	s.initReceived = true
	close(s.initSeen)
	payload, err := decodeObject(raw)
	if err != nil {
		return closeErr(CloseBadRequest, `Invalid "connection_init" message: %v`, err)
	}
	authCtx, err := s.auth(s.ctx, payload)
	if err != nil {
		s.log.Info("gqlws: connection_init refused", "err", err)
		return closeErr(CloseForbidden, "Forbidden")
	}
	if authCtx == nil {
		authCtx = s.ctx
	}
	s.opBase, s.releaseOpBase = joinCancel(authCtx, s.ctx)
	return s.sendControl(typeConnectionAck, nil)
}

// joinCancel returns a context with the values of values that is cancelled
// when lifetime ends, and a func releasing it.
func joinCancel(values, lifetime context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(values)
	stop := context.AfterFunc(lifetime, cancel)
	return ctx, func() { stop(); cancel() }
}

// sendControl queues a message that belongs to no operation (ack, pong).
func (s *session) sendControl(typ string, payload json.RawMessage) *closeError {
	var p any
	if len(payload) > 0 {
		p = payload
	}
	msg, err := encode(typ, "", p)
	if err == nil {
		err = s.out.push(msg)
	}
	switch {
	case err == nil, errors.Is(err, errOutboxClosed):
		return nil
	case errors.Is(err, errOutboxFull):
		return closeErr(CloseClientTooSlow, "client too slow")
	default:
		s.log.Error("gqlws: cannot send", "type", typ, "err", err)
		return closeErr(CloseInternalServerError, "Internal server error")
	}
}

// awaitInit closes the socket when connection_init does not arrive in time.
func (s *session) awaitInit() {
	defer s.wg.Done()
	t := time.NewTimer(s.opts.InitTimeout)
	defer t.Stop()
	select {
	case <-s.initSeen:
	case <-s.ctx.Done():
	case <-t.C:
		s.shutdown(CloseInitTimeout, "Connection initialisation timeout")
	}
}

// keepAlive pings the client every PingInterval and closes the socket when a
// pong does not come back within PongTimeout.
func (s *session) keepAlive() {
	defer s.wg.Done()
	if s.opts.PingInterval < 0 {
		return
	}
	t := time.NewTicker(s.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		if err := s.ping(); err != nil {
			if s.ctx.Err() == nil {
				s.log.Info("gqlws: keep-alive failed", "err", err)
				s.shutdown(CloseKeepAliveTimeout, "keep-alive timeout")
			}
			return
		}
	}
}

// ping sends a WebSocket ping and waits for its pong; the read loop delivers it.
func (s *session) ping() error {
	ctx, cancel := context.WithTimeout(s.ioCtx, s.opts.PongTimeout)
	defer cancel()
	if err := s.ws.Ping(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// writeLoop is the only goroutine writing messages, in the order they were queued.
func (s *session) writeLoop() {
	defer s.wg.Done()
	for {
		msg, ok := s.out.take(s.ctx)
		if !ok {
			return
		}
		if err := s.write(msg); err != nil {
			s.writeFailed(err)
			return
		}
	}
}

// write writes one message, giving up after WriteTimeout.
func (s *session) write(msg []byte) error {
	ctx, cancel := context.WithTimeout(s.ioCtx, s.opts.WriteTimeout)
	defer cancel()
	if err := s.ws.Write(ctx, websocket.MessageText, msg); err != nil {
		return fmt.Errorf("write message: %w", err)
	}
	return nil
}

// writeFailed closes the socket after a failed write: a timeout means the
// client does not read, and the rest of its results cannot be delivered.
func (s *session) writeFailed(err error) {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		s.log.Warn("gqlws: client too slow", "write_timeout", s.opts.WriteTimeout, "err", err)
		s.shutdown(CloseClientTooSlow, "client too slow")
	case s.ctx.Err() == nil:
		s.log.Info("gqlws: write failed", "err", err)
		s.shutdown(CloseInternalServerError, "write failed")
	}
}
