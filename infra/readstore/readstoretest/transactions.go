package readstoretest

// The transaction tests: commit and rollback, panics, cancellation, closing,
// and the rules of a Tx.

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/beian/beian/infra/readstore"
)

func testCommitVisible(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, kv)
	update(t, s, func(ctx context.Context, tx readstore.Tx) error {
		for k := range int64(3) {
			if _, err := tx.Exec(ctx, `INSERT INTO `+tbl+` (k, n) VALUES (?, ?)`, k, k*10); err != nil {
				return err
			}
		}
		// The transaction sees its own writes before the commit.
		if n, err := scanNumber(ctx, tx, `SELECT COUNT(*) FROM `+tbl); err != nil || n != 3 {
			return fmt.Errorf("inside the update: %d rows, %v", n, err)
		}
		return nil
	})
	if n := count(t, s, tbl); n != 3 {
		t.Fatalf("%d rows after the commit, want 3", n)
	}
	if n := number(t, s, `SELECT n FROM `+tbl+` WHERE k = ?`, int64(2)); n != 20 {
		t.Fatalf("n = %d, want 20", n)
	}
	if s.Dialect() != readstore.DialectSQLite && s.Dialect() != readstore.DialectPostgres {
		t.Fatalf("dialect %q", s.Dialect())
	}
}

func testErrorRollsBack(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, kv)
	exec(t, s, `INSERT INTO `+tbl+` (k, n) VALUES (1, 1)`)
	created := uniqueName()
	t.Cleanup(func() { _ = s.Update(context.Background(), dropTable(created)) })
	errProjection := errors.New("projection refused the event")
	err := s.Update(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO `+tbl+` (k, n) VALUES (2, 2)`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE `+tbl+` SET n = 100 WHERE k = 1`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+created+` (`+kv+`)`); err != nil {
			return err
		}
		return errProjection
	})
	if err != errProjection {
		t.Fatalf("Update returned %v; want fn's error unchanged", err)
	}
	if n := count(t, s, tbl); n != 1 {
		t.Fatalf("%d rows after a rolled-back insert, want 1", n)
	}
	if n := number(t, s, `SELECT n FROM `+tbl+` WHERE k = 1`); n != 1 {
		t.Fatalf("n = %d after a rolled-back update, want 1", n)
	}
	// DDL is transactional too: the table created in the failed Update is
	// gone, so creating it again with another shape works.
	exec(t, s, `CREATE TABLE IF NOT EXISTS `+created+` (other TEXT NOT NULL)`)
	exec(t, s, `INSERT INTO `+created+` (other) VALUES (?)`, "x")
}

func dropTable(name string) func(context.Context, readstore.Tx) error {
	return func(ctx context.Context, tx readstore.Tx) error {
		_, err := tx.Exec(ctx, `DROP TABLE IF EXISTS `+name)
		return err
	}
}

// testPanic: a panic in fn rolls back and reaches the caller as the same
// panic; the store goes on working (the writer is not left locked).
func testPanic(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, kv)
	type bug struct{ msg string }
	for _, run := range []struct {
		name string
		call func(func(context.Context, readstore.Tx) error) error
	}{
		{"update", func(fn func(context.Context, readstore.Tx) error) error { return s.Update(context.Background(), fn) }},
		{"view", func(fn func(context.Context, readstore.Tx) error) error { return s.View(context.Background(), fn) }},
	} {
		recovered := func() (p any) {
			defer func() { p = recover() }()
			_ = run.call(func(ctx context.Context, tx readstore.Tx) error {
				if run.name == "update" {
					if _, err := tx.Exec(ctx, `INSERT INTO `+tbl+` (k, n) VALUES (1, 1)`); err != nil {
						return err
					}
				}
				rows, err := tx.Query(ctx, `SELECT k FROM `+tbl) // left open by the panic
				if err != nil {
					return err
				}
				rows.Next()
				panic(bug{"projection bug"})
			})
			return nil
		}()
		if b, ok := recovered.(bug); !ok || b.msg != "projection bug" {
			t.Fatalf("%s: recovered %#v; want the panic of fn", run.name, recovered)
		}
	}
	if n := count(t, s, tbl); n != 0 {
		t.Fatalf("%d rows after a panicking update, want 0", n)
	}
	done := make(chan error, 1)
	go func() {
		done <- s.Update(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO `+tbl+` (k, n) VALUES (1, 1)`)
			return err
		})
	}()
	if err := within(t, done, "an update after a panic"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, tbl); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
}

func testCancellation(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, kv)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	fn := func(ctx context.Context, tx readstore.Tx) error {
		called = true
		_, err := tx.Exec(ctx, `INSERT INTO `+tbl+` (k, n) VALUES (1, 1)`)
		return err
	}
	if err := s.Update(cancelled, fn); !errors.Is(err, context.Canceled) {
		t.Fatalf("Update with a cancelled context: %v", err)
	}
	if err := s.View(cancelled, func(context.Context, readstore.Tx) error { called = true; return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("View with a cancelled context: %v", err)
	}
	if called {
		t.Fatal("fn ran under a cancelled context")
	}
	// Cancelled while fn runs: nothing is committed, even though fn
	// returns nil.
	ctx, cancelDuring := context.WithCancel(context.Background())
	err := s.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO `+tbl+` (k, n) VALUES (2, 2)`); err != nil {
			return err
		}
		cancelDuring()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Update cancelled during fn: %v", err)
	}
	if n := count(t, s, tbl); n != 0 {
		t.Fatalf("%d rows written under a cancelled context", n)
	}
	// A waiting writer gives up when its context ends.
	hold := make(chan struct{})
	release, releaseHold := gate(t)
	go func() {
		_ = s.Update(context.Background(), func(ctx context.Context, _ readstore.Tx) error {
			close(hold)
			return await(ctx, release)
		})
	}()
	within(t, hold, "the first update")
	short, stop := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer stop()
	err = s.Update(short, fn)
	releaseHold()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Update waiting for the writer past its deadline: %v", err)
	}
	if n := count(t, s, tbl); n != 0 {
		t.Fatalf("%d rows written by an update that timed out", n)
	}
}

