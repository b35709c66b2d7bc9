package commands

import (
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// PassLiveness is the liveness provider's verdict that the website principal is who the filing says.
type PassLiveness struct {
	FilingID  string
	WebsiteID string
	SessionID string
}

// NewPassLivenessHandler returns the handler, wrapped in logging and metrics.
func NewPassLivenessHandler(exec *Executor, logger *slog.Logger, metrics Metrics) Handler[PassLiveness] {
	return newSimpleHandler(exec, logger, metrics, "PassLiveness", func(c PassLiveness) string { return c.FilingID },
		func(c PassLiveness, now time.Time) domain.Command {
			return domain.PassLiveness{WebsiteID: c.WebsiteID, SessionID: c.SessionID, At: now}
		})
}
