package commands

import (
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// FailLiveness is the liveness provider's verdict against, with its reasons.
type FailLiveness struct {
	FilingID  string
	WebsiteID string
	SessionID string
	Reasons   []string
}

// NewFailLivenessHandler returns the handler, wrapped in logging and metrics.
func NewFailLivenessHandler(exec *Executor, logger *slog.Logger, metrics Metrics) Handler[FailLiveness] {
	return newSimpleHandler(exec, logger, metrics, "FailLiveness", func(c FailLiveness) string { return c.FilingID },
		func(c FailLiveness, now time.Time) domain.Command {
			return domain.FailLiveness{WebsiteID: c.WebsiteID, SessionID: c.SessionID, Reasons: c.Reasons, At: now}
		})
}
