// Package notify is the reference notification consumer: it follows the
// filing stream (the masked CloudEvents of infra/bus), renders the notices
// an applicant and the provider's reviewers get, in Chinese with English
// alongside, and hands them to a Notifier: a log line, or a signed webhook
// with retries and a dead-letter table.
//
// Each event is notified once: the consumer records the ids of the events it
// has delivered in the read store, so a redelivered event sends nothing. It
// handles one message at a time, in arrival order, so the per-filing order
// the bus guarantees (the filing id is the partition key) reaches the
// recipients unchanged.
//
// It reads only the published envelope, never the event log: what a notice
// says is what a third party may see (mobiles as 138****8000). It imports
// domain (to decode payloads), infra/bus, the readstore port and watermill's
// message package; it must not import api, commands, projections or any
// storage adapter.
package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/bus"
)

// Recipient roles. A notice goes to the filing's applicant (the account in
// the CloudEvent's beianaccount extension) or to the provider's reviewers,
// a shared queue addressed as the account ReviewersAccount.
const (
	RoleApplicant    = "applicant"
	RoleReviewer     = "reviewer"
	ReviewersAccount = "reviewers"
)

// Notice kinds, stable names a receiver may route on.
const (
	KindSubmitted             = "submitted"     // applicant: received, initial review due by
	KindReviewQueued          = "review_queued" // reviewer: a new filing in the queue
	KindInitialReviewApproved = "initial_review_approved"
	KindInitialReviewRejected = "initial_review_rejected"
	KindSentToBureau          = "sent_to_bureau" // with the MIIT SMS instructions
	KindSMSRequested          = "sms_requested"
	KindSMSDueSoon            = "sms_due_soon"
	KindSMSFailed             = "sms_failed"
	KindBureauApproved        = "bureau_approved"
	KindBureauRejected        = "bureau_rejected"
	KindIdleReminder          = "idle_reminder"
	KindExpired               = "expired"
	KindReviewDueSoon         = "review_due_soon"
	KindReviewOverdue         = "review_overdue"
)

// The filing channel's limits that notices quote. The events do not carry
// them, so they are written here; a test compares them with the domain's
// rules (provinces.json), so a change there cannot leave notices wrong.
const (
	smsValidHours    = 24
	smsMaxWrongCodes = 5
	idleExpiryDays   = 45
)

// MIITPortal is where principals confirm SMS codes and where a site's ICP
// number must link to.
const MIITPortal = "https://beian.miit.gov.cn"

// Message is a text in Chinese and in English.
type Message struct {
	Zh string `json:"zh"`
	En string `json:"en"`
}

// Recipient addresses a notice.
type Recipient struct {
	Account string `json:"account"`
	Role    string `json:"role"` // RoleApplicant or RoleReviewer
}

// Notice is one message to one recipient about one event.
type Notice struct {
	// ID is the event id + "/" + the recipient's role: an event makes at most
	// one notice per role, and a redelivered event renders the same ids, so
	// receivers can drop duplicates by it (it is the Idempotency-Key).
	ID        string    `json:"id"`
	EventID   string    `json:"eventId"`
	FilingID  string    `json:"filingId"`
	Recipient Recipient `json:"recipient"`
	Kind      string    `json:"kind"`
	Title     Message   `json:"title"`
	Body      Message   `json:"body"`
	Time      time.Time `json:"time"` // when the event occurred
}

// draft is a notice before it is addressed.
type draft struct {
	role        string
	kind        string
	title, body Message
}

// Render returns the notices an event gives rise to, applicant's first, or
// nil for an event nobody is told about (a liveness check, a verified SMS
// code: the applicant did it and saw the result). The notices depend only
// on the envelope, so a redelivery renders the same notices with the same
// ids. An error means the envelope cannot be read (a payload of an unknown
// schema, no applicant account): retrying it will not help.
func Render(ce bus.CloudEvent) ([]Notice, error) {
	if !notified(ce.Type) {
		return nil, nil
	}
	e, err := domain.DecodeEvent(ce.Type, ce.Data)
	if err != nil {
		return nil, fmt.Errorf("render event %s: %w", ce.ID, err)
	}
	drafts := render(ce.Subject, e)
	if len(drafts) == 0 {
		return nil, nil
	}
	notices := make([]Notice, 0, len(drafts))
	for _, d := range drafts {
		to := Recipient{Account: ReviewersAccount, Role: RoleReviewer}
		if d.role == RoleApplicant {
			if ce.Account == "" {
				return nil, fmt.Errorf("render event %s (%s): no applicant account in the envelope", ce.ID, ce.Type)
			}
			to = Recipient{Account: ce.Account, Role: RoleApplicant}
		}
		notices = append(notices, Notice{
			ID: ce.ID + "/" + d.role, EventID: ce.ID, FilingID: ce.Subject, Recipient: to,
			Kind: d.kind, Title: d.title, Body: d.body, Time: ce.Time,
		})
	}
	return notices, nil
}

