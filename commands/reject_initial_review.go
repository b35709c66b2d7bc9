package commands

import (
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// RejectInitialReview sends the filing back to the applicant with field-level reasons.
type RejectInitialReview struct {
	FilingID string
	Reasons  []domain.Reason
}

// NewRejectInitialReviewHandler returns the handler, wrapped in logging and metrics.
func NewRejectInitialReviewHandler(exec *Executor, logger *slog.Logger, metrics Metrics) Handler[RejectInitialReview] {
	return newSimpleHandler(exec, logger, metrics, "RejectInitialReview", func(c RejectInitialReview) string { return c.FilingID },
		func(c RejectInitialReview, now time.Time) domain.Command {
			return domain.RejectInitialReview{Reasons: c.Reasons, At: now}
		})
}
