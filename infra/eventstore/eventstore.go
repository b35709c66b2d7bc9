// Package eventstore is the event-store port: append to a stream with an
// expected revision, read a stream or the whole log ($all) forwards, and
// subscribe to the log from a checkpoint. Adapters live in subpackages
// (sqlite, esdb) and all pass the conformance suite in eventstoretest.
//
// It imports only the standard library; it must not import domain, commands
// or any adapter.
package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Store is the event-store port.
type Store interface {
	// Append writes events to the end of a stream if its revision is what the
	// caller expects. If the stream already holds the same event ids, in
	// order, right after the expected revision (NoStream or Exact), the
	// append is a retry: it writes nothing and returns the original result.
	// Event ids are the caller's to keep unique (they derive from idempotency
	// keys); adapters do not index them across streams.
	Append(ctx context.Context, stream string, expected ExpectedRevision, events []EventData) (AppendResult, error)
	// ReadStream returns up to limit events of a stream with revision >= from,
	// oldest first, or a *NotFoundError if the stream has no events.
	ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]RecordedEvent, error)
	// ReadAll returns up to limit events of the whole log with position >=
	// from, in position order.
	ReadAll(ctx context.Context, from uint64, limit int) ([]RecordedEvent, error)
	// Head returns the position of the last event in $all, 0 when empty.
	Head(ctx context.Context) (uint64, error)
	// SubscribeAll delivers every event with position > after, in position
	// order: first the stored ones (catch-up), then a CaughtUp message, then
	// new events as they are appended (live). after = 0 starts at the beginning.
	SubscribeAll(ctx context.Context, after uint64) (Subscription, error)
	// Close releases the store. Appends in flight finish first.
	Close() error
}

// Subscription is a catch-up subscription to $all.
type Subscription interface {
	// Recv blocks until the next message, or returns the context's error once
	// the subscription's context is done.
	Recv() (Message, error)
	// Close stops the subscription.
	Close() error
}

// Message is what a subscription delivers: an event, or the signal that the
// subscriber has read everything stored when it started (sent once).
type Message struct {
	Event    *RecordedEvent
	CaughtUp bool
}

// EventData is an event to append.
type EventData struct {
	ID       string // a UUID, unique in the store; derived from the command's idempotency key
	Type     string // stable versioned name, e.g. "filing.type_verified.v1"
	Data     []byte // JSON payload
	Metadata Metadata
}

// Metadata travels with every event.
type Metadata struct {
	SchemaVersion int       `json:"schemaVersion"`
	ActorAccount  string    `json:"actorAccount,omitempty"`
	ActorRole     string    `json:"actorRole,omitempty"`
	CommandID     string    `json:"commandId,omitempty"`
	CommandHash   string    `json:"commandHash,omitempty"` // hash of the command input, to tell a retry from a reused key
	CorrelationID string    `json:"correlationId,omitempty"`
	CausationID   string    `json:"causationId,omitempty"`
	OccurredAt    time.Time `json:"occurredAt"` // the command's time
	// Hash chain fields for tamper evidence, when enabled.
	PrevHash string `json:"prevHash,omitempty"`
	Hash     string `json:"hash,omitempty"`
}

// RecordedEvent is a stored event.
type RecordedEvent struct {
	EventData
	Stream   string
	Revision uint64 // 0 for a stream's first event
	// Position is the place in $all: increasing in commit order, never 0,
	// and adapter-specific. SQLite numbers events 1, 2, 3 without gaps;
	// EventStoreDB derives it from the log's byte offset, with gaps. Treat
	// it as opaque: compare it, store it, pass it back (p or p+1) to the
	// same store.
	Position   uint64
	RecordedAt time.Time // when the store committed it
}

// AppendResult says where an append landed: the revision and position of
// its last event.
type AppendResult struct {
	Revision uint64
	Position uint64
}

// ExpectedRevision is what an append expects of the stream.
type ExpectedRevision struct {
	kind     expectKind
	revision uint64
}

