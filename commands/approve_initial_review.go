package commands

import (
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// ApproveInitialReview is the provider reviewer's approval.
type ApproveInitialReview struct {
	FilingID string
	Note     string
}

// NewApproveInitialReviewHandler returns the handler, wrapped in logging and metrics.
func NewApproveInitialReviewHandler(exec *Executor, logger *slog.Logger, metrics Metrics) Handler[ApproveInitialReview] {
	return newSimpleHandler(exec, logger, metrics, "ApproveInitialReview", func(c ApproveInitialReview) string { return c.FilingID },
		func(c ApproveInitialReview, now time.Time) domain.Command {
			return domain.ApproveInitialReview{Note: c.Note, At: now}
		})
}
