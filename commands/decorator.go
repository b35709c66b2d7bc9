package commands

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// Handler handles one kind of command.
type Handler[C any] interface {
	Handle(ctx context.Context, m Meta, c C) (Result, error)
}

// Metrics records command outcomes; the adapter exposes them (Prometheus).
type Metrics interface {
	CommandDone(command, outcome string, took time.Duration)
}

// Outcome classifies a command's result for logs and metrics.
func Outcome(res Result, err error) string {
	var ve *domain.ValidationError
	var ise *domain.InvalidStateError
	var fe *IdempotencyKeyReusedError
	var forbidden *ForbiddenError
	switch {
	case err == nil && res.Repeated:
		return "repeated"
	case err == nil:
		return "ok"
	case errors.As(err, &ve):
		return "validation"
	case errors.As(err, &ise):
		return "invalid_state"
	case errors.As(err, &forbidden):
		return "forbidden"
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrConflict), errors.As(err, &fe):
		return "conflict"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "cancelled"
	}
	return "error"
}

// decorate wraps a handler in logging and metrics, the same for every command.
func decorate[C any](name string, h Handler[C], logger *slog.Logger, metrics Metrics) Handler[C] {
	return observed[C]{name: name, next: h, logger: logger, metrics: metrics}
}

type observed[C any] struct {
	name    string
	next    Handler[C]
	logger  *slog.Logger
	metrics Metrics
}

func (o observed[C]) Handle(ctx context.Context, m Meta, c C) (Result, error) {
	start := time.Now()
	res, err := o.next.Handle(ctx, m, c)
	took := time.Since(start)
	outcome := Outcome(res, err)
	o.metrics.CommandDone(o.name, outcome, took)
	attrs := []any{"command", o.name, "filing", res.FilingID, "actor", m.Actor.Account, "role", m.Actor.Role,
		"outcome", outcome, "took", took, "correlation", m.CorrelationID}
	switch outcome {
	case "ok", "repeated":
		o.logger.DebugContext(ctx, "command", append(attrs, "revision", res.Revision, "position", res.Position)...)
	case "error":
		o.logger.ErrorContext(ctx, "command failed", append(attrs, "err", err)...)
	default:
		o.logger.InfoContext(ctx, "command refused", append(attrs, "err", err)...)
	}
	return res, err
}

// NopMetrics discards metrics.
type NopMetrics struct{}

// CommandDone does nothing.
func (NopMetrics) CommandDone(string, string, time.Duration) {}
