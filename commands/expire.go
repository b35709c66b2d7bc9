package commands

import (
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// Expire closes a filing left idle for 45 days.
type Expire struct {
	FilingID string
}

// NewExpireHandler returns the handler, wrapped in logging and metrics.
func NewExpireHandler(exec *Executor, logger *slog.Logger, metrics Metrics) Handler[Expire] {
	return newSimpleHandler(exec, logger, metrics, "Expire", func(c Expire) string { return c.FilingID },
		func(_ Expire, now time.Time) domain.Command { return domain.Expire{At: now} })
}
