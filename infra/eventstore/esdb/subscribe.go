package esdb

import (
	"context"
	"fmt"
	"time"

	client "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/beian/beian/infra/eventstore"
)

// SubscribeAll starts a catch-up subscription to $all after the given
// position: the server sends the stored events, then caught_up, then new
// events. The first subscription is made here, so a store that cannot
// subscribe at all says so at once; when it drops later, Recv resubscribes
// from the last event seen, with backoff, for as long as its context lasts.
//
// The caught-up signal is the server's caught_up message, which EventStoreDB
// sends from 23.10 on and KurrentDB always; an older server never sends it.
func (s *Store) SubscribeAll(ctx context.Context, after uint64) (eventstore.Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	sub := &subscription{store: s, ctx: ctx, cancel: cancel, after: after}
	if err := sub.subscribe(); err != nil {
		cancel()
		return nil, s.fail(ctx, fmt.Sprintf("subscribe to $all after %d", after), "", -1, err)
	}
	return sub, nil
}

// subscription is used by one goroutine (the one calling Recv); Close may
// come from any other and only cancels the context.
type subscription struct {
	store    *Store
	ctx      context.Context
	cancel   context.CancelFunc
	after    uint64 // the position of the last event looked at, delivered or skipped
	inner    *client.Subscription
	caughtUp bool          // sent to the subscriber; the server sends it again after each resubscription
	backoff  time.Duration // wait before the next attempt; 0 after a healthy message
}

func (sub *subscription) subscribe() error {
	var from client.AllPosition = client.Start{}
	if c, ok := logPosition(sub.after); ok {
		from = at(c) // exclusive: the server starts after it
	}
	var inner *client.Subscription
	err := sub.store.call(sub.ctx, func(ctx context.Context, c *client.Client) error {
		var err error
		inner, err = c.SubscribeToAll(ctx, client.SubscribeToAllOptions{From: from})
		return err
	})
	if err != nil {
		return err
	}
	sub.inner = inner
	return nil
}

// Recv returns the next event or the caught-up signal. A dropped
// subscription is resumed here; Recv returns an error only when its context
// ends, the store is closed, the server refuses the subscription for good,
// or an event cannot be read.
func (sub *subscription) Recv() (eventstore.Message, error) {
	for {
		if err := sub.ctx.Err(); err != nil {
			sub.drop()
			return eventstore.Message{}, err
		}
		if sub.inner == nil {
			if err := sub.resubscribe(); err != nil {
				return eventstore.Message{}, err
			}
			continue
		}
		ev := sub.inner.Recv()
		switch {
		case ev.EventAppeared != nil:
			sub.backoff = 0
			c := commitOf(ev.EventAppeared)
			if c == noPosition || position(c) <= sub.after {
				continue // already delivered before a resubscription
			}
			sub.after = position(c)
			if system(ev.EventAppeared) {
				continue
			}
			e, err := recorded(ev.EventAppeared)
			if err != nil {
				return eventstore.Message{}, &eventstore.Error{Op: fmt.Sprintf("subscribe to $all at %d", sub.after), Revision: -1, Err: err}
			}
			return eventstore.Message{Event: &e}, nil
		case ev.CaughtUp != nil:
			sub.backoff = 0
			if !sub.caughtUp {
				sub.caughtUp = true
				return eventstore.Message{CaughtUp: true}, nil
			}
		case ev.SubscriptionDropped != nil:
			sub.drop()
			if err := sub.ctx.Err(); err != nil {
				return eventstore.Message{}, err
			}
			if sub.store.isClosed() {
				return eventstore.Message{}, eventstore.ErrClosed
			}
			err := ev.SubscriptionDropped.Error
			sub.store.note(sub.ctx, err)
			sub.store.log.Warn("esdb: subscription to $all dropped; resubscribing", "after", sub.after, "err", err)
		}
		// Checkpoints (of filtered subscriptions) and fell-behind notices
		// change nothing for the subscriber.
	}
}

// resubscribe waits out the backoff and subscribes again after the last
// event seen. It returns an error only if the subscriber should stop.
func (sub *subscription) resubscribe() error {
	if sub.backoff > 0 {
		t := time.NewTimer(sub.backoff)
		select {
		case <-t.C:
		case <-sub.ctx.Done():
			t.Stop()
			return sub.ctx.Err()
		}
	}
	sub.backoff = min(max(2*sub.backoff, sub.store.cfg.ResubscribeMin), sub.store.cfg.ResubscribeMax)
	err := sub.subscribe()
	switch {
	case err == nil:
		return nil
	case sub.ctx.Err() != nil:
		return sub.ctx.Err()
	case sub.store.isClosed():
		return eventstore.ErrClosed
	case permanent(err):
		return sub.store.fail(sub.ctx, fmt.Sprintf("subscribe to $all after %d", sub.after), "", -1, err)
	}
	sub.store.log.Warn("esdb: cannot resubscribe to $all yet", "after", sub.after, "err", err, "retry_in", sub.backoff)
	return nil
}

func (sub *subscription) drop() {
	if sub.inner != nil {
		_ = sub.inner.Close()
		sub.inner = nil
	}
}

// Close stops the subscription; a Recv in progress returns the context's
// error.
func (sub *subscription) Close() error {
	sub.cancel()
	return nil
}
