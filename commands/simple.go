package commands

import (
	"context"
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// simpleHandler runs a command that needs nothing from outside: the domain
// command follows from the input and the time.
type simpleHandler[C any] struct {
	exec   *Executor
	name   string
	filing func(C) string
	build  func(C, time.Time) domain.Command
}

func newSimpleHandler[C any](exec *Executor, logger *slog.Logger, metrics Metrics, name string,
	filing func(C) string, build func(C, time.Time) domain.Command) Handler[C] {
	if exec == nil || logger == nil || metrics == nil {
		panic("commands.New" + name + "Handler: nil dependency")
	}
	return decorate[C](name, simpleHandler[C]{exec: exec, name: name, filing: filing, build: build}, logger, metrics)
}

func (h simpleHandler[C]) Handle(ctx context.Context, m Meta, c C) (Result, error) {
	return h.exec.run(ctx, h.filing(c), m, h.name, c, func(_ context.Context, _ domain.Filing, now time.Time) (domain.Command, []domain.FieldError, error) {
		return h.build(c, now), nil, nil
	})
}
