package postgres

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"

	"github.com/beian/beian/infra/readstore"
	"github.com/jackc/pgx/v5"
)

// tx keeps the port's transaction rules on top of a pgx connection. The
// server enforces them too, but tracking them here makes the errors the
// port's (ErrRowsOpen instead of "conn busy", ErrAborted instead of "current
// transaction is aborted") and lets Update refuse to commit an aborted
// transaction even if fn ignored the failure. It is used by one goroutine
// at a time (the port says a Tx is not safe for concurrent use), so its
// fields need no lock.
type tx struct {
	ctx    context.Context // the Update's or View's
	conn   *pgx.Conn
	open   *rows // the Rows being read, nil if none
	failed error // the first failed statement; the transaction is aborted
	done   bool  // fn has returned
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
		// Refused before it reached the server, but failed all the same:
		// the port aborts the transaction as SQLite's adapter does.
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
	tag, err := t.conn.Exec(ctx, rebind(query), bound...)
	if err != nil {
		return 0, t.fail("exec", query, err)
	}
	// A SELECT's tag counts rows too; the port counts only changes.
	if tag.Insert() || tag.Update() || tag.Delete() {
		return tag.RowsAffected(), nil
	}
	return 0, nil
}

func (t *tx) Query(ctx context.Context, query string, args ...any) (readstore.Rows, error) {
	bound, err := t.begin("query", query, args)
	if err != nil {
		return nil, err
	}
	r, err := t.conn.Query(ctx, rebind(query), bound...)
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

// rows wraps pgx's Rows so that the transaction knows when a query is being
// read, and so that Rows used after the transaction say so.
type rows struct {
	tx     *tx
	query  string
	r      pgx.Rows
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
	// The end, or an error the server sent while the rows came (a division
	// by zero, a cancelled context): the query is over either way.
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
	copied := false
	for i, d := range dest {
		if p, ok := d.(*string); ok {
			if !copied { // the caller's slice stays as it was
				dest, copied = append([]any(nil), dest...), true
			}
			dest[i] = anyText{p}
		}
	}
	if err := rs.r.Scan(dest...); err != nil {
		// A conversion failure is the caller's, found after the database
		// answered: it does not abort the transaction. pgx has closed the
		// rows (reading the rest of the result), so iteration ends here.
		err = readstore.Wrap("scan", rs.query, err)
		rs.release(err)
		return err
	}
	return nil
}

func (rs *rows) Err() error { return rs.err }

func (rs *rows) Columns() ([]string, error) {
	if rs.closed {
		return nil, readstore.Wrap("columns", rs.query, errors.New("rows are closed"))
	}
	fields := rs.r.FieldDescriptions()
	cols := make([]string, len(fields))
	for i, f := range fields {
		cols[i] = f.Name
	}
	return cols, nil
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
	// Close reads what is left of the result, so the connection is free
	// for the next statement. An error it finds is the query's: record it
	// unless a reason to stop is known already.
	rs.r.Close()
	if cerr := rs.r.Err(); cerr != nil && rs.err == nil && !rs.tx.done {
		rs.err = rs.tx.fail("query", rs.query, cerr)
	}
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

// anyText scans a column of any type into a string, as database/sql does:
// code that reads every column of a table as text (the projections' content
// hash) then works on PostgreSQL, where pgx alone refuses to scan a boolean,
// say, into a string. pgx calls sql.Scanner destinations with the value
// decoded to its database/sql form.
type anyText struct{ dst *string }

func (a anyText) Scan(src any) error {
	switch v := src.(type) {
	case string:
		*a.dst = v
	case []byte:
		*a.dst = string(v)
	case int64:
		*a.dst = strconv.FormatInt(v, 10)
	case float64:
		*a.dst = strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		*a.dst = strconv.FormatBool(v)
	case time.Time:
		*a.dst = v.UTC().Format(time.RFC3339Nano)
	case nil:
		return errors.New("cannot scan NULL into *string")
	default:
		*a.dst = fmt.Sprint(v)
	}
	return nil
}

// bind checks the arguments for portability and converts them to the few
// types whose encoding pgx chooses from the parameter's type: int64,
// float64, string and nil. A []byte becomes text, as the port stores it,
// and a named type (json.RawMessage, a typed ID) its underlying value.
// Valuers are resolved here, once.
func bind(args []any) ([]any, error) {
	if err := readstore.CheckArgs(args); err != nil {
		return nil, err
	}
	out := make([]any, len(args))
	for i, a := range args {
		if valuer, ok := a.(driver.Valuer); ok {
			v, err := valuer.Value()
			if err != nil {
				return nil, fmt.Errorf("argument %d: %w", i+1, err)
			}
			a = v
		}
		v, err := portable(a)
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i+1, err)
		}
		out[i] = v
	}
	return out, nil
}

// portable converts a value CheckArgs accepted to int64, float64, string or
// nil.
func portable(a any) (any, error) {
	switch v := a.(type) {
	case nil, int64, float64, string:
		return v, nil
	case []byte:
		return string(v), nil
	}
	rv := reflect.ValueOf(a)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return nil, fmt.Errorf("%w: %d does not fit a BIGINT", readstore.ErrNotPortable, u)
		}
		return int64(u), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Slice:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return string(rv.Bytes()), nil
		}
	}
	return nil, fmt.Errorf("%w: %T", readstore.ErrNotPortable, a)
}
