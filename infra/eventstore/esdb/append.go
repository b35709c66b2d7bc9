package esdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	client "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/beian/beian/infra/eventstore"
)

// Append writes events with the expected revision mapped one to one
// (NoStream, exact revision, Any). The server recognises a retry itself:
// the same event ids right after the expected revision succeed without
// writing, and a partial match is a wrong expected version.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.CheckAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	if strings.HasPrefix(stream, "$") {
		return eventstore.AppendResult{}, &eventstore.Error{Op: "append", Stream: stream, Revision: -1,
			Err: errors.New("stream names starting with $ are EventStoreDB's system streams")}
	}
	proposed, err := proposedEvents(events)
	if err != nil {
		return eventstore.AppendResult{}, &eventstore.Error{Op: "append", Stream: stream, Revision: -1, Err: err}
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return eventstore.AppendResult{}, &eventstore.Error{Op: "append", Stream: stream, Revision: -1, Err: eventstore.ErrClosed}
	}
	s.appending.Add(1)
	s.mu.Unlock()
	defer s.appending.Done()

	opts := client.AppendToStreamOptions{ExpectedRevision: expectedRevision(expected)}
	var wr *client.WriteResult
	err = s.call(ctx, func(ctx context.Context, c *client.Client) error {
		var err error
		wr, err = c.AppendToStream(ctx, stream, opts, proposed...)
		return err
	})
	if hasCode(err, client.ErrorCodeWrongExpectedVersion) {
		return eventstore.AppendResult{}, s.conflict(ctx, stream, expected, err)
	}
	if err != nil {
		return eventstore.AppendResult{}, s.fail(ctx, "append", stream, -1, err)
	}
	res := eventstore.AppendResult{Revision: wr.NextExpectedVersion}
	// The response's position is the last event's only for a single new
	// event: a server may report the transaction's first event for a
	// batch, and reports none (or the original's) for a retry. Otherwise
	// read the last event back.
	if len(events) == 1 && wr.CommitPosition != 0 && wr.CommitPosition != noPosition {
		res.Position = position(wr.CommitPosition)
		return res, nil
	}
	page, err := s.readStream(ctx, stream, client.ReadStreamOptions{From: client.Revision(res.Revision), RequiresLeader: true}, 1)
	if err == nil && len(page) == 0 {
		err = fmt.Errorf("event %d is not there after appending it", res.Revision)
	}
	if err != nil {
		// The append is done; only its position is unknown.
		return eventstore.AppendResult{}, s.fail(ctx, "append (reading back its position)", stream, int64(res.Revision), err)
	}
	c := commitOf(page[0])
	if c == noPosition {
		return eventstore.AppendResult{}, &eventstore.Error{Op: "append", Stream: stream, Revision: int64(res.Revision),
			Err: errors.New("the server reports no position for the appended event")}
	}
	res.Position = position(c)
	return res, nil
}

// proposedEvents converts events for the client. Ids must be canonical
// UUIDs: the server stores 16 bytes, so any other spelling would come
// back different from what was appended.
func proposedEvents(events []eventstore.EventData) ([]client.EventData, error) {
	out := make([]client.EventData, len(events))
	for i, e := range events {
		id, err := uuid.Parse(e.ID)
		if err != nil || id.String() != e.ID {
			return nil, fmt.Errorf("event id %q is not a lower-case UUID", e.ID)
		}
		meta, err := json.Marshal(e.Metadata)
		if err != nil {
			return nil, fmt.Errorf("metadata of event %s: %w", e.ID, err)
		}
		out[i] = client.EventData{EventID: id, EventType: e.Type, ContentType: client.ContentTypeJson, Data: e.Data, Metadata: meta}
	}
	return out, nil
}

func expectedRevision(e eventstore.ExpectedRevision) client.ExpectedRevision {
	if r, ok := e.Revision(); ok {
		return client.Revision(r)
	}
	if e.IsNoStream() {
		return client.NoStream{}
	}
	return client.Any{}
}

// conflict builds the typed conflict. The client reports the stream's
// revision only in its message ("… but got '3'" or "'no_stream'"); when
// that does not parse, the stream's last event says it.
func (s *Store) conflict(ctx context.Context, stream string, expected eventstore.ExpectedRevision, err error) error {
	actual, ok := actualRevision(err)
	if !ok {
		page, rerr := s.readStream(ctx, stream, client.ReadStreamOptions{From: client.End{}, Direction: client.Backwards, RequiresLeader: true}, 1)
		switch {
		case hasCode(rerr, client.ErrorCodeResourceNotFound):
			actual = -1
		case rerr == nil && len(page) > 0:
			actual = int64(page[0].OriginalEvent().EventNumber)
		default:
			actual = -1
		}
	}
	return &eventstore.ConflictError{Op: "append", Stream: stream, Expected: expected, Actual: actual}
}

func actualRevision(err error) (int64, bool) {
	msg := err.Error()
	const marker = "but got '"
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return 0, false
	}
	rest := msg[i+len(marker):]
	j := strings.IndexByte(rest, '\'')
	if j < 0 {
		return 0, false
	}
	if rest[:j] == "no_stream" {
		return -1, true
	}
	n, perr := strconv.ParseInt(rest[:j], 10, 64)
	return n, perr == nil
}
