package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"

	client "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/beian/beian/infra/eventstore"
)

// errCorrupt: an event the adapter cannot turn back into the port's form.
var errCorrupt = errors.New("event not readable")

// recorded converts a client event to the port's. Our metadata travels as
// the event's custom metadata (JSON of eventstore.Metadata); the recorded
// time is the server's "created".
func recorded(ev *client.ResolvedEvent) (eventstore.RecordedEvent, error) {
	e := ev.OriginalEvent()
	if e == nil {
		return eventstore.RecordedEvent{}, fmt.Errorf("%w: a read answer without an event", errCorrupt)
	}
	out := eventstore.RecordedEvent{
		EventData: eventstore.EventData{ID: e.EventID.String(), Type: e.EventType, Data: e.Data},
		Stream:    e.StreamID, Revision: e.EventNumber, RecordedAt: e.CreatedDate.UTC(),
	}
	if c := commitOf(ev); c != noPosition {
		out.Position = position(c)
	}
	if len(e.UserMetadata) > 0 {
		if err := out.Metadata.UnmarshalJSON(e.UserMetadata); err != nil { // not json.Unmarshal: it would scan the input twice
			return out, fmt.Errorf("%w: metadata of %s@%d: %w", errCorrupt, e.StreamID, e.EventNumber, err)
		}
	}
	return out, nil
}

// readEvents drains a client read.
func readEvents(rs *client.ReadStream) ([]*client.ResolvedEvent, error) {
	defer rs.Close()
	var out []*client.ResolvedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
}

func (s *Store) readStream(ctx context.Context, stream string, opts client.ReadStreamOptions, count uint64) ([]*client.ResolvedEvent, error) {
	var events []*client.ResolvedEvent
	err := s.call(ctx, func(ctx context.Context, c *client.Client) error {
		rs, err := c.ReadStream(ctx, stream, opts, count)
		if err != nil {
			return err
		}
		events, err = readEvents(rs)
		return err
	})
	return events, err
}

func (s *Store) readAll(ctx context.Context, opts client.ReadAllOptions, count uint64) ([]*client.ResolvedEvent, error) {
	var events []*client.ResolvedEvent
	err := s.call(ctx, func(ctx context.Context, c *client.Client) error {
		rs, err := c.ReadAll(ctx, opts, count)
		if err != nil {
			return err
		}
		events, err = readEvents(rs)
		return err
	})
	return events, err
}

// ReadStream returns up to limit events of a stream from revision from.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	page, err := s.readStream(ctx, stream, client.ReadStreamOptions{From: client.Revision(from)}, uint64(clampLimit(limit)))
	if hasCode(err, client.ErrorCodeResourceNotFound) && ctx.Err() == nil {
		return nil, &eventstore.NotFoundError{Op: "read stream", Stream: stream}
	}
	if err != nil {
		return nil, s.fail(ctx, "read stream", stream, int64(from), err)
	}
	out := make([]eventstore.RecordedEvent, 0, len(page))
	for _, ev := range page {
		e, err := recorded(ev)
		if err != nil {
			return nil, &eventstore.Error{Op: "read stream", Stream: stream, Revision: int64(from), Err: err}
		}
		out = append(out, e)
	}
	return out, nil
}

// ReadAll returns up to limit of beian's events with position >= from. It
// pages until it has limit events or reaches the end, so that skipped
// system events never make a short page look like the end of the log.
func (s *Store) ReadAll(ctx context.Context, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	limit = clampLimit(limit)
	var cursor client.AllPosition = client.Start{}
	var last uint64 // log position of the last event looked at
	seen := false
	if c, ok := logPosition(from); ok {
		cursor = at(c)
	}
	var out []eventstore.RecordedEvent
	for len(out) < limit {
		want := uint64(limit-len(out)) + 1 // a page from a cursor starts with the cursor's event
		page, err := s.readAll(ctx, client.ReadAllOptions{From: cursor}, want)
		if err != nil {
			return nil, s.fail(ctx, "read $all", "", -1, err)
		}
		advanced := false
		for _, ev := range page {
			c := commitOf(ev)
			if c == noPosition || (seen && c <= last) {
				continue
			}
			last, seen, advanced = c, true, true
			if system(ev) || position(c) < from {
				continue
			}
			e, err := recorded(ev)
			if err != nil {
				return nil, &eventstore.Error{Op: "read $all", Revision: -1, Err: err}
			}
			out = append(out, e)
			if len(out) == limit {
				break
			}
		}
		if uint64(len(page)) < want || !advanced {
			break // the end of the log
		}
		cursor = at(last)
	}
	return out, nil
}

// Head reads $all backwards to the last of beian's events.
func (s *Store) Head(ctx context.Context) (uint64, error) {
	const pageSize = 64
	var cursor client.AllPosition = client.End{}
	for {
		page, err := s.readAll(ctx, client.ReadAllOptions{From: cursor, Direction: client.Backwards}, pageSize)
		if err != nil {
			return 0, s.fail(ctx, "head", "", -1, err)
		}
		var last uint64
		for _, ev := range page {
			c := commitOf(ev)
			if c == noPosition {
				continue
			}
			if !system(ev) {
				return position(c), nil
			}
			last = c
		}
		if len(page) < pageSize || last == 0 {
			return 0, nil
		}
		cursor = at(last) // backwards from a position is exclusive
	}
}
