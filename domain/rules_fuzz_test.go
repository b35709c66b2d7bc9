package domain

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// embedded reads one of the embedded rule files for a seed.
func embedded(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := embeddedData.ReadFile("data/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzParseRules feeds the four rule files, seeded with the embedded ones:
// ParseRules never panics, fails with no rules, and rules it accepts can
// decide commands and list materials without panicking.
func FuzzParseRules(f *testing.F) {
	provinces, catalog, tlds, holidays := embedded(f, "provinces.json"), embedded(f, "catalog.json"), embedded(f, "tlds.json"), embedded(f, "holidays.json")
	f.Add(provinces, catalog, tlds, holidays)
	f.Add([]byte(`{}`), catalog, tlds, holidays)
	f.Add(provinces, []byte(`{}`), tlds, holidays)
	f.Add(provinces, catalog, []byte(`{"version":"v","approved":["com"]}`), holidays)
	f.Add([]byte(`{"version":"v","channel":{"maxDomainsPerWebsite":1,"smsMaxWrongCodes":1,"idleExpiryDays":1},"provinces":[{"code":"44","principal":"free","areaCodes":["0755"]}]}`),
		[]byte(`{"version":"v","natures":[{"code":"n","kind":"organisation","certificates":["c"]}],"certificates":[{"code":"c","format":"free"}],"websiteNames":{"keywords":[{"word":"新闻","preApproval":"news"}]}}`),
		tlds, holidays)
	f.Add([]byte(`null`), []byte(`[]`), []byte(``), []byte(`{"version":"v","years":[]}`))
	f.Fuzz(func(t *testing.T, provinces, catalog, tlds, holidays []byte) {
		r, err := ParseRules(provinces, catalog, tlds, holidays)
		if err != nil {
			if r != nil {
				t.Fatalf("ParseRules failed with %v but returned rules", err)
			}
			return
		}
		if r.Version == "" || len(r.Provinces()) == 0 || len(r.Natures()) == 0 {
			t.Fatalf("accepted rules without a version, provinces or natures: %q, %d, %d", r.Version, len(r.Provinces()), len(r.Natures()))
		}
		exerciseRules(t, r)
	})
}

// exerciseRules runs the enterprise fixture's commands in the first
// provinces of r (a few, to keep fuzzing fast): each command yields events or
// a typed error, never a panic.
func exerciseRules(t *testing.T, r *Rules) {
	provinces := r.Provinces()
	for _, p := range provinces[:min(len(provinces), 3)] {
		var f Filing
		for _, c := range enterpriseCommands() {
			if v, ok := c.(VerifyType); ok {
				v.Province = p.Code
				c = v
			}
			events, err := r.Decide(f, c)
			var ve *ValidationError
			var ise *InvalidStateError
			if err != nil && !errors.As(err, &ve) && !errors.As(err, &ise) {
				t.Fatalf("province %s, %s: untyped error %v", p.Code, c.CommandName(), err)
			}
			if err != nil {
				// Carry on from a state the rules would not have reached, to
				// reach the later checks too.
				events = forcedEvents(c)
			}
			for _, e := range events {
				f = Evolve(f, e)
			}
		}
		_ = r.RequiredMaterials(f)
		_ = r.Readiness(f, at(time.Hour))
	}
}

// forcedEvents is what a command would have recorded had its checks passed.
func forcedEvents(c Command) []Event {
	switch c := c.(type) {
	case VerifyType:
		return []Event{TypeVerified{FilingID: c.FilingID, Province: c.Province, Nature: c.Nature, CertificateType: c.CertificateType,
			CertificateNumber: c.CertificateNumber, Resource: c.Resource, At: c.At}}
	case SubmitEntity:
		return []Event{EntitySubmitted{Entity: c.Entity, At: c.At}}
	case SubmitWebsite:
		return []Event{WebsiteSubmitted{Website: Website{ID: "w1", Name: c.Name, HomepageURLs: c.HomepageURLs,
			ServiceContent: c.ServiceContent, Domains: []Domain{{Name: "example.com", Unicode: "example.com", Facts: c.Domains[0].Facts}}}, At: c.At}}
	}
	return nil
}

// FuzzParseTLDPolicy: seeded with the embedded policy; never panics, every
// error wraps ErrInvalidTLDPolicy, and an accepted policy parses names.
func FuzzParseTLDPolicy(f *testing.F) {
	f.Add(embedded(f, "tlds.json"))
	f.Add([]byte(`{"version":"v","approved":["com",".中国","XN--FIQS8S"],"multiLabelSuffixes":["com.cn"]}`))
	f.Add([]byte(`{"version":"v","approved":["com","com"]}`))
	f.Add([]byte(`{"version":"v","approved":["a.b"]}`))
	f.Add([]byte(`{"version":"","approved":["com"]}`))
	f.Add([]byte(`{"version":"v","approved":[],"extra":1}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseTLDPolicy(data)
		if err != nil {
			if p != nil || !errors.Is(err, ErrInvalidTLDPolicy) {
				t.Fatalf("ParseTLDPolicy error %v: policy %v, want nil and ErrInvalidTLDPolicy", err, p)
			}
			return
		}
		if p.Version == "" || len(p.Approved) == 0 {
			t.Fatalf("accepted a policy without version or TLDs: %+v", p)
		}
		for _, tld := range p.Approved {
			for _, name := range []string{"example." + tld, tld, "例子." + tld, "a.b.example." + tld} {
				if _, prob := ParseDomainName(name, p); prob != nil && (prob.Code == "" || prob.Message.Zh == "" || prob.Message.En == "") {
					t.Fatalf("ParseDomainName(%q): incomplete problem %+v", name, prob)
				}
			}
		}
	})
}

func TestParseRulesRefusesIncompleteData(t *testing.T) {
	provinces, catalog, tlds, holidays := embedded(t, "provinces.json"), embedded(t, "catalog.json"), embedded(t, "tlds.json"), embedded(t, "holidays.json")
	replace := func(b []byte, old, new string) []byte {
		t.Helper()
		s := string(b)
		if !strings.Contains(s, old) {
			t.Fatalf("fixture text %q not found", old)
		}
		return []byte(strings.Replace(s, old, new, 1))
	}
	cases := []struct {
		name                               string
		provinces, catalog, tlds, holidays []byte
		want                               string
	}{
		{"empty catalog", provinces, []byte(`{}`), tlds, holidays, "no natures"},
		{"no provinces", []byte(`{"version":"v","channel":{"maxDomainsPerWebsite":1,"smsMaxWrongCodes":1,"idleExpiryDays":1}}`), catalog, tlds, holidays, "none listed"},
		{"no provinces version", replace(provinces, `"version": "2026-11-28.1"`, `"version": ""`), catalog, tlds, holidays, "provinces: version is empty"},
		{"keyword to nowhere", provinces, replace(catalog, `{"word": "新闻", "preApproval": "news"}`, `{"word": "新闻", "preApproval": "gossip"}`), tlds, holidays, "gossip"},
		{"empty keyword", provinces, replace(catalog, `{"word": "出版", "preApproval": "publishing"}`, `{"word": ""}`), tlds, holidays, "empty word"},
		{"nature kind", provinces, replace(catalog, `"kind": "individual"`, `"kind": "person"`), tlds, holidays, "person"},
		{"broken tlds", provinces, catalog, []byte(`{"version":"v"}`), holidays, "tld data"},
		{"broken calendar", provinces, catalog, tlds, []byte(`{"version":"v","years":[]}`), "holiday data"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseRules(tc.provinces, tc.catalog, tc.tlds, tc.holidays)
			if err == nil || r != nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error naming %q, got %v, %v", tc.want, r, err)
			}
		})
	}
}
