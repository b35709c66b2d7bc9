package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

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

// Append queues the append and waits for its commit. If ctx ends while
// waiting, the append may still commit: a retry with the same event ids
// then returns its result.
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
	s.pending = append(s.pending, req)
	s.mu.Unlock()
	defer s.inFlight.Done()
	s.lead()
	select {
	case r := <-req.reply:
		return r.result, r.err
	case <-ctx.Done():
		return eventstore.AppendResult{}, ctx.Err()
	}
}

// lead is group commit without a writer goroutine: an append that finds no
// commit running becomes the writer and commits every append waiting at that
// moment; one that finds a commit running leaves its request to the next
// batch. Whoever commits hands the next batch to a new goroutine, so no
// caller waits for more than its own batch, and a lone writer pays for no
// goroutine hand-off at all.
func (s *Store) lead() {
	if !s.writing.TryLock() {
		return // the running commit's successor will take this request
	}
	s.mu.Lock()
	batch := s.pending[:min(len(s.pending), s.cfg.MaxBatch)]
	s.pending = s.pending[len(batch):]
	s.mu.Unlock()
	if len(batch) > 0 {
		s.commit(batch)
	}
	s.writing.Unlock()
	// Requests queued while this commit ran found the lock taken and left.
	s.mu.Lock()
	more := len(s.pending) > 0
	s.mu.Unlock()
	if more {
		go s.lead()
	}
}

