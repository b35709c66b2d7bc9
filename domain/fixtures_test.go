package domain

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The tests read as given events / when command / then events or error.
// Fixtures describe one enterprise filing in Guangdong and one individual in
// Beijing that pass every rule; each test changes what it is about.

var chinaZone = time.FixedZone("CST", 8*3600)

// t0 is a Monday morning in China; the fixtures' commands happen after it.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, chinaZone)

func at(d time.Duration) time.Time { return t0.Add(d) }

func mustRules(t testing.TB) *Rules {
	t.Helper()
	r, err := LoadRules()
	if err != nil {
		t.Fatalf("LoadRules: %v", err)
	}
	return r
}

func goodDomainFacts(registrant string) DomainFacts {
	return DomainFacts{
		Registrar: "阿里云计算有限公司", RegistrarApproved: true, ExpiresAt: t0.AddDate(2, 0, 0),
		RealNameVerified: true, RegistrantName: registrant,
	}
}

func goodInstance() CloudResource {
	return CloudResource{Kind: ResourceInstance, InstanceID: "ins-1", Instance: &InstanceFacts{
		Exists: true, Mainland: true, PublicIP: true, Billing: BillingPrepaid, MonthsBought: 12, DaysLeft: 300,
	}}
}

const companyName = "深圳市示例科技有限公司"

func verifyEnterprise() VerifyType {
	return VerifyType{
		FilingID: "f1", Account: "acct-1", Province: "44", City: "深圳市", District: "南山区",
		Nature: "enterprise", CertificateType: "business_licence", CertificateNumber: "91440300MA5F12342Q",
		Domains:  []DomainInput{{Name: "example.com", Facts: goodDomainFacts(companyName)}},
		Resource: goodInstance(), At: at(0),
	}
}

func zhangSan() Person {
	return Person{
		Name: "张三", CertificateType: "resident_id", CertificateNumber: "440305199003071236",
		OfficePhone: "0755-86013388", Mobile: "13800138000", Email: "zhangsan@example.com",
	}
}

func liSi() Person {
	return Person{
		Name: "李四", CertificateType: "resident_id", CertificateNumber: "34052419800101001X",
		OfficePhone: "020-86013388", Mobile: "13900139000", Email: "lisi@example.com",
	}
}

func enterpriseEntity() SubmitEntity {
	return SubmitEntity{Entity: Entity{
		Name: companyName, CertificateAddress: "广东省深圳市南山区科技园路1号", MailingAddress: "广东省深圳市南山区科技园路1号",
		LegalRepresentative: "张三", Principal: zhangSan(), PrincipalIsLegalRep: true,
	}, At: at(time.Minute)}
}

func exampleWebsite() SubmitWebsite {
	return SubmitWebsite{
		Name: "示例科技", Domains: []DomainInput{{Name: "example.com", Facts: goodDomainFacts(companyName)}},
		HomepageURLs: []string{"https://www.example.com/"}, ServiceContent: []string{"portal_entity"}, At: at(2 * time.Minute),
	}
}

func material(kind, scope string) UploadMaterial {
	return UploadMaterial{Material: Material{
		Kind: kind, Scope: scope, SHA256: strings.Repeat("ab", 32), Size: 2048, ContentType: "image/jpeg",
	}, At: at(5 * time.Minute)}
}

// enterpriseCommands fill in the enterprise filing up to a submission.
func enterpriseCommands() []Command {
	return []Command{
		verifyEnterprise(),
		enterpriseEntity(),
		exampleWebsite(),
		SubmitWebsitePrincipal{WebsiteID: "w1", Principal: zhangSan(), IsLegalRep: true, At: at(3 * time.Minute)},
		StartLiveness{WebsiteID: "w1", SessionID: "live-1", At: at(4 * time.Minute)},
		PassLiveness{WebsiteID: "w1", SessionID: "live-1", At: at(4*time.Minute + 30*time.Second)},
		material(MaterialEntityCertificate, "entity"),
		material(MaterialPrincipalID, "entity"),
		material(MaterialCommitmentLetter, "website:w1"),
		SubmitForReview{TermsVersion: "2026-01", At: at(10 * time.Minute)},
	}
}

