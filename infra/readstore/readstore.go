// Package readstore is the read-store port. Projections fold events into
// read-model tables and advance their checkpoint in one Update, so a crash
// never applies an event twice or skips one; GraphQL queries read those
// tables in a View, a read-only transaction over one consistent snapshot.
// Adapters live in subpackages (sqlite, the embedded default; postgres for
// scale-out) and all pass the conformance suite in readstoretest.
//
// # Portable SQL
//
// Statements are plain SQL that SQLite and PostgreSQL both run the same way,
// so a projection written against the embedded store works unchanged on
// PostgreSQL. The rules:
//
//   - Placeholders are '?'. An adapter with numbered placeholders rewrites
//     every '?' in order, so '?' never appears inside a string literal,
//     identifier or comment. One statement per call.
//   - Column types: BIGINT for int64 (INTEGER is 32 bits in PostgreSQL; keep
//     it for small numbers), TEXT for strings, DOUBLE PRECISION for float64
//     (REAL is 4 bytes in PostgreSQL and would round). Booleans are BIGINT
//     0/1; times are BIGINT Unix milliseconds or TEXT in RFC 3339 UTC. There
//     is no binary type: a []byte argument is text (JSON, say), valid UTF-8
//     without NUL bytes, as every TEXT value must be. Arguments of other
//     types are refused with ErrNotPortable (see CheckArgs).
//   - Columns are NOT NULL; where a query can produce NULL (SUM over no
//     rows, a LEFT JOIN), wrap it in COALESCE. SUM of a BIGINT is NUMERIC in
//     PostgreSQL: scan CAST(COALESCE(SUM(x), 0) AS BIGINT).
//   - Upserts are INSERT ... ON CONFLICT (key columns) DO UPDATE SET
//     c = excluded.c, or ON CONFLICT DO NOTHING: never "INSERT OR REPLACE".
//   - DDL is CREATE TABLE/INDEX IF NOT EXISTS and DROP TABLE IF EXISTS; it is
//     transactional in both databases, so a projection creates its tables in
//     the Update that first writes them.
//   - Unquoted lower-case identifiers (PostgreSQL folds to lower case).
//   - Text compares byte by byte in SQLite; PostgreSQL's ORDER BY on TEXT
//     follows the database's collation, and LIKE is case-insensitive for ASCII
//     in SQLite only. Order by numbers, or by keys whose byte order is what
//     the query means, and do not rely on LIKE's case rules.
//
// # Transactions
//
// The rules of a Tx are PostgreSQL's, and the embedded adapter enforces them
// too, so that code which breaks them fails on the laptop rather than in
// production:
//
//   - A Tx, and the Rows and Row it returns, are valid only inside the fn
//     they were given to; afterwards every call fails with ErrTxDone.
//   - One statement at a time: a Rows must be read to the end or closed, and
//     a Row scanned, before the next statement on the same Tx (ErrRowsOpen).
//     A Tx is not safe for concurrent use.
//   - A failed Exec or Query aborts the transaction: later statements fail
//     with ErrAborted and the Update rolls back even if fn returns nil.
//     (ErrNoRows from Row.Scan is an answer, not a failure.)
//
// It imports only the standard library; it must not import domain,
// projections, api or any adapter.
package readstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Store is the read-store port.
type Store interface {
	// Update runs fn in one read-write transaction, committing if fn returns
	// nil and rolling back otherwise. Writers are serialised: while fn runs,
	// no other Update of the store does, so a read-modify-write in fn never
	// loses an update. fn must therefore not call Update itself (it would
	// wait for itself until ctx ends).
	//
	// fn's error is returned unchanged, so callers branch on their own
	// errors. If fn panics, the transaction is rolled back and the panic
	// continues, unrecovered, with its original stack: a panic is a bug in
	// a projection, not an outcome to handle, and the store stays usable.
	// If ctx is done before the commit, nothing is written and Update
	// returns an error matching ctx.Err().
	Update(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// View runs fn in a read-only transaction over one consistent snapshot,
	// taken before fn is called: every query in fn sees the store as it was
	// when View began, whatever commits meanwhile. Views run concurrently
	// with each other and with an Update, neither waiting for the other.
	// A write in fn fails. fn's error is returned unchanged; a panic
	// propagates as in Update.
	View(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// Compact gives the space of deleted rows and dropped tables back, so
	// that their bytes leave the store's files as far as the database
	// allows: erasure runs it after removing personal data. It may take
	// long on a large store and may hold Updates back while it runs.
	Compact(ctx context.Context) error
	// Dialect is DialectSQLite or DialectPostgres, for the rare statement
	// that cannot be written portably.
	Dialect() string
	// Close waits for the transactions in flight, then releases the store;
	// Update and View fail with ErrClosed afterwards. Closing twice is
	// harmless.
	Close() error
}

// Dialects.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// Tx is a transaction of an Update or a View, valid only inside its fn.
type Tx interface {
	// Exec runs a statement and returns the number of rows an INSERT,
	// UPDATE or DELETE changed (an upsert counts 1 per row inserted or
	// updated); 0 for other statements.
	Exec(ctx context.Context, query string, args ...any) (rowsAffected int64, err error)
	// Query runs a query. Read the Rows to the end or close them before the
	// next statement.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// QueryRow runs a query expected to return at most one row; its error,
	// if any, is reported by Row.Scan. Scan the Row before the next
	// statement.
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Rows is the result of a query, read like database/sql's Rows. It closes
// itself when Next returns false; Err then reports why iteration stopped
// early, if it did.
type Rows interface {
	Next() bool
	// Scan copies the current row's columns into dest: *int64, *float64,
	// *string or *[]byte (a copy, still valid after the transaction).
	Scan(dest ...any) error
	// Columns names the result's columns, for code that reads any table
	// (content hashes).
	Columns() ([]string, error)
	Err() error
	Close() error
}

// Row is the result of QueryRow.
type Row interface {
	// Scan copies the row's columns into dest like Rows.Scan, or returns an
	// error matching ErrNoRows when the query found nothing.
	Scan(dest ...any) error
}

// Errors matched with errors.Is.
var (
	// ErrNoRows: QueryRow found nothing.
	ErrNoRows = errors.New("readstore: no rows")
	// ErrClosed: the store is closed.
	ErrClosed = errors.New("readstore: closed")
	// ErrTxDone: a Tx, Rows or Row was used after its fn returned.
	ErrTxDone = errors.New("readstore: transaction has ended")
	// ErrRowsOpen: a statement while a Rows of the same Tx is still being
	// read (PostgreSQL's connection can only do one thing at a time).
	ErrRowsOpen = errors.New("readstore: a Rows or Row of this transaction is still open")
	// ErrAborted: a statement after a failed one, or the commit of a
	// transaction in which a statement failed.
	ErrAborted = errors.New("readstore: transaction aborted by a failed statement")
	// ErrNotPortable: an argument whose type the adapters would store
	// differently (see CheckArgs).
	ErrNotPortable = errors.New("readstore: argument type is not portable")
)

// Error is a failed read-store operation, naming the statement so a log
// line says what failed.
type Error struct {
	Op    string // "begin", "exec", "query", "scan", "commit"
	Query string // the statement, whitespace collapsed and shortened (see Wrap)
	Err   error
}

func (e *Error) Error() string {
	if e.Query == "" {
		return fmt.Sprintf("%s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("%s %q: %v", e.Op, e.Query, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// maxQueryInError bounds the statement an Error carries: enough to recognise
// it, not a page of SQL in every log line.
const maxQueryInError = 160

// Wrap returns err as an *Error of op and query, or nil if err is nil.
// Adapters wrap every failure with it, so that errors look alike whichever
// adapter is running.
func Wrap(op, query string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Query: shorten(query), Err: err}
}

// shorten collapses runs of white space and cuts the statement to
// maxQueryInError bytes on a rune boundary.
func shorten(query string) string {
	q := strings.Join(strings.Fields(query), " ")
	if len(q) <= maxQueryInError {
		return q
	}
	cut := maxQueryInError
	for cut > 0 && !utf8.RuneStart(q[cut]) {
		cut--
	}
	return q[:cut] + "…"
}

// CheckArgs refuses an argument that one adapter would store differently
// from another, so that a projection which works on SQLite cannot break on
// PostgreSQL. Accepted: nil, integers, floats, strings and []byte, named
// types of those kinds, and driver.Valuer values that produce one of them.
// Refused: bool (SQLite stores 1, PostgreSQL refuses it for a BIGINT
// column), time.Time (each driver picks its own text format) and anything
// else. Adapters call it before every statement.
func CheckArgs(args []any) error {
	for i, a := range args {
		if err := checkArg(a); err != nil {
			return fmt.Errorf("argument %d: %w", i+1, err)
		}
	}
	return nil
}

func checkArg(a any) error {
	switch v := a.(type) {
	case nil, int64, float64, string, []byte:
		return nil
	case driver.Valuer:
		val, err := v.Value()
		if err != nil {
			return err
		}
		switch val.(type) {
		case nil, int64, float64, string, []byte:
			return nil
		}
		return fmt.Errorf("%w: %T gives %T", ErrNotPortable, a, val)
	}
	v := reflect.ValueOf(a)
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.String:
		return nil
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil
		}
	case reflect.Bool:
		return fmt.Errorf("%w: %T (store 0 or 1 in a BIGINT column)", ErrNotPortable, a)
	case reflect.Struct:
		if v.Type().String() == "time.Time" {
			return fmt.Errorf("%w: %T (store Unix milliseconds or RFC 3339 text)", ErrNotPortable, a)
		}
	}
	return fmt.Errorf("%w: %T", ErrNotPortable, a)
}
