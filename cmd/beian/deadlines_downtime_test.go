package main

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/beian/beian/commands"
	"github.com/beian/beian/commands/commandstest"
	"github.com/beian/beian/domain"
)

// TestDeadlineDueWhileDownFiresOnStart: timers that fall due while the
// service is stopped fire when it starts, by themselves (nobody ticks the
// scheduler), and each appends its command once.
func TestDeadlineDueWhileDownFiresOnStart(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, cst) // a Monday
	h := &deadlineHarness{t: t, dir: t.TempDir(), clock: commandstest.NewClock(t0)}
	h.start()
	ctx := context.Background()
	idle := h.run(commands.RoleApplicant, "acct-idle", func(m commands.Meta) (commands.Result, error) {
		return h.p.svc.app.VerifyType.Handle(ctx, m, commands.VerifyType{Province: "11", City: "北京市", Nature: "individual",
			CertificateType: "resident_id", CertificateNumber: "110101200001010010", Domains: []string{"wangwu.cn"},
			Resource: commands.ResourceRef{Kind: domain.ResourceInstance, InstanceID: "ins-demo"}})
	}).FilingID
	// Submitted Monday 10:00: the review is due Tuesday 10:00, with a warning at 08:00.
	busy, _, _ := fillFiling(t, h.p.actors("acct-busy"))
	h.at(t0) // the timers are in the read model; none is due
	before := map[string]map[string]int{idle: h.count(idle), busy: h.count(busy)}

	// Down from Monday to Tuesday 11:00: the warning and the overdue flag
	// both fall due meanwhile.
	h.p.svc.close()
	h.clock.Set(t0.Add(25 * time.Hour))
	h.start()
	h.awaitFired(busy, before[busy], map[string]int{domain.TypeDeadlineApproaching: 1, domain.TypeReviewOverdue: 1})
	if got := h.count(idle); !maps.Equal(got, before[idle]) {
		t.Errorf("the idle draft changed before its first reminder: %v, was %v", got, before[idle])
	}

	// Down again across the idle draft's 7-day reminder.
	before[idle] = h.count(idle)
	h.p.svc.close()
	h.clock.Set(t0.AddDate(0, 0, 7).Add(time.Minute))
	h.start()
	h.awaitFired(idle, before[idle], map[string]int{domain.TypeIdleReminded: 1})
}

// awaitFired waits until the service has appended the timers' events to the
// filing (count more of each type than before), then lets the scheduler
// look again once the deadlines read model has every event, and checks that
// nothing fired twice and nothing else fired.
func (h *deadlineHarness) awaitFired(id string, before, fired map[string]int) {
	h.t.Helper()
	want := maps.Clone(before)
	for typ, n := range fired {
		want[typ] += n
	}
	done := func(got map[string]int) bool {
		for typ := range fired {
			if got[typ] < want[typ] {
				return false
			}
		}
		return true
	}
	guard := time.Now().Add(60 * time.Second) // a hung test, not a timing assertion
	for got := h.count(id); !done(got); got = h.count(id) {
		if time.Now().After(guard) {
			h.t.Fatalf("filing %s: timers due while down did not fire on start: %v, want %v", id, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.at(h.clock.Now()) // the read model has caught up; whatever is still due fires now
	if got := h.count(id); !maps.Equal(got, want) {
		h.t.Errorf("filing %s after the start: %v, want %v", id, got, want)
	}
	_, recorded, err := h.p.svc.app.Executor.Load(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, e := range recorded {
		if fired[e.Type] > 0 && e.Metadata.ActorAccount != "deadline-timer" {
			h.t.Errorf("filing %s: %s appended by %s, not the timer", id, e.Type, e.Metadata.ActorAccount)
		}
	}
}
