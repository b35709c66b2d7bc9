package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Notifier delivers a notice. An error means "not delivered, try the whole
// event again later": the consumer then leaves the message unacknowledged.
// A notice that will never be delivered is the Notifier's to dead-letter.
type Notifier interface {
	Notify(ctx context.Context, n Notice) error
}

// LogNotifier writes each notice to a log: the notifier of a development
// binary, where the log is the inbox.
type LogNotifier struct {
	Logger *slog.Logger // default slog.Default()
}

// Notify logs the notice at Info.
func (l LogNotifier) Notify(ctx context.Context, n Notice) error {
	logger := l.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.LogAttrs(ctx, slog.LevelInfo, "notice",
		slog.String("id", n.ID), slog.String("kind", n.Kind), slog.String("filing", n.FilingID),
		slog.String("account", n.Recipient.Account), slog.String("role", n.Recipient.Role),
		slog.String("title_zh", n.Title.Zh), slog.String("title_en", n.Title.En),
		slog.String("body_zh", n.Body.Zh), slog.String("body_en", n.Body.En))
	return nil
}

// Webhook request headers.
const (
	HeaderSignature   = "X-Beian-Signature" // "sha256=" + hex HMAC-SHA256 of the body
	HeaderIdempotency = "Idempotency-Key"   // the notice id
)

// WebhookConfig configures a WebhookNotifier.
type WebhookConfig struct {
	URL    string // http or https
	Secret []byte // the HMAC key the receiver verifies signatures with
	// Attempts is how many times a notice is posted before it is
	// dead-lettered; default 5.
	Attempts int
	// Backoff is the wait after the first failed attempt, doubling after each
	// further one up to MaxBackoff; defaults 200ms and 30s. A Retry-After in
	// seconds from the receiver lengthens a wait, up to MaxBackoff too.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Client posts the requests; default one with a 10 s timeout that does
	// not follow redirects (a webhook that moved is a configuration to fix,
	// and a redirect would resend the body to a host nobody configured).
	Client      *http.Client
	DeadLetters DeadLetterStore  // required
	Now         func() time.Time // the dead letters' clock; default time.Now
	Logger      *slog.Logger     // default slog.Default()
}

func (c *WebhookConfig) setDefaults() {
	if c.Attempts == 0 {
		c.Attempts = 5
	}
	if c.Backoff == 0 {
		c.Backoff = 200 * time.Millisecond
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.Client == nil {
		c.Client = &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports every problem of the configuration at once.
func (c WebhookConfig) Validate() error {
	var errs []error
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("notify webhook: URL %q is not an http(s) URL", c.URL))
	}
	if len(c.Secret) == 0 {
		errs = append(errs, errors.New("notify webhook: a secret is required (receivers must be able to verify notices)"))
	}
	if c.Attempts < 0 {
		errs = append(errs, fmt.Errorf("notify webhook: attempts %d must not be negative", c.Attempts))
	}
	if c.Backoff < 0 || c.MaxBackoff < 0 {
		errs = append(errs, errors.New("notify webhook: backoffs must not be negative"))
	}
	if c.DeadLetters == nil {
		errs = append(errs, errors.New("notify webhook: a dead-letter store is required"))
	}
	return errors.Join(errs...)
}

// WebhookNotifier posts each notice as JSON to one URL, signed, retrying
// transient failures.
//
// A notice still undelivered after the last attempt, or refused outright
// (a 4xx other than 408 and 429: retrying the same body cannot help), is
// recorded as a dead letter and Notify returns nil, so the stream moves on:
// one receiver that is down for an hour must not hold back every later
// notice of every filing, and the dead letters keep what it missed for a
// replay. Only if the dead letter cannot be recorded does Notify return an
// error, so the event is redelivered rather than lost.
type WebhookNotifier struct {
	cfg WebhookConfig
}

// NewWebhookNotifier checks the configuration and fills in its defaults.
func NewWebhookNotifier(cfg WebhookConfig) (*WebhookNotifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	return &WebhookNotifier{cfg: cfg}, nil
}

// Sign returns the X-Beian-Signature value of a body: receivers recompute it
// with the shared secret and compare in constant time (hmac.Equal).
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Notify posts the notice; see WebhookNotifier for what happens when that
// fails. It returns ctx's error, not a dead letter, if ctx ends first: the
// consumer is stopping and the event will come again.
func (w *WebhookNotifier) Notify(ctx context.Context, n Notice) error {
	body, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("notify webhook: encode notice %s: %w", n.ID, err)
	}
	signature := Sign(w.cfg.Secret, body)
	var lastErr error
	attempts := 0
	for attempts < w.cfg.Attempts {
		attempts++
		wait, permanent, err := w.post(ctx, n.ID, body, signature)
		if err == nil {
			return nil
		}
		lastErr = err
		if ctx.Err() != nil {
			return fmt.Errorf("notify webhook: notice %s: %w", n.ID, context.Cause(ctx))
		}
		if permanent || attempts == w.cfg.Attempts {
			break
		}
		w.cfg.Logger.DebugContext(ctx, "notice not delivered, retrying",
			"notice", n.ID, "attempt", attempts, "error", err)
		if err := sleep(ctx, max(wait, w.backoff(attempts))); err != nil {
			return fmt.Errorf("notify webhook: notice %s: %w", n.ID, err)
		}
	}
	w.cfg.Logger.WarnContext(ctx, "notice dead-lettered",
		"notice", n.ID, "kind", n.Kind, "filing", n.FilingID, "attempts", attempts, "error", lastErr)
	dl := DeadLetter{NoticeID: n.ID, EventID: n.EventID, Notice: n, Error: lastErr.Error(), Attempts: attempts, At: w.cfg.Now()}
	if err := w.cfg.DeadLetters.RecordDeadLetter(ctx, dl); err != nil {
		return fmt.Errorf("notify webhook: notice %s undelivered (%v), and its dead letter not recorded: %w", n.ID, lastErr, err)
	}
	return nil
}

// post makes one attempt. permanent says a retry cannot succeed; wait is
// the receiver's Retry-After, if it gave one.
func (w *WebhookNotifier) post(ctx context.Context, id string, body []byte, signature string) (wait time.Duration, permanent bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return 0, true, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderSignature, signature)
	req.Header.Set(HeaderIdempotency, id)
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		return 0, false, err // network, timeout: transient
	}
	defer resp.Body.Close()
	// Read a little of the body: it explains a refusal in the dead letter,
	// and draining lets the connection be reused.
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return 0, false, nil
	}
	err = fmt.Errorf("webhook answered %s: %s", resp.Status, bytes.TrimSpace(excerpt))
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500:
		return retryAfter(resp.Header.Get("Retry-After"), w.cfg.MaxBackoff), false, err
	}
	return 0, true, err
}

// backoff is the wait after the given failed attempt: Backoff doubled per
// attempt after the first, capped at MaxBackoff.
func (w *WebhookNotifier) backoff(attempt int) time.Duration {
	d := w.cfg.Backoff
	for i := 1; i < attempt && d < w.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, w.cfg.MaxBackoff)
}

// retryAfter reads a Retry-After of delay-seconds (the HTTP-date form is
// rare from webhooks and ignored), capped so that a receiver cannot park
// the stream for longer than the configuration allows.
func retryAfter(v string, limit time.Duration) time.Duration {
	s, err := strconv.Atoi(v)
	if err != nil || s <= 0 {
		return 0
	}
	return min(time.Duration(s)*time.Second, limit)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
