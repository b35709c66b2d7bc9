package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beian/beian/infra/bus"
	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/infra/eventstore/esdb"
	"github.com/beian/beian/infra/eventstore/esdb/esdbtest"
	eventsqlite "github.com/beian/beian/infra/eventstore/sqlite"
	"github.com/beian/beian/infra/readstore/postgres"
	"github.com/beian/beian/infra/readstore/postgres/pgtest"
	"github.com/google/uuid"
)

// filledStore runs the service on a new data directory, walks filings
// through it (submitted, approved, rejected, audit checkpoints of both
// kinds between them), lets the forwarder publish everything, and stops it. It returns the data directory and the filing ids.
func filledStore(t *testing.T, filings int) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	p := startWith(t, config{Data: dir, Dev: true, Notify: true}) // the forwarder publishes, in process
	var ids []string
	for i := range max(filings, 2) {
		id, _, _ := fillFiling(t, p.actors(fmt.Sprintf("acct-migrate-%d", i)))
		ids = append(ids, id)
	}
	a := p.actors("acct-migrate-0")
	mutate(a.reviewer, "approveInitialReview", "ApproveInitialReviewInput", map[string]any{"filingId": ids[0], "note": "资料齐全"})
	if _, err := eventstore.RecordCheckpoint(t.Context(), p.svc.log, time.Now()); err != nil {
		t.Fatal(err)
	}
	mutate(a.reviewer, "rejectInitialReview", "RejectInput", map[string]any{"filingId": ids[1], "reasons": []map[string]any{
		{"path": "entity.principal.mobile", "code": "phone_unreachable"}}})
	recordLegacyCheckpoint(t, p.svc.log)
	mutate(p.actors("acct-migrate-1").applicant, "submitEntity", "SubmitEntityInput", map[string]any{"filingId": ids[1], "name": "深圳市示例科技有限公司",
		"certificateAddress": "广东省深圳市南山区科技园路1号", "mailingAddress": "广东省深圳市南山区科技园路1号",
		"legalRepresentative": "张三", "principalIsLegalRep": true, "principal": zhangSan("13900139000")})
	head, err := p.svc.log.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if pos, err := p.svc.forwarder.Checkpoint(t.Context()); err == nil && pos == head {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the forwarder did not publish the whole log")
		}
	}
	p.svc.close()
	return dir, ids
}

// recordLegacyCheckpoint appends an audit checkpoint as they were recorded
// before they counted their events: only the position says where it
// stands, which on SQLite is the count of events.
func recordLegacyCheckpoint(t *testing.T, s eventstore.Store) {
	t.Helper()
	heads := map[string]eventstore.Head{}
	log := readLog(t, s)
	for _, e := range log {
		heads[e.Stream] = eventstore.Head{Stream: e.Stream, Revision: e.Revision, Hash: e.Metadata.Hash}
	}
	prev, hasPrev := heads[eventstore.CheckpointStream]
	delete(heads, eventstore.CheckpointStream)
	list := slices.Collect(maps.Values(heads))
	data, _ := json.Marshal(map[string]any{"position": log[len(log)-1].Position, "streams": len(list),
		"root": eventstore.MerkleRoot(list), "at": time.Now()})
	events := []eventstore.EventData{{ID: uuid.NewString(), Type: eventstore.CheckpointType, Data: data,
		Metadata: eventstore.Metadata{SchemaVersion: 1, ActorAccount: "audit", ActorRole: "system", OccurredAt: time.Now()}}}
	expected, first := eventstore.NoStream(), uint64(0)
	if hasPrev {
		expected, first = eventstore.Exact(prev.Revision), prev.Revision+1
	}
	if err := eventstore.Chain(eventstore.CheckpointStream, first, prev.Hash, events); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(t.Context(), eventstore.CheckpointStream, expected, events); err != nil {
		t.Fatal(err)
	}
}

// migrate runs `beian migrate` in this process and returns its output.
func migrate(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errs bytes.Buffer
	err := run(t.Context(), append([]string{"migrate"}, args...), &out, &errs)
	return out.String() + errs.String(), err
}

// readLog reads a whole log in $all order.
func readLog(t *testing.T, s eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	var all []eventstore.RecordedEvent
	var from uint64
	for {
		page, err := s.ReadAll(t.Context(), from, 100)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < 100 {
			return all
		}
		from = page[len(page)-1].Position + 1
	}
}

