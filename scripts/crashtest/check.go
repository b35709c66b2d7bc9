package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/beian/beian/infra/eventstore"
	eventsqlite "github.com/beian/beian/infra/eventstore/sqlite"
)

// maxProblems bounds the problems one check lists.
const maxProblems = 20

// problems collects what a check found wrong, up to maxProblems.
type problems struct {
	errs []error
	more int
}

func (p *problems) add(format string, args ...any) {
	if len(p.errs) == maxProblems {
		p.more++
		return
	}
	p.errs = append(p.errs, fmt.Errorf(format, args...))
}

func (p *problems) err() error {
	if p.more > 0 {
		p.errs = append(p.errs, fmt.Errorf("… and %d more", p.more))
	}
	return errors.Join(p.errs...)
}

// check examines the stopped server's data directory against the
// acknowledgement log and returns the number of events in the log.
func check(ctx context.Context, bin, data string, acks []ack, logger *slog.Logger) (int, error) {
	events, err := readLog(ctx, data)
	if err != nil {
		return 0, err
	}
	var p problems
	byID := checkLog(events, &p)
	checkAcks(acks, events, byID, &p)
	if err := checkPublished(ctx, data, events, &p); err != nil {
		return len(events), err
	}
	if out, err := exec.CommandContext(ctx, bin, "audit", "verify", "--all", "--data", data).CombinedOutput(); err != nil {
		p.add("beian audit verify --all: %v\n%s", err, out)
	}
	checkRebuild(ctx, bin, data, &p)
	logger.Info("crashtest: checked", "events", len(events), "acknowledged", len(acks))
	return len(events), p.err()
}

// readLog reads the whole event log as stored.
func readLog(ctx context.Context, data string) ([]eventstore.RecordedEvent, error) {
	store, err := eventsqlite.Open(eventsqlite.Config{Path: filepath.Join(data, "events.db"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return nil, fmt.Errorf("crashtest: %w", err)
	}
	defer store.Close()
	var all []eventstore.RecordedEvent
	for {
		page, err := store.ReadAll(ctx, uint64(len(all))+1, 10000)
		if err != nil {
			return nil, fmt.Errorf("crashtest: read the log: %w", err)
		}
		all = append(all, page...)
		if len(page) == 0 {
			return all, nil
		}
	}
}

// checkLog checks positions and revisions run without gaps and every event
// id is stored once; it returns the events by id.
func checkLog(events []eventstore.RecordedEvent, p *problems) map[string]int {
	byID := make(map[string]int, len(events))
	next := map[string]uint64{} // stream → the revision its next event must have
	for i, e := range events {
		if e.Position != uint64(i)+1 {
			p.add("position %d where %d was due: a gap in $all", e.Position, i+1)
		}
		if e.Revision != next[e.Stream] {
			p.add("%s: revision %d where %d was due", e.Stream, e.Revision, next[e.Stream])
		}
		next[e.Stream] = e.Revision + 1
		if j, dup := byID[e.ID]; dup {
			p.add("event %s stored twice, at positions %d and %d", e.ID, events[j].Position, e.Position)
		}
		byID[e.ID] = i
	}
	return byID
}

// checkAcks checks every acknowledged command's events are in the log, in
// its filing's stream, ending at the acknowledged revision, and that the
// command appended them once: the log holds no other event of its command.
func checkAcks(acks []ack, events []eventstore.RecordedEvent, byID map[string]int, p *problems) {
	perCommand := map[string]int{}
	for _, e := range events {
		perCommand[e.Metadata.CommandID]++
	}
	keys := map[string]bool{}
	for _, a := range acks {
		k := a.Account + "\n" + a.Command + "\n" + a.Key
		if keys[k] {
			p.add("%s %s key %s acknowledged twice in the client's log", a.Account, a.Command, a.Key)
		}
		keys[k] = true
		stream := "filing-" + a.Filing
		var command string
		for i, id := range a.Events {
			j, ok := byID[id]
			if !ok {
				p.add("%s %s (key %s): acknowledged event %s is not in the log", a.Account, a.Command, a.Key, id)
				continue
			}
			e := events[j]
			if e.Stream != stream {
				p.add("acknowledged event %s is in %s, not %s", id, e.Stream, stream)
			}
			if i == len(a.Events)-1 && e.Revision != a.Revision {
				p.add("%s: acknowledged revision %d, the command's last event is at %d", stream, a.Revision, e.Revision)
			}
			command = e.Metadata.CommandID
		}
		if command != "" && perCommand[command] != len(a.Events) {
			p.add("%s %s (key %s): %d events of its command in the log, %d acknowledged: applied more than once",
				a.Account, a.Command, a.Key, perCommand[command], len(a.Events))
		}
	}
}

// checkPublished checks the forwarder published every filing event at least
// once. The observer is the in-process notification consumer: it marks an
// event delivered in the read store before it acknowledges the message, and
// the in-process bus returns a publish only after that acknowledgement.
func checkPublished(ctx context.Context, data string, events []eventstore.RecordedEvent, p *problems) error {
	db, err := openReadOnly(filepath.Join(data, "read.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT event_id FROM notify_delivered`)
	if err != nil {
		return fmt.Errorf("crashtest: delivered events: %w", err)
	}
	defer rows.Close()
	delivered := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("crashtest: delivered events: %w", err)
		}
		delivered[id] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("crashtest: delivered events: %w", err)
	}
	for _, e := range events {
		if strings.HasPrefix(e.Stream, "filing-") && !delivered[e.ID] {
			p.add("event %s (%s@%d) was never published", e.ID, e.Stream, e.Revision)
		}
	}
	return nil
}

// checkRebuild compares each read model, as the restarts left it, with a
// rebuild from the log, by the content hashes `beian projections` prints.
func checkRebuild(ctx context.Context, bin, data string, p *problems) {
	before, err := contentHashes(ctx, bin, data)
	if err != nil {
		p.add("%w", err)
		return
	}
	if out, err := exec.CommandContext(ctx, bin, "projections", "rebuild", "--data", data).CombinedOutput(); err != nil {
		p.add("beian projections rebuild: %v\n%s", err, out)
		return
	}
	after, err := contentHashes(ctx, bin, data)
	if err != nil {
		p.add("%w", err)
		return
	}
	if len(before) == 0 || len(before) != len(after) {
		p.add("hashes of %d read models before the rebuild, %d after", len(before), len(after))
	}
	for name, h := range before {
		if after[name] != h {
			p.add("read model %s: %s after the restarts, %s after a rebuild", name, h, after[name])
		}
	}
}

// contentHashes runs `beian projections status --hash`.
func contentHashes(ctx context.Context, bin, data string) (map[string]string, error) {
	out, err := exec.CommandContext(ctx, bin, "projections", "status", "--hash", "--data", data).Output()
	if err != nil {
		return nil, fmt.Errorf("beian projections status --hash: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	hashes := map[string]string{}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) != 7 {
			return nil, fmt.Errorf("beian projections status --hash: unexpected line %q", line)
		}
		if f[5] != "0" {
			return nil, fmt.Errorf("projection %s lags by %s after catching up", f[0], f[5])
		}
		hashes[f[0]] = f[6]
	}
	return hashes, nil
}
