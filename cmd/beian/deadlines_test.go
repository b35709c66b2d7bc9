package main

import (
	"context"
	"testing"
	"time"

	"github.com/beian/beian/commands"
	"github.com/beian/beian/commands/commandstest"
	"github.com/beian/beian/domain"
	"github.com/google/uuid"
)

type deadlineHarness struct {
	t     *testing.T
	dir   string
	clock *commandstest.Clock
	p     *inProcess
}

func (h *deadlineHarness) start() {
	h.p = startWith(h.t, config{Data: h.dir, Dev: true, Clock: h.clock})
}

// restart stops the service and starts it again on the same data.
func (h *deadlineHarness) restart() {
	h.p.svc.close()
	h.start()
}

// at moves the clock and lets every timer due by then fire: the timers are
// read once the projection has caught up, so each firing sees the events of
// the one before.
func (h *deadlineHarness) at(t time.Time) {
	h.t.Helper()
	h.clock.Set(t)
	ctx := context.Background()
	for range 10 {
		head, err := h.p.svc.events.Head(ctx)
		if err != nil {
			h.t.Fatal(err)
		}
		if err := h.p.svc.runner.WaitFor(ctx, "deadlines", head); err != nil {
			h.t.Fatal(err)
		}
		fired, err := h.p.svc.scheduler.Tick(ctx)
		if err != nil {
			h.t.Fatal(err)
		}
		if fired == 0 {
			return
		}
	}
}

func (h *deadlineHarness) run(role, account string, fn func(m commands.Meta) (commands.Result, error)) commands.Result {
	h.t.Helper()
	res, err := fn(commands.Meta{Actor: commands.Actor{Account: account, Role: role}, IdempotencyKey: uuid.NewString()})
	if err != nil {
		h.t.Fatal(err)
	}
	return res
}

// count tallies a filing's events by type.
func (h *deadlineHarness) count(id string) map[string]int {
	h.t.Helper()
	_, recorded, err := h.p.svc.app.Executor.Load(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	n := map[string]int{}
	for _, r := range recorded {
		n[r.Type]++
	}
	return n
}

// TestDeadlinesFireOnceAcrossARestart moves the clock across every
// deadline of two filings (one idle draft, one under review) and checks
// that each fires exactly once, with a restart in the middle.
func TestDeadlinesFireOnceAcrossARestart(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, cst) // a Monday
	h := &deadlineHarness{t: t, dir: t.TempDir(), clock: commandstest.NewClock(t0)}
	h.start()
	app := func() *commands.Application { return h.p.svc.app }
	ctx := context.Background()

	// An idle draft: reminders at 7, 15 and 30 days, expiry at 45.
	idle := h.run(commands.RoleApplicant, "acct-idle", func(m commands.Meta) (commands.Result, error) {
		return app().VerifyType.Handle(ctx, m, commands.VerifyType{Province: "11", City: "北京市", Nature: "individual",
			CertificateType: "resident_id", CertificateNumber: "110101200001010010", Domains: []string{"wangwu.cn"},
			Resource: commands.ResourceRef{Kind: domain.ResourceInstance, InstanceID: "ins-demo"}})
	}).FilingID

	// A filing under review, submitted Monday 10:00: due Tuesday 10:00.
	busy, _, _ := fillFiling(t, h.p.actors("acct-busy"))

	h.at(t0.Add(22 * time.Hour)) // Tuesday 08:00: the review is due within 2 hours
	h.at(t0.Add(25 * time.Hour)) // Tuesday 11:00: overdue
	h.restart()
	h.at(t0.Add(25 * time.Hour)) // nothing fires twice after the restart
	h.run(commands.RoleReviewer, "rev", func(m commands.Meta) (commands.Result, error) {
		return app().ApproveInitialReview.Handle(ctx, m, commands.ApproveInitialReview{FilingID: busy})
	})
	h.run(commands.RoleReviewer, "rev", func(m commands.Meta) (commands.Result, error) {
		return app().SendToBureau.Handle(ctx, m, commands.SendToBureau{FilingID: busy})
	})
	h.run(commands.RoleBureau, "bureau", func(m commands.Meta) (commands.Result, error) {
		return app().RequestSmsVerification.Handle(ctx, m, commands.RequestSmsVerification{FilingID: busy})
	})
	h.at(t0.Add(48 * time.Hour)) // Wednesday 10:00: the codes expire within 2 hours
	h.at(t0.Add(50 * time.Hour)) // Wednesday 12:00: expired, back with the provider
	if f, _, _ := app().Executor.Load(ctx, busy); f.Status != domain.StatusReturnedToProvider {
		t.Fatalf("after the SMS expiry: %s", f.Status)
	}
	h.run(commands.RoleReviewer, "rev", func(m commands.Meta) (commands.Result, error) {
		return app().SendToBureau.Handle(ctx, m, commands.SendToBureau{FilingID: busy})
	})
	h.run(commands.RoleBureau, "bureau", func(m commands.Meta) (commands.Result, error) {
		return app().RequestSmsVerification.Handle(ctx, m, commands.RequestSmsVerification{FilingID: busy})
	})
	code, _ := h.p.svc.sim.SentCode(busy, "13800138000")
	h.run(commands.RoleApplicant, "acct-busy", func(m commands.Meta) (commands.Result, error) {
		return app().VerifySmsCode.Handle(ctx, m, commands.VerifySmsCode{FilingID: busy, Mobile: "13800138000", CertSuffix: "071236", Code: code})
	})
	for _, day := range []int{7, 8, 15, 16, 30, 31, 44, 45, 46} {
		h.at(t0.AddDate(0, 0, day).Add(time.Minute))
		if day == 16 {
			h.restart()
		}
	}

	want := map[string]map[string]int{
		idle: {domain.TypeIdleReminded: 3, domain.TypeExpired: 1},
		busy: {domain.TypeDeadlineApproaching: 2, domain.TypeReviewOverdue: 2, domain.TypeSMSVerificationFailed: 1},
	}
	for id, counts := range want {
		got := h.count(id)
		for typ, n := range counts {
			if got[typ] != n {
				t.Errorf("filing %s: %d × %s, want %d (%v)", id, got[typ], typ, n, got)
			}
		}
	}
	if f, _, _ := app().Executor.Load(ctx, idle); f.Status != domain.StatusExpired {
		t.Errorf("idle filing is %s after 46 days", f.Status)
	}
}