type expectKind uint8

const (
	expectAny expectKind = iota
	expectNoStream
	expectExact
)

// Any appends whatever the stream's revision.
func Any() ExpectedRevision { return ExpectedRevision{kind: expectAny} }

// NoStream appends only if the stream has no events.
func NoStream() ExpectedRevision { return ExpectedRevision{kind: expectNoStream} }

// Exact appends only if the stream's last event has revision r.
func Exact(r uint64) ExpectedRevision { return ExpectedRevision{kind: expectExact, revision: r} }

// IsAny, IsNoStream and Revision let adapters map the expectation.
func (e ExpectedRevision) IsAny() bool      { return e.kind == expectAny }
func (e ExpectedRevision) IsNoStream() bool { return e.kind == expectNoStream }

// Revision returns the exact revision expected and true, or false for Any
// and NoStream.
func (e ExpectedRevision) Revision() (uint64, bool) { return e.revision, e.kind == expectExact }

func (e ExpectedRevision) String() string {
	switch e.kind {
	case expectNoStream:
		return "no stream"
	case expectExact:
		return fmt.Sprintf("revision %d", e.revision)
	}
	return "any"
}

// Matches reports whether a stream whose last revision is current (-1 for
// no stream) meets the expectation.
func (e ExpectedRevision) Matches(current int64) bool {
	switch e.kind {
	case expectNoStream:
		return current < 0
	case expectExact:
		return current == int64(e.revision)
	}
	return true
}

// ErrConflict and ErrNotFound are matched with errors.Is.
var (
	ErrConflict = errors.New("wrong expected revision")
	ErrNotFound = errors.New("stream not found")
	// ErrDuplicateEventID: one append carries the same event id twice.
	ErrDuplicateEventID = errors.New("event id repeated")
	// ErrClosed is returned once the store is closed.
	ErrClosed = errors.New("event store closed")
)

// ConflictError is a failed expected-revision check.
type ConflictError struct {
	Op       string
	Stream   string
	Expected ExpectedRevision
	Actual   int64 // -1 when the stream does not exist
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s %s: expected %s, stream is at %d", e.Op, e.Stream, e.Expected, e.Actual)
}

func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// NotFoundError is a read of a stream without events.
type NotFoundError struct {
	Op     string
	Stream string
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %s: stream not found", e.Op, e.Stream) }

func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Error wraps an adapter failure with the operation, stream and revision it
// concerned, so a log line says what failed where.
type Error struct {
	Op       string
	Stream   string
	Revision int64 // -1 when not about a revision
	Err      error
}

func (e *Error) Error() string {
	switch {
	case e.Stream == "":
		return fmt.Sprintf("%s: %v", e.Op, e.Err)
	case e.Revision < 0:
		return fmt.Sprintf("%s %s: %v", e.Op, e.Stream, e.Err)
	}
	return fmt.Sprintf("%s %s@%d: %v", e.Op, e.Stream, e.Revision, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// CheckAppend validates an append's arguments the same way in every adapter.
func CheckAppend(stream string, events []EventData) error {
	if stream == "" || len(stream) > 256 {
		return &Error{Op: "append", Stream: stream, Revision: -1, Err: errors.New("stream name must be 1 to 256 bytes")}
	}
	if len(events) == 0 {
		return &Error{Op: "append", Stream: stream, Revision: -1, Err: errors.New("no events")}
	}
	seen := make(map[string]bool, len(events))
	for _, e := range events {
		if e.ID == "" || e.Type == "" {
			return &Error{Op: "append", Stream: stream, Revision: -1, Err: errors.New("every event needs an id and a type")}
		}
		if seen[e.ID] {
			return &Error{Op: "append", Stream: stream, Revision: -1, Err: fmt.Errorf("event id %s twice in one append: %w", e.ID, ErrDuplicateEventID)}
		}
		seen[e.ID] = true
	}
	return nil
}
