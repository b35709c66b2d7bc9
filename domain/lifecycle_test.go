package domain

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

// everyCommand is one instance of each command, valid for the enterprise
// fixture where a status allows it.
func everyCommand() []Command {
	return []Command{
		verifyEnterprise(),
		enterpriseEntity(),
		exampleWebsite(),
		RemoveWebsite{WebsiteID: "w1", At: at(time.Hour)},
		SubmitWebsitePrincipal{WebsiteID: "w1", Principal: zhangSan(), IsLegalRep: true, At: at(time.Hour)},
		StartLiveness{WebsiteID: "w1", SessionID: "live-2", At: at(time.Hour)},
		PassLiveness{WebsiteID: "w1", SessionID: "live-1", At: at(time.Hour)},
		FailLiveness{WebsiteID: "w1", SessionID: "live-1", Reasons: []string{"face_mismatch"}, At: at(time.Hour)},
		material(MaterialCommitmentLetter, "website:w1"),
		RemoveMaterial{Kind: MaterialPrincipalID, Scope: "entity", At: at(time.Hour)},
		SubmitForReview{TermsVersion: "2026-01", At: at(time.Hour)},
		WithdrawFiling{At: at(time.Hour)},
		AbandonFiling{At: at(time.Hour)},
		approveCmd(),
		RejectInitialReview{Reasons: []Reason{rejectReason("entity", "other")}, At: at(time.Hour)},
		sendCmd(),
		requestSMSCmd(),
		verifyCodeCmd(),
		ExpireSmsVerification{At: at(30 * time.Hour)},
		bureauApproveCmd(),
		RejectByBureau{Reasons: []Reason{rejectReason("entity", "other")}, At: at(80 * time.Hour)},
		RemindIdle{Day: 7, At: at(8 * 24 * time.Hour)},
		Expire{At: at(50 * 24 * time.Hour)},
		FlagOverdue{Stage: StageInitial, At: at(100 * time.Hour)},
		FlagOverdue{Stage: StageBureau, At: at(1000 * time.Hour)},
		WarnDeadline{Kind: DeadlineReviewDueSoon, At: at(20 * time.Hour)},
		WarnDeadline{Kind: DeadlineSMSDueSoon, At: at(25 * time.Hour)},
	}
}

// TestEveryCommandInEveryStatus walks the state machine: in a status that
// does not allow it, a command fails with an invalid-state error naming the
// status; in one that does, it yields events or a validation error, never
// anything else and never a panic.
func TestEveryCommandInEveryStatus(t *testing.T) {
	r := mustRules(t)
	stages := stages()
	for _, status := range AllStatuses() {
		commands, ok := stages[status]
		if !ok {
			t.Fatalf("no fixture reaches %s", status)
		}
		state := Replay(run(t, r, commands...))
		if got := state.Status; got != status && !(status == StatusNone && got == "") {
			t.Fatalf("fixture for %s reached %s", status, got)
		}
		for _, c := range everyCommand() {
			t.Run(string(status)+"/"+c.CommandName(), func(t *testing.T) {
				events, err := r.Decide(state, c)
				allowed := slices.Contains(allowedStatuses(c), status)
				var ise *InvalidStateError
				var ve *ValidationError
				switch {
				case !allowed && !errors.As(err, &ise):
					t.Fatalf("want invalid state, got events %v, error %v", events, err)
				case !allowed && ise.Status != status:
					t.Fatalf("invalid state names %s, want %s", ise.Status, status)
				case allowed && err == nil && len(events) == 0:
					t.Fatal("no events and no error")
				case allowed && err != nil && !errors.As(err, &ve):
					t.Fatalf("unexpected error type %T: %v", err, err)
				}
				checkMessages(t, err, true)
			})
		}
	}
}

// TestCommandsAllowedSomewhere: the state machine has no dead command.
func TestCommandsAllowedSomewhere(t *testing.T) {
	for _, c := range everyCommand() {
		if len(allowedStatuses(c)) == 0 {
			t.Errorf("%s is allowed in no status", c.CommandName())
		}
	}
}

