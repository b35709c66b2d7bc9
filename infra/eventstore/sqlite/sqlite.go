// Package sqlite is the embedded event store: one SQLite file in WAL mode
// with synchronous=FULL, so an acknowledged append is on disk. Appends are
// group-committed: one writer at a time commits every append waiting at that
// moment in one transaction; readers use their own connections.
//
// Positions in $all are assigned by the writer in commit order, so they are
// gap-free and a reader never sees position N+1 before N.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/beian/beian/infra/eventstore"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Config configures the store.
type Config struct {
	Path        string       // the database file
	MaxBatch    int          // appends per group commit; default 256
	ReadConns   int          // reader connections; default 4
	Logger      *slog.Logger // default slog.Default()
	Now         func() time.Time
	Synchronous string // "FULL" (default) or "NORMAL"; FULL is what makes an acknowledged append durable
}

func (c *Config) setDefaults() {
	if c.MaxBatch <= 0 {
		c.MaxBatch = 256
	}
	if c.ReadConns <= 0 {
		c.ReadConns = 4
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Synchronous == "" {
		c.Synchronous = "FULL"
	}
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.Path == "" {
		errs = append(errs, errors.New("sqlite event store: path is required"))
	}
	if c.Synchronous != "" && c.Synchronous != "FULL" && c.Synchronous != "NORMAL" {
		errs = append(errs, fmt.Errorf("sqlite event store: synchronous %q is not FULL or NORMAL", c.Synchronous))
	}
	return errors.Join(errs...)
}

// Store is the SQLite event store.
type Store struct {
	cfg     Config
	writeDB *sql.DB
	wconn   *sql.Conn // the writer's one connection, pinned: transactions are begun by statement
	readDB  *sql.DB

	writing sync.Mutex       // held by the goroutine committing a batch
	pending []*appendRequest // appends waiting for a commit, under mu
	closing sync.Once

	// Statements of the writer connection, prepared once: parsing SQL was
	// a quarter of an append's CPU time. There is deliberately no index on
	// event_id: random ids made every commit write a page per event, and
	// retries are recognised by the stream instead.
	beginStmt, commitStmt, rollbackStmt, headStmt, tailStmt *sql.Stmt
	inserts                                                 map[int]*sql.Stmt // by number of rows
	rows                                                    []any             // values of the rows the batch has yet to insert
	rowStreams                                              map[string]bool   // streams with queued rows
	// Statements of the readers.
	readStreamStmt, readAllStmt, existsStmt *sql.Stmt

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced after every commit
	head     uint64        // last committed position
	failed   error         // set when a write failed in a way that may have lost data
	closed   bool
	nextPos  uint64    // the committing goroutine's, under writing
	heads    headCache // the committing goroutine's, under writing
	inFlight sync.WaitGroup
}

const schema = `
CREATE TABLE IF NOT EXISTS events (
	position    INTEGER PRIMARY KEY,
	stream      TEXT    NOT NULL,
	revision    INTEGER NOT NULL,
	event_id    TEXT    NOT NULL,
	type        TEXT    NOT NULL,
	data        BLOB    NOT NULL,
	metadata    BLOB    NOT NULL,
	recorded_at INTEGER NOT NULL,
	UNIQUE (stream, revision)
);`

// Open opens or creates the store.
func Open(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	dsn := func(extra string) string {
		return "file:" + url.PathEscape(cfg.Path) + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
			"&_pragma=synchronous(" + cfg.Synchronous + ")&_txlock=immediate" + extra
	}
	// The writer keeps a large page cache so a batch never spills pages to
	// the WAL before commit. It checkpoints itself (SQLite's default): a
	// checkpointer beside it was measured slower, the WAL then growing
	// and every fsync paying for the file's new size.
	writeDB, err := sql.Open("sqlite", dsn("&_pragma=cache_size(-65536)"))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", cfg.Path, err)
	}
	writeDB.SetMaxOpenConns(1)
	if _, err := writeDB.Exec(schema); err != nil {
		writeDB.Close()
		return nil, fmt.Errorf("create schema in %s: %w", cfg.Path, err)
	}
	readDB, err := sql.Open("sqlite", dsn("&_pragma=query_only(1)"))
	if err != nil {
		writeDB.Close()
		return nil, fmt.Errorf("open %s for reading: %w", cfg.Path, err)
	}
	readDB.SetMaxOpenConns(cfg.ReadConns)
	var head sql.NullInt64
	if err := writeDB.QueryRow(`SELECT MAX(position) FROM events`).Scan(&head); err != nil {
		writeDB.Close()
		readDB.Close()
		return nil, fmt.Errorf("read head of %s: %w", cfg.Path, err)
	}
	s := &Store{
		cfg: cfg, writeDB: writeDB, readDB: readDB,
		changed: make(chan struct{}), head: uint64(head.Int64), nextPos: uint64(head.Int64) + 1,
		heads: headCache{max: 100_000},
	}
	if err := s.prepare(); err != nil {
		if s.wconn != nil {
			s.wconn.Close()
		}
		writeDB.Close()
		readDB.Close()
		return nil, fmt.Errorf("prepare statements on %s: %w", cfg.Path, err)
	}
	return s, nil
}

