package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/beian/beian/infra/readstore"
)

// tx enforces the port's transaction rules on top of database/sql, whose
// SQLite transactions are more lenient than PostgreSQL's: SQLite would let
// a failed statement pass and run statements while a query is still being
// read. It is used by one goroutine at a time (the port says a Tx is not
// safe for concurrent use), so its fields need no lock.
type tx struct {
	ctx    context.Context // the Update's or View's; when it ends, database/sql rolls back
	sqlTx  *sql.Tx
	stmts  *stmtCache // the writer's prepared statements; nil in a View
	open   *rows      // the Rows being read, nil if none
	failed error      // the first failed statement; the transaction is aborted
	done   bool       // fn has returned
}

// begin checks that a statement may run now and converts its arguments.
func (t *tx) begin(op, query string, args []any) ([]any, error) {
	switch {
	case t.done:
		return nil, readstore.Wrap(op, query, readstore.ErrTxDone)
	case t.failed != nil:
		return nil, readstore.Wrap(op, query, fmt.Errorf("%w: %w", readstore.ErrAborted, t.failed))
	case t.open != nil:
		return nil, t.fail(op, query, readstore.ErrRowsOpen)
	}
	bound, err := bind(args)
	if err != nil {
		return nil, t.fail(op, query, err)
	}
	return bound, nil
}

// fail aborts the transaction with a failed statement's error.
func (t *tx) fail(op, query string, err error) error {
	err = readstore.Wrap(op, query, ctxErr(t.ctx, err))
	if t.failed == nil {
		t.failed = err
	}
	return err
}

// end marks the transaction over when fn returns: a Rows left open is
// closed, and whatever fn leaked fails with ErrTxDone from now on.
func (t *tx) end() {
	t.done = true
	if t.open != nil {
		t.open.release(readstore.ErrTxDone)
	}
}

func (t *tx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	bound, err := t.begin("exec", query, args)
	if err != nil {
		return 0, err
	}
	var res sql.Result
	if st := t.stmts.get(query); st != nil {
		res, err = t.sqlTx.StmtContext(ctx, st).ExecContext(ctx, bound...)
	} else {
		res, err = t.sqlTx.ExecContext(ctx, query, bound...)
	}
	if err != nil {
		return 0, t.fail("exec", query, err)
	}
	if !changesRows(query) {
		return 0, nil
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, t.fail("exec", query, err)
	}
	return n, nil
}

func (t *tx) Query(ctx context.Context, query string, args ...any) (readstore.Rows, error) {
	bound, err := t.begin("query", query, args)
	if err != nil {
		return nil, err
	}
	r, err := t.sqlTx.QueryContext(ctx, query, bound...)
	if err != nil {
		return nil, t.fail("query", query, err)
	}
	t.open = &rows{tx: t, query: query, r: r}
	return t.open, nil
}

func (t *tx) QueryRow(ctx context.Context, query string, args ...any) readstore.Row {
	rs, err := t.Query(ctx, query, args...)
	if err != nil {
		return row{err: err}
	}
	return row{rows: rs.(*rows)}
}

// rows wraps database/sql's Rows so that the transaction knows when a query
// is being read, and so that Rows used after the transaction say so.
type rows struct {
	tx     *tx
	query  string
	r      *sql.Rows
	closed bool
	err    error // why iteration stopped early, or ErrTxDone
}

func (rs *rows) Next() bool {
	if rs.closed {
		return false
	}
	if rs.r.Next() {
		return true
	}
	// The end, or a failure while stepping: the query is over either way.
	if err := rs.r.Err(); err != nil {
		rs.release(rs.tx.fail("query", rs.query, err))
		return false
	}
	rs.release(nil)
	return false
}

func (rs *rows) Scan(dest ...any) error {
	if rs.closed {
		if rs.err != nil {
			return readstore.Wrap("scan", rs.query, rs.err)
		}
		return readstore.Wrap("scan", rs.query, errors.New("rows are closed"))
	}
	// A conversion failure is the caller's, found after the database
	// answered: it does not abort the transaction.
	return readstore.Wrap("scan", rs.query, rs.r.Scan(dest...))
}

