package domain

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// Fuzz targets for the validators and Decide that the per-file tests do not
// already cover. Each property: no panic, and a command is either accepted
// with events or refused with a typed, explained error.

// FuzzVerifyType covers the province rules, the entity nature and the
// certificate checksums (resident ID, USCC) as step 1 applies them.
func FuzzVerifyType(f *testing.F) {
	r := mustRules(f)
	v := verifyEnterprise()
	f.Add(v.Province, v.City, v.District, v.Nature, v.CertificateType, v.CertificateNumber, v.Domains[0].Name, v.Resource.Kind)
	ind := individualCommands()[0].(VerifyType)
	f.Add(ind.Province, ind.City, ind.District, ind.Nature, ind.CertificateType, ind.CertificateNumber, ind.Domains[0].Name, ind.Resource.Kind)
	f.Add("54", "拉萨市", "", "government", "organisation_code", "12100000400000624D", "xn--fiqs8s.cn", "authorization_code")
	f.Add("44\x00", "深圳市\xff", "南山区", "enterprise", "business_licence", "91440300MA5F1234 2Q", "EXAMPLE.COM.", "")
	f.Fuzz(func(t *testing.T, province, city, district, nature, certType, certNumber, domain, resourceKind string) {
		c := verifyEnterprise()
		c.Province, c.City, c.District, c.Nature = province, city, district, nature
		c.CertificateType, c.CertificateNumber = certType, certNumber
		c.Domains[0].Name = domain
		c.Resource.Kind = resourceKind
		checkOneEventOrRefusal(t, r, Filing{}, c)
	})
}

// FuzzSubmitWebsitePrincipal covers the person rules: ID checksums, phones,
// e-mail, emergency contact.
func FuzzSubmitWebsitePrincipal(f *testing.F) {
	r := mustRules(f)
	base := Replay(run(f, r, verifyEnterprise(), enterpriseEntity(), exampleWebsite()))
	p := liSi()
	f.Add("w1", p.Name, p.CertificateType, p.CertificateNumber, p.OfficePhone, p.Mobile, p.Email, "", "", false)
	z := zhangSan()
	f.Add("w1", z.Name, z.CertificateType, z.CertificateNumber, z.OfficePhone, z.Mobile, z.Email, "王六", "13900139000", true)
	f.Add("w9", "\x00", "passport", "E12345678", "+86-10-1234", "1380013800\xff", "a@b", "x", "1", false)
	f.Fuzz(func(t *testing.T, website, name, certType, certNumber, office, mobile, email, emergencyName, emergencyMobile string, legalRep bool) {
		c := SubmitWebsitePrincipal{WebsiteID: website, IsLegalRep: legalRep, At: at(3 * time.Minute), Principal: Person{
			Name: name, CertificateType: certType, CertificateNumber: certNumber, OfficePhone: office, Mobile: mobile, Email: email,
		}}
		if emergencyName != "" || emergencyMobile != "" {
			c.Principal.EmergencyContact = &EmergencyContact{Name: emergencyName, Mobile: emergencyMobile}
		}
		events, err := r.Decide(base, c)
		checkDecision(t, base, c, events, err)
	})
}