func openSQLite(t *testing.T, dir string) eventstore.Store {
	t.Helper()
	s, err := eventsqlite.Open(eventsqlite.Config{Path: filepath.Join(dir, "events.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openESDB(t *testing.T, url string) eventstore.Store {
	t.Helper()
	s, err := esdb.Open(esdb.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func startPeer(t *testing.T) *esdbtest.Peer {
	t.Helper()
	peer, err := esdbtest.Start(esdbtest.MaxAppendSize(4 << 20))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(peer.Stop)
	return peer
}

// sameLogs compares two logs event by event: place in $all, stream,
// revision, id, type, data and metadata (as the JSON the hash chain covers).
func sameLogs(t *testing.T, source, target []eventstore.RecordedEvent) {
	t.Helper()
	if len(target) != len(source) {
		t.Fatalf("the target has %d events, the source %d", len(target), len(source))
	}
	for i, s := range source {
		g := target[i]
		sm, _ := json.Marshal(s.Metadata)
		gm, _ := json.Marshal(g.Metadata)
		if g.Stream != s.Stream || g.Revision != s.Revision || g.ID != s.ID || g.Type != s.Type || !bytes.Equal(g.Data, s.Data) || !bytes.Equal(gm, sm) {
			t.Fatalf("event %d differs:\nsource %s@%d %s %s %s %s\ntarget %s@%d %s %s %s %s", i,
				s.Stream, s.Revision, s.ID, s.Type, s.Data, sm, g.Stream, g.Revision, g.ID, g.Type, g.Data, gm)
		}
		if s.Metadata.Hash == "" || s.Metadata.ActorRole == "" || s.Metadata.OccurredAt.IsZero() || s.Metadata.SchemaVersion == 0 {
			t.Fatalf("event %d of the source lacks metadata to compare: %s", i, sm)
		}
	}
}

// TestMigrateIntoEventStoreDB copies a filled embedded log into EventStoreDB
// (the protocol peer), compares both logs event by event, verifies the hash
// chains and the audit checkpoints on the target, runs the copy again
// (nothing changes), copies it on into another EventStoreDB, copies the personal-data keys into PostgreSQL, and
// serves the filings from the production stores.
func TestMigrateIntoEventStoreDB(t *testing.T) {
	dir, ids := filledStore(t, 3)
	peer := startPeer(t)

	out, err := migrate(t, "--data", dir, "--to", peer.URL(), "--batch", "7")
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	source := readLog(t, openSQLite(t, dir))
	target := openESDB(t, peer.URL())
	copied := readLog(t, target)
	sameLogs(t, source, copied)
	if want := fmt.Sprintf("copied %d events, skipped 0 already in the target\ntarget verified: %d events in %d streams, 2 checkpoints\n",
		len(source), len(source), len(ids)+1); out != want {
		t.Fatalf("first run says\n%s\nwant\n%s", out, want)
	}
	report, err := eventstore.VerifyLog(t.Context(), target)
	if err != nil || report.Checkpoints != 2 || report.Events != len(source) {
		t.Fatalf("verify the target: %+v %v", report, err)
	}

	head, err := target.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out, err = migrate(t, "--data", dir, "--to", peer.URL())
	if err != nil {
		t.Fatalf("second migrate: %v\n%s", err, out)
	}
	if !strings.HasPrefix(out, fmt.Sprintf("copied 0 events, skipped %d already in the target\n", len(source))) {
		t.Fatalf("second run says\n%s", out)
	}
	again := readLog(t, target)
	if head2, err := target.Head(t.Context()); err != nil || head2 != head || len(again) != len(copied) || again[len(again)-1].Position != copied[len(copied)-1].Position {
		t.Fatalf("the second run changed the target: head %d → %d (%v), %d → %d events", head, head2, err, len(copied), len(again))
	}

	// From one EventStoreDB to another (a new cluster): the same log again.
	peer2 := startPeer(t)
	if out, err := migrate(t, "--from", peer.URL(), "--to", peer2.URL()); err != nil || !strings.HasPrefix(out, fmt.Sprintf("copied %d events, skipped 0", len(source))) {
		t.Fatalf("migrate from EventStoreDB: %v\n%s", err, out)
	}
	sameLogs(t, source, readLog(t, openESDB(t, peer2.URL())))

	// The keys move into the PostgreSQL schema the replicas share; the
	// events are all there already.
	pg := pgtest.URL(t)
	schema := pgtest.Schema(t, pg)
	out, err = migrate(t, "--data", dir, "--to", peer.URL(), "--read-store", pg, "--read-store-schema", schema, "--verify=false")
	if err != nil || !strings.HasPrefix(out, "keys: copied ") || strings.HasPrefix(out, "keys: copied 0,") ||
		!strings.Contains(out, fmt.Sprintf("\ncopied 0 events, skipped %d already in the target\n", len(source))) {
		t.Fatalf("migrate with the keys: %v\n%s", err, out)
	}
	last := copied[len(copied)-1]
	if want := fmt.Sprintf("\nforwarder forwarder: published up to position %d, in the target %d\n", source[len(source)-1].Position, last.Position); !strings.Contains(out, want) {
		t.Fatalf("migrate with the keys says\n%s\nwant%s", out, want)
	}
	if out, err := migrate(t, "--data", dir, "--to", peer.URL(), "--read-store", pg, "--read-store-schema", schema); err != nil ||
		!strings.HasPrefix(out, "keys: copied 0, erased 0, skipped ") {
		t.Fatalf("the keys again: %v\n%s", err, out)
	}
	read, err := postgres.Open(t.Context(), postgres.Config{URL: pg, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer read.Close()
	if cps, err := bus.Checkpoints(t.Context(), read); err != nil || len(cps) != 1 || cps["forwarder"] != last.Position {
		t.Fatalf("forwarder checkpoints in the target: %v %v, want %d", cps, err, last.Position)
	}

	// A replica on the production stores serves the migrated filings with
	// their personal data opened (positions differ from the embedded
	// store's, so its read models are built afresh).
	master, err := os.ReadFile(filepath.Join(dir, masterKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("BEIAN_MASTER_KEY", strings.TrimSpace(string(master)))
	p := startWith(t, config{Data: t.TempDir(), Dev: true, EventStore: peer.URL(), ReadStore: pg, ReadStoreSchema: schema})
	a := p.actors("acct-migrate-0")
	head, err = p.svc.log.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	f := a.applicant.must(`query($id: ID!, $pos: String) { filing(id: $id, minPosition: $pos) { status revision entity { principal { name } } } }`,
		map[string]any{"id": ids[0], "pos": fmt.Sprint(head)})
	if str(f, "filing", "status") != "provider_approved" || str(f, "filing", "entity", "principal", "name") != "张三" {
		t.Fatalf("migrated filing as served: %v", f)
	}
	trail := a.auditor.must(`query($id: ID!, $pos: String) { auditTrail(filingId: $id, first: 100, minPosition: $pos) { edges { node { revision type } } } }`,
		map[string]any{"id": ids[0], "pos": fmt.Sprint(head)})
	if n := len(dig(trail, "auditTrail", "edges").([]any)); n != int(dig(f, "filing", "revision").(float64))+1 {
		t.Fatalf("audit trail of the migrated filing: %d entries, revision %v", n, dig(f, "filing", "revision"))
	}
}

// prefixStore is a log cut at a position: what an interrupted migration
// had copied.
type prefixStore struct {
	eventstore.Store
	upTo uint64
}

func (p prefixStore) ReadAll(ctx context.Context, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	page, err := p.Store.ReadAll(ctx, from, limit)
	for i, e := range page {
		if e.Position > p.upTo {
			return page[:i], err
		}
	}
	return page, err
}

// TestMigrateResumes: a migration that stopped part way (inside a stream's
// run of events) is finished by the next run, which copies only the rest.
func TestMigrateResumes(t *testing.T) {
	dir, _ := filledStore(t, 2)
	peer := startPeer(t)
	src := openSQLite(t, dir)
	source := readLog(t, src)
	half := source[len(source)/2]
	partial, err := migration{from: prefixStore{Store: src, upTo: half.Position}, to: openESDB(t, peer.URL()), batch: 5}.run(t.Context())
	if err != nil || partial.Copied != len(source)/2+1 {
		t.Fatalf("the interrupted run: %+v %v", partial, err)
	}

	out, err := migrate(t, "--data", dir, "--to", peer.URL())
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	if want := fmt.Sprintf("copied %d events, skipped %d already in the target\n", len(source)-partial.Copied, partial.Copied); !strings.HasPrefix(out, want) {
		t.Fatalf("resumed run says\n%s\nwant %s", out, want)
	}
	sameLogs(t, source, readLog(t, openESDB(t, peer.URL())))
}

// TestMigrateRefusesADifferentTarget: a target whose stream holds another
// event at a revision the source has is not written to.
func TestMigrateRefusesADifferentTarget(t *testing.T) {
	dir, _ := filledStore(t, 2)
	peer := startPeer(t)
	source := readLog(t, openSQLite(t, dir))
	target := openESDB(t, peer.URL())
	first := source[0]
	other := first.EventData
	other.ID = "00000000-0000-4000-8000-000000000001"
	if _, err := target.Append(t.Context(), first.Stream, eventstore.NoStream(), []eventstore.EventData{other}); err != nil {
		t.Fatal(err)
	}

	out, err := migrate(t, "--data", dir, "--to", peer.URL())
	if err == nil || !strings.Contains(err.Error(), "different event at "+first.Stream+"@0") || !strings.Contains(err.Error(), "id "+other.ID) {
		t.Fatalf("migrate into a different target: %v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "copied 0 events, skipped 0") {
		t.Fatalf("output: %s", out)
	}
	if got := readLog(t, target); len(got) != 1 {
		t.Fatalf("the refused target now holds %d events", len(got))
	}
}
