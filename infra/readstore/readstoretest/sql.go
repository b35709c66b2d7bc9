package readstoretest

// The SQL tests: statements, argument and column types, results and errors
// behave the same on every adapter.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/beian/beian/infra/readstore"
)

func testUpsert(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, `id TEXT PRIMARY KEY, status TEXT NOT NULL, version BIGINT NOT NULL, hits BIGINT NOT NULL`)
	upsert := `INSERT INTO ` + tbl + ` (id, status, version, hits) VALUES (?, ?, ?, 1)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status, version = excluded.version, hits = ` + tbl + `.hits + 1`
	exec(t, s, upsert, "f-1", "draft", int64(1))
	exec(t, s, upsert, "f-2", "draft", int64(1))
	exec(t, s, upsert, "f-1", "submitted", int64(2))
	update(t, s, func(ctx context.Context, tx readstore.Tx) error {
		n, err := tx.Exec(ctx, `INSERT INTO `+tbl+` (id, status, version, hits) VALUES (?, 'x', 0, 0) ON CONFLICT (id) DO NOTHING`, "f-1")
		if err != nil || n != 0 {
			return fmt.Errorf("ON CONFLICT DO NOTHING on an existing key: %d rows, %v", n, err)
		}
		return nil
	})
	ctx := context.Background()
	err := s.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
		var status string
		var version, hits int64
		if err := tx.QueryRow(ctx, `SELECT status, version, hits FROM `+tbl+` WHERE id = ?`, "f-1").Scan(&status, &version, &hits); err != nil {
			return err
		}
		if status != "submitted" || version != 2 || hits != 2 {
			return fmt.Errorf("after the upsert: %s v%d hits %d; want submitted v2 hits 2", status, version, hits)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, tbl); n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
}

