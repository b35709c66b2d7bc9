package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/readstore"
)

// Deadlines is the process manager's durable timers: after every event of
// a filing its pending deadlines are computed again (domain.Rules.Timers)
// and stored, in the batch's transaction. A Scheduler fires the due ones.
type Deadlines struct {
	Rules *domain.Rules
}

func (Deadlines) Name() string     { return "deadlines" }
func (Deadlines) Version() int     { return 1 }
func (Deadlines) Tables() []string { return []string{"deadline_filings", "deadline_timers"} }

func (Deadlines) Schema() []string {
	return []string{
		// The folded state of filings that can still have deadlines.
		`CREATE TABLE IF NOT EXISTS {deadline_filings} (
			filing_id TEXT PRIMARY KEY,
			revision  BIGINT NOT NULL,
			state     TEXT   NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS {deadline_timers} (
			filing_id TEXT   NOT NULL,
			kind      TEXT   NOT NULL,
			due_at    BIGINT NOT NULL,
			PRIMARY KEY (filing_id, kind)
		)`,
	}
}

func (Deadlines) Indexes() []string {
	return []string{
		`CREATE INDEX IF NOT EXISTS {deadline_timers}_due ON {deadline_timers} (due_at, filing_id, kind)`,
	}
}

// Apply folds each filing's events of the batch and replaces its timers.
func (d Deadlines) Apply(ctx context.Context, tx readstore.Tx, t Tables, batch []Event) error {
	for _, run := range runsByFiling(batch) {
		if err := d.fold(ctx, tx, t, run); err != nil {
			return err
		}
	}
	return nil
}

// fold reads the filing's state once, folds the run's events it has not
// seen yet, and writes the state and timers once. A filing that ended
// (terminal) has no state left, and no deadlines: its later events, and
// those of a filing whose start this generation never saw, change nothing.
func (d Deadlines) fold(ctx context.Context, tx readstore.Tx, t Tables, run filingRun) error {
	id := run[0].FilingID
	f, applied, err := storedState(ctx, tx, t, `SELECT state, revision FROM {deadline_filings} WHERE filing_id = ?`, id)
	if err != nil {
		return err
	}
	stored := applied
	for _, e := range run {
		if int64(e.Revision) <= applied || (applied < 0 && e.Revision > 0) {
			continue // applied before, or no state to fold into
		}
		f = domain.Evolve(f, e.Domain)
		applied = int64(e.Revision)
		if f.Status.Terminal() {
			break
		}
	}
	if applied == stored {
		return nil // nothing new
	}
	if _, err := tx.Exec(ctx, t.SQL(`DELETE FROM {deadline_timers} WHERE filing_id = ?`), id); err != nil {
		return err
	}
	if f.Status.Terminal() {
		t.written.forget(id)
		_, err := tx.Exec(ctx, t.SQL(`DELETE FROM {deadline_filings} WHERE filing_id = ?`), id)
		return err
	}
	state, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, t.SQL(`INSERT INTO {deadline_filings} (filing_id, revision, state) VALUES (?, ?, ?)
		ON CONFLICT (filing_id) DO UPDATE SET revision = excluded.revision, state = excluded.state`),
		id, applied, string(state)); err != nil {
		return err
	}
	t.written.put(id, f, applied)
	for _, timer := range d.Rules.Timers(f) {
		if _, err := tx.Exec(ctx, t.SQL(`INSERT INTO {deadline_timers} (filing_id, kind, due_at) VALUES (?, ?, ?)`),
			id, timer.Kind, timer.DueAt.UnixMilli()); err != nil {
			return err
		}
	}
	return nil
}

// DueTimer is a timer whose time has come.
type DueTimer struct {
	FilingID string
	Kind     string
	DueAt    time.Time
}

// Dispatcher runs a timer's command; the wiring gives it the command
// handlers. It returns Obsolete when the domain refuses the command: the
// deadline no longer applies.
type Dispatcher interface {
	Fire(ctx context.Context, t DueTimer, now time.Time) error
}

// ErrObsolete: the timer's command was refused because its deadline no
// longer applies (the filing moved on).
var ErrObsolete = errors.New("timer obsolete")

// Scheduler fires due timers as commands. Each firing carries an
// idempotency key made of the filing, the kind and the due time, so a timer
// fired twice (a crash between firing and the event reaching the read
// model) appends once. A timer due while the service was down fires on start.
type Scheduler struct {
	Read       readstore.Store
	Dispatcher Dispatcher
	Now        func() time.Time
	Logger     *slog.Logger
	Every      time.Duration // how often to look for due timers; default 1s
}

// Run fires due timers until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	every := s.Every
	if every <= 0 {
		every = time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if _, err := s.Tick(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, ErrNotReady) {
			s.Logger.Warn("deadline scheduler", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Tick fires every timer due now and reports how many fired.
func (s *Scheduler) Tick(ctx context.Context) (int, error) {
	now := s.Now()
	p := Deadlines{}
	var due []DueTimer
	err := s.Read.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
		t, err := liveTables(ctx, tx, p)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, t.SQL(`SELECT filing_id, kind, due_at FROM {deadline_timers} WHERE due_at <= ? ORDER BY due_at, filing_id, kind LIMIT 500`),
			now.UnixMilli())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d DueTimer
			var at int64
			if err := rows.Scan(&d.FilingID, &d.Kind, &at); err != nil {
				return err
			}
			d.DueAt = time.UnixMilli(at)
			due = append(due, d)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, err
	}
	fired := 0
	for _, d := range due {
		err := s.Dispatcher.Fire(ctx, d, now)
		switch {
		case errors.Is(err, ErrObsolete):
			s.Logger.Debug("deadline no longer applies", "filing", d.FilingID, "kind", d.Kind)
			if err := s.drop(ctx, d); err != nil {
				return fired, err
			}
		case err != nil:
			return fired, fmt.Errorf("fire %s of %s: %w", d.Kind, d.FilingID, err)
		default:
			fired++
		}
	}
	return fired, nil
}

// drop deletes an obsolete timer; the projection adds it again if a later
// event makes it apply.
func (s *Scheduler) drop(ctx context.Context, d DueTimer) error {
	return s.Read.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
		t, err := liveTables(ctx, tx, Deadlines{})
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, t.SQL(`DELETE FROM {deadline_timers} WHERE filing_id = ? AND kind = ? AND due_at = ?`),
			d.FilingID, d.Kind, d.DueAt.UnixMilli())
		return err
	})
}
