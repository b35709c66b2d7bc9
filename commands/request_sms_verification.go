package commands

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// RequestSmsVerification has MIIT's SMS platform send each principal a code
// and records (hashes of) them: the bureau's step after receiving a filing.
type RequestSmsVerification struct {
	FilingID string
}

type requestSmsVerificationHandler struct {
	exec *Executor
	sms  SMSPlatform
}

// NewRequestSmsVerificationHandler returns the handler, wrapped in logging and metrics.
func NewRequestSmsVerificationHandler(exec *Executor, sms SMSPlatform, logger *slog.Logger, metrics Metrics) Handler[RequestSmsVerification] {
	if exec == nil || sms == nil || logger == nil || metrics == nil {
		panic("commands.NewRequestSmsVerificationHandler: nil dependency")
	}
	return decorate[RequestSmsVerification]("RequestSmsVerification", requestSmsVerificationHandler{exec: exec, sms: sms}, logger, metrics)
}

func (h requestSmsVerificationHandler) Handle(ctx context.Context, m Meta, c RequestSmsVerification) (Result, error) {
	return h.exec.run(ctx, c.FilingID, m, "RequestSmsVerification", c, func(ctx context.Context, f domain.Filing, now time.Time) (domain.Command, []domain.FieldError, error) {
		cmd := domain.RequestSmsVerification{At: now}
		if f.Status != domain.StatusSentToBureau {
			return cmd, nil, nil // the domain refuses it; send nothing
		}
		var mobiles []string
		for _, r := range domain.SMSRecipients(f) {
			mobiles = append(mobiles, r.Mobile)
		}
		codes, err := h.sms.SendCodes(ctx, f.ID, mobiles)
		if err != nil {
			return nil, nil, fmt.Errorf("send SMS codes: %w", err)
		}
		cmd.Codes = codes
		return cmd, nil, nil
	})
}
