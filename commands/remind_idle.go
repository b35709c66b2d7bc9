package commands

import (
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// RemindIdle records a reminder to an applicant who left the filing idle for Day days.
type RemindIdle struct {
	FilingID string
	Day      int
}

// NewRemindIdleHandler returns the handler, wrapped in logging and metrics.
func NewRemindIdleHandler(exec *Executor, logger *slog.Logger, metrics Metrics) Handler[RemindIdle] {
	return newSimpleHandler(exec, logger, metrics, "RemindIdle", func(c RemindIdle) string { return c.FilingID },
		func(c RemindIdle, now time.Time) domain.Command { return domain.RemindIdle{Day: c.Day, At: now} })
}
