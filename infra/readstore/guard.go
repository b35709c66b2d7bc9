package readstore

import (
	"context"
	"errors"
	"fmt"
)

// DriverRows is a driver's result set, as an adapter hands it to a Guard.
type DriverRows interface {
	Next() bool
	Err() error
	Scan(dest ...any) error
	Columns() ([]string, error)
	// Close reads or discards what is left of the result, so the
	// connection is free for the next statement; a failure shows in Err.
	Close()
}

// Guard keeps the rules of a Tx (see the package documentation) for an
// adapter, which runs the statements: the adapter asks Begin before each,
// reports a failed one with Fail, hands a query's rows to Rows, calls End
// when fn returns and commits only if Aborted is nil. Both adapters share
// it, so the rules fail the same way on SQLite and on PostgreSQL. It is
// used by one goroutine at a time, as a Tx is.
type Guard struct {
	ctx    context.Context
	ctxErr func(context.Context, error) error // the driver's error in terms of the context, if it ended
	bind   func([]any) ([]any, error)         // the adapter's conversion of arguments
	open   *guardedRows                       // the Rows being read, nil if none
	failed error                              // the first failed statement; the transaction is aborted
	done   bool                               // fn has returned
}

// NewGuard guards one transaction of the Update or View whose context is
// ctx. ctxErr reports a statement that failed because ctx ended as the
// context's error, which is what the caller can act on; bind converts a
// statement's arguments for the driver.
func NewGuard(ctx context.Context, ctxErr func(context.Context, error) error, bind func([]any) ([]any, error)) *Guard {
	return &Guard{ctx: ctx, ctxErr: ctxErr, bind: bind}
}

// Begin checks that a statement may run now and converts its arguments
// with the adapter's bind. Arguments refused before the statement reached
// the database fail the transaction all the same.
func (g *Guard) Begin(op, query string, args []any) ([]any, error) {
	switch {
	case g.done:
		return nil, Wrap(op, query, ErrTxDone)
	case g.failed != nil:
		return nil, Wrap(op, query, fmt.Errorf("%w: %w", ErrAborted, g.failed))
	case g.open != nil:
		return nil, g.Fail(op, query, ErrRowsOpen)
	}
	bound, err := g.bind(args)
	if err != nil {
		return nil, g.Fail(op, query, err)
	}
	return bound, nil
}

// Fail aborts the transaction with a failed statement's error and returns
// that error, wrapped.
func (g *Guard) Fail(op, query string, err error) error {
	err = Wrap(op, query, g.ctxErr(g.ctx, err))
	if g.failed == nil {
		g.failed = err
	}
	return err
}

// End marks the transaction over when fn returns: a Rows left open is
// closed, and whatever fn leaked fails with ErrTxDone from now on.
func (g *Guard) End() {
	g.done = true
	if g.open != nil {
		g.open.release(ErrTxDone)
	}
}

// Aborted returns the error that forbids the commit: a statement failed,
// even if fn ignored it.
func (g *Guard) Aborted() error {
	if g.failed == nil {
		return nil
	}
	return Wrap("commit", "", fmt.Errorf("%w: %w", ErrAborted, g.failed))
}

// Rows tracks a query's rows until they are read to the end or closed.
func (g *Guard) Rows(query string, r DriverRows) Rows {
	g.open = &guardedRows{g: g, query: query, r: r}
	return g.open
}

// FirstRow is QueryRow's answer from Query's: the first row of rows (from
// the Guard's Rows), or err.
func FirstRow(rows Rows, err error) Row {
	if err != nil {
		return errRow{err}
	}
	return guardedRow{rows.(*guardedRows)}
}

type guardedRows struct {
	g      *Guard
	query  string
	r      DriverRows
	closed bool
	err    error // why iteration stopped early, or ErrTxDone
}

func (rs *guardedRows) Next() bool {
	if rs.closed {
		return false
	}
	if rs.r.Next() {
		return true
	}
	// The end, or a failure while the rows came (a division by zero, a
	// cancelled context): the query is over either way.
	if err := rs.r.Err(); err != nil {
		rs.release(rs.g.Fail("query", rs.query, err))
		return false
	}
	rs.release(nil)
	return false
}

func (rs *guardedRows) Scan(dest ...any) error {
	if rs.closed {
		if rs.err != nil {
			return Wrap("scan", rs.query, rs.err)
		}
		return Wrap("scan", rs.query, errors.New("rows are closed"))
	}
	if err := rs.r.Scan(dest...); err != nil {
		// A conversion failure is the caller's, found after the database
		// answered: it does not abort the transaction, but it ends the
		// iteration (pgx closes its rows on one; SQLite is made to agree).
		err = Wrap("scan", rs.query, err)
		rs.release(err)
		return err
	}
	return nil
}

func (rs *guardedRows) Err() error { return rs.err }

func (rs *guardedRows) Columns() ([]string, error) {
	if rs.closed {
		return nil, Wrap("columns", rs.query, errors.New("rows are closed"))
	}
	cols, err := rs.r.Columns()
	return cols, Wrap("columns", rs.query, err)
}

func (rs *guardedRows) Close() error {
	if !rs.closed {
		rs.release(nil)
	}
	return nil
}

// release closes the query and frees the transaction for the next
// statement; err is what Err reports from now on. An error that closing
// finds is the query's, unless a reason to stop is known already.
func (rs *guardedRows) release(err error) {
	rs.closed = true
	rs.err = err
	if errors.Is(err, ErrTxDone) {
		rs.err = Wrap("query", rs.query, err)
	}
	rs.r.Close()
	if cerr := rs.r.Err(); cerr != nil && rs.err == nil && !rs.g.done {
		rs.err = rs.g.Fail("query", rs.query, cerr)
	}
	if rs.g.open == rs {
		rs.g.open = nil
	}
}

type guardedRow struct{ rows *guardedRows }

func (r guardedRow) Scan(dest ...any) error {
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return Wrap("scan", r.rows.query, ErrNoRows)
	}
	return r.rows.Scan(dest...)
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
