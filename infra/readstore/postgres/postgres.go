// Package postgres is the scale-out read store: read models in a PostgreSQL
// schema that several API replicas (and the projection runner) share.
//
// Writers are serialised twice. Inside a process, Updates run on a pool of
// one connection (as the SQLite adapter's single writer connection), so
// they queue for it under their context and never take a connection Views
// need, nor wait for one a View holds. Across processes, every Update
// begins with pg_advisory_xact_lock on a key derived from the schema name:
// the Updates of every Store on one schema run one at a time, whichever
// replica they come from, and the lock goes with the transaction, so a
// crashed writer cannot leave it held. With writers serialised, READ
// COMMITTED is enough for a read-modify-write in Go: each statement after
// the lock sees everything the previous writer committed (PostgreSQL makes
// a commit visible before it releases the transaction's locks).
// SERIALIZABLE would also be correct, but would make every projection retry
// on serialisation failures instead of waiting.
//
// A View is a REPEATABLE READ READ ONLY transaction that runs SELECT 1 in
// the same round trip as its BEGIN: PostgreSQL takes a transaction's
// snapshot at its first statement, not at BEGIN, so the View's snapshot is
// the one of its start, not of fn's first query, as the port promises.
//
// Statements are the port's portable SQL: '?' placeholders become $1, $2…
// and run as prepared statements that pgx caches per connection.
//
// It imports the readstore port and pgx only.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/beian/beian/infra/readstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Config configures the store.
type Config struct {
	// URL is the connection string, postgres://user:password@host:port/db?sslmode=…
	// (or key=value form); its search_path, if any, is overridden by Schema.
	URL string
	// Schema holds the read models; it is created if missing and is the
	// only schema on the search path, so stores on two schemas of one
	// database are independent. A lower-case identifier; default "public".
	Schema string
	// MaxConns bounds the connections: one for Updates, the rest for Views
	// running at once (more Views wait for a connection). Default 10; at
	// least 2.
	MaxConns int
	Logger   *slog.Logger // default slog.Default()
}

// validSchema reports whether a Schema is an unquoted PostgreSQL identifier
// that does not fold (lower case, at most 63 bytes), so that psql users find
// it by the name they were given.
func validSchema(name string) bool {
	if name == "" || len(name) > 63 || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func (c *Config) setDefaults() {
	if c.Schema == "" {
		c.Schema = "public"
	}
	if c.MaxConns == 0 {
		c.MaxConns = 10
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("postgres read store: URL is required"))
	} else if _, err := pgxpool.ParseConfig(c.URL); err != nil {
		// pgconn redacts the password in its message.
		errs = append(errs, fmt.Errorf("postgres read store: URL: %w", err))
	}
	if c.Schema != "" && !validSchema(c.Schema) {
		errs = append(errs, fmt.Errorf("postgres read store: schema %q must be a lower-case identifier of at most 63 characters (a-z, 0-9, _)", c.Schema))
	}
	if c.MaxConns < 0 || c.MaxConns == 1 {
		errs = append(errs, fmt.Errorf("postgres read store: max connections %d must be at least 2 (an Update and a View at once)", c.MaxConns))
	}
	return errors.Join(errs...)
}

// Store is the PostgreSQL read store.
type Store struct {
	cfg   Config
	write *pgxpool.Pool // one connection: Updates queue for it
	read  *pgxpool.Pool // MaxConns-1 connections for Views
	begin string        // an Update's BEGIN, with the advisory lock that serialises writers on the schema

	mu       sync.Mutex
	closed   bool
	inFlight sync.WaitGroup // Updates and Views running, which Close waits for
	closing  sync.Once
}

// Open connects, creates the schema if it is missing, and returns the store.
// It fails if the database cannot be reached, so that a bad URL is found at
// start rather than at the first query.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	poolCfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres read store: %w", err)
	}
	conn := poolCfg.ConnConfig
	conn.RuntimeParams["search_path"] = pgx.Identifier{cfg.Schema}.Sanitize()
	if conn.RuntimeParams["application_name"] == "" {
		conn.RuntimeParams["application_name"] = "beian read store"
	}
	// When a context ends mid-statement, ask the server to cancel it (a
	// writer waiting for the advisory lock leaves the queue at once, a
	// long query stops using the server), and cut the connection only if
	// the server does not answer.
	conn.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: cancelGrace}
	}
	readCfg := poolCfg.Copy()
	poolCfg.MaxConns, readCfg.MaxConns = 1, int32(cfg.MaxConns-1)
	write, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, fmt.Errorf("postgres read store: %w", err)
	}
	// The writer connects first and creates the schema: the search path of
	// every connection names it.
	if err := createSchema(ctx, write, cfg.Schema); err != nil {
		write.Close()
		return nil, fmt.Errorf("postgres read store on %s: %w", conn.Host, err)
	}
	read, err := pgxpool.NewWithConfig(ctx, readCfg)
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("postgres read store: %w", err)
	}
	cfg.Logger.Debug("read store open", "host", conn.Host, "database", conn.Database, "schema", cfg.Schema, "max_conns", cfg.MaxConns)
	begin := fmt.Sprintf("BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE; SELECT pg_advisory_xact_lock(%d)", writerLockKey(cfg.Schema))
	return &Store{cfg: cfg, write: write, read: read, begin: begin}, nil
}

// cancelGrace is how long the server has to answer a cancel request before
// the connection is cut.
const cancelGrace = 2 * time.Second

// createSchema creates the schema unless it exists. It looks first, because
// CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege on the database even
// when the schema exists, which a replica's role may lack.
func createSchema(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&exists); err != nil {
		return fmt.Errorf("look for schema %s: %w", schema, err)
	}
	if exists {
		return nil
	}
	_, err := pool.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "42P06" || pgErr.Code == "23505") {
		// Another process created it at the same moment.
		return nil
	}
	if err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	return nil
}

