package projections

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/readstore"
)

// Filings is the filing-progress read model: one row per filing with the
// folded domain state, from which queries compute the progress of every
// mini-program step, deadlines, rejection reasons and ICP numbers.
type Filings struct{}

func (Filings) Name() string     { return "filings" }
func (Filings) Version() int     { return 1 }
func (Filings) Tables() []string { return []string{"filings"} }

func (Filings) Schema() []string {
	return []string{
		`CREATE TABLE IF NOT EXISTS {filings} (
			id          TEXT   PRIMARY KEY,
			account     TEXT   NOT NULL,
			status      TEXT   NOT NULL,
			province    TEXT   NOT NULL,
			nature      TEXT   NOT NULL,
			entity_name TEXT   NOT NULL,
			created_at  BIGINT NOT NULL,
			updated_at  BIGINT NOT NULL,
			revision    BIGINT NOT NULL,
			position    BIGINT NOT NULL,
			state       TEXT   NOT NULL
		)`,
	}
}

func (Filings) Indexes() []string {
	return []string{
		`CREATE INDEX IF NOT EXISTS {filings}_account ON {filings} (account, updated_at)`,
		`CREATE INDEX IF NOT EXISTS {filings}_status ON {filings} (status, province, updated_at)`,
	}
}

// Apply folds each filing's events of the batch into its stored state.
func (p Filings) Apply(ctx context.Context, tx readstore.Tx, t Tables, batch []Event) error {
	for _, run := range runsByFiling(batch) {
		if err := p.fold(ctx, tx, t, run); err != nil {
			return err
		}
	}
	return nil
}

// fold reads the filing's state once, folds the run's events it has not
// seen yet (a batch applied again after a crash repeats some) and writes
// the row once.
func (Filings) fold(ctx context.Context, tx readstore.Tx, t Tables, run filingRun) error {
	id := run[0].FilingID
	f, applied, err := storedState(ctx, tx, t, `SELECT state, revision FROM {filings} WHERE id = ?`, id)
	if err != nil {
		return err
	}
	var last *Event
	for i, e := range run {
		switch {
		case int64(e.Revision) <= applied:
			continue // applied before
		case applied < 0 && e.Revision > 0:
			return fmt.Errorf("filing %s: revision %d without its earlier events", id, e.Revision)
		}
		f = domain.Evolve(f, e.Domain)
		applied = int64(e.Revision)
		last = &run[i]
	}
	if last == nil {
		return nil
	}
	state, err := json.Marshal(f)
	if err != nil {
		return err
	}
	entityName := ""
	if f.Entity != nil {
		entityName = f.Entity.Name
	}
	_, err = tx.Exec(ctx, t.SQL(`INSERT INTO {filings} (id, account, status, province, nature, entity_name, created_at, updated_at, revision, position, state)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status, entity_name = excluded.entity_name, updated_at = excluded.updated_at,
			revision = excluded.revision, position = excluded.position, state = excluded.state`),
		f.ID, f.Account, string(f.Status), f.Province, f.Nature, entityName, f.CreatedAt.UnixMilli(), f.UpdatedAt.UnixMilli(),
		int64(last.Revision), int64(last.Position), string(state))
	if err != nil {
		return err
	}
	t.written.put(id, f, applied)
	return nil
}
