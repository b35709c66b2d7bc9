package commands

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// StartLiveness opens a video verification session for a website principal
// with the liveness provider (step 5).
type StartLiveness struct {
	FilingID  string
	WebsiteID string
}

type startLivenessHandler struct {
	exec     *Executor
	liveness LivenessVerifier
}

// NewStartLivenessHandler returns the handler, wrapped in logging and metrics.
func NewStartLivenessHandler(exec *Executor, liveness LivenessVerifier, logger *slog.Logger, metrics Metrics) Handler[StartLiveness] {
	if exec == nil || liveness == nil || logger == nil || metrics == nil {
		panic("commands.NewStartLivenessHandler: nil dependency")
	}
	return decorate[StartLiveness]("StartLiveness", startLivenessHandler{exec: exec, liveness: liveness}, logger, metrics)
}

// unopened stands in for a session the handler did not open because the
// domain will refuse the command anyway (no such website, no principal): it
// never reaches an event.
const unopened = "unopened"

func (h startLivenessHandler) Handle(ctx context.Context, m Meta, c StartLiveness) (Result, error) {
	return h.exec.run(ctx, c.FilingID, m, "StartLiveness", c, func(ctx context.Context, f domain.Filing, now time.Time) (domain.Command, []domain.FieldError, error) {
		cmd := domain.StartLiveness{WebsiteID: c.WebsiteID, SessionID: unopened, At: now}
		w := f.Website(c.WebsiteID)
		if w == nil || f.WebsitePrincipal(w) == nil || w.Liveness.State == domain.LivenessStatePassed {
			return cmd, nil, nil
		}
		p := f.WebsitePrincipal(w)
		session, err := h.liveness.StartSession(ctx, LivenessRequest{FilingID: f.ID, WebsiteID: w.ID, Name: p.Name, CertificateNumber: p.CertificateNumber})
		if err != nil {
			return nil, nil, fmt.Errorf("open liveness session: %w", err)
		}
		cmd.SessionID = session.ID
		return cmd, nil, nil
	})
}