// testFailedStatementAborts: after a failed statement the transaction is
// aborted, as PostgreSQL has it; nothing of it commits even if fn ignores
// the error.
func testFailedStatementAborts(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, kv)
	exec(t, s, `INSERT INTO `+tbl+` (k, n) VALUES (1, 1)`)
	err := s.Update(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO `+tbl+` (k, n) VALUES (2, 2)`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+tbl+` (k, n) VALUES (1, 1)`); err == nil {
			return errors.New("a duplicate key was accepted")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+tbl+` (k, n) VALUES (3, 3)`); !errors.Is(err, readstore.ErrAborted) {
			return fmt.Errorf("a statement after a failed one: %v; want ErrAborted", err)
		}
		if _, err := scanNumber(ctx, tx, `SELECT COUNT(*) FROM `+tbl); !errors.Is(err, readstore.ErrAborted) {
			return fmt.Errorf("a query after a failed statement: %v; want ErrAborted", err)
		}
		return nil // ignoring the failure does not commit
	})
	if !errors.Is(err, readstore.ErrAborted) {
		t.Fatalf("Update after a failed statement: %v; want ErrAborted", err)
	}
	if n := count(t, s, tbl); n != 1 {
		t.Fatalf("%d rows; the aborted update must write nothing", n)
	}
	// A mistake in SQL aborts a View the same way.
	err = s.View(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
		if _, err := tx.Query(ctx, `SELECT no_such_column FROM `+tbl); err == nil {
			return errors.New("a bad query succeeded")
		}
		return nil
	})
	if !errors.Is(err, readstore.ErrAborted) {
		t.Fatalf("View after a failed query: %v; want ErrAborted", err)
	}
}

// testOneStatementAtATime: a statement while a Rows is open fails (it would
// on PostgreSQL); once the Rows is read to the end or closed, the next one
// runs.
func testOneStatementAtATime(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, kv)
	exec(t, s, `INSERT INTO `+tbl+` (k, n) VALUES (1, 1), (2, 2)`)
	update(t, s, func(ctx context.Context, tx readstore.Tx) error {
		rows, err := tx.Query(ctx, `SELECT k FROM `+tbl+` ORDER BY k`)
		if err != nil {
			return err
		}
		for rows.Next() { // read to the end: closes itself
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE `+tbl+` SET n = n + 1`); err != nil {
			return fmt.Errorf("statement after a Rows read to the end: %w", err)
		}
		rows, err = tx.Query(ctx, `SELECT k FROM `+tbl+` ORDER BY k`)
		if err != nil {
			return err
		}
		rows.Next()
		if err := rows.Close(); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE `+tbl+` SET n = n + 1`)
		return err
	})
	if n := number(t, s, `SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM `+tbl); n != 7 {
		t.Fatalf("sum %d, want 7", n)
	}
	err := s.Update(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
		rows, err := tx.Query(ctx, `SELECT k FROM `+tbl+` ORDER BY k`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k int64
			if err := rows.Scan(&k); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE `+tbl+` SET n = 0 WHERE k = ?`, k); !errors.Is(err, readstore.ErrRowsOpen) {
				return fmt.Errorf("statement while iterating: %v; want ErrRowsOpen", err)
			}
		}
		return nil
	})
	if !errors.Is(err, readstore.ErrAborted) {
		t.Fatalf("Update after ErrRowsOpen: %v; want ErrAborted", err)
	}
	if n := number(t, s, `SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM `+tbl); n != 7 {
		t.Fatalf("sum %d after the refused update, want 7", n)
	}
}

