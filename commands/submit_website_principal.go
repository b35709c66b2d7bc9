package commands

import (
	"context"
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// SubmitWebsitePrincipal fills in or amends a website's principal (step 4).
type SubmitWebsitePrincipal struct {
	FilingID   string
	WebsiteID  string
	Principal  domain.Person
	IsLegalRep bool
}

type submitWebsitePrincipalHandler struct {
	exec        *Executor
	attribution NumberAttribution
}

// NewSubmitWebsitePrincipalHandler returns the handler, wrapped in logging and metrics.
func NewSubmitWebsitePrincipalHandler(exec *Executor, attribution NumberAttribution, logger *slog.Logger, metrics Metrics) Handler[SubmitWebsitePrincipal] {
	if exec == nil || attribution == nil || logger == nil || metrics == nil {
		panic("commands.NewSubmitWebsitePrincipalHandler: nil dependency")
	}
	return decorate[SubmitWebsitePrincipal]("SubmitWebsitePrincipal", submitWebsitePrincipalHandler{exec: exec, attribution: attribution}, logger, metrics)
}

func (h submitWebsitePrincipalHandler) Handle(ctx context.Context, m Meta, c SubmitWebsitePrincipal) (Result, error) {
	return h.exec.run(ctx, c.FilingID, m, "SubmitWebsitePrincipal", c, func(ctx context.Context, _ domain.Filing, now time.Time) (domain.Command, []domain.FieldError, error) {
		province, err := mobileProvince(ctx, h.attribution, c.Principal.Mobile)
		if err != nil {
			return nil, nil, err
		}
		return domain.SubmitWebsitePrincipal{WebsiteID: c.WebsiteID, Principal: c.Principal, IsLegalRep: c.IsLegalRep,
			MobileProvince: province, At: now}, nil, nil
	})
}
