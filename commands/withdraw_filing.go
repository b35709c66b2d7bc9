package commands

import (
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// WithdrawFiling takes a submitted filing back to draft before the initial review is decided (撤销).
type WithdrawFiling struct {
	FilingID string
	Reason   string
}

// NewWithdrawFilingHandler returns the handler, wrapped in logging and metrics.
func NewWithdrawFilingHandler(exec *Executor, logger *slog.Logger, metrics Metrics) Handler[WithdrawFiling] {
	return newSimpleHandler(exec, logger, metrics, "WithdrawFiling", func(c WithdrawFiling) string { return c.FilingID },
		func(c WithdrawFiling, now time.Time) domain.Command {
			return domain.WithdrawFiling{Reason: c.Reason, At: now}
		})
}
