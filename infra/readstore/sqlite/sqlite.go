// Package sqlite is the embedded read store: one SQLite file of its own
// (read.db in the data directory, apart from the event log) in WAL mode.
//
// Updates go through a single writer connection, so writers are serialised
// by the connection pool itself and wait for their turn under their
// context; each begins with BEGIN IMMEDIATE, which takes the write lock at
// once rather than at the first write, so another process sharing the file
// makes it wait (busy_timeout) instead of failing half-way. Views use a pool
// of query_only connections: WAL lets them read a snapshot while the writer
// commits, neither waiting for the other. (The price of a View held open for
// long: the WAL cannot be checkpointed past its snapshot and grows until it
// ends. Views are meant to last one request.)
//
// It imports the readstore port and the SQLite driver only.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/beian/beian/infra/readstore"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Config configures the store.
type Config struct {
	Path      string       // the database file, e.g. <data>/read.db
	ReadConns int          // connections for Views, the most Views running at once; default 4
	Logger    *slog.Logger // default slog.Default()
	// Durable makes every commit survive a power failure (synchronous=FULL),
	// for data that cannot be rebuilt from the log, such as keys.
	Durable bool
}

func (c *Config) setDefaults() {
	if c.ReadConns == 0 {
		c.ReadConns = 4
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	switch {
	case c.Path == "":
		errs = append(errs, errors.New("sqlite read store: path is required"))
	case c.Path == ":memory:" || strings.HasPrefix(c.Path, "file:"):
		// The writer and the readers are separate connections: an in-memory
		// database would be a different one on each.
		errs = append(errs, fmt.Errorf("sqlite read store: path %q must be a file name", c.Path))
	}
	if c.ReadConns < 0 {
		errs = append(errs, fmt.Errorf("sqlite read store: read connections %d must not be negative", c.ReadConns))
	}
	return errors.Join(errs...)
}

// Store is the SQLite read store.
type Store struct {
	cfg     Config
	writeDB *sql.DB    // one connection: Updates queue for it
	readDB  *sql.DB    // ReadConns query_only connections for Views
	stmts   *stmtCache // the writer's prepared statements

	mu       sync.Mutex
	closed   bool
	inFlight sync.WaitGroup // Updates and Views running, which Close waits for
	closing  sync.Once
	closeErr error
}

// busyTimeoutMS is how long a statement waits for a lock another process
// holds, or for a reader connection while the WAL is being recovered.
const busyTimeoutMS = 10000

// Open opens or creates the store.
func Open(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	// synchronous=NORMAL: in WAL mode a commit is then atomic and consistent
	// but may be lost on power failure (not on a crash of the process). That
	// is enough here: read models are rebuilt from the event log, and the
	// checkpoint commits with the rows, so a lost commit is simply applied
	// again from the log. It saves an fsync per Update.
	dsn := "file:" + url.PathEscape(cfg.Path) +
		fmt.Sprintf("?_pragma=busy_timeout(%d)", busyTimeoutMS) +
		"&_pragma=foreign_keys(0)" // projections own their tables; no cross-table constraints to check
	synchronous := "NORMAL"
	if cfg.Durable {
		synchronous = "FULL"
	}
	writeDB, err := sql.Open("sqlite", dsn+"&_pragma=journal_mode(WAL)&_pragma=synchronous("+synchronous+")&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", cfg.Path, err)
	}
	writeDB.SetMaxOpenConns(1)
	writeDB.SetMaxIdleConns(1)
	// The writer connects first: it creates the file and switches it to WAL
	// (a property of the file), before any reader opens it.
	var journal string
	if err := writeDB.QueryRow(`PRAGMA journal_mode`).Scan(&journal); err != nil {
		writeDB.Close()
		return nil, fmt.Errorf("open %s: %w", cfg.Path, err)
	}
	if journal != "wal" {
		writeDB.Close()
		return nil, fmt.Errorf("open %s: journal mode is %q, not wal (is the file system able to share memory?)", cfg.Path, journal)
	}
	readDB, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		writeDB.Close()
		return nil, fmt.Errorf("open %s for reading: %w", cfg.Path, err)
	}
	readDB.SetMaxOpenConns(cfg.ReadConns)
	readDB.SetMaxIdleConns(cfg.ReadConns) // keep them: a new connection re-reads the schema
	if err := readDB.Ping(); err != nil {
		writeDB.Close()
		readDB.Close()
		return nil, fmt.Errorf("open %s for reading: %w", cfg.Path, err)
	}
	cfg.Logger.Debug("read store open", "path", cfg.Path, "read_conns", cfg.ReadConns)
	return &Store{cfg: cfg, writeDB: writeDB, readDB: readDB, stmts: newStmtCache()}, nil
}

// Path is the database file.
func (s *Store) Path() string { return s.cfg.Path }

