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

// tx runs a transaction's statements on a pgx connection. The server
// enforces the port's rules too, but the Guard makes the errors the port's
// (ErrRowsOpen instead of "conn busy", ErrAborted instead of "current
// transaction is aborted") and lets Update refuse to commit an aborted
// transaction even if fn ignored the failure.
type tx struct {
	g    *readstore.Guard
	conn *pgx.Conn
}

func (t *tx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	bound, err := t.g.Begin("exec", query, args)
	if err != nil {
		return 0, err
	}
	tag, err := t.conn.Exec(ctx, rebind(query), bound...)
	if err != nil {
		return 0, t.g.Fail("exec", query, err)
	}
	// A SELECT's tag counts rows too; the port counts only changes.
	if tag.Insert() || tag.Update() || tag.Delete() {
		return tag.RowsAffected(), nil
	}
	return 0, nil
}

func (t *tx) Query(ctx context.Context, query string, args ...any) (readstore.Rows, error) {
	bound, err := t.g.Begin("query", query, args)
	if err != nil {
		return nil, err
	}
	r, err := t.conn.Query(ctx, rebind(query), bound...)
	if err != nil {
		return nil, t.g.Fail("query", query, err)
	}
	return t.g.Rows(query, pgRows{r}), nil
}

func (t *tx) QueryRow(ctx context.Context, query string, args ...any) readstore.Row {
	return readstore.FirstRow(t.Query(ctx, query, args...))
}

// pgRows are pgx's rows as the Guard reads them.
type pgRows struct{ pgx.Rows }

// Scan reads a *string column of any type as database/sql would (anyText).
func (r pgRows) Scan(dest ...any) error {
	copied := false
	for i, d := range dest {
		if p, ok := d.(*string); ok {
			if !copied { // the caller's slice stays as it was
				dest, copied = append([]any(nil), dest...), true
			}
			dest[i] = anyText{p}
		}
	}
	return r.Rows.Scan(dest...)
}

func (r pgRows) Columns() ([]string, error) {
	fields := r.FieldDescriptions()
	cols := make([]string, len(fields))
	for i, f := range fields {
		cols[i] = f.Name
	}
	return cols, nil
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
