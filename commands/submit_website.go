package commands

import (
	"context"
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// SubmitWebsite adds a website (empty WebsiteID) or amends one (step 3).
type SubmitWebsite struct {
	FilingID       string
	WebsiteID      string
	Name           string
	Domains        []string
	HomepageURLs   []string
	ServiceContent []string
	PreApprovals   []domain.PreApproval
	Remarks        string
}

type submitWebsiteHandler struct {
	exec     *Executor
	registry DomainRegistry
}

// NewSubmitWebsiteHandler returns the handler, wrapped in logging and metrics.
func NewSubmitWebsiteHandler(exec *Executor, registry DomainRegistry, logger *slog.Logger, metrics Metrics) Handler[SubmitWebsite] {
	if exec == nil || registry == nil || logger == nil || metrics == nil {
		panic("commands.NewSubmitWebsiteHandler: nil dependency")
	}
	return decorate[SubmitWebsite]("SubmitWebsite", submitWebsiteHandler{exec: exec, registry: registry}, logger, metrics)
}

func (h submitWebsiteHandler) Handle(ctx context.Context, m Meta, c SubmitWebsite) (Result, error) {
	return h.exec.run(ctx, c.FilingID, m, "SubmitWebsite", c, func(ctx context.Context, _ domain.Filing, now time.Time) (domain.Command, []domain.FieldError, error) {
		domains, problems, err := lookupDomains(ctx, h.exec.rules, h.registry, "domains", c.Domains)
		if err != nil {
			return nil, nil, err
		}
		return domain.SubmitWebsite{
			WebsiteID: c.WebsiteID, Name: c.Name, Domains: domains, HomepageURLs: c.HomepageURLs,
			ServiceContent: c.ServiceContent, PreApprovals: c.PreApprovals, Remarks: c.Remarks, At: now,
		}, problems, nil
	})
}