const beijingID = "110101200001010010"

func individualCommands() []Command {
	me := Person{
		Name: "王五", CertificateType: "resident_id", CertificateNumber: beijingID,
		OfficePhone: "13800138000", Mobile: "13800138000", Email: "wangwu@example.cn",
		EmergencyContact: &EmergencyContact{Name: "王六", Mobile: "13900139000"},
	}
	return []Command{
		VerifyType{
			FilingID: "f2", Account: "acct-2", Province: "11", City: "北京市", District: "东城区",
			Nature: "individual", CertificateType: "resident_id", CertificateNumber: beijingID,
			Domains:  []DomainInput{{Name: "wangwu.cn", Facts: goodDomainFacts("王五")}},
			Resource: goodInstance(), At: at(0),
		},
		SubmitEntity{Entity: Entity{
			Name: "王五", CertificateAddress: "北京市东城区东华门大街5号", MailingAddress: "北京市东城区东华门大街5号三单元201室",
			Principal: me,
		}, At: at(time.Minute)},
		SubmitWebsite{
			Name: "旅行摄影笔记", Domains: []DomainInput{{Name: "wangwu.cn", Facts: goodDomainFacts("王五")}},
			HomepageURLs: []string{"http://wangwu.cn"}, ServiceContent: []string{"other"}, At: at(2 * time.Minute),
		},
		StartLiveness{WebsiteID: "w1", SessionID: "live-9", At: at(3 * time.Minute)},
		PassLiveness{WebsiteID: "w1", SessionID: "live-9", At: at(4 * time.Minute)},
		material(MaterialPrincipalID, "entity"),
		material(MaterialCommitmentLetter, "website:w1"),
		SubmitForReview{TermsVersion: "2026-01", At: at(10 * time.Minute)},
	}
}

// run decides the commands in order from nothing, failing the test on any
// error, and returns every event.
func run(t testing.TB, r *Rules, commands ...Command) []Event {
	t.Helper()
	var f Filing
	var all []Event
	for _, c := range commands {
		events, err := r.Decide(f, c)
		if err != nil {
			t.Fatalf("%s: %v", c.CommandName(), err)
		}
		for _, e := range events {
			f = Evolve(f, e)
		}
		all = append(all, events...)
	}
	return all
}

// Later stages of the enterprise filing, as commands after enterpriseCommands.
func approveCmd() ApproveInitialReview {
	return ApproveInitialReview{Note: "资料齐全", At: at(2 * time.Hour)}
}
func sendCmd() SendToBureau { return SendToBureau{At: at(3 * time.Hour)} }
func requestSMSCmd() RequestSmsVerification {
	return RequestSmsVerification{Codes: map[string]string{"13800138000": "246810"}, At: at(3*time.Hour + 5*time.Minute)}
}
func verifyCodeCmd() VerifySmsCode {
	return VerifySmsCode{Mobile: "13800138000", CertSuffix: "071236", Code: "246810", At: at(4 * time.Hour)}
}
func bureauApproveCmd() ApproveByBureau {
	return ApproveByBureau{Serial: "2026012345", At: at(72 * time.Hour)}
}

func rejectReason(path, code string) Reason {
	return Reason{Path: path, Code: code, Message: Message{Zh: "请补充", En: "please fix"}}
}

