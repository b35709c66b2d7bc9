package commands_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/beian/beian/commands"
	"github.com/beian/beian/domain"
)

const day = 24 * time.Hour

// laterCase is a command run in a status it applies in and in one it does not.
type laterCase struct {
	name    string
	account string
	role    string
	// ready brings a filing to a status the command applies in; wrong to one
	// it does not apply in. Either may move the clock.
	ready, wrong func(e *env) string
	run          func(e *env, id string, m commands.Meta) (commands.Result, error)
	types        []string
	status       domain.Status // the filing's status afterwards
	check        func(t *testing.T, f domain.Filing)
}

func laterCases() []laterCase {
	ctx := context.Background()
	submittedAfter := func(d time.Duration) func(e *env) string {
		return func(e *env) string { id := e.submitted(); e.clock.Add(d); return id }
	}
	draftAfter := func(d time.Duration) func(e *env) string {
		return func(e *env) string { id := e.filledFiling(); e.clock.Add(d); return id }
	}
	return []laterCase{
		{
			name: "FailLiveness", account: "liveness-provider", role: commands.RoleSystem,
			ready: func(e *env) string { id, _ := e.livenessStarted(); return id },
			wrong: (*env).submitted,
			run: func(e *env, id string, m commands.Meta) (commands.Result, error) {
				return e.app.FailLiveness.Handle(ctx, m, commands.FailLiveness{FilingID: id, WebsiteID: "w1",
					SessionID: e.session(id, "w1"), Reasons: []string{"face_mismatch"}})
			},
			types: []string{domain.TypeLivenessFailed}, status: domain.StatusDraft,
			check: func(t *testing.T, f domain.Filing) {
				if l := f.Website("w1").Liveness; l.State != domain.LivenessStateFailed || len(l.Reasons) != 1 || l.Reasons[0] != "face_mismatch" {
					t.Fatalf("liveness after the failure: %+v", l)
				}
			},
		},
		{
			name: "RemoveMaterial", account: "acct-1", role: commands.RoleApplicant,
			ready: (*env).filledFiling, wrong: (*env).submitted,
			run: func(e *env, id string, m commands.Meta) (commands.Result, error) {
				return e.app.RemoveMaterial.Handle(ctx, m, commands.RemoveMaterial{FilingID: id, Kind: domain.MaterialEntityCertificate, Scope: "entity"})
			},
			types: []string{domain.TypeMaterialRemoved}, status: domain.StatusDraft,
			check: func(t *testing.T, f domain.Filing) {
				if f.Material(domain.MaterialEntityCertificate, "entity") != nil {
					t.Fatal("the material is still attached")
				}
			},
		},
		{
			name: "RemoveWebsite", account: "acct-1", role: commands.RoleApplicant,
			ready: (*env).filledFiling, wrong: (*env).submitted,
			run: func(e *env, id string, m commands.Meta) (commands.Result, error) {
				return e.app.RemoveWebsite.Handle(ctx, m, commands.RemoveWebsite{FilingID: id, WebsiteID: "w1"})
			},
			types: []string{domain.TypeWebsiteRemoved}, status: domain.StatusDraft,
			check: func(t *testing.T, f domain.Filing) {
				if f.Website("w1") != nil {
					t.Fatal("the website is still in the filing")
				}
			},
		},
		{
			name: "WithdrawFiling", account: "acct-1", role: commands.RoleApplicant,
			ready: (*env).submitted, wrong: (*env).filledFiling,
			run: func(e *env, id string, m commands.Meta) (commands.Result, error) {
				return e.app.WithdrawFiling.Handle(ctx, m, commands.WithdrawFiling{FilingID: id, Reason: "填错了网站名称"})
			},
			types: []string{domain.TypeWithdrawn}, status: domain.StatusDraft,
		},
		{
			name: "RejectByBureau", account: "gd-bureau", role: commands.RoleBureau,
			ready: (*env).bureauReview, wrong: (*env).submitted,
			run: func(e *env, id string, m commands.Meta) (commands.Result, error) {
				return e.app.RejectByBureau.Handle(ctx, m, commands.RejectByBureau{FilingID: id,
					Reasons: []domain.Reason{{Path: "entity", Code: "certificate_unclear"}}})
			},
			types: []string{domain.TypeBureauRejected}, status: domain.StatusBureauRejected,
			check: func(t *testing.T, f domain.Filing) {
				if f.Rejection == nil || f.Rejection.Stage != domain.StageBureau || len(f.Rejection.Reasons) != 1 || f.Rejection.Reasons[0].Message.Zh == "" {
					t.Fatalf("rejection: %+v", f.Rejection)
				}
			},
		},
		{
			name: "ExpireSmsVerification", account: "sms-timer", role: commands.RoleSystem,
			ready: func(e *env) string { id := e.smsPending(); e.clock.Add(25 * time.Hour); return id },
			wrong: submittedAfter(25 * time.Hour),
			run: func(e *env, id string, m commands.Meta) (commands.Result, error) {
				return e.app.ExpireSmsVerification.Handle(ctx, m, commands.ExpireSmsVerification{FilingID: id})
			},
			types: []string{domain.TypeSMSVerificationFailed}, status: domain.StatusReturnedToProvider,
			check: func(t *testing.T, f domain.Filing) {
				if f.SMS == nil || f.SMS.Failed != domain.SMSFailedExpired {
					t.Fatalf("SMS state: %+v", f.SMS)
				}
			},
		},
		{
			name: "Expire", account: "idle-timer", role: commands.RoleSystem,
			ready: draftAfter(46 * day), wrong: submittedAfter(46 * day),
			run: func(e *env, id string, m commands.Meta) (commands.Result, error) {
				return e.app.Expire.Handle(ctx, m, commands.Expire{FilingID: id})
			},
			types: []string{domain.TypeExpired}, status: domain.StatusExpired,
		},
		{
			name: "RemindIdle", account: "idle-timer", role: commands.RoleSystem,
			ready: draftAfter(8 * day), wrong: submittedAfter(8 * day),
			run: func(e *env, id string, m commands.Meta) (commands.Result, error) {
				return e.app.RemindIdle.Handle(ctx, m, commands.RemindIdle{FilingID: id, Day: 7})
			},
			types: []string{domain.TypeIdleReminded}, status: domain.StatusDraft,
			check: func(t *testing.T, f domain.Filing) {
				if len(f.RemindersSent) != 1 || f.RemindersSent[0] != 7 {
					t.Fatalf("reminders sent: %v", f.RemindersSent)
				}
			},
		},
		{
			name: "FlagOverdue", account: "review-timer", role: commands.RoleSystem,
			ready: submittedAfter(30 * day), wrong: draftAfter(30 * day),
			run: func(e *env, id string, m commands.Meta) (commands.Result, error) {
				return e.app.FlagOverdue.Handle(ctx, m, commands.FlagOverdue{FilingID: id, Stage: domain.StageInitial})
			},
			types: []string{domain.TypeReviewOverdue}, status: domain.StatusSubmitted,
			check: func(t *testing.T, f domain.Filing) {
				if len(f.Overdue) != 1 || f.Overdue[0] != domain.StageInitial {
					t.Fatalf("overdue stages: %v", f.Overdue)
				}
			},
		},
		{
			name: "WarnDeadline", account: "review-timer", role: commands.RoleSystem,
			ready: (*env).submitted, wrong: (*env).filledFiling,
			run: func(e *env, id string, m commands.Meta) (commands.Result, error) {
				return e.app.WarnDeadline.Handle(ctx, m, commands.WarnDeadline{FilingID: id, Kind: domain.DeadlineReviewDueSoon})
			},
			types: []string{domain.TypeDeadlineApproaching}, status: domain.StatusSubmitted,
			check: func(t *testing.T, f domain.Filing) {
				if len(f.Warned) != 1 || f.Warned[0].Kind != domain.DeadlineReviewDueSoon || !f.Warned[0].DueAt.Equal(f.ReviewDueAt) {
					t.Fatalf("warned: %+v, review due %s", f.Warned, f.ReviewDueAt)
				}
			},
		},
	}
}

