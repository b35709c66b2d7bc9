package commands

import (
	"context"
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// SubmitForReview agrees to the terms and submits the filing to the
// provider's initial review. The cloud resource is looked up again: a
// server can expire or fill up between step 1 and submission.
type SubmitForReview struct {
	FilingID     string
	TermsVersion string
}

type submitForReviewHandler struct {
	exec      *Executor
	inventory CloudInventory
}

// NewSubmitForReviewHandler returns the handler, wrapped in logging and metrics.
func NewSubmitForReviewHandler(exec *Executor, inventory CloudInventory, logger *slog.Logger, metrics Metrics) Handler[SubmitForReview] {
	if exec == nil || inventory == nil || logger == nil || metrics == nil {
		panic("commands.NewSubmitForReviewHandler: nil dependency")
	}
	return decorate[SubmitForReview]("SubmitForReview", submitForReviewHandler{exec: exec, inventory: inventory}, logger, metrics)
}

func (h submitForReviewHandler) Handle(ctx context.Context, m Meta, c SubmitForReview) (Result, error) {
	return h.exec.run(ctx, c.FilingID, m, "SubmitForReview", c, func(ctx context.Context, f domain.Filing, now time.Time) (domain.Command, []domain.FieldError, error) {
		ref := ResourceRef{Kind: f.Resource.Kind, InstanceID: f.Resource.InstanceID, AuthorizationCode: f.Resource.AuthorizationCode}
		fresh, err := lookupResource(ctx, h.inventory, f.Account, ref)
		if err != nil {
			return nil, nil, err
		}
		return domain.SubmitForReview{TermsVersion: c.TermsVersion, Resource: &fresh, At: now}, nil, nil
	})
}