// fuzzCommand builds one command of every kind from fuzzed values.
func fuzzCommand(kind uint8, s1, s2, s3 string, n int64) Command {
	when := t0.Add(time.Duration(n) * time.Second)
	reasons := []Reason{{Path: s1, Code: s2, Message: Message{Zh: s3, En: s3}}}
	all := []Command{
		VerifyType{FilingID: s1, Account: s2, Province: s3, At: when},
		SubmitEntity{Entity: Entity{Name: s1, CertificateAddress: s2, MailingAddress: s3, Principal: zhangSan()}, MobileProvince: s3, At: when},
		SubmitWebsite{WebsiteID: s1, Name: s2, Remarks: s3, Domains: []DomainInput{{Name: s3}}, At: when},
		RemoveWebsite{WebsiteID: s1, At: when},
		SubmitWebsitePrincipal{WebsiteID: s1, Principal: Person{Name: s2, CertificateNumber: s3}, At: when},
		StartLiveness{WebsiteID: s1, SessionID: s2, At: when},
		PassLiveness{WebsiteID: s1, SessionID: s2, At: when},
		FailLiveness{WebsiteID: s1, SessionID: s2, Reasons: []string{s3}, At: when},
		UploadMaterial{Material: Material{Kind: s1, Scope: s2, SHA256: s3, Size: n, ContentType: s3}, At: when},
		RemoveMaterial{Kind: s1, Scope: s2, At: when},
		SubmitForReview{TermsVersion: s1, At: when},
		WithdrawFiling{Reason: s1, At: when},
		AbandonFiling{Reason: s1, At: when},
		ApproveInitialReview{Note: s1, At: when},
		RejectInitialReview{Reasons: reasons, At: when},
		SendToBureau{At: when},
		RequestSmsVerification{Codes: map[string]string{s1: s2}, At: when},
		VerifySmsCode{Mobile: s1, CertSuffix: s2, Code: s3, At: when},
		ExpireSmsVerification{At: when},
		ApproveByBureau{Serial: s1, At: when},
		RejectByBureau{Reasons: reasons, At: when},
		RemindIdle{Day: int(n % 64), At: when},
		Expire{At: when},
		FlagOverdue{Stage: s1, At: when},
		WarnDeadline{Kind: s1, At: when},
	}
	return all[int(kind)%len(all)]
}

// FuzzDecide: any command in any status yields events that fold, or a
// validation or invalid-state error; never a panic or an untyped error.
func FuzzDecide(f *testing.F) {
	r := mustRules(f)
	byStatus := stages()
	statuses := AllStatuses()
	states := make([]Filing, len(statuses))
	for i, s := range statuses {
		states[i] = Replay(run(f, r, byStatus[s]...))
	}
	for kind := range 25 {
		f.Add(uint8(kind), uint8(kind%len(statuses)), "w1", "13800138000", "246810", int64(3600))
	}
	f.Add(uint8(17), uint8(6), "13800138000", "071236", "246810", int64(4*3600))
	f.Add(uint8(14), uint8(2), "entity.principal.mobile", "phone_unreachable", "请补充", int64(3600))
	f.Fuzz(func(t *testing.T, kind, state uint8, s1, s2, s3 string, n int64) {
		base := states[int(state)%len(states)]
		c := fuzzCommand(kind, s1, s2, s3, n)
		events, err := r.Decide(base, c)
		checkDecision(t, base, c, events, err)
	})
}

// checkDecision: a decision is events that fold or a typed refusal.
func checkDecision(t *testing.T, base Filing, c Command, events []Event, err error) {
	t.Helper()
	var (
		ve  *ValidationError
		ise *InvalidStateError
	)
	switch {
	case err == nil:
		f := base
		for _, e := range events {
			if !slices.Contains(EventTypes(), e.EventType()) {
				t.Fatalf("%s: unregistered event type %s", c.CommandName(), e.EventType())
			}
			f = Evolve(f, e)
		}
	case events != nil:
		t.Fatalf("%s: refused with events %v: %v", c.CommandName(), events, err)
	case errors.As(err, &ve):
		if len(ve.Fields) == 0 {
			t.Fatalf("%s: validation error without fields", c.CommandName())
		}
		checkMessages(t, err, false)
	case errors.As(err, &ise):
		if ise.Reason.Zh == "" || ise.Reason.En == "" {
			t.Fatalf("%s: invalid state without a reason: %+v", c.CommandName(), ise)
		}
	default:
		t.Fatalf("%s: untyped error %v", c.CommandName(), err)
	}
}

// FuzzTimerCommand: a timer kind either maps to a command or is refused.
func FuzzTimerCommand(f *testing.F) {
	r := mustRules(f)
	f.Add(TimerRemind7, int64(7*86400))
	f.Add(TimerExpire, int64(46*86400))
	f.Add(TimerSMSExpired, int64(86400))
	f.Add("", int64(-1))
	states := []Filing{Replay(run(f, r, verifyEnterprise())), Replay(run(f, r, enterpriseCommands()...))}
	f.Fuzz(func(t *testing.T, kind string, secs int64) {
		c, ok := TimerCommand(kind, t0.Add(time.Duration(secs)*time.Second))
		if !ok {
			return
		}
		for _, base := range states {
			events, err := r.Decide(base, c)
			checkDecision(t, base, c, events, err)
		}
	})
}
