package projections

import (
	"context"

	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/readstore"
)

// ReviewQueue lists the filings waiting for the provider's initial review,
// with their due times, for reviewers to take in order.
type ReviewQueue struct{}

func (ReviewQueue) Name() string     { return "review_queue" }
func (ReviewQueue) Version() int     { return 1 }
func (ReviewQueue) Tables() []string { return []string{"review_queue", "review_filings"} }

func (ReviewQueue) Schema() []string {
	return []string{
		`CREATE TABLE IF NOT EXISTS {review_queue} (
			filing_id    TEXT   PRIMARY KEY,
			province     TEXT   NOT NULL,
			entity_name  TEXT   NOT NULL,
			submission   BIGINT NOT NULL,
			submitted_at BIGINT NOT NULL,
			due_at       BIGINT NOT NULL,
			flagged      BIGINT NOT NULL
		)`,
		// What the queue shows of filings that are not waiting yet.
		`CREATE TABLE IF NOT EXISTS {review_filings} (
			filing_id   TEXT PRIMARY KEY,
			province    TEXT NOT NULL,
			entity_name TEXT NOT NULL
		)`,
	}
}

func (ReviewQueue) Indexes() []string {
	return []string{
		`CREATE INDEX IF NOT EXISTS {review_queue}_due ON {review_queue} (due_at, filing_id)`,
		`CREATE INDEX IF NOT EXISTS {review_queue}_province ON {review_queue} (province, due_at, filing_id)`,
	}
}

// Apply keeps the queue: in on submission, out on a decision or withdrawal.
func (p ReviewQueue) Apply(ctx context.Context, tx readstore.Tx, t Tables, batch []Event) error {
	return applyEach(ctx, tx, t, batch, p.apply)
}

func (ReviewQueue) apply(ctx context.Context, tx readstore.Tx, t Tables, e Event) error {
	var err error
	switch d := e.Domain.(type) {
	case domain.TypeVerified:
		_, err = tx.Exec(ctx, t.SQL(`INSERT INTO {review_filings} (filing_id, province, entity_name) VALUES (?, ?, '')
			ON CONFLICT (filing_id) DO NOTHING`), e.FilingID, d.Province)
	case domain.EntitySubmitted:
		_, err = tx.Exec(ctx, t.SQL(`UPDATE {review_filings} SET entity_name = ? WHERE filing_id = ?`), d.Entity.Name, e.FilingID)
	case domain.SubmittedForReview:
		_, err = tx.Exec(ctx, t.SQL(`INSERT INTO {review_queue} (filing_id, province, entity_name, submission, submitted_at, due_at, flagged)
			SELECT filing_id, province, entity_name, ?, ?, ?, 0 FROM {review_filings} WHERE filing_id = ?
			ON CONFLICT (filing_id) DO UPDATE SET submission = excluded.submission, submitted_at = excluded.submitted_at,
				due_at = excluded.due_at, flagged = 0, entity_name = excluded.entity_name`),
			int64(d.Submission), d.At.UnixMilli(), d.DueAt.UnixMilli(), e.FilingID)
	case domain.ReviewOverdue:
		if d.Stage == domain.StageInitial {
			_, err = tx.Exec(ctx, t.SQL(`UPDATE {review_queue} SET flagged = 1 WHERE filing_id = ?`), e.FilingID)
		}
	case domain.InitialReviewApproved, domain.InitialReviewRejected, domain.Withdrawn, domain.Abandoned:
		_, err = tx.Exec(ctx, t.SQL(`DELETE FROM {review_queue} WHERE filing_id = ?`), e.FilingID)
	}
	return err
}
