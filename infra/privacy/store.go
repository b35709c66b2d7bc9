package privacy

import (
	"context"
	"fmt"
	"strings"

	"github.com/beian/beian/infra/eventstore"
)

// SchemaSealed is the metadata schema version of events whose personal
// fields are sealed. Version 1 events were written before sealing existed.
const SchemaSealed = 2

// Upcaster turns a stored event of one schema version into the next. The
// chain runs on read, oldest first, so code only ever sees the current
// shape, and the log is never rewritten.
type Upcaster interface {
	From() int // the schema version it reads
	Upcast(ctx context.Context, e eventstore.RecordedEvent) (eventstore.RecordedEvent, error)
}

// plaintextV1 upcasts events written before personal data was sealed: their
// payload already is the opened shape, so only the version moves on. Their
// personal fields cannot be shredded by erasing a key; docs/audit.md says so.
type plaintextV1 struct{}

func (plaintextV1) From() int { return 1 }

func (plaintextV1) Upcast(_ context.Context, e eventstore.RecordedEvent) (eventstore.RecordedEvent, error) {
	e.Metadata.SchemaVersion = SchemaSealed
	return e, nil
}

// sealedV2 opens the sealed fields: the shape every reader wants.
type sealedV2 struct{ p *Protector }

func (sealedV2) From() int { return SchemaSealed }

func (u sealedV2) Upcast(ctx context.Context, e eventstore.RecordedEvent) (eventstore.RecordedEvent, error) {
	data, err := u.p.Open(ctx, e.Data)
	if err != nil {
		return e, fmt.Errorf("open %s@%d: %w", e.Stream, e.Revision, err)
	}
	e.Data = data
	e.Metadata.SchemaVersion = SchemaSealed + 1
	return e, nil
}

// Store is the event store seen through the protector: reads return filing
// events opened (and upcast), appends pass through (the command side seals
// before it chains). Hash chains are verified on the store underneath,
// whose bytes they cover.
type Store struct {
	eventstore.Store
	upcasters []Upcaster
}

// NewStore wraps the event store.
func NewStore(inner eventstore.Store, p *Protector) *Store {
	return &Store{Store: inner, upcasters: []Upcaster{plaintextV1{}, sealedV2{p: p}}}
}

// current is the version readers get.
const current = SchemaSealed + 1

func (s *Store) open(ctx context.Context, e eventstore.RecordedEvent) (eventstore.RecordedEvent, error) {
	if !strings.HasPrefix(e.Stream, "filing-") {
		return e, nil
	}
	if e.Metadata.SchemaVersion == 0 {
		e.Metadata.SchemaVersion = 1
	}
	for _, u := range s.upcasters {
		if e.Metadata.SchemaVersion >= current {
			break
		}
		if u.From() == e.Metadata.SchemaVersion {
			var err error
			if e, err = u.Upcast(ctx, e); err != nil {
				return e, err
			}
		}
	}
	// Readers see the version the event was written in, so metadata round-
	// trips; the payload is what changed.
	return e, nil
}

func (s *Store) openAll(ctx context.Context, events []eventstore.RecordedEvent) ([]eventstore.RecordedEvent, error) {
	for i := range events {
		version := events[i].Metadata.SchemaVersion
		opened, err := s.open(ctx, events[i])
		if err != nil {
			return nil, err
		}
		opened.Metadata.SchemaVersion = version
		events[i] = opened
	}
	return events, nil
}

// ReadStream reads a stream, opened.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	events, err := s.Store.ReadStream(ctx, stream, from, limit)
	if err != nil {
		return nil, err
	}
	return s.openAll(ctx, events)
}

// ReadAll reads the log, opened.
func (s *Store) ReadAll(ctx context.Context, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	events, err := s.Store.ReadAll(ctx, from, limit)
	if err != nil {
		return nil, err
	}
	return s.openAll(ctx, events)
}

// SubscribeAll subscribes, opening each event as it arrives.
func (s *Store) SubscribeAll(ctx context.Context, after uint64) (eventstore.Subscription, error) {
	sub, err := s.Store.SubscribeAll(ctx, after)
	if err != nil {
		return nil, err
	}
	return &subscription{Subscription: sub, store: s, ctx: ctx}, nil
}

type subscription struct {
	eventstore.Subscription
	store *Store
	ctx   context.Context
}

func (sub *subscription) Recv() (eventstore.Message, error) {
	m, err := sub.Subscription.Recv()
	if err != nil || m.Event == nil {
		return m, err
	}
	opened, err := sub.store.openAll(sub.ctx, []eventstore.RecordedEvent{*m.Event})
	if err != nil {
		return eventstore.Message{}, err
	}
	m.Event = &opened[0]
	return m, nil
}
