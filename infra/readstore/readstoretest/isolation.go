package readstoretest

// The isolation tests: Views read a snapshot beside a running Update, and
// writers are serialised.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/beian/beian/infra/readstore"
)

// testWritersSerialised: concurrent Updates never lose an update, whether
// they increment in SQL or read, compute and write back in Go (which only
// serialised writers get right).
func testWritersSerialised(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, kv)
	exec(t, s, `INSERT INTO `+tbl+` (k, n) VALUES (1, 0), (2, 0)`)
	const writers = 32
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			err := s.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
				_, err := tx.Exec(ctx, `UPDATE `+tbl+` SET n = n + 1 WHERE k = 1`)
				return err
			})
			if err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			err := s.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
				n, err := scanNumber(ctx, tx, `SELECT n FROM `+tbl+` WHERE k = 2`)
				if err != nil {
					return err
				}
				time.Sleep(time.Millisecond) // widen the window a lost update needs
				_, err = tx.Exec(ctx, `UPDATE `+tbl+` SET n = ? WHERE k = 2`, n+1)
				return err
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := number(t, s, `SELECT n FROM `+tbl+` WHERE k = 1`); n != writers {
		t.Fatalf("counter incremented in SQL is %d, want %d", n, writers)
	}
	if n := number(t, s, `SELECT n FROM `+tbl+` WHERE k = 2`); n != writers {
		t.Fatalf("counter read and written back is %d, want %d: writers are not serialised", n, writers)
	}
}

// testViewSnapshot: a View sees the store as it was when it began, even
// for its first query issued after an Update committed, and for every
// query after that.
func testViewSnapshot(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, kv)
	exec(t, s, `INSERT INTO `+tbl+` (k, n) VALUES (1, 1)`)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	began, queried := make(chan struct{}), make(chan struct{})
	firstCommit, commitFirst := gate(t)
	secondCommit, commitSecond := gate(t)
	done := make(chan error, 1)
	go func() {
		done <- s.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
			close(began)
			if err := await(ctx, firstCommit); err != nil { // an Update commits before the first query
				return err
			}
			for i := range 2 {
				n, err := scanNumber(ctx, tx, `SELECT n FROM `+tbl+` WHERE k = 1`)
				if err != nil {
					return err
				}
				rows, err := scanNumber(ctx, tx, `SELECT COUNT(*) FROM `+tbl)
				if err != nil {
					return err
				}
				if n != 1 || rows != 1 {
					return fmt.Errorf("query %d of the view saw n=%d and %d rows; want its snapshot, n=1 and 1 row", i+1, n, rows)
				}
				if i == 0 {
					close(queried)
					if err := await(ctx, secondCommit); err != nil { // another Update commits between two queries
						return err
					}
				}
			}
			return nil
		})
	}()
	within(t, began, "the view to begin")
	exec(t, s, `UPDATE `+tbl+` SET n = 2 WHERE k = 1`)
	exec(t, s, `INSERT INTO `+tbl+` (k, n) VALUES (2, 2)`)
	commitFirst()
	select {
	case <-queried:
	case err := <-done:
		t.Fatalf("the view ended before its second queries: %v", err)
	case <-time.After(wait):
		t.Fatal("timed out waiting for the view's first queries")
	}
	exec(t, s, `UPDATE `+tbl+` SET n = 3 WHERE k = 1`)
	commitSecond()
	if err := within(t, done, "the view"); err != nil {
		t.Fatal(err)
	}
	if n := number(t, s, `SELECT n FROM `+tbl+` WHERE k = 1`); n != 3 {
		t.Fatalf("a new view sees n=%d, want 3", n)
	}
}

// testViewsDuringUpdate: while an Update holds uncommitted writes, Views
// run (two of them at the same time), finish, and see none of them.
func testViewsDuringUpdate(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, kv)
	exec(t, s, `INSERT INTO `+tbl+` (k, n) VALUES (1, 1)`)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	written := make(chan struct{})
	release, releaseUpdate := gate(t)
	updated := make(chan error, 1)
	go func() {
		updated <- s.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO `+tbl+` (k, n) VALUES (2, 2)`); err != nil {
				return err
			}
			close(written)
			return await(ctx, release)
		})
	}()
	within(t, written, "the update's write")
	const views = 8
	ready := [2]chan struct{}{make(chan struct{}), make(chan struct{})} // the first two views wait for each other
	errs := make(chan error, views)
	for i := range views {
		go func() {
			errs <- s.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
				if i < 2 {
					close(ready[i])
					if err := await(ctx, ready[1-i]); err != nil {
						return fmt.Errorf("two views could not run at once: %w", err)
					}
				}
				n, err := scanNumber(ctx, tx, `SELECT COUNT(*) FROM `+tbl)
				if err == nil && n != 1 {
					err = fmt.Errorf("view saw %d rows, want 1: an uncommitted write leaked", n)
				}
				return err
			})
		}()
	}
	for range views {
		if err := within(t, errs, "views while an update is open"); err != nil {
			t.Fatal(err)
		}
	}
	releaseUpdate()
	if err := within(t, updated, "the update"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, tbl); n != 2 {
		t.Fatalf("%d rows after the update, want 2", n)
	}
}

// testLongView: a View that stays open does not hold up Updates.
func testLongView(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, kv)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	reading := make(chan struct{})
	release, releaseView := gate(t)
	viewed := make(chan error, 1)
	go func() {
		viewed <- s.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
			if _, err := scanNumber(ctx, tx, `SELECT COUNT(*) FROM `+tbl); err != nil {
				return err
			}
			close(reading)
			return await(ctx, release)
		})
	}()
	within(t, reading, "the view")
	updated := make(chan error, 1)
	go func() {
		for k := range int64(10) {
			err := s.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO `+tbl+` (k, n) VALUES (?, 0)`, k)
				return err
			})
			if err != nil {
				updated <- err
				return
			}
		}
		updated <- nil
	}()
	err := within(t, updated, "updates while a view is open")
	releaseView()
	if err != nil {
		t.Fatal(err)
	}
	if err := within(t, viewed, "the view"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, tbl); n != 10 {
		t.Fatalf("%d rows, want 10", n)
	}
}

func testViewReadOnly(t *testing.T, f Features) {
	s := newStore(t, f)
	tbl := table(t, s, kv)
	errWrite := errors.New("a write in a view succeeded")
	err := s.View(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO `+tbl+` (k, n) VALUES (1, 1)`); err == nil {
			return errWrite
		}
		return nil // the failed write aborted the view
	})
	if !errors.Is(err, readstore.ErrAborted) {
		t.Fatalf("View with a refused write: %v; want ErrAborted", err)
	}
	if n := count(t, s, tbl); n != 0 {
		t.Fatalf("%d rows written by a view", n)
	}
	created := uniqueName()
	err = s.View(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TABLE `+created+` (`+kv+`)`); err == nil {
			return errWrite
		}
		return nil
	})
	if !errors.Is(err, readstore.ErrAborted) {
		t.Fatalf("View with a refused CREATE TABLE: %v; want ErrAborted", err)
	}
	exec(t, s, `CREATE TABLE `+created+` (`+kv+`)`) // fails if the view created it
	exec(t, s, `DROP TABLE `+created)
}
