package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/beian/beian/commands"
	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/infra/privacy"
	"github.com/beian/beian/infra/readstore"
	"github.com/beian/beian/infra/readstore/postgres"
	"github.com/beian/beian/projections"
)

// exitError carries an exit status: audit verify exits 1 when the chain
// does not hold, which scripts branch on.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) ExitCode() int { return e.code }
func (e *exitError) Unwrap() error { return e.err }

// auditCmd replays a filing from the log, verifies the hash chains, and
// records a checkpoint. Replay and verify only read the log, so they run
// beside a serving `beian serve`.
func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "replay" && args[0] != "verify" && args[0] != "checkpoint" {
		fmt.Fprintln(stderr, "usage: beian audit replay FILING_ID [--revision N | --at RFC3339] [--json] [STORES]\n"+
			"       beian audit verify [FILING_ID | --all] [STORES]\n       beian audit checkpoint [STORES]\n"+
			"STORES: [--data DIR] [--event-store sqlite|esdb://…] [--read-store sqlite|postgres://…] [--read-store-schema S], as for serve")
		return errUsage
	}
	sub, rest := args[0], args[1:]
	var filing string
	if len(rest) > 0 && rest[0] != "" && rest[0][0] != '-' {
		filing, rest = rest[0], rest[1:]
	}
	fs := newFlags("audit "+sub, stderr)
	data := fs.String("data", "./data", "data directory")
	stores := addStoreFlags(fs)
	revision := fs.Int("revision", -1, "replay up to this revision")
	at := fs.String("at", "", "replay up to this time (RFC 3339)")
	asJSON := fs.Bool("json", false, "print the replay as JSON")
	all := fs.Bool("all", false, "verify every stream and every checkpoint")
	if err := parse(fs, rest); err != nil {
		return helpOK(err)
	}
	var asOf time.Time
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return fmt.Errorf("--at %q: not an RFC 3339 time", *at)
		}
		asOf = t
	}
	cfg := config{Data: *data, Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	stores.set(&cfg)
	if sub == "checkpoint" {
		return auditCheckpoint(ctx, cfg, stdout)
	}
	store, err := openLog(cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	switch {
	case sub == "replay" && filing == "":
		return fmt.Errorf("audit replay needs a FILING_ID")
	case sub == "replay":
		// Replay reads the log as the service does: personal data opened
		// with the subjects' keys, "[erased]" where a key was destroyed.
		protector, closeKeys, err := openProtector(ctx, cfg)
		if err != nil {
			return err
		}
		defer closeKeys()
		return replay(ctx, privacy.NewStore(store, protector), filing, *revision, asOf, *asJSON, stdout)
	case *all:
		report, err := eventstore.VerifyLog(ctx, store)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		fmt.Fprintf(stdout, "verified: %d events in %d streams, %d checkpoints\n", report.Events, report.Streams, report.Checkpoints)
		return nil
	case filing == "":
		return fmt.Errorf("audit verify needs a FILING_ID or --all")
	}
	events, err := readAll(ctx, store, commands.Stream(filing))
	if err != nil {
		return err
	}
	head, err := eventstore.VerifyChain(events)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	fmt.Fprintf(stdout, "verified: %d events of filing %s, head %s\n", len(events), filing, head)
	return nil
}

func readAll(ctx context.Context, store eventstore.Store, stream string) ([]eventstore.RecordedEvent, error) {
	events, err := eventstore.ReadStreamFrom(ctx, store, stream, 0)
	if err == nil && len(events) == 0 {
		return nil, fmt.Errorf("no filing %s", stream)
	}
	return events, err
}

// replayedEvent is one line of a replay's timeline.
type replayedEvent struct {
	Revision   uint64         `json:"revision"`
	Position   uint64         `json:"position"`
	Type       string         `json:"type"`
	OccurredAt time.Time      `json:"occurredAt"`
	RecordedAt time.Time      `json:"recordedAt"`
	Actor      string         `json:"actor"`
	Role       string         `json:"role"`
	CommandID  string         `json:"commandId"`
	Hash       string         `json:"hash"`
	Summary    domain.Message `json:"summary"`
}

// replay folds the filing's stream from the log (not a read model) up to a
// revision or a time and prints the timeline and the state there.
func replay(ctx context.Context, store eventstore.Store, filing string, revision int, asOf time.Time, asJSON bool, stdout io.Writer) error {
	events, err := readAll(ctx, store, commands.Stream(filing))
	if err != nil {
		return err
	}
	rules, err := domain.LoadRules()
	if err != nil {
		return err
	}
	var f domain.Filing
	var timeline []replayedEvent
	for _, e := range events {
		if revision >= 0 && e.Revision > uint64(revision) || !asOf.IsZero() && e.RecordedAt.After(asOf) {
			break
		}
		d, err := domain.DecodeEvent(e.Type, e.Data)
		if err != nil {
			return fmt.Errorf("%s@%d: %w", e.Stream, e.Revision, err)
		}
		f = domain.Evolve(f, d)
		timeline = append(timeline, replayedEvent{Revision: e.Revision, Position: e.Position, Type: e.Type, OccurredAt: e.Metadata.OccurredAt,
			RecordedAt: e.RecordedAt, Actor: e.Metadata.ActorAccount, Role: e.Metadata.ActorRole, CommandID: e.Metadata.CommandID,
			Hash: e.Metadata.Hash, Summary: projections.Summarize(d)})
	}
	progress := rules.Progress(f)
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"filing": f, "progress": progress, "events": timeline})
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "REV\tRECORDED\tACTOR\tROLE\tEVENT\tSUMMARY")
	for _, e := range timeline {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", e.Revision, e.RecordedAt.UTC().Format(time.RFC3339), e.Actor, e.Role, e.Type, e.Summary.En)
	}
	w.Flush()
	fmt.Fprintf(stdout, "\nfiling %s: %s (%s), current step %s\n", filing, f.Status, domain.StatusName(f.Status).En, progress.CurrentStep)
	for _, s := range progress.Steps {
		fmt.Fprintf(stdout, "  %-18s %s\n", s.Name, s.State)
	}
	if f.Numbers != nil {
		fmt.Fprintf(stdout, "ICP numbers: %s", f.Numbers.Entity)
		for _, n := range f.Numbers.Websites {
			fmt.Fprintf(stdout, ", %s %s", n.WebsiteID, n.Number)
		}
		fmt.Fprintln(stdout)
	}
	return nil
}

