package projections

import (
	"context"
	"encoding/json"
	"errors"
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
		`CREATE INDEX IF NOT EXISTS {filings}_account ON {filings} (account, updated_at)`,
		`CREATE INDEX IF NOT EXISTS {filings}_status ON {filings} (status, province, updated_at)`,
	}
}

// Apply folds the event into the filing's stored state.
func (Filings) Apply(ctx context.Context, tx readstore.Tx, t Tables, e Event) error {
	var f domain.Filing
	if e.Revision > 0 {
		var state string
		var revision int64
		err := tx.QueryRow(ctx, t.SQL(`SELECT state, revision FROM {filings} WHERE id = ?`), e.FilingID).Scan(&state, &revision)
		switch {
		case errors.Is(err, readstore.ErrNoRows):
			return fmt.Errorf("filing %s: revision %d without its earlier events", e.FilingID, e.Revision)
		case err != nil:
			return err
		case uint64(revision) >= e.Revision:
			return nil // applied before
		}
		if err := json.Unmarshal([]byte(state), &f); err != nil {
			return fmt.Errorf("filing %s state: %w", e.FilingID, err)
		}
	}
	f = domain.Evolve(f, e.Domain)
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
		int64(e.Revision), int64(e.Position), string(state))
	return err
}
