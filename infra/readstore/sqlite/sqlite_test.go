package sqlite_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beian/beian/infra/readstore"
	"github.com/beian/beian/infra/readstore/readstoretest"
	"github.com/beian/beian/infra/readstore/sqlite"
)

func open(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	readstoretest.Run(t, readstoretest.Features{
		New: func(t *testing.T) readstore.Store {
			return open(t, filepath.Join(t.TempDir(), "read.db"))
		},
	})
}

// TestConnectionSettings reads the pragmas back from the connections that
// Updates and Views get.
func TestConnectionSettings(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "read.db"))
	defer s.Close()
	ctx := context.Background()
	pragmas := func(tx readstore.Tx) (journal string, sync, busy, fk, queryOnly int64, err error) {
		if err = tx.QueryRow(ctx, `PRAGMA journal_mode`).Scan(&journal); err != nil {
			return
		}
		for _, p := range []struct {
			name string
			dest *int64
		}{{"synchronous", &sync}, {"busy_timeout", &busy}, {"foreign_keys", &fk}, {"query_only", &queryOnly}} {
			if err = tx.QueryRow(ctx, `PRAGMA `+p.name).Scan(p.dest); err != nil {
				return
			}
		}
		return
	}
	err := s.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
		journal, sync, busy, fk, queryOnly, err := pragmas(tx)
		if err != nil {
			return err
		}
		// synchronous 1 is NORMAL.
		if journal != "wal" || sync != 1 || busy != 10000 || fk != 0 || queryOnly != 0 {
			t.Errorf("writer: journal_mode=%s synchronous=%d busy_timeout=%d foreign_keys=%d query_only=%d; want wal, 1, 10000, 0, 0",
				journal, sync, busy, fk, queryOnly)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
		journal, _, busy, fk, queryOnly, err := pragmas(tx)
		if err != nil {
			return err
		}
		if journal != "wal" || busy != 10000 || fk != 0 || queryOnly != 1 {
			t.Errorf("reader: journal_mode=%s busy_timeout=%d foreign_keys=%d query_only=%d; want wal, 10000, 0, 1",
				journal, busy, fk, queryOnly)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidation(t *testing.T) {
	err := sqlite.Config{ReadConns: -1}.Validate()
	if err == nil || !strings.Contains(err.Error(), "path") || !strings.Contains(err.Error(), "-1") {
		t.Fatalf("want both problems named, got %v", err)
	}
	if err := (sqlite.Config{Path: ":memory:"}).Validate(); err == nil {
		t.Fatal(":memory: accepted; readers would see another database than the writer")
	}
	if err := (sqlite.Config{Path: "read.db"}).Validate(); err != nil {
		t.Fatalf("a plain path refused: %v", err)
	}
	if _, err := sqlite.Open(sqlite.Config{}); err == nil {
		t.Fatal("Open accepted an empty config")
	}
}

// TestReopenKeepsData: what an Update committed is there after the store is
// closed and opened again, and the new store writes on.
func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub dir", "read.db")
	if _, err := sqlite.Open(sqlite.Config{Path: path}); err == nil {
		t.Fatal("opened a file in a directory that does not exist")
	}
	path = filepath.Join(t.TempDir(), "read store ü.db") // spaces and non-ASCII survive the DSN
	ctx := context.Background()
	s := open(t, path)
	if s.Path() != path {
		t.Fatalf("Path() = %q, want %q", s.Path(), path)
	}
	exec := func(s *sqlite.Store, query string, args ...any) {
		t.Helper()
		err := s.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
			_, err := tx.Exec(ctx, query, args...)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	exec(s, `CREATE TABLE IF NOT EXISTS checkpoints (projection TEXT PRIMARY KEY, position BIGINT NOT NULL)`)
	for i := range int64(3) {
		exec(s, `INSERT INTO checkpoints (projection, position) VALUES (?, ?) ON CONFLICT (projection) DO UPDATE SET position = excluded.position`, "progress", i+1)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for round := int64(0); round < 2; round++ {
		s = open(t, path)
		var pos int64
		err := s.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
			return tx.QueryRow(ctx, `SELECT position FROM checkpoints WHERE projection = ?`, "progress").Scan(&pos)
		})
		if err != nil || pos != 3+round {
			t.Fatalf("round %d: position %d after reopening, %v; want %d", round, pos, err, 3+round)
		}
		exec(s, `UPDATE checkpoints SET position = position + 1`)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCompactLeavesNoDeletedBytes: after rows are deleted and a table is
// dropped, Compact leaves their text in neither the file nor its WAL, which
// erasure relies on; without Compact the text is still there.
func TestCompactLeavesNoDeletedBytes(t *testing.T) {
	dir := t.TempDir()
	s := open(t, filepath.Join(dir, "read.db"))
	ctx := context.Background()
	exec := func(query string, args ...any) {
		t.Helper()
		if err := s.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
			_, err := tx.Exec(ctx, query, args...)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	const secret = "110101200001010010-王五"
	exec(`CREATE TABLE kept (k BIGINT PRIMARY KEY, v TEXT NOT NULL)`)
	exec(`CREATE TABLE gone (k BIGINT PRIMARY KEY, v TEXT NOT NULL)`)
	for k := range int64(50) {
		exec(`INSERT INTO kept (k, v) VALUES (?, ?)`, k, fmt.Sprint("row ", k))
		exec(`INSERT INTO kept (k, v) VALUES (?, ?)`, 1000+k, secret)
		exec(`INSERT INTO gone (k, v) VALUES (?, ?)`, k, secret)
	}
	exec(`DELETE FROM kept WHERE v = ?`, secret)
	exec(`DROP TABLE gone`)
	if !filesContain(t, dir, secret) {
		t.Fatal("the deleted text is in no file before Compact: the test proves nothing")
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if filesContain(t, dir, secret) {
		t.Fatal("deleted text still in the store's files after Compact")
	}
	var n int64
	if err := s.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM kept`).Scan(&n)
	}); err != nil || n != 50 {
		t.Fatalf("%d rows kept, %v; want 50", n, err)
	}
}

// filesContain reports whether any file in dir holds text.
func filesContain(t *testing.T, dir, text string) bool {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(text)) {
			return true
		}
	}
	return false
}