func (s *Store) prepare() error {
	ctx := context.Background()
	conn, err := s.writeDB.Conn(ctx)
	if err != nil {
		return err
	}
	s.wconn = conn
	type preparer interface {
		PrepareContext(context.Context, string) (*sql.Stmt, error)
	}
	prep := func(p preparer, query string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = p.PrepareContext(ctx, query)
		return st
	}
	// Begin and commit are plain statements on the pinned connection: the
	// database/sql transaction around them cost a seventh of an append.
	s.beginStmt = prep(conn, `BEGIN IMMEDIATE`)
	s.commitStmt = prep(conn, `COMMIT`)
	s.rollbackStmt = prep(conn, `ROLLBACK`)
	s.headStmt = prep(conn, `SELECT MAX(revision) FROM events WHERE stream = ?`)
	s.tailStmt = prep(conn, `SELECT event_id, revision, position FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`)
	s.inserts = map[int]*sql.Stmt{}
	s.readStreamStmt = prep(s.readDB, `SELECT `+columns+` FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`)
	s.readAllStmt = prep(s.readDB, `SELECT `+columns+` FROM events WHERE position >= ? ORDER BY position LIMIT ?`)
	s.existsStmt = prep(s.readDB, `SELECT EXISTS (SELECT 1 FROM events WHERE stream = ?)`)
	return err
}

// Close stops the writer after the appends already queued and closes the file.
func (s *Store) Close() error {
	var err error
	s.closing.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.inFlight.Wait()
		s.mu.Lock()
		close(s.changed) // wake subscribers so they see the store is closed
		s.mu.Unlock()
		err = errors.Join(s.wconn.Close(), s.writeDB.Close(), s.readDB.Close())
	})
	return err
}

// Healthy reports the error that stopped the store from accepting writes,
// if any: after a failed write it refuses appends rather than guess.
func (s *Store) Healthy() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return eventstore.ErrClosed
	}
	return s.failed
}

// Head returns the last committed position.
func (s *Store) Head(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.head, nil
}

// wait returns a channel closed at the next commit, and the head now.
func (s *Store) wait() (<-chan struct{}, uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed, s.head, s.closed
}

func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	rows, err := s.readStreamStmt.QueryContext(ctx, stream, int64(from), clampLimit(limit))
	if err != nil {
		return nil, &eventstore.Error{Op: "read stream", Stream: stream, Revision: int64(from), Err: err}
	}
	events, err := scanEvents(rows)
	if err != nil {
		return nil, &eventstore.Error{Op: "read stream", Stream: stream, Revision: int64(from), Err: err}
	}
	if len(events) == 0 {
		var exists bool
		err := s.existsStmt.QueryRowContext(ctx, stream).Scan(&exists)
		if err != nil {
			return nil, &eventstore.Error{Op: "read stream", Stream: stream, Revision: -1, Err: err}
		}
		if !exists {
			return nil, &eventstore.NotFoundError{Op: "read stream", Stream: stream}
		}
	}
	return events, nil
}

func (s *Store) ReadAll(ctx context.Context, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	rows, err := s.readAllStmt.QueryContext(ctx, int64(from), clampLimit(limit))
	if err != nil {
		return nil, &eventstore.Error{Op: "read $all", Revision: -1, Err: err}
	}
	events, err := scanEvents(rows)
	if err != nil {
		return nil, &eventstore.Error{Op: "read $all", Revision: -1, Err: err}
	}
	return events, nil
}

func clampLimit(limit int) int {
	if limit <= 0 || limit > 10000 {
		return 10000
	}
	return limit
}

const columns = `position, stream, revision, event_id, type, data, metadata, recorded_at`

func scanEvents(rows *sql.Rows) ([]eventstore.RecordedEvent, error) {
	defer rows.Close()
	var out []eventstore.RecordedEvent
	for rows.Next() {
		var e eventstore.RecordedEvent
		var position, revision, recordedAt int64
		var metadata []byte
		if err := rows.Scan(&position, &e.Stream, &revision, &e.ID, &e.Type, &e.Data, &metadata, &recordedAt); err != nil {
			return nil, err
		}
		if err := e.Metadata.UnmarshalJSON(metadata); err != nil { // not json.Unmarshal: it would scan the input twice
			return nil, fmt.Errorf("metadata of event %d: %w", position, err)
		}
		e.Position, e.Revision = uint64(position), uint64(revision)
		e.RecordedAt = time.Unix(0, recordedAt).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// SubscribeAll reads the log in pages from after+1, then waits for commits.
// The subscriber pulls: a slow one falls behind and reads from the file,
// it never makes the writer wait or drop anything.
func (s *Store) SubscribeAll(ctx context.Context, after uint64) (eventstore.Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	return &subscription{store: s, ctx: ctx, cancel: cancel, last: after}, nil
}

type subscription struct {
	store    *Store
	ctx      context.Context
	cancel   context.CancelFunc
	last     uint64
	buf      []eventstore.RecordedEvent
	caughtUp bool
}

const pageSize = 512

func (sub *subscription) Recv() (eventstore.Message, error) {
	for {
		if len(sub.buf) > 0 {
			e := sub.buf[0]
			sub.buf = sub.buf[1:]
			sub.last = e.Position
			return eventstore.Message{Event: &e}, nil
		}
		if err := sub.ctx.Err(); err != nil {
			return eventstore.Message{}, err
		}
		changed, head, closed := sub.store.wait()
		if closed {
			return eventstore.Message{}, eventstore.ErrClosed
		}
		if head > sub.last {
			page, err := sub.store.ReadAll(sub.ctx, sub.last+1, pageSize)
			if err != nil {
				return eventstore.Message{}, err
			}
			sub.buf = page
			continue
		}
		if !sub.caughtUp {
			sub.caughtUp = true
			return eventstore.Message{CaughtUp: true}, nil
		}
		select {
		case <-changed:
		case <-sub.ctx.Done():
		}
	}
}

func (sub *subscription) Close() error {
	sub.cancel()
	return nil
}

// Path is the database file.
func (s *Store) Path() string { return s.cfg.Path }
