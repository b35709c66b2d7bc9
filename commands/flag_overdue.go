package commands

import (
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// FlagOverdue records that a review passed its due time.
type FlagOverdue struct {
	FilingID string
	Stage    string
}

// NewFlagOverdueHandler returns the handler, wrapped in logging and metrics.
func NewFlagOverdueHandler(exec *Executor, logger *slog.Logger, metrics Metrics) Handler[FlagOverdue] {
	return newSimpleHandler(exec, logger, metrics, "FlagOverdue", func(c FlagOverdue) string { return c.FilingID },
		func(c FlagOverdue, now time.Time) domain.Command { return domain.FlagOverdue{Stage: c.Stage, At: now} })
}