// writerLockKey is the advisory lock key of a schema's writers: FNV-1a of
// the schema name, stable across processes and releases. Advisory locks are
// per database, so stores on other schemas of it take other keys and do not
// wait for each other (a hash collision would only serialise them too).
func writerLockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("beian/readstore/" + schema))
	return int64(h.Sum64())
}

// Schema is the schema holding the read models.
func (s *Store) Schema() string { return s.cfg.Schema }

// Dialect is readstore.DialectPostgres.
func (s *Store) Dialect() string { return readstore.DialectPostgres }

// Compact vacuums every table of the schema: the space of deleted and
// updated rows becomes free for reuse. Unlike SQLite's VACUUM it does not
// rewrite the files, so old bytes can stay in free space, in WAL segments
// and in backups until they are overwritten or expire (docs/audit.md);
// dropped tables' files are gone at once. VACUUM FULL would rewrite the
// tables but lock out every query while it ran.
func (s *Store) Compact(ctx context.Context) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inFlight.Done()
	rows, err := s.write.Query(ctx, `SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()`)
	if err != nil {
		return readstore.Wrap("compact", "pg_tables", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return readstore.Wrap("compact", "pg_tables", err)
	}
	for _, table := range tables {
		// One at a time: a table dropped since the listing is skipped,
		// not an error.
		query := "VACUUM " + table
		var pgErr *pgconn.PgError
		if _, err := s.write.Exec(ctx, query); err != nil && !(errors.As(err, &pgErr) && pgErr.Code == "42P01") {
			return readstore.Wrap("compact", query, err)
		}
	}
	return nil
}

// Close waits for the Updates and Views in flight, then closes the
// connections.
func (s *Store) Close() error {
	s.closing.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.inFlight.Wait()
		s.write.Close()
		s.read.Close()
	})
	return nil
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

// Update runs fn in a write transaction; see readstore.Store and the
// package documentation for how writers are serialised.
func (s *Store) Update(ctx context.Context, fn func(ctx context.Context, tx readstore.Tx) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inFlight.Done()
	if err := ctx.Err(); err != nil {
		return readstore.Wrap("begin", "", err)
	}
	return s.transact(ctx, s.write, s.begin, fn)
}

// View runs fn in a read-only transaction over one snapshot; see
// readstore.Store.
func (s *Store) View(ctx context.Context, fn func(ctx context.Context, tx readstore.Tx) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inFlight.Done()
	if err := ctx.Err(); err != nil {
		return readstore.Wrap("begin", "", err)
	}
	return s.transact(ctx, s.read, beginView, fn)
}

// beginView opens a View's transaction and takes its snapshot, in one round
// trip: the SELECT is the first statement, which is when PostgreSQL takes
// the snapshot of a REPEATABLE READ transaction.
const beginView = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT 1"

// transact runs fn in a transaction that begin opens on a connection of
// pool. A connection whose transaction could not be ended is not reused:
// pgxpool destroys a released connection that is not idle.
func (s *Store) transact(ctx context.Context, pool *pgxpool.Pool, begin string, fn func(context.Context, readstore.Tx) error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return readstore.Wrap("begin", "", ctxErr(ctx, err))
	}
	defer conn.Release()
	// Several statements without arguments: pgx sends them as one simple
	// query, one round trip.
	if _, err := conn.Exec(ctx, begin); err != nil {
		s.rollback(ctx, conn.Conn())
		return readstore.Wrap("begin", begin, ctxErr(ctx, err))
	}
	return s.run(ctx, conn.Conn(), fn)
}

// run calls fn with the transaction and commits if fn returns nil and no
// statement failed; otherwise, and if fn panics, it rolls back. The panic
// is not recovered: the deferred rollback runs while it unwinds, and it
// goes on with its own stack.
func (s *Store) run(ctx context.Context, conn *pgx.Conn, fn func(context.Context, readstore.Tx) error) error {
	t := &tx{g: readstore.NewGuard(ctx, ctxErr, bind), conn: conn}
	finished := false
	defer func() {
		if !finished {
			t.g.End()
			s.rollback(ctx, conn)
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
	tag, err := conn.Exec(ctx, "COMMIT")
	if err != nil {
		// The outcome is unknown only if the connection broke after the
		// server received the COMMIT; Release then discards it.
		return readstore.Wrap("commit", "", ctxErr(ctx, err))
	}
	if tag.String() == "ROLLBACK" {
		// The server had aborted the transaction; the client-side tracking
		// of failed statements should have caught it first.
		return readstore.Wrap("commit", "", readstore.ErrAborted)
	}
	return nil
}

// rollbackTimeout bounds a rollback, which runs even when the transaction's
// context has ended.
const rollbackTimeout = 5 * time.Second

// rollback ends a transaction that is not to be committed. If it fails, the
// connection is left in a transaction and pgxpool will not reuse it.
func (s *Store) rollback(ctx context.Context, conn *pgx.Conn) {
	if conn.IsClosed() || conn.PgConn().TxStatus() == 'I' {
		return // nothing to roll back: the BEGIN never ran
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
		s.cfg.Logger.Warn("read store: rollback failed", "schema", s.cfg.Schema, "err", err)
	}
}

// ctxErr reports a statement that failed because its context ended (pgx
// cancelled it on the server, or found the context done before sending)
// as that context's error, which is what the caller can act on, keeping
// the database's error in the chain.
func ctxErr(ctx context.Context, err error) error {
	cerr := ctx.Err()
	if cerr == nil || errors.Is(err, cerr) {
		return err
	}
	return fmt.Errorf("%w: %w", cerr, err)
}

var _ readstore.Store = (*Store)(nil)
