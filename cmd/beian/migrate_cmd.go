package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/beian/beian/infra/bus"
	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/infra/privacy"
	"github.com/beian/beian/infra/readstore"
)

// migrateCmd copies the event log of one store into another, in $all
// order: the embedded SQLite log of a data directory into EventStoreDB or
// KurrentDB. It copies the events as stored (personal data stays sealed,
// the hash chains cover the same bytes) and is idempotent: what the target
// already holds is compared and skipped, so a second run, or one after an
// interruption, copies only what is missing. The source may be serving
// while it copies the bulk; the last run after `beian serve` stopped
// copies the rest. With --read-store it also copies the personal-data
// keys of keys.db into the PostgreSQL schema the replicas will share, and
// carries the forwarder's checkpoint over to the same event in the target.
func migrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", stderr)
	data := fs.String("data", "./data", "data directory whose event log (events.db) is copied with --from sqlite")
	from := fs.String("from", "sqlite", "the source log: sqlite (in --data) or esdb://host:2113?tls=false")
	to := fs.String("to", "", "the target log: esdb://host:2113?tls=false (EventStoreDB/KurrentDB; a cluster as esdb://h1:2113,h2:2113,h3:2113)")
	batch := fs.Int("batch", 500, "events read from the source at a time")
	readStore := fs.String("read-store", "", "the replicas' PostgreSQL read store: postgres://user@host:5432/db; copy --data's personal-data keys (keys.db) and forwarder checkpoint into it")
	readSchema := fs.String("read-store-schema", "public", "the PostgreSQL schema of the read models and keys")
	verify := fs.Bool("verify", true, "verify the hash chains and audit checkpoints of the target afterwards (beian audit verify --all)")
	if err := parse(fs, args); err != nil {
		return helpOK(err)
	}
	if err := checkMigrate(*data, *from, *to, *batch); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var err error
	var targetRead readstore.Store
	if *readStore != "" {
		cfg := config{Data: *data, ReadStore: *readStore, ReadStoreSchema: *readSchema, Logger: logger}
		if targetRead, err = openPostgres(ctx, cfg); err != nil {
			return err
		}
		defer targetRead.Close()
		if err := migrateKeys(ctx, cfg, targetRead, stdout); err != nil {
			return err
		}
	}
	source, err := openLog(config{Data: *data, EventStore: *from, Logger: logger})
	if err != nil {
		return err
	}
	defer source.Close()
	target, err := openLog(config{EventStore: *to, Logger: logger})
	if err != nil {
		return err
	}
	defer target.Close()
	m := migration{from: source, to: target, batch: *batch}
	report, err := m.run(ctx)
	fmt.Fprintf(stdout, "copied %d events, skipped %d already in the target\n", report.Copied, report.Skipped)
	if err != nil {
		return err
	}
	if targetRead != nil && *from == "sqlite" {
		if err := carryForwarder(ctx, config{Data: *data, Logger: logger}, source, target, targetRead, stdout); err != nil {
			return err
		}
	}
	if *verify {
		return verifyTarget(ctx, target, report, stdout)
	}
	return nil
}

// checkMigrate refuses arguments that cannot make a migration.
func checkMigrate(data, from, to string, batch int) error {
	switch {
	case to == "" || to == "sqlite":
		return errors.New("--to: want the target event store, esdb://host:2113?tls=false")
	case to == from:
		return errors.New("--to: the same store as --from")
	case batch < 1:
		return fmt.Errorf("--batch %d: want at least 1", batch)
	}
	if from == "sqlite" {
		if _, err := os.Stat(filepath.Join(data, "events.db")); err != nil {
			return fmt.Errorf("--data %s: no event log: %w", data, err)
		}
	}
	return nil
}

