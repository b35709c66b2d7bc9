package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/infra/eventstore/eventstoretest"

	_ "modernc.org/sqlite"
)

// appendChained appends n chained events to a stream.
func appendChained(t *testing.T, s eventstore.Store, stream string, n int) {
	t.Helper()
	ctx := context.Background()
	existing, _ := s.ReadStream(ctx, stream, 0, 10000)
	prev, exp := "", eventstore.NoStream()
	if len(existing) > 0 {
		last := existing[len(existing)-1]
		prev, exp = last.Metadata.Hash, eventstore.Exact(last.Revision)
	}
	var events []eventstore.EventData
	for i := range n {
		events = append(events, eventstoretest.Event("filing.material_removed.v1", fmt.Sprint(i)))
	}
	if err := eventstore.Chain(stream, uint64(len(existing)), prev, events); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, stream, exp, events); err != nil {
		t.Fatal(err)
	}
}

// TestVerificationFindsAnEventAlteredInTheFile: an event changed directly
// in the SQLite file breaks its stream's chain; rewriting the whole stream's
// hashes to hide it breaks the checkpoint recorded before.
func TestVerificationFindsAnEventAlteredInTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	s := open(t, path)
	defer s.Close()
	ctx := context.Background()
	for i := range 5 {
		appendChained(t, s, fmt.Sprintf("filing-%d", i), 4)
	}
	cp, err := eventstore.RecordCheckpoint(ctx, s, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	appendChained(t, s, "filing-1", 2)
	report, err := eventstore.VerifyLog(ctx, s)
	if err != nil || report.Checkpoints != 1 || report.Streams != 6 || report.Events != 5*4+2+1 {
		t.Fatalf("untouched log: %+v %v", report, err)
	}

	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE events SET data = '{"p":"forged"}' WHERE stream = 'filing-3' AND revision = 2`); err != nil {
		t.Fatal(err)
	}
	_, err = eventstore.VerifyLog(ctx, s)
	var broken *eventstore.BrokenLinkError
	if !errors.As(err, &broken) || broken.Stream != "filing-3" || broken.Revision != 2 {
		t.Fatalf("altered event not found: %v", err)
	}

	// The forger recomputes the stream's hashes: every link holds again, but
	// the checkpoint no longer matches the log before it.
	events, err := s.ReadStream(ctx, "filing-3", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	prev := ""
	for _, e := range events {
		e.Metadata.PrevHash = prev
		h, _ := eventstore.ChainHash(e.Stream, e.Revision, e.EventData, prev)
		e.Metadata.Hash = h
		md := fmt.Sprintf(`{"schemaVersion":%d,"occurredAt":%q,"prevHash":%q,"hash":%q}`, e.Metadata.SchemaVersion,
			e.Metadata.OccurredAt.Format(time.RFC3339Nano), prev, h)
		if _, err := db.Exec(`UPDATE events SET metadata = ? WHERE stream = ? AND revision = ?`, md, e.Stream, e.Revision); err != nil {
			t.Fatal(err)
		}
		prev = h
	}
	_, err = eventstore.VerifyLog(ctx, s)
	var mismatch *eventstore.CheckpointMismatchError
	if !errors.As(err, &mismatch) || mismatch.Checkpoint.Root != cp.Root {
		t.Fatalf("rewritten chain not caught by the checkpoint: %v", err)
	}
}
