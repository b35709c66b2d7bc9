package domain

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Review, bureau and deadline problems.
const (
	CodeTermsRequired    = "terms.required"
	CodeReasonsRequired  = "reasons.required"
	CodeReasonCode       = "reason.code_unknown"
	CodeReasonPath       = "reason.path_unknown"
	CodeSMSCodeMissing   = "sms.code_missing"
	CodeSMSCodeFormat    = "sms.code_format"
	CodeSMSExpired       = "sms.expired"
	CodeSMSNotExpired    = "sms.not_expired"
	CodeSMSRecipient     = "sms.recipient_unknown"
	CodeSMSVerified      = "sms.already_verified"
	CodeICPSerial        = "icp_number.serial"
	CodeReminderDay      = "reminder.day_unknown"
	CodeReminderTooEarly = "reminder.too_early"
	CodeReminderSent     = "reminder.already_sent"
	CodeExpiryTooEarly   = "expiry.too_early"
	CodeOverdueStage     = "overdue.stage"
	CodeOverdueNotDue    = "overdue.not_due"
	CodeOverdueFlagged   = "overdue.already_flagged"
	CodeDeadlineKind     = "deadline.kind"
	CodeDeadlineWarned   = "deadline.already_warned"
)

func (r *Rules) submitForReview(f *Filing, c SubmitForReview) ([]Event, error) {
	var ps problems
	checkTime(&ps, c.At)
	text(&ps, "termsVersion", c.TermsVersion, true, 32)
	r.checkReadiness(&ps, f, c.At, c.Resource)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return []Event{SubmittedForReview{
		TermsVersion: c.TermsVersion, Submission: f.Submission + 1,
		DueAt: r.calendar.AddWorkingDays(c.At, r.Channel.InitialReviewWorkingDays), At: c.At,
	}}, nil
}

// reject checks field-level reasons and builds the rejection event. A reason
// without a message gets the standard one of its code.
func (r *Rules) reject(f *Filing, reasons []Reason, at time.Time, event func([]Reason) Event) ([]Event, error) {
	var ps problems
	checkTime(&ps, at)
	if len(reasons) == 0 {
		ps.addf("reasons", CodeReasonsRequired, "驳回需要至少一条原因", "a rejection needs at least one reason")
	}
	out := make([]Reason, 0, len(reasons))
	for i, reason := range reasons {
		path := "reasons[" + strconv.Itoa(i) + "]"
		std := r.rejectionReason(reason.Code)
		if std == nil {
			ps.addf(path+".code", CodeReasonCode, "未知的驳回原因“%s”", "unknown rejection reason %q", reason.Code)
			continue
		}
		if !f.validReasonPath(reason.Path) {
			ps.addf(path+".path", CodeReasonPath, "驳回原因指向的字段“%s”不存在", "the reason points at %q, which is not in the filing", reason.Path)
		}
		if reason.Message.Zh == "" && reason.Message.En == "" {
			reason.Message = Message{Zh: std.Zh, En: std.En}
		}
		text(&ps, path+".message.zh", reason.Message.Zh, true, 500)
		text(&ps, path+".message.en", reason.Message.En, true, 500)
		out = append(out, reason)
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return []Event{event(out)}, nil
}

// validReasonPath accepts filing paths such as "entity.principal.mobile",
// "websites[w1].domains[0]" and "materials[commitment_letter@website:w1]".
func (f *Filing) validReasonPath(path string) bool {
	root, rest, _ := strings.Cut(path, ".")
	switch {
	case root == "filing" || root == "type" || root == "entity" || root == "resource" || root == "domains":
	case strings.HasPrefix(root, "websites[") && strings.HasSuffix(root, "]"):
		if f.Website(strings.TrimSuffix(strings.TrimPrefix(root, "websites["), "]")) == nil {
			return false
		}
	case strings.HasPrefix(path, "materials[") && strings.HasSuffix(path, "]"):
		kind, scope, ok := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(path, "materials["), "]"), "@")
		return ok && slices.Contains(MaterialKinds(), kind) && f.scopeExists(scope)
	default:
		return false
	}
	if rest == "" {
		return true
	}
	for _, seg := range strings.Split(rest, ".") {
		name, index, hasIndex := strings.Cut(seg, "[")
		if name == "" || strings.ContainsFunc(name, func(c rune) bool {
			return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_')
		}) {
			return false
		}
		if hasIndex {
			n, err := strconv.Atoi(strings.TrimSuffix(index, "]"))
			if err != nil || n < 0 || !strings.HasSuffix(index, "]") {
				return false
			}
		}
	}
	return true
}

func (r *Rules) sendToBureau(f *Filing, c SendToBureau) ([]Event, error) {
	days := r.bureauReviewDays(r.provinceOf(f))
	return oneEvent(c.At, SentToBureau{DueAt: r.calendar.AddWorkingDays(c.At, days), At: c.At})
}

