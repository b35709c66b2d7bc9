package notify

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/beian/beian/infra/readstore/sqlite"
)

func TestStoreDelivered(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	if done, err := s.Delivered(ctx, "e1"); err != nil || done {
		t.Fatalf("Delivered before marking = %v, %v", done, err)
	}
	for range 2 { // marking twice is harmless
		if err := s.MarkDelivered(ctx, "e1", t0); err != nil {
			t.Fatal(err)
		}
	}
	if done, err := s.Delivered(ctx, "e1"); err != nil || !done {
		t.Errorf("Delivered after marking = %v, %v", done, err)
	}
	if done, err := s.Delivered(ctx, "e2"); err != nil || done {
		t.Errorf("another event Delivered = %v, %v", done, err)
	}
}

// The marks outlive the process: a consumer restarted on the same file
// skips what was delivered before.
func TestStoreSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "read.db")
	for i := range 2 {
		rs, err := sqlite.Open(sqlite.Config{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		s, err := Open(ctx, rs) // creating the tables again is harmless
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := s.MarkDelivered(ctx, "e1", t0); err != nil {
				t.Fatal(err)
			}
		} else if done, err := s.Delivered(ctx, "e1"); err != nil || !done {
			t.Errorf("after reopening, Delivered = %v, %v", done, err)
		}
		rs.Close()
	}
}

func TestStoreDeadLetters(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	n := testNotice(t)
	first := DeadLetter{NoticeID: n.ID, EventID: n.EventID, Notice: n, Error: "503", Attempts: 5, At: t0}
	again := first
	again.Error, again.At = "400 Bad Request", t0.Add(time.Hour)
	unreadable := DeadLetter{NoticeID: unreadablePrefix + "sha256:00", Payload: "{\"id\":\x00\xff", Error: "not JSON",
		At: t0.Add(30 * time.Minute)}
	for _, d := range []DeadLetter{first, unreadable, again} {
		if err := s.RecordDeadLetter(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.DeadLetters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d dead letters, want 2 (a notice recorded twice is kept once): %+v", len(got), got)
	}
	if u := got[0]; !u.Unreadable() || u.NoticeID != unreadable.NoticeID || u.Payload != "{\"id\":\uFFFD\uFFFD" ||
		u.Error != "not JSON" || !u.At.Equal(unreadable.At) {
		t.Errorf("unreadable dead letter %+v", u)
	}
	d := got[1]
	if d.Unreadable() || d.NoticeID != n.ID || d.EventID != n.EventID || d.Error != "400 Bad Request" || d.Attempts != 5 ||
		!d.At.Equal(again.At) || d.Notice.Title != n.Title || d.Notice.Body != n.Body || d.Notice.Recipient != n.Recipient ||
		!d.Notice.Time.Equal(n.Time) {
		t.Errorf("dead letter %+v, want the latest failure of %+v", d, n)
	}
}
