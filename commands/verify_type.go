package commands

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// VerifyType starts a filing (step 1): region, entity nature and certificate,
// domains and the cloud resource. The filing's id is derived from the
// account and the idempotency key.
type VerifyType struct {
	Province          string
	City              string
	District          string
	Nature            string
	CertificateType   string
	CertificateNumber string
	Domains           []string
	Resource          ResourceRef
}

// ResourceRef names a server of the account, or an authorization code.
type ResourceRef struct {
	Kind              string
	InstanceID        string
	AuthorizationCode string
}

// VerifyTypeDeps are the lookups step 1 makes.
type VerifyTypeDeps struct {
	Domains   DomainRegistry
	Filings   FilingRegistry
	Inventory CloudInventory
	Index     FilingIndex
}

type verifyTypeHandler struct {
	exec *Executor
	deps VerifyTypeDeps
}

// NewVerifyTypeHandler returns the handler, wrapped in logging and metrics.
func NewVerifyTypeHandler(exec *Executor, deps VerifyTypeDeps, logger *slog.Logger, metrics Metrics) Handler[VerifyType] {
	if exec == nil || deps.Domains == nil || deps.Filings == nil || deps.Inventory == nil || deps.Index == nil || logger == nil || metrics == nil {
		panic("commands.NewVerifyTypeHandler: nil dependency")
	}
	return decorate[VerifyType]("VerifyType", verifyTypeHandler{exec: exec, deps: deps}, logger, metrics)
}

func (h verifyTypeHandler) Handle(ctx context.Context, m Meta, c VerifyType) (Result, error) {
	filingID := NewFilingID(m.Actor.Account, m.IdempotencyKey)
	return h.exec.run(ctx, filingID, m, "VerifyType", c, func(ctx context.Context, _ domain.Filing, now time.Time) (domain.Command, []domain.FieldError, error) {
		domains, problems, err := lookupDomains(ctx, h.exec.rules, h.deps.Domains, "domains", c.Domains)
		if err != nil {
			return nil, nil, err
		}
		resource, err := lookupResource(ctx, h.deps.Inventory, m.Actor.Account, c.Resource)
		if err != nil {
			return nil, nil, err
		}
		var entity EntityStatus
		if c.CertificateNumber != "" {
			if entity, err = h.deps.Filings.LookupEntity(ctx, c.CertificateNumber); err != nil {
				return nil, nil, fmt.Errorf("look up entity: %w", err)
			}
		}
		open, err := h.deps.Index.OpenFiling(ctx, m.Actor.Account)
		if err != nil {
			return nil, nil, fmt.Errorf("look up open filings: %w", err)
		}
		return domain.VerifyType{
			FilingID: filingID, Account: m.Actor.Account,
			Province: c.Province, City: c.City, District: c.District,
			Nature: c.Nature, CertificateType: c.CertificateType, CertificateNumber: c.CertificateNumber,
			Domains: domains, Resource: resource,
			Facts: domain.PreparationFacts{EntityAlreadyFiled: entity.Filed, EntityInBureauElsewhere: entity.InBureauReview, AccountOpenFiling: open},
			At:    now,
		}, problems, nil
	})
}
