package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/beian/beian/commands"
	"github.com/beian/beian/domain"
	"github.com/labstack/echo/v4"
)

// upload stores a material or certificate image (multipart field "file")
// and returns its reference. The type is judged by content; the name the
// client gave is ignored.
func (s *Server) upload(c echo.Context) error {
	ctx, err := s.authenticate(c)
	if err != nil {
		return err
	}
	who, ok := IdentityFrom(ctx)
	switch {
	case !ok:
		return errUnauthenticated()
	case who.Role != commands.RoleApplicant && who.Role != commands.RoleAdmin:
		return errForbidden()
	}
	// The multipart envelope adds a little to the file's own limit.
	c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, s.cfg.Limits.MaxUploadBytes+64<<10)
	reader, err := c.Request().MultipartReader()
	if err != nil {
		return newError(CodeValidation, "请以 multipart/form-data 上传，字段名 file", "upload as multipart/form-data with a field named file")
	}
	for {
		part, err := reader.NextPart()
		if errors.Is(err, io.EOF) {
			return newError(CodeValidation, "缺少 file 字段", "the upload has no field named file")
		}
		if err != nil {
			return malformedUpload(err, s.cfg.Limits.MaxUploadBytes)
		}
		if part.FormName() != "file" {
			continue
		}
		in := &partReader{r: part}
		info, err := s.cfg.Blobs.Put(ctx, in)
		if in.err != nil {
			return malformedUpload(in.err, s.cfg.Limits.MaxUploadBytes)
		}
		if err != nil {
			return uploadError(err, s.cfg.Limits.MaxUploadBytes)
		}
		return c.JSON(http.StatusCreated, map[string]any{"sha256": info.SHA256, "size": info.Size, "contentType": info.ContentType})
	}
}

// partReader remembers why reading the client's body failed, so that a
// malformed or oversized body is told apart from a failure to store it.
type partReader struct {
	r   io.Reader
	err error
}

func (p *partReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if err != nil && !errors.Is(err, io.EOF) {
		p.err = err
	}
	return n, err
}

// malformedUpload answers a body that cannot be read as multipart: the
// client's mistake (or too large), never the server's.
func malformedUpload(err error, limit int64) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return uploadError(err, limit)
	}
	return errValidation(domain.FieldError{Path: "file", Code: "upload.malformed",
		Message: domain.Message{Zh: "multipart 请求体格式错误", En: "the multipart body is malformed"}})
}

func uploadError(err error, limit int64) error {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge) || errors.Is(err, commands.ErrBlobTooLarge):
		return errValidation(domain.FieldError{Path: "file", Code: domain.CodeMaterialSize,
			Message: domain.Message{Zh: fmt.Sprintf("文件不能超过 %d 字节", limit), En: fmt.Sprintf("the file exceeds %d bytes", limit)}})
	case errors.Is(err, commands.ErrBlobType) || errors.Is(err, commands.ErrBlobEmpty):
		return errValidation(domain.FieldError{Path: "file", Code: domain.CodeMaterialContentType,
			Message: domain.Message{Zh: "只接受非空的 JPEG、PNG 或 PDF 文件", En: "only non-empty JPEG, PNG and PDF files are accepted"}})
	}
	return err
}

// livenessCallback is the liveness provider's verdict.
type livenessCallback struct {
	EventID   string   `json:"eventId"` // the provider's id of this callback: our idempotency key
	FilingID  string   `json:"filingId"`
	WebsiteID string   `json:"websiteId"`
	SessionID string   `json:"sessionId"`
	Result    string   `json:"result"` // "pass" or "fail"
	Reasons   []string `json:"reasons"`
}

// SignatureHeader carries the webhook body's HMAC-SHA256: "sha256=<hex>".
const SignatureHeader = "X-Beian-Signature"

// Sign returns the signature header value of a webhook body.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// livenessWebhook turns the provider's signed callback into PassLiveness or
// FailLiveness, keyed by the provider's event id so a redelivery is a repeat.
func (s *Server) livenessWebhook(c echo.Context) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, 64<<10))
	if err != nil {
		return newError(CodeValidation, "请求体过大", "the body is too large")
	}
	want := Sign(s.cfg.LivenessSecret, body)
	if !hmac.Equal([]byte(want), []byte(c.Request().Header.Get(SignatureHeader))) {
		return &apiError{code: CodeUnauthenticated, message: domain.Message{Zh: "签名无效", En: "invalid signature"}}
	}
	var cb livenessCallback
	if err := json.Unmarshal(body, &cb); err != nil || cb.EventID == "" || cb.FilingID == "" {
		return newError(CodeValidation, "回调内容无效", "the callback needs eventId, filingId, websiteId, sessionId and result")
	}
	ctx := WithIdentity(c.Request().Context(), Identity{Account: "liveness-provider", Role: commands.RoleSystem})
	m, err := meta(ctx, &cb.EventID)
	if err != nil {
		return err
	}
	var res commands.Result
	switch cb.Result {
	case "pass":
		res, err = s.cfg.App.PassLiveness.Handle(ctx, m, commands.PassLiveness{FilingID: cb.FilingID, WebsiteID: cb.WebsiteID, SessionID: cb.SessionID})
	case "fail":
		res, err = s.cfg.App.FailLiveness.Handle(ctx, m, commands.FailLiveness{FilingID: cb.FilingID, WebsiteID: cb.WebsiteID, SessionID: cb.SessionID, Reasons: cb.Reasons})
	default:
		return newError(CodeValidation, "result 应为 pass 或 fail", "result must be pass or fail")
	}
	if err != nil {
		return mapError(ctx, s.cfg.Logger, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"filingId": res.FilingID, "revision": res.Revision, "position": position(res.Position), "repeated": res.Repeated})
}
