package commands

import (
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// RejectByBureau sends the filing back to the applicant with the bureau's reasons.
type RejectByBureau struct {
	FilingID string
	Reasons  []domain.Reason
}

// NewRejectByBureauHandler returns the handler, wrapped in logging and metrics.
func NewRejectByBureauHandler(exec *Executor, logger *slog.Logger, metrics Metrics) Handler[RejectByBureau] {
	return newSimpleHandler(exec, logger, metrics, "RejectByBureau", func(c RejectByBureau) string { return c.FilingID },
		func(c RejectByBureau, now time.Time) domain.Command {
			return domain.RejectByBureau{Reasons: c.Reasons, At: now}
		})
}
