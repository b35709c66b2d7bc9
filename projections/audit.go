package projections

import (
	"context"

	"github.com/beian/beian/infra/readstore"
)

// Audit is the audit trail: every event with who did it, in which role,
// when, under which command, and a readable summary.
type Audit struct{}

func (Audit) Name() string { return "audit" }

// Version 2 added the hash chain columns.
func (Audit) Version() int     { return 2 }
func (Audit) Tables() []string { return []string{"audit"} }

func (Audit) Schema() []string {
	return []string{
		`CREATE TABLE IF NOT EXISTS {audit} (
			position       BIGINT PRIMARY KEY,
			filing_id      TEXT   NOT NULL,
			revision       BIGINT NOT NULL,
			event_id       TEXT   NOT NULL,
			type           TEXT   NOT NULL,
			actor_account  TEXT   NOT NULL,
			actor_role     TEXT   NOT NULL,
			occurred_at    BIGINT NOT NULL,
			recorded_at    BIGINT NOT NULL,
			command_id     TEXT   NOT NULL,
			correlation_id TEXT   NOT NULL,
			summary_zh     TEXT   NOT NULL,
			summary_en     TEXT   NOT NULL,
			hash           TEXT   NOT NULL,
			prev_hash      TEXT   NOT NULL
		)`,
		`CREATE UNIQUE INDEX IF NOT EXISTS {audit}_filing ON {audit} (filing_id, revision)`,
	}
}

// Apply records the event.
func (p Audit) Apply(ctx context.Context, tx readstore.Tx, t Tables, batch []Event) error {
	return applyEach(ctx, tx, t, batch, p.apply)
}

func (Audit) apply(ctx context.Context, tx readstore.Tx, t Tables, e Event) error {
	s := Summarize(e.Domain)
	md := e.Metadata
	_, err := tx.Exec(ctx, t.SQL(`INSERT INTO {audit} (position, filing_id, revision, event_id, type, actor_account, actor_role,
			occurred_at, recorded_at, command_id, correlation_id, summary_zh, summary_en, hash, prev_hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (position) DO NOTHING`),
		int64(e.Position), e.FilingID, int64(e.Revision), e.ID, e.Type, md.ActorAccount, md.ActorRole,
		md.OccurredAt.UnixMilli(), e.RecordedAt.UnixMilli(), md.CommandID, md.CorrelationID, s.Zh, s.En, md.Hash, md.PrevHash)
	return err
}