// SMSRecipients lists who must confirm an MIIT SMS code: the entity
// principal and every website principal, one code per person (§5).
func SMSRecipients(f Filing) []SMSRecipient {
	var out []SMSRecipient
	var people []Person
	add := func(role string, p *Person) {
		if p == nil {
			return
		}
		if i := slices.IndexFunc(people, func(q Person) bool { return samePerson(q, *p) }); i >= 0 {
			out[i].Roles = append(out[i].Roles, role)
			return
		}
		people = append(people, *p)
		out = append(out, SMSRecipient{Roles: []string{role}, Mobile: p.Mobile, CertSuffix: certSuffix(p.CertificateNumber)})
	}
	if f.Entity != nil {
		add("entity", &f.Entity.Principal)
	}
	for i := range f.Websites {
		add("website:"+f.Websites[i].ID, f.WebsitePrincipal(&f.Websites[i]))
	}
	return out
}

func certSuffix(number string) string {
	if len(number) <= 6 {
		return strings.ToUpper(number)
	}
	return strings.ToUpper(number[len(number)-6:])
}

// smsCodeHash keeps codes out of the log: only a hash bound to the filing
// and the mobile is stored.
func smsCodeHash(filingID, mobile, code string) string {
	sum := sha256.Sum256([]byte(filingID + "\x00" + mobile + "\x00" + code))
	return hex.EncodeToString(sum[:])
}

func isSMSCode(code string) bool {
	return len(code) == 6 && !strings.ContainsFunc(code, func(c rune) bool { return c < '0' || c > '9' })
}

