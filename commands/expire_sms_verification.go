package commands

import (
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// ExpireSmsVerification returns a filing whose SMS codes were not all confirmed within 24 hours to the provider.
type ExpireSmsVerification struct {
	FilingID string
}

// NewExpireSmsVerificationHandler returns the handler, wrapped in logging and metrics.
func NewExpireSmsVerificationHandler(exec *Executor, logger *slog.Logger, metrics Metrics) Handler[ExpireSmsVerification] {
	return newSimpleHandler(exec, logger, metrics, "ExpireSmsVerification", func(c ExpireSmsVerification) string { return c.FilingID },
		func(_ ExpireSmsVerification, now time.Time) domain.Command {
			return domain.ExpireSmsVerification{At: now}
		})
}