// commit writes a batch. Each append is checked on its own (a conflict fails
// that append only); a storage error fails the whole batch, acknowledging
// nothing.
func (s *Store) commit(batch []*appendRequest) {
	replies := make([]appendReply, len(batch))
	startPos := s.nextPos
	_, err := s.beginStmt.Exec()
	if err == nil {
		for i, req := range batch {
			if req.ctx.Err() != nil {
				replies[i].err = req.ctx.Err() // the caller gave up before the write: write nothing
				continue
			}
			replies[i] = s.appendInTx(req)
			if isStorageError(replies[i].err) {
				err = replies[i].err
				break
			}
		}
	}
	if err == nil {
		err = s.flush()
	}
	if err == nil {
		_, err = s.commitStmt.Exec()
	}
	if err != nil {
		_, _ = s.rollbackStmt.Exec() // fails harmlessly when BEGIN did, or COMMIT ended the transaction
	}
	if err != nil {
		s.rows, s.rowStreams = s.rows[:0], nil
		s.nextPos = startPos
		s.heads.clear()
		if sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT {
			// Someone else wrote to the file (another process despite the
			// data-directory lock): go on from what is stored.
			var head sql.NullInt64
			if qerr := s.wconn.QueryRowContext(context.Background(), `SELECT MAX(position) FROM events`).Scan(&head); qerr == nil {
				s.nextPos = uint64(head.Int64) + 1
			}
		}
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
// going (the next append may find space again); a constraint violation means
// the writer's head cache was wrong, which the cleared cache mends; any other
// storage error may mean the file and the acknowledgements no longer agree,
// so the store stops accepting writes.
func (s *Store) fail(err error) {
	switch sqliteCode(err) {
	case sqlite3.SQLITE_FULL:
		s.cfg.Logger.Error("event store: disk full, append refused", "err", err)
		return
	case sqlite3.SQLITE_CONSTRAINT:
		s.cfg.Logger.Error("event store: stale stream head, batch refused", "err", err)
		return
	}
	s.cfg.Logger.Error("event store: write failed, refusing further appends", "err", err)
	s.mu.Lock()
	s.failed = fmt.Errorf("event store stopped after a failed write: %w", err)
	s.mu.Unlock()
}

func sqliteCode(err error) int {
	var se interface{ Code() int }
	if errors.As(err, &se) {
		return se.Code() & 0xff
	}
	return 0
}

// isStorageError tells errors of the database from refusals of one append.
func isStorageError(err error) bool {
	var conflict *eventstore.ConflictError
	return err != nil && !errors.As(err, &conflict)
}

// appendInTx checks one append against its stream's head, which comes from
// a cache the single writer keeps, and queues its rows; flush writes the
// queued rows of the batch with multi-row INSERTs.
func (s *Store) appendInTx(req *appendRequest) appendReply {
	cur, err := s.streamHead(req.stream)
	if err != nil {
		return appendReply{err: err}
	}
	if !req.expected.Matches(cur) {
		if rev, exact := req.expected.Revision(); exact || req.expected.IsNoStream() {
			from := uint64(0)
			if exact {
				from = rev + 1
			}
			if s.rowStreams[req.stream] {
				if err := s.flush(); err != nil { // the retry check reads the stream
					return appendReply{err: err}
				}
			}
			if r, retry, err := s.retryResult(req, from); retry || err != nil {
				return appendReply{result: r, err: err}
			}
		}
		return appendReply{err: &eventstore.ConflictError{Op: "append", Stream: req.stream, Expected: req.expected, Actual: cur}}
	}
	now := s.cfg.Now().UnixNano()
	var result eventstore.AppendResult
	for i, e := range req.events {
		rev := cur + 1 + int64(i)
		s.rows = append(s.rows, int64(s.nextPos), req.stream, rev, e.ID, e.Type, e.Data, req.metadata[i], now)
		result = eventstore.AppendResult{Revision: uint64(rev), Position: s.nextPos}
		s.nextPos++
	}
	if s.rowStreams == nil {
		s.rowStreams = map[string]bool{}
	}
	s.rowStreams[req.stream] = true
	s.heads.set(req.stream, int64(result.Revision))
	return appendReply{result: result}
}

// columnsPerRow is the number of values one event row binds.
const columnsPerRow = 8

// rowsPerInsert bounds a multi-row INSERT, well inside SQLite's limit on
// bound values.
const rowsPerInsert = 64

// flush writes the queued rows. One statement per 64 rows instead of one per
// row halves the CPU time of a large batch.
func (s *Store) flush() error {
	for len(s.rows) > 0 {
		n := min(len(s.rows)/columnsPerRow, rowsPerInsert)
		stmt, err := s.insertRows(n)
		if err != nil {
			return err
		}
		if _, err := stmt.Exec(s.rows[:n*columnsPerRow]...); err != nil {
			return err
		}
		s.rows = s.rows[n*columnsPerRow:]
	}
	s.rows, s.rowStreams = s.rows[:0], nil
	return nil
}

// insertRows returns the prepared INSERT of n rows.
func (s *Store) insertRows(n int) (*sql.Stmt, error) {
	if st := s.inserts[n]; st != nil {
		return st, nil
	}
	values := strings.Repeat(",(?,?,?,?,?,?,?,?)", n)[1:]
	// OR ROLLBACK: a violated constraint ends the whole transaction, which
	// commit does anyway (the batch fails as one). A plain INSERT of several
	// rows keeps a statement journal to undo itself alone: a copy of every
	// page it changes, written to a temporary file, half the write calls of
	// a batch of 64 writers (docs/performance.md).
	st, err := s.wconn.PrepareContext(context.Background(),
		`INSERT OR ROLLBACK INTO events (position, stream, revision, event_id, type, data, metadata, recorded_at) VALUES `+values)
	if err != nil {
		return nil, err
	}
	s.inserts[n] = st
	return st, nil
}

// retryResult recognises a retried append: the stream already holds the
// same event ids, in order, right after the revision the append expected.
// It returns the original result and writes nothing.
func (s *Store) retryResult(req *appendRequest, from uint64) (eventstore.AppendResult, bool, error) {
	rows, err := s.tailStmt.Query(req.stream, int64(from), len(req.events))
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
			return eventstore.AppendResult{}, false, rows.Err()
		}
		last = eventstore.AppendResult{Revision: uint64(rev), Position: uint64(pos)}
		n++
	}
	if err := rows.Err(); err != nil {
		return eventstore.AppendResult{}, false, err
	}
	return last, n == len(req.events), nil
}

// streamHead returns the stream's last revision, -1 for none.
func (s *Store) streamHead(stream string) (int64, error) {
	if rev, ok := s.heads.get(stream); ok {
		return rev, nil
	}
	var current sql.NullInt64
	if err := s.headStmt.QueryRow(stream).Scan(&current); err != nil {
		return 0, err
	}
	rev := int64(-1)
	if current.Valid {
		rev = current.Int64
	}
	s.heads.set(stream, rev)
	return rev, nil
}

// headCache remembers streams' last revisions for the writer, the only
// process that changes them. It is cleared when full (cheap, and a miss
// costs one indexed query) and after a failed batch, whose revisions never
// happened.
type headCache struct {
	m   map[string]int64
	max int
}

func (c *headCache) get(stream string) (int64, bool) {
	rev, ok := c.m[stream]
	return rev, ok
}

func (c *headCache) set(stream string, rev int64) {
	if c.m == nil || len(c.m) >= c.max {
		c.m = make(map[string]int64, c.max/4)
	}
	c.m[stream] = rev
}

func (c *headCache) clear() { c.m = nil }
