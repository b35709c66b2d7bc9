package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beian/beian/domain"
)

var testSecret = []byte("webhook-secret")

// receiver is a webhook endpoint that answers with the statuses it is
// given, in turn (200 once they run out), verifies every signature and
// keeps every notice it accepted.
type receiver struct {
	t        testing.TB
	mu       sync.Mutex
	statuses []int
	requests int
	accepted []Notice
	keys     []string
}

func newReceiver(t testing.TB, statuses ...int) (*receiver, *httptest.Server) {
	r := &receiver{t: t, statuses: statuses}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		r.t.Errorf("read body: %v", err)
	}
	mac := hmac.New(sha256.New, testSecret)
	mac.Write(body)
	if !hmac.Equal([]byte(req.Header.Get(HeaderSignature)), []byte("sha256="+hex.EncodeToString(mac.Sum(nil)))) {
		r.t.Errorf("bad signature %q", req.Header.Get(HeaderSignature))
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/json" {
		r.t.Errorf("content type %q", ct)
	}
	if req.Method != http.MethodPost {
		r.t.Errorf("method %s", req.Method)
	}
	var n Notice
	if err := json.Unmarshal(body, &n); err != nil {
		r.t.Errorf("body is not a notice: %v", err)
	}
	if key := req.Header.Get(HeaderIdempotency); key != n.ID || key == "" {
		r.t.Errorf("Idempotency-Key %q for notice %q", key, n.ID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	status := http.StatusOK
	if len(r.statuses) > 0 {
		status, r.statuses = r.statuses[0], r.statuses[1:]
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(status)
	if status/100 == 2 {
		// A receiver keeps each notice once, by its Idempotency-Key.
		for _, k := range r.keys {
			if k == n.ID {
				return
			}
		}
		r.keys = append(r.keys, n.ID)
		r.accepted = append(r.accepted, n)
		return
	}
	io.WriteString(w, "refused: "+http.StatusText(status))
}

func (r *receiver) snapshot() (requests int, accepted []Notice) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests, append([]Notice(nil), r.accepted...)
}

func testNotice(t testing.TB) Notice {
	t.Helper()
	notices, err := Render(envelope(t, 3, domain.BureauApproved{EntityNumber: "京ICP备2026012345号",
		WebsiteNumbers: []domain.WebsiteNumber{{WebsiteID: "w1", Number: "京ICP备2026012345号-1"}}, At: t0}))
	if err != nil || len(notices) != 1 {
		t.Fatal(notices, err)
	}
	return notices[0]
}

func newWebhook(t testing.TB, url string, dl DeadLetterStore, attempts int) *WebhookNotifier {
	t.Helper()
	w, err := NewWebhookNotifier(WebhookConfig{
		URL: url, Secret: testSecret, Attempts: attempts, Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond,
		DeadLetters: dl, Now: func() time.Time { return t0 }, Logger: discard(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestWebhookDelivers(t *testing.T) {
	rcv, srv := newReceiver(t)
	dl := &memDeadLetters{}
	n := testNotice(t)
	if err := newWebhook(t, srv.URL, dl, 5).Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	requests, accepted := rcv.snapshot()
	if requests != 1 || len(accepted) != 1 || accepted[0].ID != n.ID || accepted[0].Body != n.Body {
		t.Errorf("%d requests, accepted %+v", requests, accepted)
	}
	if len(dl.all()) != 0 {
		t.Errorf("dead letters: %+v", dl.all())
	}
}

func TestWebhookFailures(t *testing.T) {
	tests := []struct {
		name         string
		statuses     []int
		attempts     int
		wantRequests int
		wantDead     bool
		wantError    string // in the dead letter
	}{
		{"500 then success", []int{500, 503}, 5, 3, false, ""},
		{"408 and 429 are retried", []int{408, 429}, 5, 3, false, ""},
		{"400 is permanent", []int{400}, 5, 1, true, "400 Bad Request: refused: Bad Request"},
		{"404 is permanent", []int{404}, 5, 1, true, "404"},
		{"a redirect is permanent", []int{302}, 5, 1, true, "302"},
		{"exhausted", []int{500, 502, 503, 504}, 4, 4, true, "504 Gateway Timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv, srv := newReceiver(t, tt.statuses...)
			dl := &memDeadLetters{}
			n := testNotice(t)
			if err := newWebhook(t, srv.URL, dl, tt.attempts).Notify(context.Background(), n); err != nil {
				t.Fatalf("Notify: %v (a dead letter is not an error)", err)
			}
			requests, accepted := rcv.snapshot()
			if requests != tt.wantRequests {
				t.Errorf("%d requests, want %d", requests, tt.wantRequests)
			}
			letters := dl.all()
			if !tt.wantDead {
				if len(letters) != 0 || len(accepted) != 1 {
					t.Errorf("dead letters %+v, accepted %d", letters, len(accepted))
				}
				return
			}
			if len(letters) != 1 || len(accepted) != 0 {
				t.Fatalf("dead letters %+v, accepted %d", letters, len(accepted))
			}
			d := letters[0]
			if d.NoticeID != n.ID || d.EventID != n.EventID || d.Notice.ID != n.ID || d.Attempts != tt.wantRequests ||
				!d.At.Equal(t0) || !strings.Contains(d.Error, tt.wantError) {
				t.Errorf("dead letter %+v", d)
			}
		})
	}
}

func TestWebhookNetworkError(t *testing.T) {
	_, srv := newReceiver(t)
	url := srv.URL
	srv.Close()
	dl := &memDeadLetters{}
	if err := newWebhook(t, url, dl, 3).Notify(context.Background(), testNotice(t)); err != nil {
		t.Fatal(err)
	}
	if letters := dl.all(); len(letters) != 1 || letters[0].Attempts != 3 {
		t.Errorf("dead letters %+v", letters)
	}
}

// If the dead letter cannot be recorded, the notice would be lost: Notify
// fails, so the consumer keeps the event.
func TestWebhookDeadLetterStoreFails(t *testing.T) {
	_, srv := newReceiver(t, 400)
	boom := errors.New("disk full")
	err := newWebhook(t, srv.URL, &memDeadLetters{err: boom}, 3).Notify(context.Background(), testNotice(t))
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "400") {
		t.Errorf("Notify = %v, want it to wrap %v and say why the notice failed", err, boom)
	}
}

// A stopping consumer does not dead-letter what it did not finish.
func TestWebhookContextEnds(t *testing.T) {
	_, srv := newReceiver(t, 500, 500, 500, 500)
	dl := &memDeadLetters{}
	w, err := NewWebhookNotifier(WebhookConfig{URL: srv.URL, Secret: testSecret, Backoff: time.Hour,
		DeadLetters: dl, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = w.Notify(ctx, testNotice(t))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Notify = %v, want the context's error", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("the backoff ignored the context")
	}
	if len(dl.all()) != 0 {
		t.Errorf("dead letters %+v", dl.all())
	}
}

func TestWebhookBackoff(t *testing.T) {
	w, err := NewWebhookNotifier(WebhookConfig{URL: "https://hooks.example/notices", Secret: testSecret,
		DeadLetters: &memDeadLetters{}})
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond}
	for i, d := range want {
		if got := w.backoff(i + 1); got != d {
			t.Errorf("backoff after attempt %d = %s, want %s", i+1, got, d)
		}
	}
	if got := w.backoff(100); got != 30*time.Second {
		t.Errorf("backoff after attempt 100 = %s, want the 30s cap", got)
	}
	if w.cfg.Attempts != 5 {
		t.Errorf("default attempts %d", w.cfg.Attempts)
	}
	if got := retryAfter("120", time.Minute); got != time.Minute {
		t.Errorf("Retry-After 120 capped to %s", got)
	}
	if got := retryAfter("Wed, 21 Oct 2026 07:28:00 GMT", time.Minute); got != 0 {
		t.Errorf("HTTP-date Retry-After = %s", got)
	}
}

func TestWebhookConfigValidate(t *testing.T) {
	err := WebhookConfig{URL: "ftp://x", Attempts: -1, Backoff: -1}.Validate()
	for _, s := range []string{"URL", "secret", "attempts", "backoffs", "dead-letter"} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("Validate() = %v, want it to mention %s", err, s)
		}
	}
}

func TestSign(t *testing.T) {
	// The well-known HMAC-SHA256 example (key "key", the quick brown fox).
	got := Sign([]byte("key"), []byte("The quick brown fox jumps over the lazy dog"))
	want := "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestLogNotifier(t *testing.T) {
	var buf bytes.Buffer
	n := testNotice(t)
	if err := (LogNotifier{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}).Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{n.ID, n.Kind, "京ICP备2026012345号-1", testAccount} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("log lacks %q: %s", s, buf.String())
		}
	}
}