// TestLaterCommandsThroughHandlers runs the commands of the later steps and
// the timers: each appends its event with the command's metadata in a status
// it applies in, and is refused without writing in one it does not.
func TestLaterCommandsThroughHandlers(t *testing.T) {
	for _, tc := range laterCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Run("applies", func(t *testing.T) {
				e := newEnv(t)
				id := tc.ready(e)
				before := e.log()
				m := traced(tc.account, tc.role)
				res, err := tc.run(e, id, m)
				if err != nil {
					t.Fatal(err)
				}
				e.appended(t, before, res, m, tc.name, id, tc.types...)
				f, _, err := e.app.Executor.Load(context.Background(), id)
				if err != nil {
					t.Fatal(err)
				}
				if f.Status != tc.status {
					t.Fatalf("status %s, want %s", f.Status, tc.status)
				}
				if tc.check != nil {
					tc.check(t, f)
				}
			})
			t.Run("refused in a wrong status", func(t *testing.T) {
				e := newEnv(t)
				id := tc.wrong(e)
				status := e.status(id)
				before := e.log()
				_, err := tc.run(e, id, traced(tc.account, tc.role))
				var ise *domain.InvalidStateError
				if !errors.As(err, &ise) || ise.Status != status {
					t.Fatalf("in status %s: %v, want an invalid state error", status, err)
				}
				e.unchanged(t, before)
			})
		})
	}
}