func TestEnterpriseFilingFromVerifyTypeToICPNumbers(t *testing.T) {
	r := mustRules(t)
	events := run(t, r, enterpriseCommands()...)
	s := given(t, r, events...)
	s.when(approveCmd()).then(InitialReviewApproved{Note: "资料齐全", At: approveCmd().At})
	s = given(t, r, append(events, InitialReviewApproved{Note: "资料齐全", At: approveCmd().At})...)
	sent := s.when(sendCmd()).thenTypes(TypeSentToBureau)
	// 20 working days from Monday 2026-03-02: four weeks later, 2026-03-30.
	if due := sent[0].(SentToBureau).DueAt; !due.Equal(time.Date(2026, 3, 30, 13, 0, 0, 0, chinaZone)) {
		t.Errorf("bureau due at %v", due)
	}
	all := run(t, r, append(enterpriseCommands(), approveCmd(), sendCmd(), requestSMSCmd(), verifyCodeCmd())...)
	f := Replay(all)
	if f.Status != StatusBureauReview {
		t.Fatalf("status %s after the SMS check", f.Status)
	}
	given(t, r, all...).when(bureauApproveCmd()).then(BureauApproved{
		EntityNumber:   "粤ICP备2026012345号",
		WebsiteNumbers: []WebsiteNumber{{WebsiteID: "w1", Number: "粤ICP备2026012345号-1"}},
		At:             bureauApproveCmd().At,
	})
	final := Replay(append(all, BureauApproved{EntityNumber: "粤ICP备2026012345号", At: bureauApproveCmd().At}))
	if final.Status != StatusApproved || !final.Status.Terminal() {
		t.Fatalf("final status %s", final.Status)
	}
}

func TestIndividualFilingFromVerifyTypeToICPNumbers(t *testing.T) {
	r := mustRules(t)
	events := run(t, r, append(individualCommands(),
		approveCmd(), sendCmd(),
		RequestSmsVerification{Codes: map[string]string{"13800138000": "135790"}, At: at(3*time.Hour + 5*time.Minute)},
		VerifySmsCode{Mobile: "13800138000", CertSuffix: "010010", Code: "135790", At: at(4 * time.Hour)},
		ApproveByBureau{Serial: "2026000001", At: at(100 * time.Hour)},
	)...)
	f := Replay(events)
	if f.Status != StatusApproved || f.Numbers.Entity != "京ICP备2026000001号" || f.Numbers.Websites[0].Number != "京ICP备2026000001号-1" {
		t.Fatalf("got %s %+v", f.Status, f.Numbers)
	}
	if len(f.SMS.Recipients) != 1 || len(f.SMS.Recipients[0].Roles) != 2 {
		t.Fatalf("an individual is one SMS recipient for both roles: %+v", f.SMS.Recipients)
	}
}

func TestRejectionThenResubmission(t *testing.T) {
	r := mustRules(t)
	reject := RejectInitialReview{Reasons: []Reason{{Path: "entity.principal.mobile", Code: "phone_unreachable"}}, At: at(time.Hour)}
	events := run(t, r, append(enterpriseCommands(), reject)...)
	f := Replay(events)
	if f.Status != StatusProviderRejected || f.Rejection.Reasons[0].Message.Zh != "电话无法接通" {
		t.Fatalf("rejection not recorded with the standard message: %+v", f.Rejection)
	}
	fix := enterpriseEntity()
	fix.Entity.Principal.Mobile = "13700137000"
	fix.At = at(2 * time.Hour)
	s := given(t, r, events...)
	s.when(fix).thenTypes(TypeEntitySubmitted)
	events = append(events, EntitySubmitted{Entity: fix.Entity, At: fix.At})
	resubmitted := given(t, r, events...).when(SubmitForReview{TermsVersion: "2026-01", At: at(3 * time.Hour)}).thenTypes(TypeSubmittedForReview)
	if n := resubmitted[0].(SubmittedForReview).Submission; n != 2 {
		t.Errorf("submission number %d, want 2", n)
	}
}

func TestBureauRejectionThenResubmission(t *testing.T) {
	r := mustRules(t)
	c := stages()[StatusBureauRejected]
	events := run(t, r, c...)
	f := Replay(events)
	if f.Status != StatusBureauRejected || f.Rejection.Stage != StageBureau {
		t.Fatalf("got %s %+v", f.Status, f.Rejection)
	}
	rename := exampleWebsite()
	rename.WebsiteID, rename.Name, rename.At = "w1", "示例科技服务", at(50*time.Hour)
	events = append(events, run1(t, r, f, rename)...)
	given(t, r, events...).when(SubmitForReview{TermsVersion: "2026-01", At: at(51 * time.Hour)}).thenTypes(TypeSubmittedForReview)
}

// run1 decides one command on a state and returns its events.
func run1(t *testing.T, r *Rules, f Filing, c Command) []Event {
	t.Helper()
	events, err := r.Decide(f, c)
	if err != nil {
		t.Fatalf("%s: %v", c.CommandName(), err)
	}
	return events
}

func TestWithdrawal(t *testing.T) {
	r := mustRules(t)
	events := run(t, r, enterpriseCommands()...)
	s := given(t, r, events...)
	s.when(WithdrawFiling{Reason: "修改网站名称", At: at(time.Hour)}).then(Withdrawn{Reason: "修改网站名称", At: at(time.Hour)})
	back := Replay(append(events, Withdrawn{At: at(time.Hour)}))
	if back.Status != StatusDraft {
		t.Fatalf("withdrawn filing is %s, want draft", back.Status)
	}
	approved := append(events, InitialReviewApproved{At: at(time.Hour)})
	given(t, r, approved...).when(WithdrawFiling{At: at(2 * time.Hour)}).thenInvalidState(StatusProviderApproved)
}

