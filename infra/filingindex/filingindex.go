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
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/eventstore"
	"github.com/google/uuid"
)

// Index is the account → open filing index. It keeps 16-byte keys in a
// table without pointers, not strings in maps: with a million open filings
// the strings (and the stored event rows they were cut from) were 230 MB of
// a server's heap, the table is about 50 MB, and the garbage collector need
// not scan it.
type Index struct {
	store    eventstore.Store
	mu       sync.Mutex
	open     *table         // account ↔ open filing
	named    map[key]string // the ids of open filings that are not canonical UUIDs
	applied  uint64         // position of the last event applied
	advanced chan struct{}  // closed and replaced when applied moves
	caughtUp bool           // the first catch-up is done
	done     chan struct{}  // closed when the index stops following the log
}

// Start subscribes to the log from the beginning and keeps the index until
// ctx ends; Done is closed then, and only then may the store be closed.
// OpenFiling waits until the first catch-up is done.
func Start(ctx context.Context, store eventstore.Store, logger *slog.Logger) *Index {
	ix := &Index{store: store, open: newTable(), named: map[key]string{},
		advanced: make(chan struct{}), done: make(chan struct{})}
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
	id := strings.TrimPrefix(e.Stream, "filing-")
	var account string
	if e.Type == domain.TypeTypeVerified {
		var v struct {
			Account string `json:"account"`
		}
		if err := json.Unmarshal(e.Data, &v); err != nil {
			return fmt.Errorf("filing index: %s: %w", e.Type, err)
		}
		account = v.Account
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.advance(e.Position)
	switch e.Type {
	case domain.TypeTypeVerified:
		filing, canonical := filingKey(id)
		if displaced, ok := ix.open.put(accountKey(account), filing); ok {
			delete(ix.named, displaced)
		}
		if !canonical {
			ix.named[filing] = strings.Clone(id)
		}
	case domain.TypeAbandoned, domain.TypeExpired, domain.TypeBureauApproved:
		filing, _ := filingKey(id)
		ix.open.removeFiling(filing)
		delete(ix.named, filing)
	}
	return nil
}

// advance records that the log is applied up to position; the caller holds mu.
func (ix *Index) advance(position uint64) {
	ix.applied = position
	close(ix.advanced)
	ix.advanced = make(chan struct{})
}

// accountKey is the first half of the account's SHA-256: two accounts of a
// billion share one with a probability of about 10⁻²¹.
func accountKey(account string) key {
	sum := sha256.Sum256([]byte(account))
	return key(sum[:16])
}

// filingKey is the filing id's UUID, which NewFilingID makes; an id that
// is not a UUID in canonical form has the first half of its SHA-256, and
// the index keeps its name.
func filingKey(id string) (key, bool) {
	if u, err := uuid.Parse(id); err == nil && u.String() == id {
		return key(u), true
	}
	sum := sha256.Sum256([]byte(id))
	return key(sum[:16]), false
}

// filingID turns a filing key back into its id; the caller holds mu.
func (ix *Index) filingID(k key) string {
	if id, ok := ix.named[k]; ok {
		return id
	}
	return uuid.UUID(k).String()
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
			filing, ok := ix.open.filing(accountKey(account))
			if !ok {
				return "", nil
			}
			return ix.filingID(filing), nil
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
