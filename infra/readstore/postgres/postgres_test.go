package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beian/beian/infra/readstore"
	"github.com/beian/beian/infra/readstore/postgres"
	"github.com/beian/beian/infra/readstore/postgres/pgtest"
	"github.com/beian/beian/infra/readstore/readstoretest"
)

// TestConformance runs the port's suite. Every subtest opens its own Store,
// as another replica would, on one schema for the run: the suite's tables
// have unique names.
func TestConformance(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	readstoretest.Run(t, readstoretest.Features{
		New: func(t *testing.T) readstore.Store { return pgtest.Open(t, url, schema) },
	})
}

func TestConfigValidation(t *testing.T) {
	err := postgres.Config{Schema: "Bad-Name", MaxConns: 1}.Validate()
	for _, want := range []string{"URL is required", `"Bad-Name"`, "max connections 1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q among the problems, got %v", want, err)
		}
	}
	for _, c := range []postgres.Config{
		{URL: "postgres://u:secret@host:notaport/db"},
		{URL: "postgres://h/db", MaxConns: -1},
		{URL: "postgres://h/db", Schema: "1abc"},
		{URL: "postgres://h/db", Schema: strings.Repeat("a", 64)},
		{URL: "postgres://h/db", Schema: "public; drop"},
	} {
		err := c.Validate()
		if err == nil {
			t.Errorf("%+v accepted", c)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
	for _, c := range []postgres.Config{
		{URL: "postgres://h/db"},
		{URL: "host=h dbname=db", Schema: "beian_read", MaxConns: 2},
		{URL: "postgresql://u@h:5433/db?sslmode=require", Schema: "_x9"},
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v refused: %v", c, err)
		}
	}
	if _, err := postgres.Open(context.Background(), postgres.Config{}); err == nil {
		t.Fatal("Open accepted an empty config")
	}
}

// TestOpenFailsFast: a database that does not answer is an error of Open,
// not of the first query.
func TestOpenFailsFast(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, postgres.Config{URL: "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2"})
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded with nothing listening")
	}
}

// TestSchemaIsolation: stores on two schemas of one database, with tables
// of the same name, see only their own; the schema is created by Open and
// found again by the next Open.
func TestSchemaIsolation(t *testing.T) {
	url := pgtest.URL(t)
	schemas := []string{pgtest.Schema(t, url), pgtest.Schema(t, url)}
	ctx := context.Background()
	for i, schema := range schemas {
		s := pgtest.Open(t, url, schema)
		if s.Schema() != schema || s.Dialect() != readstore.DialectPostgres {
			t.Fatalf("schema %q dialect %q", s.Schema(), s.Dialect())
		}
		exec(t, s, `CREATE TABLE IF NOT EXISTS checkpoints (projection TEXT PRIMARY KEY, position BIGINT NOT NULL)`)
		exec(t, s, `INSERT INTO checkpoints (projection, position) VALUES (?, ?)`, "filings", int64(i+1))
	}
	for i, schema := range schemas {
		s := pgtest.Open(t, url, schema) // the schema exists now
		var pos, n int64
		var current string
		err := s.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
			if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&current); err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM checkpoints`).Scan(&n); err != nil {
				return err
			}
			return tx.QueryRow(ctx, `SELECT position FROM checkpoints WHERE projection = 'filings'`).Scan(&pos)
		})
		if err != nil || current != schema || n != 1 || pos != int64(i+1) {
			t.Fatalf("store on %s: schema %s, %d rows, position %d, %v; want its own row only", schema, current, n, pos, err)
		}
	}
}

// TestStoresShareASchema: a second Store on the same schema, as another
// replica would open it, sees what the first committed, and not what it
// has not committed yet.
func TestStoresShareASchema(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	a, b := pgtest.Open(t, url, schema), pgtest.Open(t, url, schema)
	exec(t, a, `CREATE TABLE IF NOT EXISTS kv (k BIGINT PRIMARY KEY, n BIGINT NOT NULL)`)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	written := make(chan struct{})
	release, releaseUpdate := gate(t)
	updated := make(chan error, 1)
	go func() {
		updated <- a.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO kv (k, n) VALUES (1, 1)`); err != nil {
				return err
			}
			close(written)
			<-release
			return nil
		})
	}()
	<-written
	if n := number(t, b, `SELECT COUNT(*) FROM kv`); n != 0 {
		t.Fatalf("the other store sees %d uncommitted rows", n)
	}
	releaseUpdate()
	if err := <-updated; err != nil {
		t.Fatal(err)
	}
	if n := number(t, b, `SELECT n FROM kv WHERE k = 1`); n != 1 {
		t.Fatalf("the other store reads n=%d, want 1", n)
	}
}