// verifyTarget checks the target's hash chains and audit checkpoints as
// `beian audit verify --all` does, and says if it holds more than the
// source gave it.
func verifyTarget(ctx context.Context, target eventstore.Store, report migrateReport, stdout io.Writer) error {
	v, err := eventstore.VerifyLog(ctx, target)
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("the target does not verify: %w", err)}
	}
	fmt.Fprintf(stdout, "target verified: %d events in %d streams, %d checkpoints\n", v.Events, v.Streams, v.Checkpoints)
	if extra := v.Events - report.Copied - report.Skipped; extra > 0 {
		fmt.Fprintf(stdout, "the target holds %d events the source does not\n", extra)
	}
	return nil
}

// openPostgres opens the PostgreSQL read store of --read-store.
func openPostgres(ctx context.Context, cfg config) (readstore.Store, error) {
	if !strings.HasPrefix(cfg.ReadStore, "postgres://") && !strings.HasPrefix(cfg.ReadStore, "postgresql://") {
		return nil, fmt.Errorf("--read-store %q: want postgres://user@host:5432/db", cfg.ReadStore)
	}
	return openRead(ctx, cfg)
}

// migrateKeys copies keys.db of the data directory into the PostgreSQL
// read store. The keys stay sealed with the data directory's master key,
// which the replicas must then be given as BEIAN_MASTER_KEY.
func migrateKeys(ctx context.Context, cfg config, target readstore.Store, stdout io.Writer) error {
	path := filepath.Join(cfg.Data, "keys.db")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("--data %s: no key store: %w", cfg.Data, err)
	}
	keys, err := openKeyStore(cfg)
	if err != nil {
		return err
	}
	defer keys.Close()
	r, err := privacy.CopyKeys(ctx, keys, target)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "keys: copied %d, erased %d, skipped %d already in the target; they open with this data directory's master key (BEIAN_MASTER_KEY or %s)\n",
		r.Copied, r.Erased, r.Skipped, filepath.Join(cfg.Data, masterKeyFile))
	return nil
}

// carryForwarder moves the forwarder's checkpoint of the data directory's
// read store to the same event in the target log, so that the replicas'
// forwarder publishes what the embedded server had not, instead of the
// whole log again. A checkpoint the target has past it stays.
func carryForwarder(ctx context.Context, cfg config, source, target eventstore.Store, targetRead readstore.Store, stdout io.Writer) error {
	if _, err := os.Stat(filepath.Join(cfg.Data, "read.db")); err != nil {
		return nil // never served: nothing was published
	}
	read, err := openRead(ctx, cfg)
	if err != nil {
		return err
	}
	defer read.Close()
	checkpoints, err := bus.Checkpoints(ctx, read)
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(checkpoints)) {
		pos := checkpoints[name]
		if pos == 0 {
			continue
		}
		there, err := samePlace(ctx, source, target, pos)
		if err != nil {
			return fmt.Errorf("forwarder %s: %w", name, err)
		}
		if err := bus.AdvanceCheckpoint(ctx, targetRead, name, there); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "forwarder %s: published up to position %d, in the target %d\n", name, pos, there)
	}
	return nil
}

// samePlace returns the target's position of the source's event at pos.
func samePlace(ctx context.Context, source, target eventstore.Store, pos uint64) (uint64, error) {
	page, err := source.ReadAll(ctx, pos, 1)
	if err != nil {
		return 0, err
	}
	if len(page) == 0 || page[0].Position != pos {
		return 0, fmt.Errorf("no event at position %d of the source", pos)
	}
	e := page[0]
	there, err := target.ReadStream(ctx, e.Stream, e.Revision, 1)
	if err != nil {
		return 0, fmt.Errorf("read the target's %s@%d: %w", e.Stream, e.Revision, err)
	}
	if len(there) == 0 || there[0].ID != e.ID {
		return 0, fmt.Errorf("the target lacks event %s (%s@%d)", e.ID, e.Stream, e.Revision)
	}
	return there[0].Position, nil
}

// migration copies one event log into another.
type migration struct {
	from, to eventstore.Store
	batch    int
}

// migrateReport counts what a migration did.
type migrateReport struct {
	Copied  int // appended to the target
	Skipped int // found in the target, equal to the source's
}

