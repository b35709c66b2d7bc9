package commands

import (
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// RemoveMaterial detaches a material.
type RemoveMaterial struct {
	FilingID string
	Kind     string
	Scope    string
}

// NewRemoveMaterialHandler returns the handler, wrapped in logging and metrics.
func NewRemoveMaterialHandler(exec *Executor, logger *slog.Logger, metrics Metrics) Handler[RemoveMaterial] {
	return newSimpleHandler(exec, logger, metrics, "RemoveMaterial", func(c RemoveMaterial) string { return c.FilingID },
		func(c RemoveMaterial, now time.Time) domain.Command {
			return domain.RemoveMaterial{Kind: c.Kind, Scope: c.Scope, At: now}
		})
}
