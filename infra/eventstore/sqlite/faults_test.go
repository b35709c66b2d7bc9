//go:build linux

package sqlite_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/infra/eventstore/eventstoretest"
	"github.com/beian/beian/infra/eventstore/sqlite"
)

// payload makes each event a couple of kilobytes, so the files fill quickly.
var payload = []byte(`{"remarks":"` + strings.Repeat("填", 600) + `"}`)

func oneEvent(i int) eventstore.EventData {
	return eventstore.EventData{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Type: "test.filled.v1", Data: payload}
}

// fill appends one event at a time until an append is refused, and returns
// the ids acknowledged and the refusal.
func fill(t *testing.T, s *sqlite.Store, from int) ([]string, error) {
	t.Helper()
	var acked []string
	for i := from; i < from+100_000; i++ {
		e := oneEvent(i)
		if _, err := s.Append(context.Background(), fmt.Sprint("stream-", i%10), eventstore.Any(), []eventstore.EventData{e}); err != nil {
			return acked, err
		}
		acked = append(acked, e.ID)
	}
	t.Fatalf("100000 appends and the files never filled up")
	return nil, nil
}

// stored returns the ids in the log, checking positions have no gap.
func stored(t *testing.T, path string) map[string]bool {
	t.Helper()
	s := open(t, path)
	defer s.Close()
	ids := map[string]bool{}
	for {
		page, err := s.ReadAll(context.Background(), uint64(len(ids))+1, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return ids
		}
		for _, e := range page {
			if e.Position != uint64(len(ids))+1 {
				t.Fatalf("position %d after %d events", e.Position, len(ids))
			}
			ids[e.ID] = true
		}
	}
}

// TestDiskFullRefusesAndRecovers puts the store on a 1 MB tmpfs and appends
// until the filesystem is full: the append is refused with an error, the
// store stays healthy and takes appends again once the filesystem grows,
// and every acknowledged append is stored. Mounting needs root (see
// eventstoretest.SmallFS); TestWriteErrorStopsAcknowledging needs none.
func TestDiskFullRefusesAndRecovers(t *testing.T) {
	dir, grow := eventstoretest.SmallFS(t, "1m")
	path := filepath.Join(dir, "events.db")
	s := open(t, path)
	acked, err := fill(t, s, 0)
	var se *eventstore.Error
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "full") {
		t.Fatalf("append on a full disk: %v, want an event-store error saying the disk is full", err)
	}
	if len(acked) == 0 {
		t.Fatal("the first append already found the disk full")
	}
	if err := s.Healthy(); err != nil {
		t.Fatalf("a full disk stopped the store: %v", err)
	}
	if _, err := s.Append(context.Background(), "stream-x", eventstore.Any(), []eventstore.EventData{oneEvent(999_999)}); err == nil {
		t.Fatal("an append succeeded on the full disk")
	}
	grow("16m")
	var more []string
	for i := range 10 {
		e := oneEvent(1_000_000 + i)
		if _, err := s.Append(context.Background(), "stream-y", eventstore.Any(), []eventstore.EventData{e}); err != nil {
			t.Fatalf("append after space returned: %v", err)
		}
		more = append(more, e.ID)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ids := stored(t, path)
	for _, id := range append(acked, more...) {
		if !ids[id] {
			t.Fatalf("acknowledged event %s is not stored", id)
		}
	}
	if len(ids) != len(acked)+len(more) {
		t.Fatalf("%d events stored, %d acknowledged: a refused append was stored", len(ids), len(acked)+len(more))
	}
}

// faultChild names the environment variable that makes the test binary the
// child of TestWriteErrorStopsAcknowledging.
const faultChild = "BEIAN_TEST_WRITE_ERROR_CHILD"

// TestWriteErrorStopsAcknowledging runs a store in a child process whose
// files may not grow past 256 KiB (RLIMIT_FSIZE): the kernel fails the write
// that would pass it with EFBIG, a real write error in the middle of a
// commit, needing no root. The store must refuse that append and every one
// after, report unhealthy, and keep refusing when the limit is lifted
// (rather than retry and claim success); what it acknowledged before must be
// stored.
func TestWriteErrorStopsAcknowledging(t *testing.T) {
	if path := os.Getenv(faultChild); path != "" {
		writeUntilRefused(t, path)
		return
	}
	path := filepath.Join(t.TempDir(), "events.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestWriteErrorStopsAcknowledging$", "-test.v")
	cmd.Env = append(os.Environ(), faultChild+"="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var acked []string
	refused := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
			acked = append(acked, id)
		}
		if strings.HasPrefix(sc.Text(), "refused ") {
			refused++
		}
	}
	if len(acked) == 0 || refused != 3 {
		t.Fatalf("child acknowledged %d appends and reported %d refusals, want some and 3:\n%s", len(acked), refused, out)
	}
	ids := stored(t, path)
	for _, id := range acked {
		if !ids[id] {
			t.Fatalf("acknowledged event %s is not stored", id)
		}
	}
	if len(ids) > len(acked)+1 {
		t.Fatalf("%d events stored, %d acknowledged and one refused in doubt", len(ids), len(acked))
	}
}

// writeUntilRefused is the child: it prints "acked ID" for every
// acknowledged append and "refused …" for each refusal it checks.
func writeUntilRefused(t *testing.T, path string) {
	s := open(t, path)
	defer s.Close()
	var limit unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_FSIZE, &limit); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: 256 << 10, Max: limit.Max}); err != nil {
		t.Fatal(err)
	}
	acked, err := fill(t, s, 0)
	for _, id := range acked {
		fmt.Println("acked", id)
	}
	fmt.Println("refused at the limit:", err)
	if s.Healthy() == nil {
		t.Fatal("the store reports healthy after a failed write")
	}
	next := len(acked) + 1
	if _, err := s.Append(context.Background(), "stream-x", eventstore.Any(), []eventstore.EventData{oneEvent(next)}); err == nil {
		t.Fatal("an append succeeded after a failed write")
	} else {
		fmt.Println("refused after the failure:", err)
	}
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &limit); err != nil { // the room returns
		t.Fatal(err)
	}
	if _, err := s.Append(context.Background(), "stream-x", eventstore.Any(), []eventstore.EventData{oneEvent(next + 1)}); err == nil {
		t.Fatal("an append succeeded after a failed write once the limit was lifted")
	} else {
		fmt.Println("refused with room again:", err)
	}
	if s.Healthy() == nil {
		t.Fatal("the store reports healthy after a failed write")
	}
}
