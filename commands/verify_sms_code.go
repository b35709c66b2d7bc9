package commands

import (
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// VerifySmsCode is a principal confirming the MIIT SMS code.
type VerifySmsCode struct {
	FilingID   string
	Mobile     string
	CertSuffix string
	Code       string
}

// NewVerifySmsCodeHandler returns the handler, wrapped in logging and metrics.
func NewVerifySmsCodeHandler(exec *Executor, logger *slog.Logger, metrics Metrics) Handler[VerifySmsCode] {
	return newSimpleHandler(exec, logger, metrics, "VerifySmsCode", func(c VerifySmsCode) string { return c.FilingID },
		func(c VerifySmsCode, now time.Time) domain.Command {
			return domain.VerifySmsCode{Mobile: c.Mobile, CertSuffix: c.CertSuffix, Code: c.Code, At: now}
		})
}