func TestAbandonment(t *testing.T) {
	r := mustRules(t)
	approved := run(t, r, append(enterpriseCommands(), approveCmd())...)
	given(t, r, approved...).when(AbandonFiling{Reason: "不再需要", At: at(5 * time.Hour)}).
		then(Abandoned{Reason: "不再需要", At: at(5 * time.Hour)})
	atBureau := run(t, r, append(enterpriseCommands(), approveCmd(), sendCmd())...)
	given(t, r, atBureau...).when(AbandonFiling{At: at(5 * time.Hour)}).thenInvalidState(StatusSentToBureau)
	abandoned := append(approved, Abandoned{At: at(5 * time.Hour)})
	given(t, r, abandoned...).when(enterpriseEntity()).thenInvalidState(StatusAbandoned)
}

func TestSMSFiveWrongCodesReturnToProvider(t *testing.T) {
	r := mustRules(t)
	events := run(t, r, append(enterpriseCommands(), approveCmd(), sendCmd(), requestSMSCmd())...)
	wrong := VerifySmsCode{Mobile: "13800138000", CertSuffix: "071236", Code: "000000", At: at(5 * time.Hour)}
	for i := 1; i <= 4; i++ {
		got := given(t, r, events...).when(wrong).thenTypes(TypeSMSCodeRejected)
		if left := got[0].(SMSCodeRejected).AttemptsLeft; left != 5-i {
			t.Fatalf("after %d wrong codes %d attempts left", i, left)
		}
		events = append(events, got...)
	}
	fifth := given(t, r, events...).when(wrong).thenTypes(TypeSMSCodeRejected, TypeSMSVerificationFailed)
	f := Replay(append(events, fifth...))
	if f.Status != StatusReturnedToProvider || f.SMS.Failed != SMSFailedTooManyWrongCodes {
		t.Fatalf("got %s, %q", f.Status, f.SMS.Failed)
	}
	// The provider resends (unchanged data) or rejects to the applicant.
	given(t, r, append(events, fifth...)...).when(SendToBureau{At: at(30 * time.Hour)}).thenTypes(TypeSentToBureau)
}

func TestSMSExpiry(t *testing.T) {
	r := mustRules(t)
	events := run(t, r, append(enterpriseCommands(), approveCmd(), sendCmd(), requestSMSCmd())...)
	s := given(t, r, events...)
	requested := requestSMSCmd().At
	s.when(ExpireSmsVerification{At: requested.Add(23 * time.Hour)}).thenRejects("at=" + CodeSMSNotExpired)
	s.when(VerifySmsCode{Mobile: "13800138000", CertSuffix: "071236", Code: "246810", At: requested.Add(24 * time.Hour)}).
		thenRejects("code=" + CodeSMSExpired)
	s.when(ExpireSmsVerification{At: requested.Add(24 * time.Hour)}).
		then(SMSVerificationFailed{Reason: SMSFailedExpired, At: requested.Add(24 * time.Hour)})
}

func TestSMSVerificationWaitsForEveryPrincipal(t *testing.T) {
	r := mustRules(t)
	cmds := enterpriseCommands()
	cmds[3] = SubmitWebsitePrincipal{WebsiteID: "w1", Principal: liSi(), At: at(3 * time.Minute)}
	cmds = slices.Insert(cmds, 9, Command(material(MaterialWebsitePrincipalID, "website:w1")))
	events := run(t, r, append(cmds, approveCmd(), sendCmd())...)
	s := given(t, r, events...)
	s.when(RequestSmsVerification{Codes: map[string]string{"13800138000": "111111"}, At: at(4 * time.Hour)}).
		thenRejects("codes[13900139000]=" + CodeSMSCodeMissing)
	both := RequestSmsVerification{Codes: map[string]string{"13800138000": "111111", "13900139000": "222222"}, At: at(4 * time.Hour)}
	events = append(events, run1(t, r, Replay(events), both)...)
	first := given(t, r, events...).when(VerifySmsCode{Mobile: "13900139000", CertSuffix: "01001x", Code: "222222", At: at(5 * time.Hour)})
	events = append(events, first.thenTypes(TypeSMSCodeVerified)...)
	given(t, r, events...).when(VerifySmsCode{Mobile: "13800138000", CertSuffix: "071236", Code: "111111", At: at(6 * time.Hour)}).
		thenTypes(TypeSMSCodeVerified, TypeSMSVerificationCompleted)
	given(t, r, events...).when(VerifySmsCode{Mobile: "13900139000", CertSuffix: "01001X", Code: "222222", At: at(6 * time.Hour)}).
		thenRejects("mobile=" + CodeSMSVerified)
	given(t, r, events...).when(VerifySmsCode{Mobile: "13800138000", CertSuffix: "999999", Code: "111111", At: at(6 * time.Hour)}).
		thenRejects("mobile=" + CodeSMSRecipient)
}

