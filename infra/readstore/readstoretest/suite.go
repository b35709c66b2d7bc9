// Package readstoretest is the conformance suite of the read-store port, in
// the style of watermill's pubsub/tests: every adapter runs it.
//
// Every test creates its own tables under unique names and drops them when
// it ends, so the suite can run against one shared PostgreSQL schema as well
// as against a fresh file per test.
package readstoretest

import (
	"context"
	"crypto/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beian/beian/infra/readstore"
)

// Features describes an adapter to the suite.
type Features struct {
	// New returns a store; the suite closes it. The store must allow at
	// least two Views at once beside an Update.
	New func(t *testing.T) readstore.Store
}

// Run runs every conformance test, each as a parallel subtest.
func Run(t *testing.T, f Features) {
	tests := []struct {
		name string
		fn   func(*testing.T, Features)
	}{
		{"CommitVisibleToView", testCommitVisible},
		{"ErrorRollsBack", testErrorRollsBack},
		{"PanicRollsBackAndPropagates", testPanic},
		{"Upsert", testUpsert},
		{"ArgumentAndScanTypes", testTypes},
		{"BytesAreText", testBytesAreText},
		{"NonPortableArgumentsRefused", testNonPortable},
		{"NoRows", testNoRows},
		{"QueryRows", testQueryRows},
		{"Unicode", testUnicode},
		{"LargeText", testLargeText},
		{"RowsAffected", testRowsAffected},
		{"WritersSerialised", testWritersSerialised},
		{"ViewSnapshot", testViewSnapshot},
		{"ViewsDuringUpdate", testViewsDuringUpdate},
		{"LongViewDoesNotBlockUpdate", testLongView},
		{"ViewIsReadOnly", testViewReadOnly},
		{"Cancellation", testCancellation},
		{"FailedStatementAborts", testFailedStatementAborts},
		{"OneStatementAtATime", testOneStatementAtATime},
		{"TxOnlyInsideFn", testTxOnlyInsideFn},
		{"ErrorNamesStatement", testErrorNamesStatement},
		{"Compact", testCompact},
		{"CloseWaitsForTransactions", testCloseWaits},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, f)
		})
	}
}

// wait bounds every wait of the suite, so a broken adapter fails the test
// instead of hanging it.
const wait = 20 * time.Second

func newStore(t *testing.T, f Features) readstore.Store {
	t.Helper()
	s := f.New(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// table creates a table with a unique name from its column definitions and
// drops it when the test ends.
func table(t *testing.T, s readstore.Store, columns string) string {
	t.Helper()
	name := uniqueName()
	update(t, s, func(ctx context.Context, tx readstore.Tx) error {
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+name+` (`+columns+`)`)
		return err
	})
	t.Cleanup(func() {
		err := s.Update(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
			_, err := tx.Exec(ctx, `DROP TABLE IF EXISTS `+name)
			return err
		})
		if err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	return name
}

// uniqueName returns a table name no other test uses, on this store or on
// a shared database.
func uniqueName() string { return "rs_" + strings.ToLower(rand.Text()[:16]) }

// kv is the usual test table: a key and a number.
const kv = `k BIGINT PRIMARY KEY, n BIGINT NOT NULL`

func update(t *testing.T, s readstore.Store, fn func(ctx context.Context, tx readstore.Tx) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := s.Update(ctx, fn); err != nil {
		t.Fatalf("update: %v", err)
	}
}

func exec(t *testing.T, s readstore.Store, query string, args ...any) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx readstore.Tx) error {
		_, err := tx.Exec(ctx, query, args...)
		return err
	})
}

// count returns the number of rows of a table, read in a fresh View.
func count(t *testing.T, s readstore.Store, table string) int64 {
	t.Helper()
	return number(t, s, `SELECT COUNT(*) FROM `+table)
}

// number runs a query returning one number in a fresh View.
func number(t *testing.T, s readstore.Store, query string, args ...any) int64 {
	t.Helper()
	var n int64
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	err := s.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
		return tx.QueryRow(ctx, query, args...).Scan(&n)
	})
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func scanNumber(ctx context.Context, tx readstore.Tx, query string, args ...any) (int64, error) {
	var n int64
	err := tx.QueryRow(ctx, query, args...).Scan(&n)
	return n, err
}

// gate returns a channel and the function that closes it, once; the test's
// cleanup closes it too, so that an fn blocked on it ends even when the test
// fails early, and Close, which waits for it, does not hang.
func gate(t *testing.T) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(ch) }) }
	t.Cleanup(open)
	return ch, open
}

// await waits inside an fn for ch, or for ctx to end.
func await(ctx context.Context, ch <-chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// within fails the test if ch does not deliver within the suite's bound.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}