// testTxOnlyInsideFn: a Tx or Rows kept after fn returned fails with
// ErrTxDone instead of touching another transaction.
func testTxOnlyInsideFn(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, kv)
	exec(t, s, `INSERT INTO `+tbl+` (k, n) VALUES (1, 1), (2, 2)`)
	var leakedTx readstore.Tx
	var leakedRows readstore.Rows
	var leakedRow readstore.Row
	update(t, s, func(ctx context.Context, tx readstore.Tx) error {
		leakedTx = tx
		var err error
		leakedRows, err = tx.Query(ctx, `SELECT k FROM `+tbl+` ORDER BY k`)
		if err != nil {
			return err
		}
		leakedRows.Next()
		return nil // leaves the Rows open: the store closes it
	})
	err := s.View(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
		leakedRow = tx.QueryRow(ctx, `SELECT n FROM `+tbl+` WHERE k = 1`)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := leakedTx.Exec(ctx, `DELETE FROM `+tbl); !errors.Is(err, readstore.ErrTxDone) {
		t.Fatalf("Exec after the update: %v; want ErrTxDone", err)
	}
	if _, err := leakedTx.Query(ctx, `SELECT k FROM `+tbl); !errors.Is(err, readstore.ErrTxDone) {
		t.Fatalf("Query after the update: %v; want ErrTxDone", err)
	}
	if leakedRows.Next() {
		t.Fatal("Next on Rows of an ended transaction returned true")
	}
	if err := leakedRows.Err(); !errors.Is(err, readstore.ErrTxDone) {
		t.Fatalf("Err of Rows of an ended transaction: %v; want ErrTxDone", err)
	}
	if err := leakedRows.Close(); err != nil {
		t.Fatalf("closing Rows the store already closed: %v", err)
	}
	var n int64
	if err := leakedRow.Scan(&n); !errors.Is(err, readstore.ErrTxDone) {
		t.Fatalf("Scan of a Row of an ended view: %v; want ErrTxDone", err)
	}
	if c := count(t, s, tbl); c != 2 {
		t.Fatalf("%d rows, want 2", c)
	}
}

func testClosed(t *testing.T, f Features) {
	s := newStore(t, f) // its cleanup closes it a second time, which must be harmless
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	called := false
	err := s.Update(context.Background(), func(context.Context, readstore.Tx) error { called = true; return nil })
	if !errors.Is(err, readstore.ErrClosed) {
		t.Fatalf("Update after Close: %v; want ErrClosed", err)
	}
	err = s.View(context.Background(), func(context.Context, readstore.Tx) error { called = true; return nil })
	if !errors.Is(err, readstore.ErrClosed) {
		t.Fatalf("View after Close: %v; want ErrClosed", err)
	}
	if called {
		t.Fatal("fn ran on a closed store")
	}
}

// testCloseWaits: Close lets the transactions in flight finish, and refuses
// new ones meanwhile.
func testCloseWaits(t *testing.T, f Features) {
	s := newStore(t, f) // no table: it could not be dropped after Close
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	inView := make(chan struct{})
	release, releaseView := gate(t)
	viewed := make(chan error, 1)
	go func() {
		viewed <- s.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
			close(inView)
			if err := await(ctx, release); err != nil {
				return err
			}
			_, err := scanNumber(ctx, tx, `SELECT 1`) // still usable while Close waits
			return err
		})
	}()
	within(t, inView, "the view")
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	// Close has begun once new transactions are refused.
	deadline := time.After(wait)
	for {
		err := s.Update(ctx, func(context.Context, readstore.Tx) error { return nil })
		if errors.Is(err, readstore.ErrClosed) {
			break
		}
		if err != nil {
			t.Fatalf("Update while closing: %v", err)
		}
		select {
		case <-deadline:
			t.Fatal("Close never began refusing transactions")
		case <-time.After(time.Millisecond):
		}
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a view was running", err)
	default:
	}
	releaseView()
	if err := within(t, viewed, "the view"); err != nil {
		t.Fatalf("the view running during Close: %v", err)
	}
	if err := within(t, closed, "Close"); err != nil {
		t.Fatal(err)
	}
}

// testCompact: Compact keeps every live row and the store stays usable,
// with a View open on another goroutine meanwhile.
func testCompact(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, kv)
	dropped := table(t, s, kv)
	update(t, s, func(ctx context.Context, tx readstore.Tx) error {
		for k := range int64(200) {
			if _, err := tx.Exec(ctx, `INSERT INTO `+tbl+` (k, n) VALUES (?, ?)`, k, k); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO `+dropped+` (k, n) VALUES (?, ?)`, k, k); err != nil {
				return err
			}
		}
		return nil
	})
	exec(t, s, `DELETE FROM `+tbl+` WHERE k >= ?`, int64(100))
	exec(t, s, `DROP TABLE `+dropped)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := s.Compact(ctx); err != nil {
		t.Fatalf("compact: %v", err)
	}
	if n := count(t, s, tbl); n != 100 {
		t.Fatalf("%d rows after compact, want 100", n)
	}
	if n := number(t, s, `SELECT SUM(n) FROM `+tbl); n != 99*100/2 {
		t.Fatalf("sum %d after compact, want %d", n, 99*100/2)
	}
	exec(t, s, `INSERT INTO `+tbl+` (k, n) VALUES (?, ?)`, int64(1000), int64(1))
	if n := count(t, s, tbl); n != 101 {
		t.Fatalf("%d rows after an insert, want 101", n)
	}
}
