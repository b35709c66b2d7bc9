package filingindex_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/eventstore"
	eventsqlite "github.com/beian/beian/infra/eventstore/sqlite"
	"github.com/beian/beian/infra/filingindex"
	"github.com/google/uuid"
)

func event(typ, data string) eventstore.EventData {
	return eventstore.EventData{ID: uuid.NewString(), Type: typ, Data: []byte(data),
		Metadata: eventstore.Metadata{SchemaVersion: 1, OccurredAt: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}}
}

func appendTo(t *testing.T, s eventstore.Store, filing string, events ...eventstore.EventData) {
	t.Helper()
	if _, err := s.Append(t.Context(), "filing-"+filing, eventstore.Any(), events); err != nil {
		t.Fatal(err)
	}
}

// gatedStore holds every subscription back until the gate opens, as a long
// log holds back the first catch-up.
type gatedStore struct {
	eventstore.Store
	gate chan struct{}
}

func (g gatedStore) SubscribeAll(ctx context.Context, after uint64) (eventstore.Subscription, error) {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.Store.SubscribeAll(ctx, after)
}

// TestIndex: given a log with an open filing, an approved one and a second
// filing of an account after the first ended, the index answers each
// account's open filing, and is not ready until its first catch-up.
func TestIndex(t *testing.T) {
	store, err := eventsqlite.Open(eventsqlite.Config{Path: filepath.Join(t.TempDir(), "events.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	verified := func(account string) eventstore.EventData {
		// As stored: the certificate number sealed, the account not.
		return event(domain.TypeTypeVerified, `{"account":"`+account+`","certificateNumber":"sealed:v1:…"}`)
	}
	appendTo(t, store, "f1", verified("a1"))
	appendTo(t, store, "f2", verified("a2"))
	appendTo(t, store, "f2", event(domain.TypeBureauApproved, `{}`))
	appendTo(t, store, "f3", verified("a3"))
	appendTo(t, store, "f3", event(domain.TypeAbandoned, `{}`))
	appendTo(t, store, "f4", verified("a3"))
	// Ids as NewFilingID makes them (UUIDs, kept as 16 bytes) and others
	// (kept by name) come back as they were.
	const uuidID, upperID = "6f1c1f4e-2b1a-5c4e-9a55-6265069616e0", "7A2C1F4E-2B1A-5C4E-9A55-6265069616E0"
	appendTo(t, store, uuidID, verified("u1"))
	appendTo(t, store, upperID, verified("u2"))
	appendTo(t, store, "f6", verified("a6"))
	appendTo(t, store, "f6", event(domain.TypeExpired, `{}`))

	ctx, cancel := context.WithCancel(t.Context())
	gated := gatedStore{Store: store, gate: make(chan struct{})}
	ix := filingindex.Start(ctx, gated, slog.New(slog.DiscardHandler))
	defer func() { cancel(); <-ix.Done() }() // before the store closes
	if err := ix.Ready(); err == nil {
		t.Fatal("ready before its first catch-up")
	}
	close(gated.gate)
	deadline := time.Now().Add(10 * time.Second)
	for ix.Ready() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("not ready after 10 s: %v", ix.Ready())
		}
		time.Sleep(5 * time.Millisecond)
	}
	for account, want := range map[string]string{"a1": "f1", "a2": "", "a3": "f4", "nobody": "", "u1": uuidID, "u2": upperID, "a6": ""} {
		got, err := ix.OpenFiling(ctx, account)
		if err != nil || got != want {
			t.Errorf("open filing of %s: %q, %v; want %q", account, got, err, want)
		}
	}
	// Live: a filing started after the catch-up is seen by the next question.
	appendTo(t, store, "f5", verified("a5"))
	if got, err := ix.OpenFiling(ctx, "a5"); err != nil || got != "f5" {
		t.Fatalf("open filing of a5 after the catch-up: %q, %v", got, err)
	}
}
