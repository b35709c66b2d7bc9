package domain

import (
	"slices"
	"time"
)

// Timer kinds: deadlines a process manager turns into commands.
const (
	TimerReviewDueSoon = "review_due_soon"
	TimerReviewOverdue = "review_overdue"
	TimerBureauOverdue = "bureau_overdue"
	TimerSMSDueSoon    = "sms_due_soon"
	TimerSMSExpired    = "sms_expired"
	TimerRemind7       = "remind_7"
	TimerRemind15      = "remind_15"
	TimerRemind30      = "remind_30"
	TimerExpire        = "expire"
)

// warnAhead is how long before a deadline its warning goes out.
const warnAhead = 2 * time.Hour

// Timer is a deadline of a filing: at DueAt its command should run.
type Timer struct {
	Kind  string
	DueAt time.Time
}

// Timers lists the filing's pending deadlines as it stands. After every
// event the list is computed again, so a deadline that no longer applies
// (the review was decided, the applicant acted) simply disappears.
func (r *Rules) Timers(f Filing) []Timer {
	var out []Timer
	add := func(kind string, due time.Time) {
		if !due.IsZero() {
			out = append(out, Timer{Kind: kind, DueAt: due})
		}
	}
	warned := func(kind string, due time.Time) bool {
		return slices.ContainsFunc(f.Warned, func(w WarnedDeadline) bool { return w.Kind == kind && w.DueAt.Equal(due) })
	}
	switch f.Status {
	case StatusSubmitted:
		if !warned(DeadlineReviewDueSoon, f.ReviewDueAt) {
			add(TimerReviewDueSoon, f.ReviewDueAt.Add(-warnAhead))
		}
		if !slices.Contains(f.Overdue, StageInitial) {
			add(TimerReviewOverdue, f.ReviewDueAt)
		}
	case StatusSentToBureau, StatusSMSPending, StatusBureauReview:
		if !slices.Contains(f.Overdue, StageBureau) {
			add(TimerBureauOverdue, f.BureauDueAt)
		}
		if f.Status == StatusSMSPending && f.SMS != nil {
			if !warned(DeadlineSMSDueSoon, f.SMS.ExpiresAt) {
				add(TimerSMSDueSoon, f.SMS.ExpiresAt.Add(-warnAhead))
			}
			add(TimerSMSExpired, f.SMS.ExpiresAt)
		}
	}
	if f.Status.awaitsApplicant() {
		for _, day := range r.Channel.IdleReminderDays {
			if !slices.Contains(f.RemindersSent, day) {
				add(remindKind(day), f.IdleSince.AddDate(0, 0, day))
			}
		}
		add(TimerExpire, f.IdleSince.AddDate(0, 0, r.Channel.IdleExpiryDays))
	}
	return out
}

func remindKind(day int) string {
	switch day {
	case 7:
		return TimerRemind7
	case 15:
		return TimerRemind15
	}
	return TimerRemind30
}

// TimerCommand is the command a timer fires at time at.
func TimerCommand(kind string, at time.Time) (Command, bool) {
	switch kind {
	case TimerReviewDueSoon:
		return WarnDeadline{Kind: DeadlineReviewDueSoon, At: at}, true
	case TimerReviewOverdue:
		return FlagOverdue{Stage: StageInitial, At: at}, true
	case TimerBureauOverdue:
		return FlagOverdue{Stage: StageBureau, At: at}, true
	case TimerSMSDueSoon:
		return WarnDeadline{Kind: DeadlineSMSDueSoon, At: at}, true
	case TimerSMSExpired:
		return ExpireSmsVerification{At: at}, true
	case TimerRemind7:
		return RemindIdle{Day: 7, At: at}, true
	case TimerRemind15:
		return RemindIdle{Day: 15, At: at}, true
	case TimerRemind30:
		return RemindIdle{Day: 30, At: at}, true
	case TimerExpire:
		return Expire{At: at}, true
	}
	return nil, false
}