func (r *Rules) requestSMS(f *Filing, c RequestSmsVerification) ([]Event, error) {
	var ps problems
	checkTime(&ps, c.At)
	recipients := SMSRecipients(*f)
	for i := range recipients {
		code, ok := c.Codes[recipients[i].Mobile]
		path := "codes[" + recipients[i].Mobile + "]"
		switch {
		case !ok:
			ps.addf(path, CodeSMSCodeMissing, "缺少发给 %s 的验证码", "no code for %s", maskMobile(recipients[i].Mobile))
		case !isSMSCode(code):
			ps.addf(path, CodeSMSCodeFormat, "验证码应为 6 位数字", "a code is six digits")
		default:
			recipients[i].CodeHash = smsCodeHash(f.ID, recipients[i].Mobile, code)
		}
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return []Event{SMSVerificationRequested{
		Recipients: recipients, ExpiresAt: c.At.Add(time.Duration(r.Channel.SMSValidHours) * time.Hour), At: c.At,
	}}, nil
}

// maskMobile shows the first three and last four digits, as SMS notices do.
func maskMobile(m string) string {
	if len(m) != 11 {
		return "***"
	}
	return m[:3] + "****" + m[7:]
}

func (r *Rules) verifySMSCode(f *Filing, c VerifySmsCode) ([]Event, error) {
	var ps problems
	checkTime(&ps, c.At)
	var rec *SMSRecipientState
	if f.SMS != nil {
		rec = f.smsRecipient(c.Mobile)
	}
	switch {
	case f.SMS != nil && !c.At.Before(f.SMS.ExpiresAt):
		ps.addf("code", CodeSMSExpired, "验证码已过期（24 小时内有效）", "the code has expired (valid for 24 hours)")
	case rec == nil || !strings.EqualFold(rec.CertSuffix, c.CertSuffix):
		ps.addf("mobile", CodeSMSRecipient, "手机号或证件号后六位与备案信息不符", "the mobile or the certificate's last six characters do not match the filing")
	case rec.Verified:
		ps.addf("mobile", CodeSMSVerified, "该手机号已完成核验", "this mobile has already been verified")
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	want := []byte(rec.CodeHash)
	got := []byte(smsCodeHash(f.ID, c.Mobile, c.Code))
	if subtle.ConstantTimeCompare(want, got) != 1 {
		wrong := rec.WrongCodes + 1
		events := []Event{SMSCodeRejected{Mobile: c.Mobile, WrongCodes: wrong, AttemptsLeft: max(r.Channel.SMSMaxWrongCodes-wrong, 0), At: c.At}}
		if wrong >= r.Channel.SMSMaxWrongCodes {
			events = append(events, SMSVerificationFailed{Reason: SMSFailedTooManyWrongCodes, At: c.At})
		}
		return events, nil
	}
	events := []Event{SMSCodeVerified{Mobile: c.Mobile, At: c.At}}
	if !slices.ContainsFunc(f.SMS.Recipients, func(x SMSRecipientState) bool { return !x.Verified && x.Mobile != c.Mobile }) {
		events = append(events, SMSVerificationCompleted{At: c.At})
	}
	return events, nil
}

func expireSMS(f *Filing, c ExpireSmsVerification) ([]Event, error) {
	var ps problems
	checkTime(&ps, c.At)
	if f.SMS != nil && c.At.Before(f.SMS.ExpiresAt) {
		ps.addf("at", CodeSMSNotExpired, "验证码在 %s 前有效", "the codes are valid until %s", f.SMS.ExpiresAt.Format(time.RFC3339))
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return []Event{SMSVerificationFailed{Reason: SMSFailedExpired, At: c.At}}, nil
}

func (r *Rules) approveByBureau(f *Filing, c ApproveByBureau) ([]Event, error) {
	var ps problems
	checkTime(&ps, c.At)
	entity := ICPNumber{Abbr: r.provinceOf(f).Abbr, Serial: c.Serial}
	if _, prob := ParseICPNumber(entity.String()); prob != nil || c.Serial == "" {
		ps.addf("serial", CodeICPSerial, "备案号序号应为 6 至 10 位数字", "the ICP serial is 6 to 10 digits")
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	numbers := make([]WebsiteNumber, len(f.Websites))
	for i, w := range f.Websites {
		site := entity
		site.Site = i + 1
		numbers[i] = WebsiteNumber{WebsiteID: w.ID, Number: site.String()}
	}
	return []Event{BureauApproved{EntityNumber: entity.String(), WebsiteNumbers: numbers, At: c.At}}, nil
}

func (r *Rules) remindIdle(f *Filing, c RemindIdle) ([]Event, error) {
	var ps problems
	checkTime(&ps, c.At)
	switch {
	case !slices.Contains(r.Channel.IdleReminderDays, c.Day):
		ps.addf("day", CodeReminderDay, "提醒只在闲置第 %v 天发送", "reminders go out on idle days %v", r.Channel.IdleReminderDays)
	case c.At.Before(f.IdleSince.AddDate(0, 0, c.Day)):
		ps.addf("day", CodeReminderTooEarly, "备案闲置未满 %d 天", "the filing has not been idle for %d days", c.Day)
	case slices.Contains(f.RemindersSent, c.Day):
		ps.addf("day", CodeReminderSent, "第 %d 天的提醒已发送", "the day-%d reminder was already sent", c.Day)
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return []Event{IdleReminded{Day: c.Day, IdleSince: f.IdleSince, At: c.At}}, nil
}

func (r *Rules) expire(f *Filing, c Expire) ([]Event, error) {
	var ps problems
	checkTime(&ps, c.At)
	if c.At.Before(f.IdleSince.AddDate(0, 0, r.Channel.IdleExpiryDays)) {
		ps.addf("at", CodeExpiryTooEarly, "备案闲置未满 %d 天", "the filing has not been idle for %d days", r.Channel.IdleExpiryDays)
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return []Event{Expired{IdleSince: f.IdleSince, At: c.At}}, nil
}

func flagOverdue(f *Filing, c FlagOverdue) ([]Event, error) {
	var ps problems
	checkTime(&ps, c.At)
	due := f.BureauDueAt
	if c.Stage == StageInitial {
		due = f.ReviewDueAt
	}
	switch {
	case c.Stage != StageInitial && c.Stage != StageBureau:
		ps.addf("stage", CodeOverdueStage, "审核阶段应为 initial 或 bureau", "the stage is initial or bureau")
	case c.At.Before(due):
		ps.addf("at", CodeOverdueNotDue, "审核在 %s 前到期", "the review is due at %s", due.Format(time.RFC3339))
	case slices.Contains(f.Overdue, c.Stage):
		ps.addf("stage", CodeOverdueFlagged, "已标记超期", "already flagged overdue")
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return []Event{ReviewOverdue{Stage: c.Stage, DueAt: due, At: c.At}}, nil
}

// warnDeadline announces a near deadline once per deadline: the review due
// time of the current submission, or the expiry of the current SMS codes.
func warnDeadline(f *Filing, c WarnDeadline) ([]Event, error) {
	var ps problems
	checkTime(&ps, c.At)
	var due time.Time
	switch c.Kind {
	case DeadlineReviewDueSoon:
		due = f.ReviewDueAt
	case DeadlineSMSDueSoon:
		if f.SMS != nil {
			due = f.SMS.ExpiresAt
		}
	default:
		ps.addf("kind", CodeDeadlineKind, "未知的期限类型", "unknown deadline kind %q", c.Kind)
	}
	if slices.ContainsFunc(f.Warned, func(w WarnedDeadline) bool { return w.Kind == c.Kind && w.DueAt.Equal(due) }) {
		ps.addf("kind", CodeDeadlineWarned, "已提醒", "this deadline was already announced")
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return []Event{DeadlineApproaching{Kind: c.Kind, DueAt: due, At: c.At}}, nil
}
