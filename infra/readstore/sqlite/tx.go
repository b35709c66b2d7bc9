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

// tx runs a transaction's statements through database/sql; the port's
// rules, which SQLite alone would not enforce (it lets a failed statement
// pass and runs statements while a query is still being read), are the
// Guard's.
type tx struct {
	g     *readstore.Guard
	sqlTx *sql.Tx
	stmts *stmtCache // the writer's prepared statements; nil in a View
}

func (t *tx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	bound, err := t.g.Begin("exec", query, args)
	if err != nil {
		return 0, err
	}
	var res sql.Result
	// Schema statements run once: only row changes are kept prepared.
	if st := t.stmts.get(query, changesRows(query)); st != nil {
		res, err = t.sqlTx.StmtContext(ctx, st).ExecContext(ctx, bound...)
	} else {
		res, err = t.sqlTx.ExecContext(ctx, query, bound...)
	}
	if err != nil {
		return 0, t.g.Fail("exec", query, err)
	}
	if !changesRows(query) {
		return 0, nil
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, t.g.Fail("exec", query, err)
	}
	return n, nil
}

func (t *tx) Query(ctx context.Context, query string, args ...any) (readstore.Rows, error) {
	return t.query(ctx, query, nil, args)
}

// QueryRow reads one row and resets the statement, so the writer keeps its
// SELECTs prepared too (a projection reads a row before it writes one).
func (t *tx) QueryRow(ctx context.Context, query string, args ...any) readstore.Row {
	return readstore.FirstRow(t.query(ctx, query, t.stmts.get(query, strings.EqualFold(firstWord(query), "SELECT")), args))
}

// query runs a query through its prepared statement st, if there is one.
func (t *tx) query(ctx context.Context, query string, st *sql.Stmt, args []any) (readstore.Rows, error) {
	bound, err := t.g.Begin("query", query, args)
	if err != nil {
		return nil, err
	}
	var r *sql.Rows
	if st != nil {
		r, err = t.sqlTx.StmtContext(ctx, st).QueryContext(ctx, bound...)
	} else {
		r, err = t.sqlTx.QueryContext(ctx, query, bound...)
	}
	if err != nil {
		return nil, t.g.Fail("query", query, err)
	}
	return t.g.Rows(query, sqlRows{r}), nil
}

// sqlRows are database/sql's rows as the Guard reads them.
type sqlRows struct{ *sql.Rows }

// Close only finalises the statement; its error is of no use.
func (r sqlRows) Close() { _ = r.Rows.Close() }

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