func TestIdleRemindersThenExpiry(t *testing.T) {
	r := mustRules(t)
	events := run(t, r, verifyEnterprise())
	day := func(n int) time.Time { return at(time.Duration(n) * 24 * time.Hour) }
	s := given(t, r, events...)
	s.when(RemindIdle{Day: 7, At: day(6)}).thenRejects("day=" + CodeReminderTooEarly)
	s.when(RemindIdle{Day: 8, At: day(9)}).thenRejects("day=" + CodeReminderDay)
	for _, d := range []int{7, 15, 30} {
		e := IdleReminded{Day: d, IdleSince: t0, At: day(d)}
		given(t, r, events...).when(RemindIdle{Day: d, At: day(d)}).then(e)
		events = append(events, e)
	}
	given(t, r, events...).when(RemindIdle{Day: 30, At: day(31)}).thenRejects("day=" + CodeReminderSent)
	given(t, r, events...).when(Expire{At: day(44)}).thenRejects("at=" + CodeExpiryTooEarly)
	given(t, r, events...).when(Expire{At: day(45)}).then(Expired{IdleSince: t0, At: day(45)})
	// An applicant action restarts the idle clock and the reminders.
	acted := append(events, EntitySubmitted{Entity: enterpriseEntity().Entity, At: day(40)})
	given(t, r, acted...).when(Expire{At: day(46)}).thenRejects("at=" + CodeExpiryTooEarly)
	given(t, r, acted...).when(RemindIdle{Day: 7, At: day(47)}).thenTypes(TypeIdleReminded)
}

func TestReviewOverdue(t *testing.T) {
	r := mustRules(t)
	events := run(t, r, enterpriseCommands()...)
	submitted := Replay(events)
	// Submitted Monday 10:10; due Tuesday 10:10.
	if want := time.Date(2026, 3, 3, 10, 10, 0, 0, chinaZone); !submitted.ReviewDueAt.Equal(want) {
		t.Fatalf("review due %v, want %v", submitted.ReviewDueAt, want)
	}
	s := given(t, r, events...)
	s.when(FlagOverdue{Stage: StageInitial, At: submitted.ReviewDueAt.Add(-time.Second)}).thenRejects("at=" + CodeOverdueNotDue)
	flag := ReviewOverdue{Stage: StageInitial, DueAt: submitted.ReviewDueAt, At: submitted.ReviewDueAt}
	s.when(FlagOverdue{Stage: StageInitial, At: submitted.ReviewDueAt}).then(flag)
	given(t, r, append(events, flag)...).when(FlagOverdue{Stage: StageInitial, At: at(100 * time.Hour)}).thenRejects("stage=" + CodeOverdueFlagged)
	s.when(FlagOverdue{Stage: StageBureau, At: at(100 * time.Hour)}).thenInvalidState(StatusSubmitted)
}

func TestEvolveDoesNotChangeItsInput(t *testing.T) {
	r := mustRules(t)
	events := run(t, r, enterpriseCommands()...)
	before := Replay(events)
	snapshot := Replay(events)
	for _, e := range []Event{
		WebsiteRemoved{WebsiteID: "w1", At: at(time.Hour)},
		MaterialUploaded{Material: Material{Kind: MaterialOther, Scope: "entity"}, At: at(time.Hour)},
		LivenessFailed{WebsiteID: "w1", SessionID: "live-1", At: at(time.Hour)},
	} {
		_ = Evolve(before, e)
	}
	if !reflect.DeepEqual(before, snapshot) {
		t.Fatal("Evolve changed the state it was given")
	}
}

func TestDeadlineWarnings(t *testing.T) {
	r := mustRules(t)
	events := run(t, r, enterpriseCommands()...)
	due := Replay(events).ReviewDueAt
	warn := WarnDeadline{Kind: DeadlineReviewDueSoon, At: due.Add(-2 * time.Hour)}
	e := DeadlineApproaching{Kind: DeadlineReviewDueSoon, DueAt: due, At: warn.At}
	given(t, r, events...).when(warn).then(e)
	given(t, r, append(events, e)...).when(warn).thenRejects("kind=" + CodeDeadlineWarned)
	given(t, r, events...).when(WarnDeadline{Kind: "lunch", At: warn.At}).thenRejects("kind=" + CodeDeadlineKind)
	given(t, r, events...).when(WarnDeadline{Kind: DeadlineSMSDueSoon, At: warn.At}).thenInvalidState(StatusSubmitted)
}
