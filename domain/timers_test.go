package domain

import (
	"testing"
	"time"
)

// TestEveryTimerFiresItsCommand: at its due time each timer's command is
// accepted, and the resulting state no longer lists that timer.
func TestEveryTimerFiresItsCommand(t *testing.T) {
	r := mustRules(t)
	seen := map[string]bool{}
	for status, commands := range stages() {
		f := Replay(run(t, r, commands...))
		for _, timer := range r.Timers(f) {
			c, ok := TimerCommand(timer.Kind, timer.DueAt)
			if !ok {
				t.Fatalf("%s: timer %s has no command", status, timer.Kind)
			}
			events, err := r.Decide(f, c)
			if err != nil {
				t.Fatalf("%s: timer %s due %v: %v", status, timer.Kind, timer.DueAt, err)
			}
			after := f
			for _, e := range events {
				after = Evolve(after, e)
			}
			for _, again := range r.Timers(after) {
				if again == timer {
					t.Fatalf("%s: timer %s still pending after it fired", status, timer.Kind)
				}
			}
			seen[timer.Kind] = true
		}
	}
	for _, kind := range []string{TimerReviewDueSoon, TimerReviewOverdue, TimerBureauOverdue, TimerSMSDueSoon, TimerSMSExpired,
		TimerRemind7, TimerRemind15, TimerRemind30, TimerExpire} {
		if !seen[kind] {
			t.Errorf("no fixture has a %s timer", kind)
		}
	}
}

func TestTimersFollowTheFiling(t *testing.T) {
	r := mustRules(t)
	f := Replay(run(t, r, enterpriseCommands()...))
	timers := r.Timers(f)
	if len(timers) != 2 || timers[0].DueAt != f.ReviewDueAt.Add(-2*time.Hour) || timers[1].DueAt != f.ReviewDueAt {
		t.Fatalf("submitted filing timers: %+v", timers)
	}
	approved := Evolve(f, InitialReviewApproved{At: at(time.Hour)})
	if got := r.Timers(approved); len(got) != 0 {
		t.Fatalf("approved filing still has timers %+v", got)
	}
}