// testTypes: every argument type of the port goes in through '?' and comes
// out through Scan unchanged, at the edges of its range.
func testTypes(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, `k BIGINT PRIMARY KEY, i BIGINT NOT NULL, s TEXT NOT NULL, x DOUBLE PRECISION NOT NULL, b TEXT NOT NULL`)
	type values struct {
		i int64
		s string
		x float64
		b []byte
	}
	cases := []values{
		{1<<62 + 12345, "plain", 0.1 + 0.2, []byte(`{"a":1}`)},
		{-1 << 63, "", -1e-300, []byte{}},
		{1<<63 - 1, "with 'quotes' and ? marks", 3.141592653589793, []byte("line\nbreak")},
		{0, "  spaces  ", 1e300, []byte("x")},
	}
	update(t, s, func(ctx context.Context, tx readstore.Tx) error {
		for k, c := range cases {
			if _, err := tx.Exec(ctx, `INSERT INTO `+tbl+` (k, i, s, x, b) VALUES (?, ?, ?, ?, ?)`, int64(k), c.i, c.s, c.x, c.b); err != nil {
				return err
			}
		}
		// Other integer kinds are accepted as numbers.
		_, err := tx.Exec(ctx, `INSERT INTO `+tbl+` (k, i, s, x, b) VALUES (?, ?, ?, ?, ?)`, 100, int32(-7), "y", float32(0.5), "z")
		return err
	})
	err := s.View(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
		for k, want := range cases {
			var got values
			if err := tx.QueryRow(ctx, `SELECT i, s, x, b FROM `+tbl+` WHERE k = ?`, int64(k)).Scan(&got.i, &got.s, &got.x, &got.b); err != nil {
				return err
			}
			if got.i != want.i || got.s != want.s || got.x != want.x || string(got.b) != string(want.b) {
				return fmt.Errorf("row %d: got %+v, want %+v", k, got, want)
			}
		}
		var i int64
		var x float64
		if err := tx.QueryRow(ctx, `SELECT i, x FROM `+tbl+` WHERE k = ?`, 100).Scan(&i, &x); err != nil || i != -7 || x != 0.5 {
			return fmt.Errorf("int32 and float32 arguments: %d, %v, %v", i, x, err)
		}
		// Placeholders also bind in WHERE, LIMIT and arithmetic.
		var sum int64
		if err := tx.QueryRow(ctx, `SELECT CAST(COALESCE(SUM(i / ?), 0) AS BIGINT) FROM `+tbl+` WHERE k >= ? AND k < ?`, int64(1), int64(100), int64(101)).Scan(&sum); err != nil || sum != -7 {
			return fmt.Errorf("placeholders in expressions: %d, %v", sum, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testBytesAreText: a []byte argument is stored as text, equal to the same
// string (SQLite would otherwise store a BLOB that no string matches).
func testBytesAreText(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, `k BIGINT PRIMARY KEY, doc TEXT NOT NULL`)
	type rawJSON []byte
	exec(t, s, `INSERT INTO `+tbl+` (k, doc) VALUES (?, ?), (?, ?)`, int64(1), []byte(`{"status":"draft"}`), int64(2), rawJSON(`{"status":"审核中"}`))
	if n := number(t, s, `SELECT k FROM `+tbl+` WHERE doc = ?`, `{"status":"draft"}`); n != 1 {
		t.Fatalf("[]byte row found by string as %d", n)
	}
	if n := number(t, s, `SELECT k FROM `+tbl+` WHERE doc = ?`, []byte(`{"status":"审核中"}`)); n != 2 {
		t.Fatalf("named []byte row found by []byte as %d", n)
	}
	if n := number(t, s, `SELECT COUNT(*) FROM `+tbl+` WHERE doc LIKE ?`, `{"status":%`); n != 2 {
		t.Fatalf("LIKE on []byte rows matched %d, want 2", n)
	}
}

func testNonPortable(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, kv)
	for _, arg := range []any{true, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), struct{}{}, []int{1}} {
		err := s.Update(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO `+tbl+` (k, n) VALUES (1, ?)`, arg)
			return err
		})
		if !errors.Is(err, readstore.ErrNotPortable) {
			t.Fatalf("argument %T: %v; want ErrNotPortable", arg, err)
		}
	}
	if n := count(t, s, tbl); n != 0 {
		t.Fatalf("%d rows written with refused arguments", n)
	}
}

func testNoRows(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, kv)
	err := s.View(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
		var n int64
		err := tx.QueryRow(ctx, `SELECT n FROM `+tbl+` WHERE k = ?`, int64(1)).Scan(&n)
		if !errors.Is(err, readstore.ErrNoRows) {
			return fmt.Errorf("QueryRow on an empty result: %v; want ErrNoRows", err)
		}
		// ErrNoRows is an answer: the transaction goes on.
		sum, err := scanNumber(ctx, tx, `SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM `+tbl)
		if err != nil || sum != 0 {
			return fmt.Errorf("COALESCE(SUM) over no rows: %d, %v", sum, err)
		}
		rows, err := tx.Query(ctx, `SELECT n FROM `+tbl)
		if err != nil {
			return err
		}
		defer rows.Close()
		if rows.Next() {
			return errors.New("Next on an empty result returned true")
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	// The same in an Update, which then commits.
	update(t, s, func(ctx context.Context, tx readstore.Tx) error {
		if _, err := scanNumber(ctx, tx, `SELECT n FROM `+tbl+` WHERE k = 1`); !errors.Is(err, readstore.ErrNoRows) {
			return fmt.Errorf("want ErrNoRows, got %v", err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO `+tbl+` (k, n) VALUES (1, 1)`)
		return err
	})
	if n := count(t, s, tbl); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
}

