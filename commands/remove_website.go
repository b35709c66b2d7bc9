package commands

import (
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// RemoveWebsite takes a website out of the filing before submission.
type RemoveWebsite struct {
	FilingID  string
	WebsiteID string
}

// NewRemoveWebsiteHandler returns the handler, wrapped in logging and metrics.
func NewRemoveWebsiteHandler(exec *Executor, logger *slog.Logger, metrics Metrics) Handler[RemoveWebsite] {
	return newSimpleHandler(exec, logger, metrics, "RemoveWebsite", func(c RemoveWebsite) string { return c.FilingID },
		func(c RemoveWebsite, now time.Time) domain.Command {
			return domain.RemoveWebsite{WebsiteID: c.WebsiteID, At: now}
		})
}