// openProtector opens the personal-data keys where the service keeps them:
// keys.db in the data directory, or the PostgreSQL read store.
func openProtector(ctx context.Context, cfg config) (*privacy.Protector, func(), error) {
	var read readstore.Store
	var pg *postgres.Store
	if cfg.ReadStore != "" && cfg.ReadStore != "sqlite" {
		var err error
		if read, err = openRead(ctx, cfg); err != nil {
			return nil, nil, err
		}
		pg, _ = read.(*postgres.Store)
	}
	keyStore, _, protector, err := openKeys(ctx, cfg, pg)
	closeAll := func() {
		for _, s := range []readstore.Store{keyStore, read} {
			if s != nil {
				s.Close()
			}
		}
	}
	if err != nil {
		closeAll()
		if pg != nil {
			return nil, nil, fmt.Errorf("--read-store: %w", err)
		}
		return nil, nil, fmt.Errorf("--data %s: %w", cfg.Data, err)
	}
	return protector, closeAll, nil
}

// auditCheckpoint records a checkpoint: it appends to the log, so with the
// embedded log it takes the data directory like the server (which records
// them itself while it runs).
func auditCheckpoint(ctx context.Context, cfg config, stdout io.Writer) error {
	if cfg.EventStore == "" || cfg.EventStore == "sqlite" {
		lock, err := lockData(cfg.Data)
		if err != nil {
			return fmt.Errorf("%w; a running server records checkpoints itself", err)
		}
		defer lock.Close()
	}
	store, err := openLog(cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	cp, err := eventstore.RecordCheckpoint(ctx, store, time.Now())
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	fmt.Fprintf(stdout, "checkpoint at position %d over %d streams: root %s (%s)\n", cp.Position, cp.Streams, cp.Root, cp.At.Format(time.RFC3339))
	return nil
}
