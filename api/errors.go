package api

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/beian/beian/commands"
	"github.com/beian/beian/domain"
	"github.com/beian/beian/projections"
)

// Error codes of GraphQL errors' extensions.code (shared/spec/api.md).
const (
	CodeValidation      = "VALIDATION"
	CodeInvalidState    = "INVALID_STATE"
	CodeConflict        = "CONFLICT"
	CodeNotFound        = "NOT_FOUND"
	CodeForbidden       = "FORBIDDEN"
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeRateLimited     = "RATE_LIMITED"
	CodeInternal        = "INTERNAL"
)

// apiError is an error a client can act on: a code, a message in both
// languages, and for validation errors every failing field.
type apiError struct {
	code    string
	message domain.Message
	fields  []domain.FieldError
	status  domain.Status
}

func (e *apiError) Error() string { return e.message.En }

// Extensions puts the code (and fields) into the GraphQL error.
func (e *apiError) Extensions() map[string]any {
	ext := map[string]any{"code": e.code, "message": e.message}
	if e.fields != nil {
		ext["fields"] = e.fields
	}
	if e.status != "" {
		ext["status"] = string(e.status)
	}
	return ext
}

func newError(code, zh, en string) *apiError {
	return &apiError{code: code, message: domain.Message{Zh: zh, En: en}}
}

func errUnauthenticated() *apiError {
	return newError(CodeUnauthenticated, "请先登录（Authorization: Bearer 令牌）", "a bearer token is required")
}

func errForbidden() *apiError {
	return newError(CodeForbidden, "无权执行此操作", "your role may not do this")
}

func errNotFound() *apiError {
	return newError(CodeNotFound, "备案不存在", "no such filing")
}

// errValidation names the failing fields in its message too, for clients
// that show only the message.
func errValidation(fields ...domain.FieldError) *apiError {
	zh, en := make([]string, 0, len(fields)), make([]string, 0, len(fields))
	for _, f := range fields {
		zh = append(zh, f.Path+"："+f.Message.Zh)
		en = append(en, f.Path+": "+f.Message.En)
	}
	return &apiError{code: CodeValidation, fields: fields, message: domain.Message{
		Zh: "输入有误：" + strings.Join(zh, "；"), En: "invalid input: " + strings.Join(en, "; ")}}
}

// mapError turns any error of the layers below into the one error a client
// sees. Unexpected errors are logged and hidden behind INTERNAL.
func mapError(ctx context.Context, logger *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	var (
		api       *apiError
		ve        *domain.ValidationError
		ise       *domain.InvalidStateError
		forbidden *commands.ForbiddenError
		reused    *commands.IdempotencyKeyReusedError
	)
	switch {
	case errors.As(err, &api):
		return api
	case errors.As(err, &ve):
		return errValidation(ve.Fields...)
	case errors.As(err, &ise):
		if ise.Status == domain.StatusNone {
			return errNotFound()
		}
		return &apiError{code: CodeInvalidState, message: ise.Reason, status: ise.Status}
	case errors.As(err, &forbidden):
		return errForbidden()
	case errors.Is(err, commands.ErrNotFound), errors.Is(err, projections.ErrNotFound):
		return errNotFound()
	case errors.As(err, &reused):
		return newError(CodeConflict, "幂等键已用于不同的请求", "the idempotency key was used for a different request")
	case errors.Is(err, commands.ErrConflict):
		return newError(CodeConflict, "备案正被同时修改，请重试", "the filing changed meanwhile; try again")
	case errors.Is(err, projections.ErrBadCursor):
		return errValidation(domain.FieldError{Path: "after", Code: "cursor.invalid", Message: domain.Message{Zh: "分页游标无效", En: "invalid cursor"}})
	case errors.Is(err, context.DeadlineExceeded):
		return newError(CodeInternal, "请求超时", "the request timed out")
	}
	logger.ErrorContext(ctx, "request failed", "err", err)
	return newError(CodeInternal, "服务器内部错误", "internal error")
}