// Dialect is readstore.DialectSQLite.
func (s *Store) Dialect() string { return readstore.DialectSQLite }

// Compact rewrites the file without its free pages (VACUUM) and then
// empties the WAL into it (a TRUNCATE checkpoint), so deleted rows and
// dropped tables are no longer anywhere in the store's files. The
// checkpoint waits for Views that still read older pages.
func (s *Store) Compact(ctx context.Context) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inFlight.Done()
	conn, err := s.writeDB.Conn(ctx)
	if err != nil {
		return readstore.Wrap("compact", "", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM`); err != nil {
		return readstore.Wrap("compact", "VACUUM", err)
	}
	for {
		var busy, logFrames, checkpointed int
		if err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &checkpointed); err != nil {
			return readstore.Wrap("compact", "PRAGMA wal_checkpoint(TRUNCATE)", err)
		}
		if busy == 0 {
			return nil
		}
		select { // a View holds an old snapshot; Views are short
		case <-ctx.Done():
			return readstore.Wrap("compact", "PRAGMA wal_checkpoint(TRUNCATE)", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Close waits for the Updates and Views in flight, then closes the file.
func (s *Store) Close() error {
	s.closing.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.inFlight.Wait()
		s.closeErr = errors.Join(s.stmts.close(), s.writeDB.Close(), s.readDB.Close())
	})
	return s.closeErr
}

// enter registers a transaction, or refuses it once the store is closed.
func (s *Store) enter() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return readstore.ErrClosed
	}
	s.inFlight.Add(1)
	return nil
}

// Update runs fn in a write transaction; see readstore.Store.
func (s *Store) Update(ctx context.Context, fn func(ctx context.Context, tx readstore.Tx) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inFlight.Done()
	// BeginTx waits for the writer connection under ctx, then runs BEGIN
	// IMMEDIATE (the _txlock of the writer's DSN). database/sql rolls the
	// transaction back by itself if ctx ends before the commit.
	sqlTx, err := s.writeDB.BeginTx(ctx, nil)
	if err != nil {
		return readstore.Wrap("begin", "", err)
	}
	err = s.run(ctx, sqlTx, s.stmts, fn)
	if s.stmts.pending() {
		// The writer's connection is free again: prepare what this
		// transaction ran, for the next ones, whatever became of ctx.
		s.stmts.prepare(context.WithoutCancel(ctx), s.writeDB)
	}
	return err
}

// View runs fn in a read transaction over one snapshot; see readstore.Store.
func (s *Store) View(ctx context.Context, fn func(ctx context.Context, tx readstore.Tx) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inFlight.Done()
	sqlTx, err := s.readDB.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return readstore.Wrap("begin", "", err)
	}
	// A deferred BEGIN does not take the snapshot: the first read does. Read
	// now, so the snapshot is the one of View's start, not of fn's first
	// query, and all of fn's queries share it.
	if _, err := sqlTx.ExecContext(ctx, pinSnapshot); err != nil {
		s.rollback(sqlTx)
		return readstore.Wrap("begin", pinSnapshot, err)
	}
	return s.run(ctx, sqlTx, nil, fn)
}

// pinSnapshot is the cheapest statement that opens a WAL read transaction:
// any read of a table does, and the schema table always exists.
const pinSnapshot = `SELECT 1 FROM sqlite_master LIMIT 1`

// run calls fn with the transaction and commits if fn returns nil and no
// statement failed; otherwise, and if fn panics, it rolls back. The panic
// is not recovered: the deferred rollback runs while it unwinds, and it
// goes on with its own stack.
func (s *Store) run(ctx context.Context, sqlTx *sql.Tx, stmts *stmtCache, fn func(context.Context, readstore.Tx) error) error {
	t := &tx{g: readstore.NewGuard(ctx, ctxErr, bind), sqlTx: sqlTx, stmts: stmts}
	finished := false
	defer func() {
		if !finished {
			t.g.End()
			s.rollback(sqlTx)
		}
	}()
	if err := fn(ctx, t); err != nil {
		return err
	}
	t.g.End()
	if err := t.g.Aborted(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return readstore.Wrap("commit", "", err)
	}
	finished = true
	// If ctx ends from here on, Commit may find the transaction already
	// rolled back by database/sql and say ErrTxDone: report ctx's error.
	if err := sqlTx.Commit(); err != nil {
		return readstore.Wrap("commit", "", ctxErr(ctx, err))
	}
	return nil
}

// rollback ends a transaction that is not to be committed. ErrTxDone means
// database/sql already rolled it back, its context having ended.
func (s *Store) rollback(sqlTx *sql.Tx) {
	if err := sqlTx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		s.cfg.Logger.Warn("read store: rollback failed", "path", s.cfg.Path, "err", err)
	}
}
