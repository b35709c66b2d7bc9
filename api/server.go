package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/beian/beian/api/gqlws"
	"github.com/beian/beian/api/playground"
	"github.com/beian/beian/commands"
	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/infra/metrics"
	"github.com/beian/beian/projections"
	"github.com/google/uuid"
	"github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
	"github.com/labstack/echo/v4"
)

//go:embed schema/schema.graphql
var schemaText string

// Limits protect the service from expensive or hostile requests.
type Limits struct {
	MaxBodyBytes   int64         // a GraphQL request; default 1 MiB
	MaxUploadBytes int64         // an upload; default the rules' material limit
	MaxDepth       int           // default 12
	MaxAliases     int           // default 30
	MaxSelections  int           // after fragments are expanded; default 1000
	RequestTimeout time.Duration // default 15s
	MaxWait        time.Duration // how long filing(minPosition) waits; default 5s
}

func (l *Limits) setDefaults(rules *domain.Rules) {
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = 1 << 20
	}
	if l.MaxUploadBytes <= 0 {
		l.MaxUploadBytes = rules.Channel.MaxMaterialBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 12
	}
	if l.MaxAliases <= 0 {
		l.MaxAliases = 30
	}
	if l.MaxSelections <= 0 {
		l.MaxSelections = 1000
	}
	if l.RequestTimeout <= 0 {
		l.RequestTimeout = 15 * time.Second
	}
	if l.MaxWait <= 0 {
		l.MaxWait = 5 * time.Second
	}
}

// Config is what the server serves from.
type Config struct {
	App     *commands.Application
	Rules   *domain.Rules
	Reader  *projections.Reader
	Waiter  Waiter
	Events  eventstore.Store // the log as read (personal data opened)
	Log     eventstore.Store // the log as stored, whose bytes the hash chains cover
	Tokens  *Tokens
	Blobs   commands.BlobStore
	Metrics *metrics.Registry
	// Ready reports why the service cannot serve yet (stores, projections).
	Ready func(ctx context.Context) error
	// LivenessSecret signs the liveness provider's webhook calls.
	LivenessSecret []byte
	Logger         *slog.Logger
	Now            func() time.Time
	Dev            bool // GraphiQL, introspection, the simulated liveness verdict and phone
	Limits         Limits
	// Phone is the simulated phone that receives MIIT's SMS codes; its
	// inbox is served at /dev/sms in dev mode only.
	Phone SimulatedPhone
}

// SimulatedPhone shows the SMS codes the simulated MIIT platform sent.
type SimulatedPhone interface {
	SentCode(filingID, mobile string) (string, bool)
}

func (c Config) validate() error {
	var errs []error
	if c.App == nil || c.Rules == nil || c.Reader == nil || c.Waiter == nil || c.Events == nil || c.Log == nil || c.Blobs == nil {
		errs = append(errs, errors.New("api: application, rules, reader, waiter, event store and blob store are required"))
	}
	if c.Tokens == nil {
		errs = append(errs, errors.New("api: no token verifier"))
	}
	if c.Metrics == nil || c.Ready == nil {
		errs = append(errs, errors.New("api: metrics and readiness are required"))
	}
	if len(c.LivenessSecret) < 16 {
		errs = append(errs, errors.New("api: the liveness webhook secret must be at least 16 bytes"))
	}
	return errors.Join(errs...)
}

// Server is the HTTP API.
type Server struct {
	cfg    Config
	schema *graphql.Schema
	hub    *hub
	echo   *echo.Echo
}

// New builds the server: the schema, its limits and the routes.
func New(cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Limits.setDefaults(cfg.Rules)
	s := &Server{cfg: cfg, hub: newHub()}
	r := &resolver{app: cfg.App, rules: cfg.Rules, reader: cfg.Reader, waiter: cfg.Waiter, events: cfg.Events, log: cfg.Log, hub: s.hub,
		logger: cfg.Logger, now: cfg.Now, maxWait: cfg.Limits.MaxWait, devLiveness: cfg.Dev}
	dev := cfg.Dev
	schema, err := graphql.ParseSchema(schemaText, r,
		graphql.UseFieldResolvers(),
		graphql.MaxDepth(cfg.Limits.MaxDepth),
		graphql.MaxSelections(cfg.Limits.MaxSelections),
		graphql.MaxQueryLength(int(cfg.Limits.MaxBodyBytes)),
		graphql.RestrictIntrospection(func(context.Context) bool { return dev }),
		graphql.PanicHandler(panicHandler{logger: cfg.Logger}),
	)
	if err != nil {
		return nil, fmt.Errorf("api: schema: %w", err)
	}
	s.schema = schema
	s.echo = s.routes()
	return s, nil
}

