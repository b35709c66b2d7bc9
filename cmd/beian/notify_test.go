package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beian/beian/commands"
	"github.com/beian/beian/commands/commandstest"
	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/notify"
	"github.com/beian/beian/infra/readstore"
	readsqlite "github.com/beian/beian/infra/readstore/sqlite"
	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kfake"
)

// receiver is a webhook endpoint that checks signatures and records notices.
type receiver struct {
	t      *testing.T
	secret []byte
	mu     sync.Mutex
	got    []notify.Notice
	ids    map[string]int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Header.Get("X-Beian-Signature") != notify.Sign(rc.secret, body) {
		rc.t.Errorf("bad signature on %s", body)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var n notify.Notice
	if err := json.Unmarshal(body, &n); err != nil || r.Header.Get("Idempotency-Key") != n.ID {
		rc.t.Errorf("bad notice %s (%v)", body, err)
	}
	rc.mu.Lock()
	rc.got = append(rc.got, n)
	rc.ids[n.ID]++
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) kinds(role string) []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, n := range rc.got {
		if n.Recipient.Role == role {
			out = append(out, n.Kind)
		}
	}
	return out
}

// TestNotifyDeliversEveryNoticeOnceInOrder: the notices of a filing's life,
// with a rejection and an SMS expiry, reach a signed webhook once each, in
// order, and a full redelivery of the stream sends nothing again: with the
// consumer in process (serve --notify), and with `beian notify` on Kafka.
func TestNotifyDeliversEveryNoticeOnceInOrder(t *testing.T) {
	t.Run("in process", func(t *testing.T) { notifyLife(t, false) })
	t.Run("beian notify over Kafka", func(t *testing.T) { notifyLife(t, true) })
}

func notifyLife(t *testing.T, overKafka bool) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "webhook-secret")
	if err := os.WriteFile(secretFile, []byte("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secret, _ := webhookSecret(secretFile)
	rc := &receiver{t: t, secret: secret, ids: map[string]int{}}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	clock := commandstest.NewClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("CST", 8*3600)))
	cfg := config{Data: dir, Dev: true, Clock: clock, Notify: true, NotifyWebhook: hook.URL, NotifySecretFile: secretFile}
	var brokers []string // over Kafka
	if overKafka {
		cluster, err := kfake.NewCluster()
		if err != nil {
			t.Fatal(err)
		}
		defer cluster.Close()
		brokers = cluster.ListenAddrs()
		busURL := "kafka://" + strings.Join(brokers, ",")
		cfg = config{Data: dir, Dev: true, Clock: clock, Bus: busURL}
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- notifyCmd(ctx, []string{"--bus", busURL + "?group=notify-life", "--data", filepath.Join(dir, "notify"),
				"--webhook", hook.URL, "--secret-file", secretFile, "--log-level", "error"}, io.Discard, io.Discard)
		}()
		defer func() {
			stop()
			if err := <-done; err != nil {
				t.Errorf("beian notify: %v", err)
			}
		}()
	}
	h := &deadlineHarness{t: t, dir: dir, clock: clock}
	h.p = startWith(t, cfg)
	a := h.p.actors("acct-notify")
	id, _, _ := fillFiling(t, a)
	ctx := context.Background()
	app := func() *commands.Application { return h.p.svc.app }
	meta := func(role, account string) commands.Meta {
		return commands.Meta{Actor: commands.Actor{Account: account, Role: role}, IdempotencyKey: uuid.NewString()}
	}
	must := func(_ commands.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(app().RejectInitialReview.Handle(ctx, meta(commands.RoleReviewer, "rev"), commands.RejectInitialReview{FilingID: id,
		Reasons: []domain.Reason{{Path: "entity.principal.mobile", Code: "phone_unreachable"}}}))
	must(app().SubmitForReview.Handle(ctx, meta(commands.RoleApplicant, "acct-notify"), commands.SubmitForReview{FilingID: id, TermsVersion: "2026-01"}))
	must(app().ApproveInitialReview.Handle(ctx, meta(commands.RoleReviewer, "rev"), commands.ApproveInitialReview{FilingID: id}))
	must(app().SendToBureau.Handle(ctx, meta(commands.RoleReviewer, "rev"), commands.SendToBureau{FilingID: id}))
	must(app().RequestSmsVerification.Handle(ctx, meta(commands.RoleBureau, "bur"), commands.RequestSmsVerification{FilingID: id}))
	h.at(clock.Now().Add(25 * time.Hour)) // the codes run out: warned, then expired
	must(app().SendToBureau.Handle(ctx, meta(commands.RoleReviewer, "rev"), commands.SendToBureau{FilingID: id}))
	must(app().RequestSmsVerification.Handle(ctx, meta(commands.RoleBureau, "bur"), commands.RequestSmsVerification{FilingID: id}))
	code, _ := h.p.svc.sim.SentCode(id, "13800138000")
	must(app().VerifySmsCode.Handle(ctx, meta(commands.RoleApplicant, "acct-notify"), commands.VerifySmsCode{FilingID: id, Mobile: "13800138000", CertSuffix: "071236", Code: code}))
	must(app().ApproveByBureau.Handle(ctx, meta(commands.RoleBureau, "bur"), commands.ApproveByBureau{FilingID: id, Serial: "2026012345"}))

	want := []string{notify.KindSubmitted, notify.KindInitialReviewRejected, notify.KindSubmitted, notify.KindInitialReviewApproved,
		notify.KindSentToBureau, notify.KindSMSRequested, notify.KindSMSDueSoon, notify.KindSMSFailed, notify.KindSentToBureau,
		notify.KindSMSRequested, notify.KindBureauApproved}
	waitNotices(t, rc, "applicant", len(want))
	if got := rc.kinds("applicant"); !slices.Equal(got, want) {
		t.Fatalf("applicant notices\n got %v\nwant %v", got, want)
	}
	waitNotices(t, rc, "reviewer", 2)
	if got := rc.kinds("reviewer"); !slices.Equal(got[:2], []string{notify.KindReviewQueued, notify.KindReviewQueued}) {
		t.Fatalf("reviewer notices %v", got)
	}

	// Redeliver the whole stream: the forwarder forgets its checkpoint.
	h.p.svc.close()
	resetForwarder(t, dir)
	h.p = startWith(t, cfg)
	head, _ := h.p.svc.events.Head(ctx)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		cp, err := h.p.svc.forwarder.Checkpoint(ctx)
		if err == nil && cp == head {
			// Everything published a second time; in process also consumed,
			// since the in-process bus makes Publish wait for the consumer.
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("forwarder at %d of %d after a restart (%v)", cp, head, err)
		}
	}
	if overKafka {
		// Over Kafka, published is not consumed: wait until beian notify
		// has handled every redelivered event before counting deliveries.
		awaitGroupConsumed(t, brokers, "notify-life")
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for nid, n := range rc.ids {
		if n != 1 {
			t.Errorf("notice %s delivered %d times", nid, n)
		}
	}
}

func waitNotices(t *testing.T, rc *receiver, role string, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for len(rc.kinds(role)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d %s notices after 60s: %v", len(rc.kinds(role)), role, rc.kinds(role))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// resetForwarder sets the forwarder's checkpoint back to the start, as if
// it had been lost: everything is published again.
func resetForwarder(t *testing.T, dir string) {
	t.Helper()
	read, err := readsqlite.Open(readsqlite.Config{Path: filepath.Join(dir, "read.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer read.Close()
	err = read.Update(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE forwarder_checkpoints SET position = 0`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
