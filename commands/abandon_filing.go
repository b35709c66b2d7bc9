package commands

import (
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// AbandonFiling ends the filing for good (放弃备案), until the bureau has it.
type AbandonFiling struct {
	FilingID string
	Reason   string
}

// NewAbandonFilingHandler returns the handler, wrapped in logging and metrics.
func NewAbandonFilingHandler(exec *Executor, logger *slog.Logger, metrics Metrics) Handler[AbandonFiling] {
	return newSimpleHandler(exec, logger, metrics, "AbandonFiling", func(c AbandonFiling) string { return c.FilingID },
		func(c AbandonFiling, now time.Time) domain.Command {
			return domain.AbandonFiling{Reason: c.Reason, At: now}
		})
}
