package api

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/beian/beian/infra/eventstore"
)

// hub follows the event log and wakes the subscriptions of the filings that
// changed. A wake-up is a signal, not the change itself: the subscriber
// reads the filing's new events from the log, so a slow subscriber misses
// nothing, it only coalesces wake-ups.
type hub struct {
	mu       sync.Mutex
	watchers map[string]map[chan struct{}]struct{}
}

func newHub() *hub { return &hub{watchers: map[string]map[chan struct{}]struct{}{}} }

// watch registers interest in a filing; call the returned func to stop.
func (h *hub) watch(filingID string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	if h.watchers[filingID] == nil {
		h.watchers[filingID] = map[chan struct{}]struct{}{}
	}
	h.watchers[filingID][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.watchers[filingID], ch)
		if len(h.watchers[filingID]) == 0 {
			delete(h.watchers, filingID)
		}
		h.mu.Unlock()
	}
}

func (h *hub) wake(filingID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.watchers[filingID] {
		select {
		case ch <- struct{}{}:
		default: // already signalled
		}
	}
}

// follow subscribes to the log from its head and wakes watchers until ctx
// ends, resubscribing after failures.
func (h *hub) follow(ctx context.Context, events eventstore.Store, logger *slog.Logger) {
	after, err := events.Head(ctx)
	for ctx.Err() == nil {
		if err == nil {
			var sub eventstore.Subscription
			sub, err = events.SubscribeAll(ctx, after)
			for err == nil {
				var m eventstore.Message
				m, err = sub.Recv()
				if err == nil && m.Event != nil {
					after = m.Event.Position
					if id, ok := strings.CutPrefix(m.Event.Stream, "filing-"); ok {
						h.wake(id)
					}
				}
			}
			if sub != nil {
				sub.Close()
			}
		}
		if ctx.Err() != nil {
			return
		}
		logger.Warn("subscription hub: resubscribing", "after", after, "err", err)
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
		}
		err = nil
	}
}
