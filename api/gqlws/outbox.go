package gqlws

import (
	"context"
	"errors"
	"sync"
)

var (
	// errOutboxFull means the client reads slower than the server produces.
	errOutboxFull = errors.New("send queue full")
	// errOutboxClosed means the socket is closing; the message is not needed.
	errOutboxClosed = errors.New("socket closing")
)

// outbox is the queue between the goroutines producing messages and the one
// goroutine writing them. Pushing never blocks, so an operation keeps taking
// results from graphql-go (which drops a result it cannot hand over within its
// SubscribeResolverTimeout); a bounded length turns a slow client into a
// closed socket rather than into unbounded memory or lost results. One FIFO
// keeps the order of each operation's messages.
type outbox struct {
	mu     sync.Mutex
	queue  [][]byte
	limit  int
	closed bool
	ready  chan struct{} // one pending wake-up for the writer
}

func newOutbox(limit int) *outbox {
	return &outbox{limit: limit, ready: make(chan struct{}, 1)}
}

// push queues a message for the writer.
func (o *outbox) push(msg []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return errOutboxClosed
	}
	if len(o.queue) >= o.limit {
		return errOutboxFull
	}
	o.queue = append(o.queue, msg)
	select {
	case o.ready <- struct{}{}:
	default:
	}
	return nil
}

// take waits for the oldest queued message, or returns false once ctx is done.
func (o *outbox) take(ctx context.Context) ([]byte, bool) {
	for {
		if msg, ok := o.pop(); ok {
			return msg, true
		}
		select {
		case <-o.ready:
		case <-ctx.Done():
			return nil, false
		}
	}
}

// pop removes the oldest queued message, if any.
func (o *outbox) pop() ([]byte, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.queue) == 0 {
		return nil, false
	}
	msg := o.queue[0]
	o.queue[0] = nil
	o.queue = o.queue[1:]
	return msg, true
}

// close refuses further messages and forgets the queued ones.
func (o *outbox) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	o.queue = nil
}
