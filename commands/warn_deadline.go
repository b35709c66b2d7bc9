package commands

import (
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// WarnDeadline announces that a review or the SMS codes are due soon; the
// deadline timers fire it.
type WarnDeadline struct {
	FilingID string
	Kind     string
}

// NewWarnDeadlineHandler returns the handler, wrapped in logging and metrics.
func NewWarnDeadlineHandler(exec *Executor, logger *slog.Logger, metrics Metrics) Handler[WarnDeadline] {
	return newSimpleHandler(exec, logger, metrics, "WarnDeadline", func(c WarnDeadline) string { return c.FilingID },
		func(c WarnDeadline, now time.Time) domain.Command { return domain.WarnDeadline{Kind: c.Kind, At: now} })
}