// notified reports whether events of the type may give rise to a notice, so
// that the payloads of the others are not even decoded: a consumer older
// than a new event type must pass over it, not fail on it.
func notified(eventType string) bool {
	switch eventType {
	case domain.TypeSubmittedForReview, domain.TypeInitialReviewApproved, domain.TypeInitialReviewRejected,
		domain.TypeSentToBureau, domain.TypeSMSVerificationRequested, domain.TypeSMSVerificationFailed,
		domain.TypeBureauApproved, domain.TypeBureauRejected, domain.TypeIdleReminded, domain.TypeExpired,
		domain.TypeReviewOverdue, domain.TypeDeadlineApproaching:
		return true
	}
	return false
}

// render writes the notices of one decoded event about filing f.
func render(f string, e domain.Event) []draft {
	switch e := e.(type) {
	case domain.SubmittedForReview:
		return submitted(f, e)
	case domain.InitialReviewApproved:
		return []draft{initialApproved(f, e)}
	case domain.InitialReviewRejected:
		return []draft{rejected(f, KindInitialReviewRejected, domain.StageInitial, e.Reasons)}
	case domain.SentToBureau:
		return []draft{sentToBureau(f, e)}
	case domain.SMSVerificationRequested:
		return []draft{smsRequested(f, e)}
	case domain.SMSVerificationFailed:
		return []draft{smsFailed(f, e)}
	case domain.BureauApproved:
		return []draft{bureauApproved(f, e)}
	case domain.BureauRejected:
		return []draft{rejected(f, KindBureauRejected, domain.StageBureau, e.Reasons)}
	case domain.IdleReminded:
		return []draft{idleReminder(f, e)}
	case domain.Expired:
		return []draft{expired(f)}
	case domain.ReviewOverdue:
		return []draft{reviewOverdue(f, e)}
	case domain.DeadlineApproaching:
		switch e.Kind {
		case domain.DeadlineSMSDueSoon:
			return []draft{smsDueSoon(f, e)}
		case domain.DeadlineReviewDueSoon:
			return []draft{reviewDueSoon(f, e)}
		}
		// A deadline kind newer than this consumer: nobody to tell yet.
	}
	return nil
}

// chinaTime formats t in China Standard Time, the time applicants and
// bureaus read, e.g. 2026-03-03 10:10. (A fixed zone: China has no DST.)
func chinaTime(t time.Time) string {
	return t.In(time.FixedZone("CST", 8*60*60)).Format("2006-01-02 15:04")
}

// at formats t for both languages, naming the zone.
func at(t time.Time) Message {
	s := chinaTime(t)
	return Message{Zh: s + "（北京时间）", En: s + " UTC+8"}
}

// smsArrival says where the MIIT code comes from and for how long it holds.
func smsArrival() Message {
	return Message{
		Zh: fmt.Sprintf("工信部将在几分钟内通过 12381 向各负责人的手机发送短信验证码，验证码 %d 小时内有效。", smsValidHours),
		En: fmt.Sprintf("MIIT texts a verification code from 12381 to each principal's mobile within minutes; "+
			"the code is valid for %d hours.", smsValidHours),
	}
}

// smsConfirm is how a principal confirms the code, by the deadline given
// ("收到短信后 24 小时内" / "within 24 hours of receiving it"), and what
// missing it costs.
func smsConfirm(by Message) Message {
	return Message{
		Zh: fmt.Sprintf("请在%s登录 %s，输入手机号码、短信验证码和证件号码后六位完成短信核验。"+
			"逾期未核验或验证码输错 %d 次，备案将退回服务商。", by.Zh, MIITPortal, smsMaxWrongCodes),
		En: fmt.Sprintf("Go to %s %s and confirm with the mobile number, the code and the last six characters "+
			"of the certificate number. If it is not confirmed in time, or a wrong code is entered %d times, "+
			"the filing returns to the provider.", MIITPortal, by.En, smsMaxWrongCodes),
	}
}

// reasonList numbers a rejection's field-level reasons, each with the field
// it concerns, so the applicant knows what to change.
func reasonList(reasons []domain.Reason) Message {
	var zh, en strings.Builder
	for i, r := range reasons {
		mz, me := r.Message.Zh, r.Message.En
		if mz == "" {
			mz = me
		}
		if me == "" {
			me = mz
		}
		if mz == "" {
			mz, me = r.Code, r.Code
		}
		fmt.Fprintf(&zh, "\n%d. %s", i+1, mz)
		fmt.Fprintf(&en, "\n%d. %s", i+1, me)
		if r.Path != "" {
			fmt.Fprintf(&zh, "（%s）", r.Path)
			fmt.Fprintf(&en, " (%s)", r.Path)
		}
	}
	return Message{Zh: zh.String(), En: en.String()}
}

// smsRoles names whom a code is for: "entity" and "website:w1" roles.
func smsRoles(roles []string) Message {
	zh := make([]string, 0, len(roles))
	en := make([]string, 0, len(roles))
	for _, r := range roles {
		if site, ok := strings.CutPrefix(r, "website:"); ok {
			zh = append(zh, "网站 "+site+" 负责人")
			en = append(en, "principal of website "+site)
			continue
		}
		if r == "entity" {
			zh = append(zh, "主体负责人")
			en = append(en, "entity principal")
			continue
		}
		zh = append(zh, r)
		en = append(en, r)
	}
	return Message{Zh: strings.Join(zh, "、"), En: strings.Join(en, ", ")}
}
