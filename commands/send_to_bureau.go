package commands

import (
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// SendToBureau submits an approved filing to the provincial bureau.
type SendToBureau struct {
	FilingID string
}

// NewSendToBureauHandler returns the handler, wrapped in logging and metrics.
func NewSendToBureauHandler(exec *Executor, logger *slog.Logger, metrics Metrics) Handler[SendToBureau] {
	return newSimpleHandler(exec, logger, metrics, "SendToBureau", func(c SendToBureau) string { return c.FilingID },
		func(_ SendToBureau, now time.Time) domain.Command { return domain.SendToBureau{At: now} })
}
