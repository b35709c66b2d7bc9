package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/beian/beian/infra/readstore"
)

func TestSingleStatement(t *testing.T) {
	for q, want := range map[string]bool{
		`INSERT INTO t VALUES (?)`:                           true,
		`UPDATE t SET n = n + 1 WHERE k = ?;`:                true,
		`DELETE FROM t; DELETE FROM u`:                       false,
		`SELECT n FROM t WHERE k = ?`:                        true,
		`INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)`: false,
	} {
		if got := singleStatement(q); got != want {
			t.Errorf("singleStatement(%q) = %v, want %v", q, got, want)
		}
	}
}

// The writer's statements are prepared after the transaction that first
// runs them and reused by later ones, across a schema change of their table.
func TestWriterReusesPreparedStatements(t *testing.T) {
	ctx := context.Background()
	s, err := Open(Config{Path: filepath.Join(t.TempDir(), "read.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	exec := func(query string, args ...any) int64 {
		t.Helper()
		var n int64
		err := s.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
			var err error
			n, err = tx.Exec(ctx, query, args...)
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	const insert, bump = `INSERT INTO t (k, v) VALUES (?, ?)`, `UPDATE t SET v = v + 1 WHERE k = ?`
	exec(`CREATE TABLE t (k TEXT PRIMARY KEY, v BIGINT)`)
	exec(insert, "a", 1)
	if s.stmts.prepared[insert] == nil {
		t.Fatalf("the insert was not prepared after its first transaction: %v", s.stmts.prepared)
	}
	if _, cached := s.stmts.prepared[`CREATE TABLE t (k TEXT PRIMARY KEY, v BIGINT)`]; cached {
		t.Error("a schema statement was cached")
	}
	exec(insert, "b", 2)
	exec(bump, "a")
	if n := exec(bump, "a"); n != 1 {
		t.Fatalf("the prepared update changed %d rows, want 1", n)
	}
	exec(`DROP TABLE t`)
	exec(`CREATE TABLE t (k TEXT PRIMARY KEY, v BIGINT, w BIGINT DEFAULT 7)`)
	if n := exec(insert, "c", 3); n != 1 {
		t.Fatalf("the prepared insert after the table was recreated changed %d rows", n)
	}
	var rows, sum int64
	err = s.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(v + w), 0) FROM t`).Scan(&rows, &sum)
	})
	if err != nil || rows != 1 || sum != 10 {
		t.Fatalf("after recreation: %d rows, sum %d, %v", rows, sum, err)
	}
}

// A cache full of statements on dropped tables (each rebuild makes new
// ones) starts over instead of preparing nothing more.
func TestStatementCacheStartsOverWhenFull(t *testing.T) {
	ctx := context.Background()
	s, err := Open(Config{Path: filepath.Join(t.TempDir(), "read.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	insertInto := func(table string) string { return `INSERT INTO ` + table + ` (k) VALUES (?)` }
	for i := range maxStatements + 10 {
		table := fmt.Sprintf("t_g%d", i)
		err := s.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
			if _, err := tx.Exec(ctx, `CREATE TABLE `+table+` (k BIGINT)`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, insertInto(table), i)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	last := insertInto(fmt.Sprintf("t_g%d", maxStatements+9))
	if s.stmts.prepared[last] == nil {
		t.Fatalf("the newest table's insert is not prepared (%d statements kept)", len(s.stmts.prepared))
	}
	if len(s.stmts.prepared) > maxStatements {
		t.Fatalf("%d statements kept, at most %d", len(s.stmts.prepared), maxStatements)
	}
}

// The writer keeps the SELECTs it reads one row of prepared (a projection
// reads a row before it writes one), not those it iterates; a row left
// unread does not keep its statement busy past the transaction, so its
// table can still be dropped.
func TestWriterReusesPreparedRowReads(t *testing.T) {
	ctx := context.Background()
	s, err := Open(Config{Path: filepath.Join(t.TempDir(), "read.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const read, list = `SELECT v FROM t WHERE k = ?`, `SELECT k FROM t ORDER BY k`
	update := func(fn func(ctx context.Context, tx readstore.Tx) error) {
		t.Helper()
		if err := s.Update(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	update(func(ctx context.Context, tx readstore.Tx) error {
		_, err := tx.Exec(ctx, `CREATE TABLE t (k TEXT PRIMARY KEY, v BIGINT); INSERT INTO t VALUES ('a', 1), ('b', 2)`)
		return err
	})
	for want := range int64(3) {
		update(func(ctx context.Context, tx readstore.Tx) error {
			var v int64
			if err := tx.QueryRow(ctx, read, "a").Scan(&v); err != nil {
				return err
			}
			if v != want+1 {
				return fmt.Errorf("read %d, want %d", v, want+1)
			}
			rows, err := tx.Query(ctx, list)
			if err != nil {
				return err
			}
			rows.Close()
			_, err = tx.Exec(ctx, `UPDATE t SET v = v + 1 WHERE k = ?`, "a")
			return err
		})
	}
	if s.stmts.prepared[read] == nil {
		t.Fatal("the one-row read was not prepared")
	}
	if _, kept := s.stmts.prepared[list]; kept {
		t.Fatal("an iterated query was kept prepared")
	}
	update(func(ctx context.Context, tx readstore.Tx) error {
		tx.QueryRow(ctx, read, "b") // never scanned
		return nil
	})
	update(func(ctx context.Context, tx readstore.Tx) error {
		_, err := tx.Exec(ctx, `DROP TABLE t`)
		return err
	})
}
