// Package filingindex follows the event log to answer which filing an
// account has in progress (one in-flight order per account). It keeps only
// open filings in memory. A question waits until the index has applied the
// log up to its head at that moment, so a filing started before is always
// seen; two VerifyType commands of one account racing in the same instant
// can both pass it.
//
// It reads the log as stored: it needs event types and the account of
// filing.type_verified.v1, none of which is sealed personal data, so it
// opens nothing (on a large log its start-up catch-up is then a read, not a
// decryption, of every event).
package filingindex

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/eventstore"
)

// Index is the account → open filing index.
type Index struct {
	store    eventstore.Store
	mu       sync.Mutex
	open     map[string]string // account → filing
	accounts map[string]string // filing → account, open filings only
	applied  uint64            // position of the last event applied
	advanced chan struct{}     // closed and replaced when applied moves
	caughtUp bool              // the first catch-up is done
	done     chan struct{}     // closed when the index stops following the log
}

// Start subscribes to the log from the beginning and keeps the index until
// ctx ends; Done is closed then, and only then may the store be closed.
// OpenFiling waits until the first catch-up is done.
func Start(ctx context.Context, store eventstore.Store, logger *slog.Logger) *Index {
	ix := &Index{store: store, open: map[string]string{}, accounts: map[string]string{}, advanced: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(ix.done)
		ix.follow(ctx, logger)
	}()
	return ix
}

// Done is closed when the index has stopped reading the store.
func (ix *Index) Done() <-chan struct{} { return ix.done }

func (ix *Index) follow(ctx context.Context, logger *slog.Logger) {
	for ctx.Err() == nil {
		ix.mu.Lock()
		after := ix.applied
		ix.mu.Unlock()
		sub, err := ix.store.SubscribeAll(ctx, after)
		if err == nil {
			err = ix.consume(sub)
			sub.Close()
		}
		if ctx.Err() != nil {
			return
		}
		logger.Warn("filing index: subscription dropped, resubscribing", "after", after, "err", err)
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
		}
	}
}

func (ix *Index) consume(sub eventstore.Subscription) error {
	for {
		m, err := sub.Recv()
		if err != nil {
			return err
		}
		if m.CaughtUp {
			ix.mu.Lock()
			ix.caughtUp = true
			ix.mu.Unlock()
		}
		if m.Event != nil {
			if err := ix.apply(m.Event); err != nil {
				return err
			}
		}
	}
}

func (ix *Index) apply(e *eventstore.RecordedEvent) error {
	filing := strings.TrimPrefix(e.Stream, "filing-")
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.applied = e.Position
	close(ix.advanced)
	ix.advanced = make(chan struct{})
	switch e.Type {
	case domain.TypeTypeVerified:
		var v struct {
			Account string `json:"account"`
		}
		if err := json.Unmarshal(e.Data, &v); err != nil {
			return fmt.Errorf("filing index: %s: %w", e.Type, err)
		}
		ix.open[v.Account] = filing
		ix.accounts[filing] = v.Account
	case domain.TypeAbandoned, domain.TypeExpired, domain.TypeBureauApproved:
		if account, ok := ix.accounts[filing]; ok {
			delete(ix.accounts, filing)
			if ix.open[account] == filing {
				delete(ix.open, account)
			}
		}
	}
	return nil
}

// Ready reports whether the index has caught up with the log once since it
// started. Until then a VerifyType waits for it, so a server is not ready.
func (ix *Index) Ready() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if !ix.caughtUp {
		return fmt.Errorf("filing index: catching up with the log (at position %d)", ix.applied)
	}
	return nil
}

// OpenFiling implements commands.FilingIndex.
func (ix *Index) OpenFiling(ctx context.Context, account string) (string, error) {
	head, err := ix.store.Head(ctx)
	if err != nil {
		return "", err
	}
	for {
		ix.mu.Lock()
		if ix.applied >= head {
			defer ix.mu.Unlock()
			return ix.open[account], nil
		}
		advanced := ix.advanced
		ix.mu.Unlock()
		select {
		case <-advanced:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}