// Run follows the event log for subscriptions until ctx ends.
func (s *Server) Run(ctx context.Context) {
	s.hub.follow(ctx, s.cfg.Events, s.cfg.Logger)
}

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.echo }

func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.httpError
	e.Use(s.observe)
	e.POST("/graphql", s.graphql)
	ws := gqlws.NewHandler(s.schema, s.authenticateSocket, gqlws.Options{Logger: s.cfg.Logger})
	e.GET("/graphql", echo.WrapHandler(ws))
	e.POST("/uploads", s.upload)
	e.POST("/webhooks/liveness", s.livenessWebhook)
	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", s.ready)
	e.GET("/metrics", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderContentType, "text/plain; version=0.0.4; charset=utf-8")
		_, err := s.cfg.Metrics.WriteTo(c.Response())
		return err
	})
	if s.cfg.Dev && s.cfg.Phone != nil {
		e.GET("/dev/sms", s.devSMS)
	}
	if s.cfg.Dev {
		play := echo.WrapHandler(playground.Handler())
		e.GET("/", play)
		e.GET("/assets/*", play)
	}
	return e
}

// observe gives each request an id, records its duration and recovers from
// panics as INTERNAL.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := s.cfg.Now()
		id := c.Request().Header.Get("X-Request-Id")
		if id == "" || len(id) > 100 {
			id = uuid.NewString()
		}
		c.Response().Header().Set("X-Request-Id", id)
		c.SetRequest(c.Request().WithContext(withCorrelation(c.Request().Context(), id)))
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		s.cfg.Metrics.Add("beian_http_requests_total", metrics.Labels("route", route, "code", fmt.Sprint(c.Response().Status)), 1)
		s.cfg.Metrics.Observe("beian_http_request_duration_seconds", metrics.Labels("route", route), time.Since(start))
		return nil
	}
}

// httpError answers every HTTP-level failure as JSON with a code.
func (s *Server) httpError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, code, msg := http.StatusInternalServerError, CodeInternal, domain.Message{Zh: "服务器内部错误", En: "internal error"}
	var he *echo.HTTPError
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		status, code, msg = statusOf(ae.code), ae.code, ae.message
	case errors.As(err, &he):
		status, code = he.Code, CodeValidation
		msg = domain.Message{Zh: http.StatusText(he.Code), En: fmt.Sprint(he.Message)}
		if he.Code == http.StatusNotFound || he.Code == http.StatusMethodNotAllowed {
			code = CodeNotFound
		}
	default:
		s.cfg.Logger.Error("http request failed", "path", c.Path(), "err", err)
	}
	_ = c.JSON(status, map[string]any{"errors": []map[string]any{{"message": msg.En, "extensions": map[string]any{"code": code, "message": msg}}}})
}

