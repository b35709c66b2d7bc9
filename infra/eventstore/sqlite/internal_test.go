package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/infra/eventstore/eventstoretest"
)

func TestDurabilitySettings(t *testing.T) {
	s, err := Open(Config{Path: filepath.Join(t.TempDir(), "events.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var journal string
	var sync int
	if err := s.wconn.QueryRowContext(context.Background(), `PRAGMA journal_mode`).Scan(&journal); err != nil {
		t.Fatal(err)
	}
	if err := s.wconn.QueryRowContext(context.Background(), `PRAGMA synchronous`).Scan(&sync); err != nil {
		t.Fatal(err)
	}
	if journal != "wal" || sync != 2 {
		t.Fatalf("journal_mode=%s synchronous=%d; want wal and 2 (FULL)", journal, sync)
	}
}

// TestPositionsAreGapFree: concurrent appends to many streams leave $all
// numbered 1..n without a gap, and the head matches.
func TestPositionsAreGapFree(t *testing.T) {
	s, err := Open(Config{Path: filepath.Join(t.TempDir(), "events.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Go(func() {
			for i := range 20 {
				st := fmt.Sprintf("filing-%d-%d", w, i%3)
				e1, e2 := eventstoretest.Event("t.v1", "a"), eventstoretest.Event("t.v1", "b")
				if _, err := s.Append(ctx, st, eventstore.Any(), []eventstore.EventData{e1, e2}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	all, err := s.ReadAll(ctx, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range all {
		if e.Position != uint64(i+1) {
			t.Fatalf("event %d at position %d", i, e.Position)
		}
	}
	if head, _ := s.Head(ctx); len(all) != 32*20*2 || head != uint64(len(all)) {
		t.Fatalf("%d events, head %d", len(all), head)
	}
}

// TestPositionsContinueAfterReopen: the next position after a reopen is
// the old head plus one. (The conformance suite asks only that positions
// increase, since other adapters' positions have gaps.)
func TestPositionsContinueAfterReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	ctx := context.Background()
	var last uint64
	for round := range 3 {
		s, err := Open(Config{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		for range 4 {
			r, err := s.Append(ctx, "filing-1", eventstore.Any(), []eventstore.EventData{eventstoretest.Event("t.v1", "a")})
			if err != nil {
				t.Fatal(err)
			}
			if r.Position != last+1 {
				t.Fatalf("round %d: position %d after %d", round, r.Position, last)
			}
			last = r.Position
		}
		s.Close()
	}
}

func TestClosedStoreRefusesAppends(t *testing.T) {
	s, err := Open(Config{Path: filepath.Join(t.TempDir(), "events.db")})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = s.Append(context.Background(), "filing-x", eventstore.Any(), []eventstore.EventData{eventstoretest.Event("t.v1", "a")})
	if err != eventstore.ErrClosed {
		t.Fatalf("append after close: %v", err)
	}
	if s.Healthy() == nil {
		t.Fatal("a closed store reports healthy")
	}
}

func TestConfigValidation(t *testing.T) {
	err := Config{Synchronous: "OFF"}.Validate()
	if err == nil || !strings.Contains(err.Error(), "path") || !strings.Contains(err.Error(), "OFF") {
		t.Fatalf("want both problems named, got %v", err)
	}
}

// codeError is an error of the SQLite driver as fail classifies it.
type codeError int

func (e codeError) Error() string { return fmt.Sprintf("sqlite error %d", int(e)) }
func (e codeError) Code() int     { return int(e) }

// TestFailStopsOnEveryWriteErrorButAFullDisk: no filesystem here can be made
// to fail an fsync, so the verdict on SQLite's codes for it (and for a
// failed write, a short read, a lost lock) is checked where the writer makes
// it. TestWriteErrorStopsAcknowledging drives a real write error through a
// commit.
func TestFailStopsOnEveryWriteErrorButAFullDisk(t *testing.T) {
	for _, c := range []struct {
		name  string
		code  int
		stops bool
	}{
		{"fsync", 10 | 4<<8, true},       // SQLITE_IOERR_FSYNC
		{"write", 10 | 3<<8, true},       // SQLITE_IOERR_WRITE
		{"short read", 10 | 2<<8, true},  // SQLITE_IOERR_SHORT_READ
		{"dir fsync", 10 | 5<<8, true},   // SQLITE_IOERR_DIR_FSYNC
		{"locked", 5, true},              // SQLITE_BUSY: another writer, not expected
		{"disk full", 13, false},         // SQLITE_FULL: refused, the next may find room
		{"stale head", 19 | 8<<8, false}, // SQLITE_CONSTRAINT_PRIMARYKEY
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Open(Config{Path: filepath.Join(t.TempDir(), "events.db")})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.fail(fmt.Errorf("commit: %w", codeError(c.code)))
			_, err = s.Append(context.Background(), "filing-x", eventstore.Any(), []eventstore.EventData{eventstoretest.Event("t.v1", "a")})
			if stopped := s.Healthy() != nil; stopped != c.stops || (err != nil) != c.stops {
				t.Fatalf("after code %d: healthy %v, next append %v; want stopped=%v", c.code, s.Healthy(), err, c.stops)
			}
		})
	}
}
