package commands

import (
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// ApproveByBureau issues the ICP numbers with the serial the bureau assigned.
type ApproveByBureau struct {
	FilingID string
	Serial   string
}

// NewApproveByBureauHandler returns the handler, wrapped in logging and metrics.
func NewApproveByBureauHandler(exec *Executor, logger *slog.Logger, metrics Metrics) Handler[ApproveByBureau] {
	return newSimpleHandler(exec, logger, metrics, "ApproveByBureau", func(c ApproveByBureau) string { return c.FilingID },
		func(c ApproveByBureau, now time.Time) domain.Command {
			return domain.ApproveByBureau{Serial: c.Serial, At: now}
		})
}
