package projections

import (
	"context"
	"errors"
	"fmt"

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
	}
}

func (Statistics) Indexes() []string {
	return []string{
		`CREATE INDEX IF NOT EXISTS {stats_reviews}_time ON {stats_reviews} (stage, decided, seconds)`,
	}
}

// Apply moves each filing of the batch between counters and times its
// reviews. A filing's row is read and written once per batch, and each
// counter changed once, by the sum of the batch's moves.
func (p Statistics) Apply(ctx context.Context, tx readstore.Tx, t Tables, batch []Event) error {
	counts := counters{delta: map[statusProvince]int64{}}
	for _, run := range runsByFiling(batch) {
		if err := p.fold(ctx, tx, t, run, &counts); err != nil {
			return err
		}
	}
	for _, k := range counts.order {
		if _, err := tx.Exec(ctx, t.SQL(`INSERT INTO {stats_counts} (status, province, n) VALUES (?, ?, ?)
			ON CONFLICT (status, province) DO UPDATE SET n = {stats_counts}.n + excluded.n`), k.status, k.province, counts.delta[k]); err != nil {
			return err
		}
	}
	return nil
}

type statusProvince struct{ status, province string }

// counters sums a batch's moves per counter. A counter moved to and from
// within the batch is still written (by 0), as one event at a time would
// have created it.
type counters struct {
	delta map[statusProvince]int64
	order []statusProvince // first moved first
}

func (c *counters) add(status, province string, n int64) {
	k := statusProvince{status, province}
	if _, seen := c.delta[k]; !seen {
		c.order = append(c.order, k)
	}
	c.delta[k] += n
}

// fold applies one filing's events of the batch: its status moves between
// counters, and its reviews start and end. A filing whose start this
// generation never saw cannot be counted.
func (Statistics) fold(ctx context.Context, tx readstore.Tx, t Tables, run filingRun, counts *counters) error {
	id := run[0].FilingID
	var stored, province string
	err := tx.QueryRow(ctx, t.SQL(`SELECT status, province FROM {stats_filings} WHERE filing_id = ?`), id).Scan(&stored, &province)
	known := err == nil
	if err != nil && !errors.Is(err, readstore.ErrNoRows) {
		return err
	}
	missing, status := !known, stored
	for _, e := range run {
		if next, changes := domain.StatusAfter(e.Domain); changes {
			if known {
				counts.add(status, province, -1)
			} else if v, ok := e.Domain.(domain.TypeVerified); ok {
				known, province = true, v.Province
			}
			if known {
				status = string(next)
				counts.add(status, province, 1)
			}
		}
		if err := timeReview(ctx, tx, t, e); err != nil {
			return fmt.Errorf("event %d (%s): %w", e.Position, e.Type, err)
		}
	}
	switch {
	case !known || status == stored:
		return nil
	case missing:
		_, err = tx.Exec(ctx, t.SQL(`INSERT INTO {stats_filings} (filing_id, status, province, submission) VALUES (?, ?, ?, 0)`), id, status, province)
	default:
		_, err = tx.Exec(ctx, t.SQL(`UPDATE {stats_filings} SET status = ? WHERE filing_id = ?`), status, id)
	}
	return err
}

// timeReview starts and ends the review rounds an event starts and ends.
func timeReview(ctx context.Context, tx readstore.Tx, t Tables, e Event) error {
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