// stages maps every status to commands that bring the enterprise filing there.
func stages() map[Status][]Command {
	fill := enterpriseCommands()
	draft := fill[:1]
	bureau := append(append([]Command{}, fill...), approveCmd(), sendCmd(), requestSMSCmd(), verifyCodeCmd())
	return map[Status][]Command{
		StatusNone:             nil,
		StatusDraft:            draft,
		StatusSubmitted:        fill,
		StatusProviderRejected: append(append([]Command{}, fill...), RejectInitialReview{Reasons: []Reason{rejectReason("entity.principal.mobile", "phone_unreachable")}, At: at(time.Hour)}),
		StatusProviderApproved: append(append([]Command{}, fill...), approveCmd()),
		StatusSentToBureau:     append(append([]Command{}, fill...), approveCmd(), sendCmd()),
		StatusSMSPending:       append(append([]Command{}, fill...), approveCmd(), sendCmd(), requestSMSCmd()),
		StatusReturnedToProvider: append(append([]Command{}, fill...), approveCmd(), sendCmd(), requestSMSCmd(),
			ExpireSmsVerification{At: at(28 * time.Hour)}),
		StatusBureauReview:   bureau,
		StatusBureauRejected: append(append([]Command{}, bureau...), RejectByBureau{Reasons: []Reason{rejectReason("websites[w1].name", "website_name")}, At: at(48 * time.Hour)}),
		StatusApproved:       append(append([]Command{}, bureau...), bureauApproveCmd()),
		StatusAbandoned:      append(append([]Command{}, draft...), AbandonFiling{Reason: "不需要了", At: at(time.Hour)}),
		StatusExpired:        append(append([]Command{}, draft...), Expire{At: at(46 * 24 * time.Hour)}),
	}
}

// scenario is one given/when/then test.
type scenario struct {
	t     *testing.T
	rules *Rules
	state Filing
}

func given(t *testing.T, r *Rules, events ...Event) *scenario {
	t.Helper()
	return &scenario{t: t, rules: r, state: Replay(events)}
}

type outcome struct {
	t      *testing.T
	events []Event
	err    error
}

func (s *scenario) when(c Command) outcome {
	s.t.Helper()
	events, err := s.rules.Decide(s.state, c)
	checkMessages(s.t, err, true)
	return outcome{t: s.t, events: events, err: err}
}

// then asserts the exact events.
func (o outcome) then(want ...Event) {
	o.t.Helper()
	if o.err != nil {
		o.t.Fatalf("want events, got error %v", o.err)
	}
	if !reflect.DeepEqual(o.events, want) {
		o.t.Fatalf("events differ\n got: %#v\nwant: %#v", o.events, want)
	}
}

// thenTypes asserts the event types only, for events with computed fields.
func (o outcome) thenTypes(types ...string) []Event {
	o.t.Helper()
	if o.err != nil {
		o.t.Fatalf("want %v, got error %v", types, o.err)
	}
	var got []string
	for _, e := range o.events {
		got = append(got, e.EventType())
	}
	if !reflect.DeepEqual(got, types) {
		o.t.Fatalf("event types: got %v, want %v", got, types)
	}
	return o.events
}

// thenRejects asserts a validation error that lists each path=code pair.
func (o outcome) thenRejects(pathCodes ...string) {
	o.t.Helper()
	var ve *ValidationError
	if !errors.As(o.err, &ve) {
		o.t.Fatalf("want a validation error with %v, got events %v, error %v", pathCodes, o.events, o.err)
	}
	if o.events != nil {
		o.t.Fatalf("a refused command returned events: %v", o.events)
	}
	for _, pc := range pathCodes {
		path, code, _ := strings.Cut(pc, "=")
		if !ve.Has(path, code) {
			o.t.Errorf("missing %s=%s in %v", path, code, ve.Fields)
		}
	}
}

// thenInvalidState asserts an invalid-state error.
func (o outcome) thenInvalidState(status Status) {
	o.t.Helper()
	var ise *InvalidStateError
	if !errors.As(o.err, &ise) || ise.Status != status {
		o.t.Fatalf("want invalid state in %s, got events %v, error %v", status, o.events, o.err)
	}
}

// checkMessages: every field error names a code and says it in both
// languages; strict also looks for fmt's marks of a formatting mistake,
// which fuzzed input may contain on its own.
func checkMessages(t *testing.T, err error, strict bool) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return
	}
	for _, f := range ve.Fields {
		if f.Code == "" || f.Message.Zh == "" || f.Message.En == "" {
			t.Errorf("incomplete field error %+v", f)
		}
		if strict && (strings.Contains(f.Message.Zh, "%!") || strings.Contains(f.Message.En, "%!")) {
			t.Errorf("bad message format in %+v", f)
		}
	}
}