func testQueryRows(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, kv)
	const rows = 1000
	update(t, s, func(ctx context.Context, tx readstore.Tx) error {
		for k := range int64(rows) {
			if _, err := tx.Exec(ctx, `INSERT INTO `+tbl+` (k, n) VALUES (?, ?)`, k, k*k); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.View(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
		rs, err := tx.Query(ctx, `SELECT k, n FROM `+tbl+` WHERE k >= ? ORDER BY k LIMIT ? OFFSET ?`, int64(100), int64(50), int64(10))
		if err != nil {
			return err
		}
		defer rs.Close()
		want := int64(110)
		for rs.Next() {
			var k, n int64
			if err := rs.Scan(&k, &n); err != nil {
				return err
			}
			if k != want || n != k*k {
				return fmt.Errorf("row (%d, %d), want key %d", k, n, want)
			}
			want++
		}
		if err := rs.Err(); err != nil {
			return err
		}
		if want != 160 {
			return fmt.Errorf("page ended before key %d, want 160", want)
		}
		// A second query after the first was read to the end.
		total, err := scanNumber(ctx, tx, `SELECT COUNT(*) FROM `+tbl)
		if err != nil || total != rows {
			return fmt.Errorf("count %d, %v", total, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testUnicode(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, `name TEXT PRIMARY KEY, note TEXT NOT NULL`)
	names := []string{"深圳市示例科技有限公司", "🏢 备案-粤ICP备12345678号", "zero\u200bwidth", "Ünïcödé ẞ", "עברית"}
	update(t, s, func(ctx context.Context, tx readstore.Tx) error {
		for _, n := range names {
			if _, err := tx.Exec(ctx, `INSERT INTO `+tbl+` (name, note) VALUES (?, ?)`, n, "备注："+n); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.View(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
		for _, n := range names {
			var note string
			if err := tx.QueryRow(ctx, `SELECT note FROM `+tbl+` WHERE name = ?`, n).Scan(&note); err != nil {
				return fmt.Errorf("%q: %w", n, err)
			}
			if note != "备注："+n {
				return fmt.Errorf("%q: note %q", n, note)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testLargeText(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, `k BIGINT PRIMARY KEY, body TEXT NOT NULL`)
	big := strings.Repeat("备案 material 材料 ", 1<<20/len("备案 material 材料 ")+1)[:1<<20]
	for !strings.HasSuffix(big, " ") { // cut on a rune boundary
		big = big[:len(big)-1]
	}
	exec(t, s, `INSERT INTO `+tbl+` (k, body) VALUES (1, ?)`, big)
	exec(t, s, `INSERT INTO `+tbl+` (k, body) VALUES (2, ?)`, []byte(big))
	err := s.View(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
		var asString string
		var asBytes []byte
		if err := tx.QueryRow(ctx, `SELECT body FROM `+tbl+` WHERE k = 1`).Scan(&asString); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT body FROM `+tbl+` WHERE k = 2`).Scan(&asBytes); err != nil {
			return err
		}
		if asString != big || string(asBytes) != big {
			return fmt.Errorf("1 MB text came back as %d and %d bytes, want %d", len(asString), len(asBytes), len(big))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testRowsAffected(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, kv)
	update(t, s, func(ctx context.Context, tx readstore.Tx) error {
		steps := []struct {
			query string
			args  []any
			want  int64
		}{
			{`INSERT INTO ` + tbl + ` (k, n) VALUES (?, ?), (?, ?), (?, ?)`, []any{int64(1), int64(1), int64(2), int64(2), int64(3), int64(3)}, 3},
			{`UPDATE ` + tbl + ` SET n = n + 10 WHERE k >= ?`, []any{int64(2)}, 2},
			{`DELETE FROM ` + tbl + ` WHERE k > ?`, []any{int64(100)}, 0},
			{`INSERT INTO ` + tbl + ` (k, n) VALUES (1, 5) ON CONFLICT (k) DO UPDATE SET n = excluded.n`, nil, 1},
			// Statements that change no rows report 0, whatever came before.
			{`CREATE INDEX IF NOT EXISTS ` + tbl + `_n ON ` + tbl + ` (n)`, nil, 0},
			{`DELETE FROM ` + tbl + ` WHERE k = ?`, []any{int64(3)}, 1},
		}
		for _, st := range steps {
			n, err := tx.Exec(ctx, st.query, st.args...)
			if err != nil {
				return err
			}
			if n != st.want {
				return fmt.Errorf("%s: %d rows affected, want %d", st.query, n, st.want)
			}
		}
		return nil
	})
}

func testErrorNamesStatement(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, kv)
	query := `SELECT missing_column
		FROM ` + tbl
	err := s.View(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
		_, err := tx.Query(ctx, query)
		return err
	})
	var re *readstore.Error
	if !errors.As(err, &re) {
		t.Fatalf("want *readstore.Error, got %T %v", err, err)
	}
	if re.Op != "query" || re.Query != "SELECT missing_column FROM "+tbl || re.Err == nil {
		t.Fatalf("error lacks context: %+v", re)
	}
	if !strings.Contains(err.Error(), tbl) {
		t.Fatalf("message %q does not name the statement", err)
	}
	long := `SELECT missing_column FROM ` + tbl + ` WHERE ` + strings.Repeat("k = 1 OR ", 200) + `k = 2`
	err = s.View(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
		_, err := tx.Query(ctx, long)
		return err
	})
	if !errors.As(err, &re) || len(re.Query) > 200 || !strings.HasPrefix(long, strings.TrimSuffix(re.Query, "…")) {
		t.Fatalf("a long statement is not shortened in the error: %d bytes", len(re.Query))
	}
}
