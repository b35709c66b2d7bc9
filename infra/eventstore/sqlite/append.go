package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/beian/beian/infra/eventstore"
	sqlite3 "modernc.org/sqlite/lib"
)

type appendRequest struct {
	ctx      context.Context
	stream   string
	expected eventstore.ExpectedRevision
	events   []eventstore.EventData
	metadata [][]byte
	reply    chan appendReply
}

type appendReply struct {
	result eventstore.AppendResult
	err    error
}

// Append queues the append for the writer and waits for its commit. If ctx
// ends while waiting, the append may still commit: a retry with the same
// event ids then returns its result.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.CheckAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	req := &appendRequest{ctx: ctx, stream: stream, expected: expected, events: events, reply: make(chan appendReply, 1)}
	for _, e := range events {
		md, err := json.Marshal(e.Metadata)
		if err != nil {
			return eventstore.AppendResult{}, &eventstore.Error{Op: "append", Stream: stream, Revision: -1, Err: err}
		}
		req.metadata = append(req.metadata, md)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return eventstore.AppendResult{}, eventstore.ErrClosed
	}
	if s.failed != nil {
		err := s.failed
		s.mu.Unlock()
		return eventstore.AppendResult{}, &eventstore.Error{Op: "append", Stream: stream, Revision: -1, Err: err}
	}
	s.inFlight.Add(1)
	s.mu.Unlock()
	defer s.inFlight.Done()
	select {
	case s.requests <- req:
	case <-ctx.Done():
		return eventstore.AppendResult{}, ctx.Err()
	}
	select {
	case r := <-req.reply:
		return r.result, r.err
	case <-ctx.Done():
		return eventstore.AppendResult{}, ctx.Err()
	}
}