func statusOf(code string) int {
	switch code {
	case CodeUnauthenticated:
		return http.StatusUnauthorized
	case CodeForbidden:
		return http.StatusForbidden
	case CodeNotFound:
		return http.StatusNotFound
	case CodeValidation:
		return http.StatusBadRequest
	case CodeConflict, CodeInvalidState:
		return http.StatusConflict
	case CodeRateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// authenticate reads the bearer token, if any. A request without one runs
// anonymous (resolvers refuse it); a bad one is refused at once.
func (s *Server) authenticate(c echo.Context) (context.Context, error) {
	ctx := c.Request().Context()
	h := c.Request().Header.Get("Authorization")
	if h == "" {
		return ctx, nil
	}
	id, err := s.cfg.Tokens.fromHeader(h)
	if err != nil {
		return nil, &apiError{code: CodeUnauthenticated, message: domain.Message{Zh: "令牌无效或已过期", En: "the bearer token is invalid or expired"}}
	}
	return WithIdentity(ctx, id), nil
}

// authenticateSocket reads the token from connection_init's payload.
func (s *Server) authenticateSocket(ctx context.Context, payload map[string]any) (context.Context, error) {
	h, _ := payload["Authorization"].(string)
	if h == "" {
		h, _ = payload["authorization"].(string)
	}
	id, err := s.cfg.Tokens.fromHeader(h)
	if err != nil {
		return nil, err
	}
	return WithIdentity(ctx, id), nil
}

type graphqlRequest struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
}

// graphql executes one operation. Batches (a JSON array) are refused: one
// request, one operation, one set of limits.
func (s *Server) graphql(c echo.Context) error {
	ctx, err := s.authenticate(c)
	if err != nil {
		return err
	}
	body := http.MaxBytesReader(c.Response(), c.Request().Body, s.cfg.Limits.MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.UseNumber()
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return newError(CodeValidation, fmt.Sprintf("请求体不能超过 %d 字节", s.cfg.Limits.MaxBodyBytes),
				fmt.Sprintf("the request body exceeds %d bytes", s.cfg.Limits.MaxBodyBytes))
		}
		return newError(CodeValidation, "请求体不是有效的 JSON", "the request body is not valid JSON")
	}
	if t := strings.TrimSpace(string(raw)); !strings.HasPrefix(t, "{") {
		return newError(CodeValidation, "不支持批量请求，每次请求一个操作", "batched requests are not supported; send one operation per request")
	}
	var req graphqlRequest
	if err := json.Unmarshal(raw, &req); err != nil || req.Query == "" {
		return newError(CodeValidation, "缺少 query", "the request has no query")
	}
	if !s.cfg.Dev && introspects(req.Query) {
		return newError(CodeValidation, "内省查询仅在开发模式下可用", "introspection is available in dev mode only")
	}
	if n := countAliases(req.Query); n > s.cfg.Limits.MaxAliases {
		return newError(CodeValidation, fmt.Sprintf("别名过多（%d 个，最多 %d 个）", n, s.cfg.Limits.MaxAliases),
			fmt.Sprintf("too many aliases (%d, at most %d)", n, s.cfg.Limits.MaxAliases))
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Limits.RequestTimeout)
	defer cancel()
	resp := s.schema.Exec(ctx, req.Query, req.OperationName, normalise(req.Variables))
	for _, e := range resp.Errors {
		// graphql-go's own refusals (syntax, validation, depth, variables)
		// carry no code; every resolver error has one.
		if e.Extensions == nil {
			e.Extensions = map[string]any{"code": CodeValidation}
		}
	}
	return c.JSON(http.StatusOK, resp)
}

// normalise turns json.Number values into what graphql-go expects.
func normalise(v map[string]any) map[string]any {
	for k, x := range v {
		v[k] = normaliseValue(x)
	}
	return v
}

func normaliseValue(x any) any {
	switch t := x.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	case map[string]any:
		return normalise(t)
	case []any:
		for i := range t {
			t[i] = normaliseValue(t[i])
		}
	}
	return x
}

func (s *Server) ready(c echo.Context) error {
	if err := s.cfg.Ready(c.Request().Context()); err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// panicHandler turns a resolver panic into INTERNAL and logs it.
type panicHandler struct{ logger *slog.Logger }

func (p panicHandler) MakePanicError(ctx context.Context, value any) *gqlerrors.QueryError {
	p.logger.ErrorContext(ctx, "resolver panic", "panic", value)
	return &gqlerrors.QueryError{Message: "internal error", Extensions: map[string]any{"code": CodeInternal}}
}

// devSMS shows the simulated phone's inbox: the code MIIT sent to a mobile
// for a filing. Dev mode only, for the demo and end-to-end tests.
func (s *Server) devSMS(c echo.Context) error {
	ctx, err := s.authenticate(c)
	if err != nil {
		return err
	}
	if _, ok := IdentityFrom(ctx); !ok {
		return errUnauthenticated()
	}
	code, ok := s.cfg.Phone.SentCode(c.QueryParam("filingId"), c.QueryParam("mobile"))
	if !ok {
		return &apiError{code: CodeNotFound, message: domain.Message{Zh: "没有发给该手机的验证码", En: "no code was sent to this mobile for this filing"}}
	}
	return c.JSON(http.StatusOK, map[string]string{"code": code})
}
