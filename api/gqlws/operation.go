package gqlws

import (
	"context"
	"errors"

	graphql "github.com/graph-gophers/graphql-go"
	qerrors "github.com/graph-gophers/graphql-go/errors"
)

// operation is one running subscribe: its id and the cancel of its context.
type operation struct {
	id     string
	cancel context.CancelFunc
}

// onSubscribe starts the operation a subscribe message asks for.
func (s *session) onSubscribe(m message) *closeError {
	if s.opBase == nil {
		return closeErr(CloseUnauthorized, "Unauthorized")
	}
	p, ce := decodeSubscribe(m.Payload)
	if ce != nil {
		return ce
	}
	ctx, op, ce := s.register(m.ID)
	if ce != nil {
		return ce
	}
	if op == nil {
		return s.refuse(m.ID, "too many concurrent operations on this connection")
	}
	s.wg.Add(1)
	go s.runOperation(ctx, op, p)
	return nil
}

// register reserves id for a new operation. It returns a nil operation when
// the connection already runs MaxOperations, and a close error when id is taken.
func (s *session) register(id string) (context.Context, *operation, *closeError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ops[id]; ok {
		return nil, nil, closeErr(CloseSubscriberExists, "Subscriber for %s already exists", id)
	}
	if len(s.ops) >= s.opts.MaxOperations {
		return nil, nil, nil
	}
	ctx, cancel := context.WithCancel(s.opBase)
	op := &operation{id: id, cancel: cancel}
	s.ops[id] = op
	return ctx, op, nil
}

// refuse answers a subscribe that is not started with an error message.
func (s *session) refuse(id, reason string) *closeError {
	msg, err := encode(typeError, id, []*qerrors.QueryError{{Message: reason}})
	if err == nil {
		err = s.out.push(msg)
	}
	if errors.Is(err, errOutboxFull) {
		return closeErr(CloseClientTooSlow, "client too slow")
	}
	return nil
}

// onComplete stops the operation the client no longer listens to; nothing
// more is sent for its id.
func (s *session) onComplete(id string) {
	s.mu.Lock()
	op := s.ops[id]
	delete(s.ops, id)
	s.mu.Unlock()
	if op != nil {
		op.cancel()
	}
}

// runOperation executes one operation and streams its results.
func (s *session) runOperation(ctx context.Context, op *operation, p subscribePayload) {
	defer s.wg.Done()
	defer op.cancel()
	results, err := s.exec.Subscribe(ctx, p.Query, p.OperationName, p.Variables)
	if err != nil {
		s.deliver(op, typeError, []*qerrors.QueryError{qerrors.Errorf("%s", err)}, true)
		return
	}
	s.stream(ctx, op, results)
}

// stream sends each result as next and the end of the channel as complete.
// A first result that failed before execution started goes out as error.
func (s *session) stream(ctx context.Context, op *operation, results <-chan any) {
	for first := true; ; first = false {
		var v any
		var ok bool
		select {
		case <-ctx.Done():
			s.forget(op)
			return
		case v, ok = <-results:
		}
		if !ok {
			s.deliver(op, typeComplete, nil, true)
			return
		}
		if errs := requestErrors(v); first && errs != nil {
			s.deliver(op, typeError, errs, true)
			return
		}
		if !s.deliver(op, typeNext, v, false) {
			return
		}
	}
}

// requestErrors returns the errors of a response that failed as a whole
// before execution (syntax, validation, unknown operation): no data, and no
// error raised by a resolver or tied to a field path. Otherwise nil.
func requestErrors(v any) []*qerrors.QueryError {
	resp, ok := v.(*graphql.Response)
	if !ok || len(resp.Errors) == 0 || (len(resp.Data) > 0 && string(resp.Data) != "null") {
		return nil
	}
	for _, e := range resp.Errors {
		if e.ResolverError != nil || len(e.Path) > 0 {
			return nil
		}
	}
	return resp.Errors
}

// deliver queues a message of op, unless the client completed op or the
// socket is closing; last also releases op's id. It reports whether op may
// send more. The check and the queueing happen under s.mu, so nothing is
// queued for an id after the read loop has handled the client's complete.
func (s *session) deliver(op *operation, typ string, payload any, last bool) bool {
	msg, err := encode(typ, op.id, payload)
	if err != nil {
		s.log.Error("gqlws: cannot encode result", "id", op.id, "err", err)
		s.forget(op)
		s.shutdown(CloseInternalServerError, "Internal server error")
		return false
	}
	s.mu.Lock()
	if s.ops[op.id] != op {
		s.mu.Unlock()
		return false
	}
	err = s.out.push(msg)
	if last || err != nil {
		delete(s.ops, op.id)
	}
	s.mu.Unlock()
	if errors.Is(err, errOutboxFull) {
		s.shutdown(CloseClientTooSlow, "client too slow")
	}
	return err == nil
}

// forget releases op's id if it still holds it.
func (s *session) forget(op *operation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ops[op.id] == op {
		delete(s.ops, op.id)
	}
}