func (rs *rows) Err() error { return rs.err }

func (rs *rows) Columns() ([]string, error) {
	if rs.closed {
		return nil, readstore.Wrap("columns", rs.query, errors.New("rows are closed"))
	}
	cols, err := rs.r.Columns()
	return cols, readstore.Wrap("columns", rs.query, err)
}

func (rs *rows) Close() error {
	if rs.closed {
		return nil
	}
	rs.release(nil)
	return nil
}

// release closes the query and frees the transaction for the next
// statement; err is what Err reports from now on.
func (rs *rows) release(err error) {
	rs.closed = true
	rs.err = err
	if errors.Is(err, readstore.ErrTxDone) {
		rs.err = readstore.Wrap("query", rs.query, err)
	}
	// Closing only finalises the statement; its error is of no use.
	_ = rs.r.Close()
	if rs.tx.open == rs {
		rs.tx.open = nil
	}
}

// row is the result of QueryRow: the Rows of the query, or the error that
// stopped it.
type row struct {
	rows *rows
	err  error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return readstore.Wrap("scan", r.rows.query, readstore.ErrNoRows)
	}
	return r.rows.Scan(dest...)
}

// bind checks the arguments for portability and binds text as text: a
// []byte would otherwise be stored as a BLOB, which SQLite never finds equal
// to the same string (WHERE doc = ?) while PostgreSQL's TEXT does. Valuers
// are resolved here, once.
func bind(args []any) ([]any, error) {
	if err := readstore.CheckArgs(args); err != nil {
		return nil, err
	}
	var out []any // a copy, made at the first argument that changes
	for i, a := range args {
		v, changed := a, false
		if valuer, ok := a.(driver.Valuer); ok {
			var err error
			if v, err = valuer.Value(); err != nil {
				return nil, fmt.Errorf("argument %d: %w", i+1, err)
			}
			changed = true
		}
		if b, ok := bytesOf(v); ok {
			v, changed = string(b), true
		}
		if out == nil && changed {
			out = append(make([]any, 0, len(args)), args[:i]...)
		}
		if out != nil {
			out = append(out, v)
		}
	}
	if out == nil {
		return args, nil
	}
	return out, nil
}

// bytesOf returns the bytes of a []byte or of a named []byte type
// (json.RawMessage).
func bytesOf(v any) ([]byte, bool) {
	if b, ok := v.([]byte); ok {
		return b, true
	}
	if v == nil {
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
		return rv.Bytes(), true
	}
	return nil, false
}

// changesRows reports whether a statement is an INSERT, UPDATE or DELETE,
// possibly after a WITH clause. SQLite's change count is that of the last
// such statement, so after any other statement it is stale, and Exec
// reports 0 instead, as PostgreSQL does.
func changesRows(query string) bool {
	word := firstWord(query)
	for _, w := range []string{"INSERT", "UPDATE", "DELETE", "WITH", "REPLACE"} {
		if strings.EqualFold(word, w) {
			return true
		}
	}
	return false
}

// firstWord returns the first keyword of a statement, after white space and
// comments.
func firstWord(q string) string {
	for {
		q = strings.TrimLeft(q, " \t\r\n(")
		switch {
		case strings.HasPrefix(q, "--"):
			end := strings.IndexByte(q, '\n')
			if end < 0 {
				return ""
			}
			q = q[end+1:]
		case strings.HasPrefix(q, "/*"):
			end := strings.Index(q, "*/")
			if end < 0 {
				return ""
			}
			q = q[end+2:]
		default:
			end := strings.IndexFunc(q, func(r rune) bool {
				return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
			})
			if end < 0 {
				return q
			}
			return q[:end]
		}
	}
}

// ctxErr reports a statement that failed because database/sql rolled the
// transaction back when its context ended as that context's error, which is
// what the caller can act on.
func ctxErr(ctx context.Context, err error) error {
	if errors.Is(err, sql.ErrTxDone) && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
