package domain

import (
	"fmt"
	"slices"
	"time"
)

// Decide returns the events a command causes on a filing, or why it cannot
// happen: a *ValidationError listing every failing field, or an
// *InvalidStateError when the command does not apply in the filing's status.
// It is a pure function of its arguments.
func (r *Rules) Decide(f Filing, c Command) ([]Event, error) {
	if f.Status == "" {
		f.Status = StatusNone
	}
	if !slices.Contains(allowedStatuses(c), f.Status) {
		return nil, invalidState(c, f.Status)
	}
	switch c := c.(type) {
	case VerifyType:
		return r.verifyType(c)
	case SubmitEntity:
		return r.submitEntity(&f, c)
	case SubmitWebsite:
		return r.submitWebsite(&f, c)
	case RemoveWebsite:
		return removeWebsite(&f, c)
	case SubmitWebsitePrincipal:
		return r.submitWebsitePrincipal(&f, c)
	case StartLiveness:
		return startLiveness(&f, c)
	case PassLiveness:
		return finishLiveness(&f, c.WebsiteID, c.SessionID, c.At, nil)
	case FailLiveness:
		return finishLiveness(&f, c.WebsiteID, c.SessionID, c.At, c.Reasons)
	case UploadMaterial:
		return r.uploadMaterial(&f, c)
	case RemoveMaterial:
		return removeMaterial(&f, c)
	case SubmitForReview:
		return r.submitForReview(&f, c)
	case WithdrawFiling:
		return oneEvent(c.At, Withdrawn{Reason: c.Reason, At: c.At}, reasonText(c.Reason))
	case AbandonFiling:
		return oneEvent(c.At, Abandoned{Reason: c.Reason, At: c.At}, reasonText(c.Reason))
	case ApproveInitialReview:
		return oneEvent(c.At, InitialReviewApproved{Note: c.Note, At: c.At}, reasonText(c.Note))
	case RejectInitialReview:
		return r.reject(&f, c.Reasons, c.At, func(rs []Reason) Event { return InitialReviewRejected{Reasons: rs, At: c.At} })
	case SendToBureau:
		return r.sendToBureau(&f, c)
	case RequestSmsVerification:
		return r.requestSMS(&f, c)
	case VerifySmsCode:
		return r.verifySMSCode(&f, c)
	case ExpireSmsVerification:
		return expireSMS(&f, c)
	case ApproveByBureau:
		return r.approveByBureau(&f, c)
	case RejectByBureau:
		return r.reject(&f, c.Reasons, c.At, func(rs []Reason) Event { return BureauRejected{Reasons: rs, At: c.At} })
	case RemindIdle:
		return r.remindIdle(&f, c)
	case Expire:
		return r.expire(&f, c)
	case FlagOverdue:
		return flagOverdue(&f, c)
	case WarnDeadline:
		return warnDeadline(&f, c)
	}
	return nil, fmt.Errorf("domain: unknown command %T", c)
}

// editableStatuses are those in which the applicant may change the data:
// before submission and after a rejection (§3.8).
func editableStatuses() []Status {
	return []Status{StatusDraft, StatusProviderRejected, StatusBureauRejected}
}

// allowedStatuses is the state machine: the statuses each command applies in.
func allowedStatuses(c Command) []Status {
	switch c := c.(type) {
	case VerifyType:
		return []Status{StatusNone}
	case SubmitEntity, SubmitWebsite, RemoveWebsite, SubmitWebsitePrincipal, StartLiveness, PassLiveness,
		FailLiveness, UploadMaterial, RemoveMaterial, SubmitForReview, RemindIdle, Expire:
		return editableStatuses()
	case WithdrawFiling, ApproveInitialReview:
		return []Status{StatusSubmitted}
	case RejectInitialReview:
		// After a failed SMS check the provider either resends or rejects to the applicant (§3.9).
		return []Status{StatusSubmitted, StatusReturnedToProvider}
	case AbandonFiling:
		// Until the bureau has it (§3.8).
		return []Status{StatusDraft, StatusSubmitted, StatusProviderRejected, StatusProviderApproved,
			StatusReturnedToProvider, StatusBureauRejected}
	case SendToBureau:
		return []Status{StatusProviderApproved, StatusReturnedToProvider}
	case RequestSmsVerification:
		return []Status{StatusSentToBureau}
	case VerifySmsCode, ExpireSmsVerification:
		return []Status{StatusSMSPending}
	case ApproveByBureau, RejectByBureau:
		return []Status{StatusBureauReview}
	case WarnDeadline:
		if c.Kind == DeadlineSMSDueSoon {
			return []Status{StatusSMSPending}
		}
		return []Status{StatusSubmitted}
	case FlagOverdue:
		if c.Stage == StageInitial {
			return []Status{StatusSubmitted}
		}
		return []Status{StatusSentToBureau, StatusSMSPending, StatusBureauReview}
	}
	return nil
}

// StatusName is the status as applicants read it.
func StatusName(s Status) Message {
	switch s {
	case StatusNone:
		return Message{"不存在", "not started"}
	case StatusDraft:
		return Message{"填写中", "being filled in"}
	case StatusSubmitted:
		return Message{"待初审", "waiting for the initial review"}
	case StatusProviderRejected:
		return Message{"初审驳回", "rejected at the initial review"}
	case StatusProviderApproved:
		return Message{"初审通过，待提交管局", "approved by the provider, waiting to go to the bureau"}
	case StatusSentToBureau:
		return Message{"已提交管局", "sent to the bureau"}
	case StatusSMSPending:
		return Message{"待短信核验", "waiting for the MIIT SMS verification"}
	case StatusReturnedToProvider:
		return Message{"短信核验未完成，退回接入商", "returned to the provider after the SMS verification"}
	case StatusBureauReview:
		return Message{"管局审核中", "under the bureau's review"}
	case StatusBureauRejected:
		return Message{"管局驳回", "rejected by the bureau"}
	case StatusApproved:
		return Message{"备案成功", "approved"}
	case StatusAbandoned:
		return Message{"已放弃", "abandoned"}
	case StatusExpired:
		return Message{"已过期", "expired"}
	}
	return Message{string(s), string(s)}
}

func invalidState(c Command, s Status) *InvalidStateError {
	name := StatusName(s)
	reason := Message{Zh: "备案" + name.Zh + "，不能执行此操作", En: "the filing is " + name.En}
	if s == StatusNone {
		reason = Message{"备案不存在", "the filing does not exist"}
	}
	return &InvalidStateError{Command: c.CommandName(), Status: s, Reason: reason}
}

// oneEvent checks the command's time and optional text, then returns e.
func oneEvent(at time.Time, e Event, checks ...func(*problems)) ([]Event, error) {
	var ps problems
	checkTime(&ps, at)
	for _, check := range checks {
		check(&ps)
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return []Event{e}, nil
}

// reasonText checks an optional free-text reason or note.
func reasonText(s string) func(*problems) {
	return func(ps *problems) {
		if s != "" {
			text(ps, "reason", s, false, 500)
		}
	}
}

// checkTime refuses a command without a time: every deadline hangs on it.
func checkTime(ps *problems, at time.Time) {
	if at.IsZero() {
		ps.addf("at", CodeRequired, "缺少操作时间", "the command's time is missing")
	}
}