// TestWritersSerialisedAcrossStores: read-modify-write Updates from two
// Stores on one schema (two replicas) never lose an update: the advisory
// lock serialises them, not only each store's writer slot.
func TestWritersSerialisedAcrossStores(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	stores := []*postgres.Store{pgtest.Open(t, url, schema), pgtest.Open(t, url, schema)}
	exec(t, stores[0], `CREATE TABLE IF NOT EXISTS kv (k BIGINT PRIMARY KEY, n BIGINT NOT NULL)`)
	exec(t, stores[0], `INSERT INTO kv (k, n) VALUES (1, 0)`)
	const writers = 32
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := range writers {
		s := stores[i%2]
		wg.Go(func() {
			err := s.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
				var n int64
				if err := tx.QueryRow(ctx, `SELECT n FROM kv WHERE k = 1`).Scan(&n); err != nil {
					return err
				}
				time.Sleep(time.Millisecond) // widen the window a lost update needs
				_, err := tx.Exec(ctx, `UPDATE kv SET n = ? WHERE k = 1`, n+1)
				return err
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := number(t, stores[1], `SELECT n FROM kv WHERE k = 1`); n != writers {
		t.Fatalf("counter is %d after %d increments from two stores: writers are not serialised", n, writers)
	}
}

// TestWaitForAnotherStoreEndsWithContext: an Update waiting for the
// advisory lock that another Store holds gives up when its context ends,
// leaves nothing behind, and the next one runs once the lock is free.
func TestWaitForAnotherStoreEndsWithContext(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	a, b := pgtest.Open(t, url, schema), pgtest.Open(t, url, schema)
	exec(t, a, `CREATE TABLE IF NOT EXISTS kv (k BIGINT PRIMARY KEY, n BIGINT NOT NULL)`)
	holding := make(chan struct{})
	release, releaseHold := gate(t)
	held := make(chan error, 1)
	go func() {
		held <- a.Update(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := b.Update(short, func(ctx context.Context, tx readstore.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO kv (k, n) VALUES (1, 1)`)
		return err
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Update waiting for another store's writer past its deadline: %v", err)
	}
	releaseHold()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	exec(t, b, `INSERT INTO kv (k, n) VALUES (2, 2)`)
	if n := number(t, a, `SELECT COUNT(*) FROM kv`); n != 1 {
		t.Fatalf("%d rows, want only the one written after the lock was free", n)
	}
}

// TestScanAnyColumnIntoString: every column type scans into a string, as
// code reading whole tables as text (content hashes) expects.
func TestScanAnyColumnIntoString(t *testing.T) {
	s := pgtest.NewStore(t)
	var got [7]string
	err := s.View(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
		return tx.QueryRow(ctx, `SELECT CAST(42 AS BIGINT), CAST(7 AS INTEGER), CAST(0.5 AS DOUBLE PRECISION), CAST(12.50 AS NUMERIC),
			TRUE, 'text', TIMESTAMPTZ '2026-03-02 10:00:00+08'`).
			Scan(&got[0], &got[1], &got[2], &got[3], &got[4], &got[5], &got[6])
	})
	want := [7]string{"42", "7", "0.5", "12.50", "true", "text", "2026-03-02T02:00:00Z"}
	if err != nil || got != want {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
}

// TestScanErrorDoesNotAbort: a value that does not fit its destination is
// the caller's mistake, found after the server answered; the transaction
// goes on.
func TestScanErrorDoesNotAbort(t *testing.T) {
	s := pgtest.NewStore(t)
	exec(t, s, `CREATE TABLE IF NOT EXISTS kv (k BIGINT PRIMARY KEY, n BIGINT NOT NULL)`)
	err := s.Update(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
		var n int64
		if err := tx.QueryRow(ctx, `SELECT 'not a number'`).Scan(&n); err == nil {
			return errors.New("text scanned into an int64")
		}
		_, err := tx.Exec(ctx, `INSERT INTO kv (k, n) VALUES (1, 1)`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := number(t, s, `SELECT COUNT(*) FROM kv`); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
}

// TestRewrittenPlaceholders: statements with '?' in literals and comments
// beside real placeholders run with the right arguments.
func TestRewrittenPlaceholders(t *testing.T) {
	s := pgtest.NewStore(t)
	var a, b string
	var n int64
	err := s.View(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
		return tx.QueryRow(ctx, `SELECT 'why?' || ?, /* ? */ E'\'?' || ?, -- ?
			CAST(? AS BIGINT)`, "a", "b", int64(3)).Scan(&a, &b, &n)
	})
	if err != nil || a != "why?a" || b != "'?b" || n != 3 {
		t.Fatalf("%q %q %d %v", a, b, n, err)
	}
}

// gate returns a channel and the function that closes it, once; the test's
// cleanup closes it too, so that an fn blocked on it ends even when the test
// fails early, and closing the store, which waits for fn, does not hang.
func gate(t *testing.T) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(ch) }) }
	t.Cleanup(open)
	return ch, open
}

func exec(t *testing.T, s readstore.Store, query string, args ...any) {
	t.Helper()
	err := s.Update(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
		_, err := tx.Exec(ctx, query, args...)
		return err
	})
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func number(t *testing.T, s readstore.Store, query string, args ...any) int64 {
	t.Helper()
	var n int64
	err := s.View(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
		return tx.QueryRow(ctx, query, args...).Scan(&n)
	})
	if err != nil {
		t.Fatal(fmt.Errorf("%s: %w", query, err))
	}
	return n
}
