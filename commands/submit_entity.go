package commands

import (
	"context"
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// SubmitEntity fills in or amends the entity and its principal (step 2).
type SubmitEntity struct {
	FilingID string
	Entity   domain.Entity
}

type submitEntityHandler struct {
	exec        *Executor
	attribution NumberAttribution
}

// NewSubmitEntityHandler returns the handler, wrapped in logging and metrics.
func NewSubmitEntityHandler(exec *Executor, attribution NumberAttribution, logger *slog.Logger, metrics Metrics) Handler[SubmitEntity] {
	if exec == nil || attribution == nil || logger == nil || metrics == nil {
		panic("commands.NewSubmitEntityHandler: nil dependency")
	}
	return decorate[SubmitEntity]("SubmitEntity", submitEntityHandler{exec: exec, attribution: attribution}, logger, metrics)
}

func (h submitEntityHandler) Handle(ctx context.Context, m Meta, c SubmitEntity) (Result, error) {
	return h.exec.run(ctx, c.FilingID, m, "SubmitEntity", c, func(ctx context.Context, _ domain.Filing, now time.Time) (domain.Command, []domain.FieldError, error) {
		province, err := mobileProvince(ctx, h.attribution, c.Entity.Principal.Mobile)
		if err != nil {
			return nil, nil, err
		}
		return domain.SubmitEntity{Entity: c.Entity, MobileProvince: province, At: now}, nil, nil
	})
}
