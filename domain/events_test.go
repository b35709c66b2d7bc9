package domain

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestEventsRoundTrip: every event of the fixtures survives encoding and
// decoding unchanged, and every event type can be decoded.
func TestEventsRoundTrip(t *testing.T) {
	r := mustRules(t)
	var all []Event
	for _, commands := range stages() {
		all = append(all, run(t, r, commands...)...)
	}
	seen := map[string]bool{}
	for _, e := range all {
		typ, data, err := EncodeEvent(e)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeEvent(typ, data)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if !reflect.DeepEqual(normalise(e), normalise(back)) {
			t.Fatalf("%s changed in a round trip:\n%#v\n%#v", typ, e, back)
		}
		seen[typ] = true
	}
	for _, typ := range EventTypes() {
		if decoderFor(typ) == nil {
			t.Errorf("no decoder for %s", typ)
		}
	}
	if len(seen) < 15 {
		t.Errorf("fixtures cover only %d event types", len(seen))
	}
}

// normalise drops monotonic clock readings and zones, which JSON does not keep.
func normalise(e Event) Event {
	_, data, _ := EncodeEvent(e)
	back, _ := DecodeEvent(e.EventType(), data)
	return back
}

func TestDecodeEventRefusesWhatItCannotRead(t *testing.T) {
	var unknown *UnknownEventTypeError
	if _, err := DecodeEvent("filing.teleported.v1", []byte(`{}`)); !errors.As(err, &unknown) {
		t.Errorf("unknown type: %v", err)
	}
	for _, bad := range []string{`{"at":"yesterday"}`, `{"reason":"x","colour":"red"}`, `{} {}`, `[`} {
		if _, err := DecodeEvent(TypeAbandoned, []byte(bad)); err == nil {
			t.Errorf("decoded %s", bad)
		}
	}
}

func TestEventTypesAreStableNames(t *testing.T) {
	types := EventTypes()
	for _, typ := range types {
		if len(typ) < 10 || typ[:7] != "filing." || typ[len(typ)-3:] != ".v1" {
			t.Errorf("event type %q is not a stable versioned name", typ)
		}
	}
	sorted := slices.Clone(types)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != len(types) {
		t.Error("duplicate event types")
	}
}

// FuzzDecodeEvent: decoding never panics, a decoded event re-encodes to
// something that decodes equal, and folding it into a filing never panics.
func FuzzDecodeEvent(f *testing.F) {
	r := mustRules(f)
	for _, e := range run(f, r, append(enterpriseCommands(), approveCmd(), sendCmd(), requestSMSCmd(), verifyCodeCmd(), bureauApproveCmd())...) {
		typ, data, _ := EncodeEvent(e)
		f.Add(typ, data)
	}
	f.Add(TypeWebsitePrincipalSubmitted, []byte(`{"websiteId":"w404"}`))
	f.Add(TypeSMSVerificationFailed, []byte(`{"reason":"expired"}`))
	base := Replay(run(f, r, enterpriseCommands()[:3]...))
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		e, err := DecodeEvent(typ, data)
		if err != nil {
			return
		}
		_, again, err := EncodeEvent(e)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		back, err := DecodeEvent(typ, again)
		if err != nil || !reflect.DeepEqual(normalise(e), normalise(back)) {
			t.Fatalf("round trip: %v", err)
		}
		_ = Evolve(base, e)
		_ = Evolve(Filing{}, e)
	})
}

// FuzzSubmitEntity: whatever the applicant types, Decide answers with an
// event or a complete validation error, and never panics.
func FuzzSubmitEntity(f *testing.F) {
	r := mustRules(f)
	base := Replay(run(f, r, verifyEnterprise()))
	e := enterpriseEntity().Entity
	f.Add(e.Name, e.CertificateAddress, e.MailingAddress, e.Principal.Name, e.Principal.CertificateNumber, e.Principal.OfficePhone, e.Principal.Mobile, e.Principal.Email)
	f.Add("\x00", "1-2-3", "广东省\xff", "", "X", "0-", "1", "@")
	f.Fuzz(func(t *testing.T, name, certAddr, mailAddr, person, number, office, mobile, email string) {
		c := enterpriseEntity()
		c.Entity.Name, c.Entity.CertificateAddress, c.Entity.MailingAddress = name, certAddr, mailAddr
		c.Entity.Principal.Name, c.Entity.Principal.CertificateNumber = person, number
		c.Entity.Principal.OfficePhone, c.Entity.Principal.Mobile, c.Entity.Principal.Email = office, mobile, email
		checkOneEventOrRefusal(t, r, base, c)
	})
}

// checkOneEventOrRefusal: a fuzzed command yields one event or a complete
// validation error, and nothing else.
func checkOneEventOrRefusal(t *testing.T, r *Rules, base Filing, c Command) {
	t.Helper()
	events, err := r.Decide(base, c)
	var ve *ValidationError
	switch {
	case err == nil && len(events) != 1:
		t.Fatalf("accepted with %d events", len(events))
	case err != nil && (!errors.As(err, &ve) || len(ve.Fields) == 0 || events != nil):
		t.Fatalf("bad refusal: %v", err)
	}
	checkMessages(t, err, false)
}

// FuzzSubmitWebsite covers the website name, domain, homepage and content rules.
func FuzzSubmitWebsite(f *testing.F) {
	r := mustRules(f)
	base := Replay(run(f, r, verifyEnterprise(), enterpriseEntity()))
	w := exampleWebsite()
	f.Add(w.Name, w.Domains[0].Name, w.HomepageURLs[0], w.ServiceContent[0], "", int64(365))
	f.Add("中国新闻论坛", "例子.中国", "http://例子.中国:8080/#x", "news", "备注", int64(-1))
	f.Fuzz(func(t *testing.T, name, domain, homepage, content, remarks string, days int64) {
		c := exampleWebsite()
		c.Name, c.Remarks = name, remarks
		c.Domains[0].Name = domain
		c.Domains[0].Facts.ExpiresAt = t0.Add(time.Duration(days) * 24 * time.Hour)
		c.HomepageURLs = []string{homepage}
		c.ServiceContent = []string{content}
		checkOneEventOrRefusal(t, r, base, c)
	})
}

// FuzzAddress: the address rule never panics and explains every refusal.
func FuzzAddress(f *testing.F) {
	r := mustRules(f)
	f.Add("广东省深圳市南山区科技园路1号", "11")
	f.Add("北京市东城区1-2-3", "11")
	f.Add("号", "44")
	f.Fuzz(func(t *testing.T, addr, province string) {
		p := r.Province(province)
		if p == nil {
			p = r.Province("44")
		}
		var ps problems
		checkAddress(&ps, "address", addr, p, "深圳市", true)
		checkMessages(t, ps.err(), false)
	})
}