// maxGroupBytes bounds one append to the target: consecutive events of a
// stream go together, but a server limits an append's size (EventStoreDB:
// 1 MiB by default).
const maxGroupBytes = 256 << 10

// run copies every event of the source in $all order. Events of one stream
// keep their revisions: each append expects the revision before its first
// event, so a target that lacks earlier events of the stream, or has
// others, refuses instead of shifting them.
func (m migration) run(ctx context.Context) (migrateReport, error) {
	var report migrateReport
	var from uint64
	for {
		page, err := m.from.ReadAll(ctx, from, m.batch)
		if err != nil {
			return report, fmt.Errorf("read the source from position %d: %w", from, err)
		}
		for rest := page; len(rest) > 0; {
			n := groupLen(rest)
			copied, skipped, err := m.copy(ctx, rest[:n])
			report.Copied += copied
			report.Skipped += skipped
			if err != nil {
				return report, err
			}
			rest = rest[n:]
		}
		if len(page) < m.batch {
			return report, nil
		}
		from = page[len(page)-1].Position + 1
	}
}

// groupLen is how many events at the start of events are of one stream and
// fit one append.
func groupLen(events []eventstore.RecordedEvent) int {
	size := len(events[0].Data)
	n := 1
	for n < len(events) && events[n].Stream == events[0].Stream && size+len(events[n].Data) <= maxGroupBytes {
		size += len(events[n].Data)
		n++
	}
	return n
}

// copy brings consecutive events of one stream to the target: those it
// already holds must be equal and are skipped, the rest are appended after
// them.
func (m migration) copy(ctx context.Context, events []eventstore.RecordedEvent) (copied, skipped int, err error) {
	first := events[0]
	there, err := m.to.ReadStream(ctx, first.Stream, first.Revision, len(events))
	if err != nil && !errors.Is(err, eventstore.ErrNotFound) {
		return 0, 0, fmt.Errorf("read the target's %s@%d: %w", first.Stream, first.Revision, err)
	}
	for i, got := range there {
		if err := sameEvent(events[i], got); err != nil {
			return 0, i, fmt.Errorf("the target holds a different event at %s@%d (%w); refusing to migrate into it", got.Stream, got.Revision, err)
		}
	}
	rest := events[len(there):]
	if len(rest) == 0 {
		return 0, len(there), nil
	}
	expected := eventstore.NoStream()
	if r := rest[0].Revision; r > 0 {
		expected = eventstore.Exact(r - 1)
	}
	batch := make([]eventstore.EventData, len(rest))
	for i, e := range rest {
		batch[i] = e.EventData
	}
	if _, err := m.to.Append(ctx, first.Stream, expected, batch); err != nil {
		if errors.Is(err, eventstore.ErrConflict) {
			return 0, len(there), fmt.Errorf("the target's stream %s does not end where the source's continues (revision %d): it lacks events the source has, or something else writes to it: %w",
				first.Stream, rest[0].Revision, err)
		}
		return 0, len(there), fmt.Errorf("append %s@%d to the target: %w", first.Stream, rest[0].Revision, err)
	}
	return len(rest), len(there), nil
}

// sameEvent says how the target's event differs from the source's, if it
// does. Metadata compares as the JSON the hash chain covers.
func sameEvent(want, got eventstore.RecordedEvent) error {
	var diffs []string
	if got.ID != want.ID {
		diffs = append(diffs, fmt.Sprintf("id %s, the source has %s", got.ID, want.ID))
	}
	if got.Type != want.Type {
		diffs = append(diffs, fmt.Sprintf("type %s, the source has %s", got.Type, want.Type))
	}
	if !bytes.Equal(got.Data, want.Data) {
		diffs = append(diffs, "other data")
	}
	gm, err := json.Marshal(got.Metadata)
	if err != nil {
		return err
	}
	wm, err := json.Marshal(want.Metadata)
	if err != nil {
		return err
	}
	if !bytes.Equal(gm, wm) {
		diffs = append(diffs, "other metadata")
	}
	if len(diffs) > 0 {
		return errors.New(strings.Join(diffs, ", "))
	}
	return nil
}
