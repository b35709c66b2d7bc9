package projections

import (
	"context"
	"errors"

	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/readstore"
)

// Statistics counts filings by status and province and records how long
// each review took, for medians.
type Statistics struct{}

func (Statistics) Name() string { return "stats" }
func (Statistics) Version() int { return 1 }
func (Statistics) Tables() []string {
	return []string{"stats_filings", "stats_counts", "stats_reviews"}
}

func (Statistics) Schema() []string {
	return []string{
		`CREATE TABLE IF NOT EXISTS {stats_filings} (
			filing_id  TEXT   PRIMARY KEY,
			status     TEXT   NOT NULL,
			province   TEXT   NOT NULL,
			submission BIGINT NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS {stats_counts} (
			status   TEXT   NOT NULL,
			province TEXT   NOT NULL,
			n        BIGINT NOT NULL,
			PRIMARY KEY (status, province)
		)`,
		`CREATE TABLE IF NOT EXISTS {stats_reviews} (
			filing_id  TEXT   NOT NULL,
			stage      TEXT   NOT NULL,
			round      BIGINT NOT NULL,
			started_at BIGINT NOT NULL,
			seconds    BIGINT NOT NULL,
			decided    BIGINT NOT NULL,
			PRIMARY KEY (filing_id, stage, round)
		)`,
		`CREATE INDEX IF NOT EXISTS {stats_reviews}_time ON {stats_reviews} (stage, decided, seconds)`,
	}
}

// Apply moves the filing between counters and times its reviews.
func (p Statistics) Apply(ctx context.Context, tx readstore.Tx, t Tables, batch []Event) error {
	return applyEach(ctx, tx, t, batch, p.apply)
}

func (Statistics) apply(ctx context.Context, tx readstore.Tx, t Tables, e Event) error {
	if status, changes := domain.StatusAfter(e.Domain); changes {
		if err := moveCount(ctx, tx, t, e, status); err != nil {
			return err
		}
	}
	at := e.Domain.OccurredAt().UnixMilli()
	switch d := e.Domain.(type) {
	case domain.SubmittedForReview:
		return startReview(ctx, tx, t, e.FilingID, domain.StageInitial, int64(d.Submission), at)
	case domain.InitialReviewApproved, domain.InitialReviewRejected:
		return decideReview(ctx, tx, t, e.FilingID, domain.StageInitial, at)
	case domain.Withdrawn:
		_, err := tx.Exec(ctx, t.SQL(`DELETE FROM {stats_reviews} WHERE filing_id = ? AND stage = ? AND decided = 0`), e.FilingID, domain.StageInitial)
		return err
	case domain.SentToBureau:
		return startReview(ctx, tx, t, e.FilingID, domain.StageBureau, int64(e.Revision), at)
	case domain.BureauApproved, domain.BureauRejected:
		return decideReview(ctx, tx, t, e.FilingID, domain.StageBureau, at)
	}
	return nil
}

func moveCount(ctx context.Context, tx readstore.Tx, t Tables, e Event, status domain.Status) error {
	var old, province string
	err := tx.QueryRow(ctx, t.SQL(`SELECT status, province FROM {stats_filings} WHERE filing_id = ?`), e.FilingID).Scan(&old, &province)
	switch {
	case errors.Is(err, readstore.ErrNoRows):
		v, ok := e.Domain.(domain.TypeVerified)
		if !ok {
			return nil // a filing whose start this generation never saw cannot be counted
		}
		province = v.Province
		if _, err := tx.Exec(ctx, t.SQL(`INSERT INTO {stats_filings} (filing_id, status, province, submission) VALUES (?, ?, ?, 0)`),
			e.FilingID, string(status), province); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if _, err := tx.Exec(ctx, t.SQL(`UPDATE {stats_counts} SET n = n - 1 WHERE status = ? AND province = ?`), old, province); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, t.SQL(`UPDATE {stats_filings} SET status = ? WHERE filing_id = ?`), string(status), e.FilingID); err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, t.SQL(`INSERT INTO {stats_counts} (status, province, n) VALUES (?, ?, 1)
		ON CONFLICT (status, province) DO UPDATE SET n = {stats_counts}.n + 1`), string(status), province)
	return err
}

func startReview(ctx context.Context, tx readstore.Tx, t Tables, filing, stage string, round, at int64) error {
	_, err := tx.Exec(ctx, t.SQL(`INSERT INTO {stats_reviews} (filing_id, stage, round, started_at, seconds, decided) VALUES (?, ?, ?, ?, 0, 0)
		ON CONFLICT (filing_id, stage, round) DO NOTHING`), filing, stage, round, at)
	return err
}

func decideReview(ctx context.Context, tx readstore.Tx, t Tables, filing, stage string, at int64) error {
	_, err := tx.Exec(ctx, t.SQL(`UPDATE {stats_reviews} SET decided = 1, seconds = (? - started_at) / 1000
		WHERE filing_id = ? AND stage = ? AND decided = 0`), at, filing, stage)
	return err
}
