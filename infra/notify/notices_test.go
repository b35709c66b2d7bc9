package notify

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/bus"
)

// want is what a rendered notice must say: its recipient and kind, and
// phrases its Chinese and its English text (title and body) must contain.
type want struct {
	role, kind string
	zh, en     []string
}

func TestRender(t *testing.T) {
	sms := smsInstructionsWant()
	tests := []struct {
		name  string
		event domain.Event
		want  []want
	}{
		{"submitted", domain.SubmittedForReview{Submission: 1, DueAt: t0.Add(24 * time.Hour), At: t0}, []want{
			{RoleApplicant, KindSubmitted, []string{"已提交", "初审将于 2026-03-04 10:10（北京时间）前完成"},
				[]string{"submitted", "initial review is due by 2026-03-04 10:10 UTC+8"}},
			{RoleReviewer, KindReviewQueued, []string{"初审队列", "2026-03-04 10:10"}, []string{"queue", "due by 2026-03-04 10:10"}},
		}},
		{"resubmitted", domain.SubmittedForReview{Submission: 2, DueAt: t0.Add(24 * time.Hour), At: t0}, []want{
			{RoleApplicant, KindSubmitted, []string{"重新提交（第 2 次）"}, []string{"resubmitted (submission 2)"}},
			{RoleReviewer, KindReviewQueued, []string{"第 2 次提交"}, []string{"submission 2"}},
		}},
		{"initial approved", domain.InitialReviewApproved{Note: "资料齐全", At: t0}, []want{
			{RoleApplicant, KindInitialReviewApproved, []string{"初审已通过", "12381", "资料齐全"},
				[]string{"passed", "12381", "资料齐全"}},
		}},
		{"initial rejected", domain.InitialReviewRejected{Reasons: reasons(), At: t0}, []want{
			{RoleApplicant, KindInitialReviewRejected,
				[]string{"初审未通过", "1. 负责人电话无法接通（entity.principal.mobile）", "2. 网站名称不符合要求", "重新提交"},
				[]string{"initial review", "1. the principal's phone could not be reached (entity.principal.mobile)",
					"2. the website name is not acceptable (websites[w1].name)", "resubmit"}},
		}},
		{"sent to bureau", domain.SentToBureau{DueAt: t0.Add(28 * 24 * time.Hour), At: t0}, []want{
			{RoleApplicant, KindSentToBureau, append([]string{"已提交管局", "2026-03-31 10:10"}, sms.Zh...),
				append([]string{"sent to the bureau", "2026-03-31 10:10"}, sms.En...)},
		}},
		{"sms requested", domain.SMSVerificationRequested{
			Recipients: []domain.SMSRecipient{
				{Roles: []string{"entity", "website:w1"}, Mobile: "13800138000", CertSuffix: "01001X", CodeHash: "x"},
				{Roles: []string{"website:w2"}, Mobile: "13912345678", CertSuffix: "123456", CodeHash: "y"},
			},
			ExpiresAt: t0.Add(24 * time.Hour), At: t0,
		}, []want{
			{RoleApplicant, KindSMSRequested,
				append([]string{"138****8000（主体负责人、网站 w1 负责人）", "139****5678（网站 w2 负责人）",
					"有效期至 2026-03-04 10:10（北京时间）"}, sms.Zh...),
				append([]string{"138****8000 (entity principal, principal of website w1)", "139****5678 (principal of website w2)",
					"until 2026-03-04 10:10 UTC+8"}, sms.En...)},
		}},
		{"sms due soon", domain.DeadlineApproaching{Kind: domain.DeadlineSMSDueSoon, DueAt: t0.Add(24 * time.Hour), At: t0}, []want{
			{RoleApplicant, KindSMSDueSoon, []string{"即将过期", "2026-03-04 10:10", MIITPortal, "后六位"},
				[]string{"expires soon", "2026-03-04 10:10", MIITPortal, "last six characters"}},
		}},
		{"sms expired", domain.SMSVerificationFailed{Reason: domain.SMSFailedExpired, At: t0}, []want{
			{RoleApplicant, KindSMSFailed, []string{"退回服务商", "24 小时内未完成短信核验"},
				[]string{"returned to the provider", "expired"}},
		}},
		{"sms wrong codes", domain.SMSVerificationFailed{Reason: domain.SMSFailedTooManyWrongCodes, At: t0}, []want{
			{RoleApplicant, KindSMSFailed, []string{"退回服务商", "输错次数过多（5 次）"},
				[]string{"returned to the provider", "wrong code was entered too many times (5)"}},
		}},
		{"bureau approved", domain.BureauApproved{EntityNumber: "京ICP备2026012345号",
			WebsiteNumbers: []domain.WebsiteNumber{{WebsiteID: "w1", Number: "京ICP备2026012345号-1"},
				{WebsiteID: "w2", Number: "京ICP备2026012345号-2"}}, At: t0}, []want{
			{RoleApplicant, KindBureauApproved,
				[]string{"主体备案号：京ICP备2026012345号", "网站 w1：京ICP备2026012345号-1", "网站 w2：京ICP备2026012345号-2",
					"首页底部", "链接至 https://beian.miit.gov.cn"},
				[]string{"Entity ICP number: 京ICP备2026012345号", "website w1: 京ICP备2026012345号-1",
					"website w2: 京ICP备2026012345号-2", "bottom of its homepage", "linked to https://beian.miit.gov.cn"}},
		}},
		{"bureau rejected", domain.BureauRejected{Reasons: reasons(), At: t0}, []want{
			{RoleApplicant, KindBureauRejected, []string{"管局审核未通过", "负责人电话无法接通", "网站名称不符合要求"},
				[]string{"bureau", "the principal's phone could not be reached", "the website name is not acceptable"}},
		}},
		{"idle day 7", domain.IdleReminded{Day: 7, IdleSince: t0, At: t0.Add(7 * 24 * time.Hour)}, []want{
			{RoleApplicant, KindIdleReminder, []string{"已 7 天", "2026-04-17 10:10", "第 45 天"},
				[]string{"7 days", "by 2026-04-17 10:10", "day 45"}},
		}},
		{"idle day 15", domain.IdleReminded{Day: 15, IdleSince: t0, At: t0.Add(15 * 24 * time.Hour)}, []want{
			{RoleApplicant, KindIdleReminder, []string{"已 15 天", "2026-04-17 10:10"}, []string{"15 days", "2026-04-17 10:10"}},
		}},
		{"idle day 30", domain.IdleReminded{Day: 30, IdleSince: t0, At: t0.Add(30 * 24 * time.Hour)}, []want{
			{RoleApplicant, KindIdleReminder, []string{"已 30 天", "2026-04-17 10:10"}, []string{"30 days", "2026-04-17 10:10"}},
		}},
		{"expired", domain.Expired{IdleSince: t0, At: t0.Add(45 * 24 * time.Hour)}, []want{
			{RoleApplicant, KindExpired, []string{"已过期关闭", "45 天", "重新发起"}, []string{"expired", "45 days", "new filing"}},
		}},
		{"review due soon", domain.DeadlineApproaching{Kind: domain.DeadlineReviewDueSoon, DueAt: t0.Add(4 * time.Hour), At: t0}, []want{
			{RoleReviewer, KindReviewDueSoon, []string{"初审即将到期", "2026-03-03 14:10"}, []string{"due soon", "2026-03-03 14:10"}},
		}},
		{"initial review overdue", domain.ReviewOverdue{Stage: domain.StageInitial, DueAt: t0, At: t0.Add(time.Hour)}, []want{
			{RoleReviewer, KindReviewOverdue, []string{"初审已超期", "2026-03-03 10:10"}, []string{"Initial review overdue", "2026-03-03 10:10"}},
		}},
		{"bureau review overdue", domain.ReviewOverdue{Stage: domain.StageBureau, DueAt: t0, At: t0.Add(time.Hour)}, []want{
			{RoleReviewer, KindReviewOverdue, []string{"管局审核已超期", "2026-03-03 10:10"}, []string{"Bureau review overdue", "follow up"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ce := envelope(t, 7, tt.event)
			notices, err := Render(ce)
			if err != nil {
				t.Fatal(err)
			}
			if len(notices) != len(tt.want) {
				t.Fatalf("%d notices, want %d: %+v", len(notices), len(tt.want), notices)
			}
			for i, n := range notices {
				w := tt.want[i]
				checkNotice(t, ce, n, w)
			}
		})
	}
}

func checkNotice(t *testing.T, ce bus.CloudEvent, n Notice, w want) {
	t.Helper()
	account := testAccount
	if w.role == RoleReviewer {
		account = ReviewersAccount
	}
	if n.Recipient != (Recipient{Account: account, Role: w.role}) || n.Kind != w.kind {
		t.Errorf("notice to %+v of kind %s, want %s/%s of kind %s", n.Recipient, n.Kind, account, w.role, w.kind)
	}
	if n.ID != ce.ID+"/"+w.role || n.EventID != ce.ID || n.FilingID != testFiling || !n.Time.Equal(ce.Time) {
		t.Errorf("notice id %q event %q filing %q time %s", n.ID, n.EventID, n.FilingID, n.Time)
	}
	if n.Title.Zh == "" || n.Title.En == "" || n.Body.Zh == "" || n.Body.En == "" {
		t.Errorf("a text is empty: %+v", n)
	}
	zh, en := n.Title.Zh+"\n"+n.Body.Zh, n.Title.En+"\n"+n.Body.En
	for _, s := range w.zh {
		if !strings.Contains(zh, s) {
			t.Errorf("Chinese text lacks %q:\n%s", s, zh)
		}
	}
	for _, s := range w.en {
		if !strings.Contains(en, s) {
			t.Errorf("English text lacks %q:\n%s", s, en)
		}
	}
	// The English text is English: no Han characters but those quoted from
	// the data (ICP numbers, reviewers' notes).
	stripped := en
	for _, quoted := range []string{"京ICP备2026012345号", "资料齐全"} {
		stripped = strings.ReplaceAll(stripped, quoted, "")
	}
	if strings.ContainsFunc(stripped, func(r rune) bool { return r >= 0x4E00 && r <= 0x9FFF }) {
		t.Errorf("English text has Chinese in it:\n%s", en)
	}
}

// smsInstructionsWant is what every SMS notice must tell: the sender, the
// portal, the three things to enter and the time limit.
func smsInstructionsWant() struct{ Zh, En []string } {
	return struct{ Zh, En []string }{
		Zh: []string{"12381", "几分钟内", "https://beian.miit.gov.cn", "手机号码", "短信验证码", "证件号码后六位", "24 小时内"},
		En: []string{"12381", "within minutes", "https://beian.miit.gov.cn", "mobile number", "the code",
			"last six characters of the certificate number", "valid for 24 hours"},
	}
}

// Notices show masked personal data only: the bus masked it, and nothing
// in a notice comes from anywhere else.
func TestRenderShowsNoPersonalData(t *testing.T) {
	for i, e := range lifecycle() {
		notices, err := Render(envelope(t, uint64(i), e))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range notices {
			b, _ := json.Marshal(n)
			for _, secret := range []string{"13800138000", "01001X", "deadbeef"} {
				if strings.Contains(string(b), secret) {
					t.Errorf("notice %s shows %q: %s", n.ID, secret, b)
				}
			}
		}
	}
}

// Every other event type, including types newer than this consumer, gives
// no notice and no error, whatever its payload.
func TestRenderSilentEvents(t *testing.T) {
	noisy := []string{domain.TypeSubmittedForReview, domain.TypeInitialReviewApproved, domain.TypeInitialReviewRejected,
		domain.TypeSentToBureau, domain.TypeSMSVerificationRequested, domain.TypeSMSVerificationFailed,
		domain.TypeBureauApproved, domain.TypeBureauRejected, domain.TypeIdleReminded, domain.TypeExpired,
		domain.TypeReviewOverdue, domain.TypeDeadlineApproaching}
	types := append(domain.EventTypes(), "filing.from_the_future.v1")
	for _, typ := range types {
		if slices.Contains(noisy, typ) {
			continue
		}
		notices, err := Render(bus.CloudEvent{ID: "e1", Type: typ, Subject: testFiling, Account: testAccount,
			Data: json.RawMessage(`{"something":"new"}`)})
		if notices != nil || err != nil {
			t.Errorf("%s: %v, %v; want nil, nil", typ, notices, err)
		}
	}
	// A deadline kind this consumer does not know.
	notices, err := Render(envelope(t, 1, domain.DeadlineApproaching{Kind: "bureau_due_soon", DueAt: t0, At: t0}))
	if notices != nil || err != nil {
		t.Errorf("unknown deadline kind: %v, %v; want nil, nil", notices, err)
	}
}

func TestRenderErrors(t *testing.T) {
	ce := envelope(t, 1, domain.Expired{IdleSince: t0, At: t0})
	bad := ce
	bad.Data = json.RawMessage(`{"idleSince":"2026-01-01T00:00:00Z","at":"2026-01-01T00:00:00Z","extra":1}`)
	_, err := Render(bad)
	var unknown *domain.UnknownEventTypeError
	if err == nil || errors.As(err, &unknown) {
		t.Errorf("payload of a newer schema: %v, want a decode error", err)
	}
	anonymous := ce
	anonymous.Account = ""
	if _, err := Render(anonymous); err == nil {
		t.Error("an applicant notice without an account rendered")
	}
	// A reviewer-only notice needs no applicant account.
	overdue := envelope(t, 2, domain.ReviewOverdue{Stage: domain.StageInitial, DueAt: t0, At: t0})
	overdue.Account = ""
	if n, err := Render(overdue); err != nil || len(n) != 1 {
		t.Errorf("reviewer notice without an applicant account: %v, %v", n, err)
	}
}

// A redelivered event renders the same notices, ids included.
func TestRenderDeterministic(t *testing.T) {
	for i, e := range lifecycle() {
		ce := envelope(t, uint64(i), e)
		a, errA := Render(ce)
		b, errB := Render(ce)
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if !slices.Equal(a, b) {
			t.Errorf("%s renders differently twice:\n%+v\n%+v", ce.Type, a, b)
		}
	}
}

// The limits the notices quote are the domain's.
func TestChannelLimitsMatchRules(t *testing.T) {
	rules, err := domain.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	ch := rules.Channel
	if ch.SMSValidHours != smsValidHours || ch.SMSMaxWrongCodes != smsMaxWrongCodes || ch.IdleExpiryDays != idleExpiryDays {
		t.Errorf("rules say SMS valid %dh, %d wrong codes, idle expiry %d days; notices say %dh, %d, %d days",
			ch.SMSValidHours, ch.SMSMaxWrongCodes, ch.IdleExpiryDays, smsValidHours, smsMaxWrongCodes, idleExpiryDays)
	}
	for _, d := range ch.IdleReminderDays {
		if d >= idleExpiryDays {
			t.Errorf("reminder on day %d is not before the expiry", d)
		}
	}
}

func TestChinaTime(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{t0, "2026-03-03 10:10"},
		{time.Date(2026, 3, 3, 20, 5, 0, 0, time.UTC), "2026-03-04 04:05"},
		{time.Date(2026, 3, 3, 10, 10, 0, 0, time.FixedZone("CST", 8*3600)), "2026-03-03 10:10"},
	} {
		if got := chinaTime(tc.in); got != tc.want {
			t.Errorf("chinaTime(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
