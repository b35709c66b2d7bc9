package projections

import (
	"context"
	"fmt"
	"strings"

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
	}
}

func (Audit) Indexes() []string {
	return []string{
		`CREATE UNIQUE INDEX IF NOT EXISTS {audit}_filing ON {audit} (filing_id, revision)`,
	}
}

// Apply records the batch's events, several rows per INSERT: one
// statement per event was a third of a rebuild's writes.
func (Audit) Apply(ctx context.Context, tx readstore.Tx, t Tables, batch []Event) error {
	for len(batch) > 0 {
		n := auditRowsPerInsert(len(batch))
		args := make([]any, 0, n*auditColumns)
		for _, e := range batch[:n] {
			s := Summarize(e.Domain)
			md := e.Metadata
			args = append(args, int64(e.Position), e.FilingID, int64(e.Revision), e.ID, e.Type, md.ActorAccount, md.ActorRole,
				md.OccurredAt.UnixMilli(), e.RecordedAt.UnixMilli(), md.CommandID, md.CorrelationID, s.Zh, s.En, md.Hash, md.PrevHash)
		}
		if _, err := tx.Exec(ctx, t.SQL(auditInserts[n]), args...); err != nil {
			return fmt.Errorf("events %d to %d: %w", batch[0].Position, batch[n-1].Position, err)
		}
		batch = batch[n:]
	}
	return nil
}

const auditColumns = 15

// auditRowsPerInsert is 32, 8 or 1 rows: few statement texts, so that the
// read store keeps each prepared, and 32 rows bind 480 values, well within
// SQLite's and PostgreSQL's limits.
func auditRowsPerInsert(left int) int {
	for _, n := range []int{32, 8} {
		if left >= n {
			return n
		}
	}
	return 1
}

// auditInserts are the statements of each size auditRowsPerInsert picks,
// written once.
var auditInserts = map[int]string{32: auditInsert(32), 8: auditInsert(8), 1: auditInsert(1)}

func auditInsert(rows int) string {
	values := "(" + strings.Repeat("?, ", auditColumns-1) + "?)"
	return `INSERT INTO {audit} (position, filing_id, revision, event_id, type, actor_account, actor_role,
			occurred_at, recorded_at, command_id, correlation_id, summary_zh, summary_en, hash, prev_hash)
		VALUES ` + strings.Repeat(values+", ", rows-1) + values + ` ON CONFLICT (position) DO NOTHING`
}