// writeLoop is the single writer: it takes the appends waiting at that
// moment and commits them in one transaction, one fsync for all.
func (s *Store) writeLoop() {
	defer close(s.done)
	for {
		var first *appendRequest
		select {
		case first = <-s.requests:
		case <-s.stop:
			return
		}
		batch := []*appendRequest{first}
	drain:
		for len(batch) < s.cfg.MaxBatch {
			select {
			case r := <-s.requests:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		s.commit(batch)
	}
}

// commit writes a batch. Each append is checked on its own (a conflict fails
// that append only); a storage error fails the whole batch, acknowledging
// nothing.
func (s *Store) commit(batch []*appendRequest) {
	replies := make([]appendReply, len(batch))
	startPos := s.nextPos
	tx, err := s.writeDB.Begin()
	if err == nil {
		for i, req := range batch {
			if req.ctx.Err() != nil {
				replies[i].err = req.ctx.Err() // the caller gave up before the write: write nothing
				continue
			}
			replies[i] = s.appendInTx(tx, req)
			if isStorageError(replies[i].err) {
				err = replies[i].err
				break
			}
		}
	}
	if err == nil {
		err = tx.Commit()
	} else if tx != nil {
		_ = tx.Rollback()
	}
	if err != nil {
		s.nextPos = startPos
		s.fail(err)
		for _, req := range batch {
			req.reply <- appendReply{err: &eventstore.Error{Op: "append", Stream: req.stream, Revision: -1, Err: err}}
		}
		return
	}
	s.mu.Lock()
	s.head = s.nextPos - 1
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	for i, req := range batch {
		req.reply <- replies[i]
	}
}

// fail records a write error. A full disk is reported and the store keeps
// going (the next append may find space again); any other storage error
// may mean the file and the acknowledgements no longer agree, so the store
// stops accepting writes.
func (s *Store) fail(err error) {
	var se interface{ Code() int }
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL {
		s.cfg.Logger.Error("event store: disk full, append refused", "err", err)
		return
	}
	s.cfg.Logger.Error("event store: write failed, refusing further appends", "err", err)
	s.mu.Lock()
	s.failed = fmt.Errorf("event store stopped after a failed write: %w", err)
	s.mu.Unlock()
}

// isStorageError tells errors of the database from refusals of one append.
func isStorageError(err error) bool {
	if err == nil {
		return false
	}
	var conflict *eventstore.ConflictError
	return !errors.As(err, &conflict) && !errors.Is(err, eventstore.ErrDuplicateEventID)
}

func (s *Store) appendInTx(tx *sql.Tx, req *appendRequest) appendReply {
	if r, done, err := s.idempotentResult(tx, req); done || err != nil {
		return appendReply{result: r, err: err}
	}
	var current sql.NullInt64
	if err := tx.QueryRow(`SELECT MAX(revision) FROM events WHERE stream = ?`, req.stream).Scan(&current); err != nil {
		return appendReply{err: err}
	}
	cur := int64(-1)
	if current.Valid {
		cur = current.Int64
	}
	if !req.expected.Matches(cur) {
		return appendReply{err: &eventstore.ConflictError{Op: "append", Stream: req.stream, Expected: req.expected, Actual: cur}}
	}
	now := s.cfg.Now().UnixNano()
	stmt, err := tx.Prepare(`INSERT INTO events (position, stream, revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return appendReply{err: err}
	}
	defer stmt.Close()
	var result eventstore.AppendResult
	for i, e := range req.events {
		rev := cur + 1 + int64(i)
		if _, err := stmt.Exec(int64(s.nextPos), req.stream, rev, e.ID, e.Type, e.Data, req.metadata[i], now); err != nil {
			return appendReply{err: err}
		}
		result = eventstore.AppendResult{Revision: uint64(rev), Position: s.nextPos}
		s.nextPos++
	}
	return appendReply{result: result}
}

// idempotentResult finds whether the append's events are stored already.
// The same ids in the same order at consecutive revisions of the same stream
// are a retry: the original result is returned and nothing is written. Any
// other use of a stored id is an error.
func (s *Store) idempotentResult(tx *sql.Tx, req *appendRequest) (eventstore.AppendResult, bool, error) {
	var stream string
	var revision, position int64
	err := tx.QueryRow(`SELECT stream, revision, position FROM events WHERE event_id = ?`, req.events[0].ID).Scan(&stream, &revision, &position)
	if errors.Is(err, sql.ErrNoRows) {
		for _, e := range req.events[1:] {
			var n int
			if err := tx.QueryRow(`SELECT COUNT(*) FROM events WHERE event_id = ?`, e.ID).Scan(&n); err != nil {
				return eventstore.AppendResult{}, false, err
			}
			if n > 0 {
				return eventstore.AppendResult{}, false, &eventstore.Error{Op: "append", Stream: req.stream, Revision: -1,
					Err: fmt.Errorf("event %s: %w", e.ID, eventstore.ErrDuplicateEventID)}
			}
		}
		return eventstore.AppendResult{}, false, nil
	}
	if err != nil {
		return eventstore.AppendResult{}, false, err
	}
	mismatch := &eventstore.Error{Op: "append", Stream: req.stream, Revision: revision,
		Err: fmt.Errorf("event %s is stored in %s@%d with other events: %w", req.events[0].ID, stream, revision, eventstore.ErrDuplicateEventID)}
	if stream != req.stream {
		return eventstore.AppendResult{}, false, mismatch
	}
	rows, err := tx.Query(`SELECT event_id, revision, position FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`,
		stream, revision, len(req.events))
	if err != nil {
		return eventstore.AppendResult{}, false, err
	}
	defer rows.Close()
	var last eventstore.AppendResult
	n := 0
	for rows.Next() {
		var id string
		var rev, pos int64
		if err := rows.Scan(&id, &rev, &pos); err != nil {
			return eventstore.AppendResult{}, false, err
		}
		if id != req.events[n].ID {
			return eventstore.AppendResult{}, false, mismatch
		}
		last = eventstore.AppendResult{Revision: uint64(rev), Position: uint64(pos)}
		n++
	}
	if err := rows.Err(); err != nil {
		return eventstore.AppendResult{}, false, err
	}
	if n != len(req.events) {
		return eventstore.AppendResult{}, false, mismatch
	}
	return last, true, nil
}
