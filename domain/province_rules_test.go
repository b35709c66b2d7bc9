package domain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Province rules of icp-domain.md §3.5, §3.7 and §4.1 kept as data in
// provinces.json: latin-only website names (Shanghai, Henan), Guangdong's
// construction plan, and income proof for principals aged 16 to 18 (Jiangsu,
// Chongqing). The filings start from events, so that provinces this channel
// does not serve yet (Shanghai, Chongqing) can be tested too.

// enterpriseIn is the enterprise fixture verified and filled in with its
// entity in another province.
func enterpriseIn(province string) []Event {
	return []Event{
		TypeVerified{FilingID: "f1", Account: "acct-1", Province: province, City: "某市", Nature: "enterprise",
			CertificateType: "business_licence", CertificateNumber: "91440300MA5F12342Q", Resource: goodInstance(), At: at(0)},
		EntitySubmitted{Entity: enterpriseEntity().Entity, At: at(time.Minute)},
	}
}

// individualIn is an individual filing in a province, its entity the person.
func individualIn(province string, person Person) []Event {
	return []Event{
		TypeVerified{FilingID: "f2", Account: "acct-2", Province: province, City: "某市", Nature: "individual",
			CertificateType: "resident_id", CertificateNumber: person.CertificateNumber, Resource: goodInstance(), At: at(0)},
		EntitySubmitted{Entity: Entity{Name: person.Name, CertificateAddress: "某省某市某路1号", MailingAddress: "某省某市某路1号",
			Principal: person}, At: at(time.Minute)},
	}
}

// fieldCodes lists the codes a validation error gives at path.
func fieldCodes(t *testing.T, err error, path string) []string {
	t.Helper()
	var ve *ValidationError
	if err != nil && !errors.As(err, &ve) {
		t.Fatalf("unexpected error %v", err)
	}
	var out []string
	if ve != nil {
		for _, f := range ve.Fields {
			if f.Path == path {
				out = append(out, f.Code)
			}
		}
	}
	return out
}

func TestLatinOnlyWebsiteNamesWhereTheProvinceRefusesThem(t *testing.T) {
	r := mustRules(t)
	for _, p := range []string{"31", "41"} {
		if !r.Province(p).NoLatinOnlyNames {
			t.Fatalf("province %s should refuse latin-only names", p)
		}
	}
	cases := []struct {
		name     string
		province string
		refused  bool
	}{
		{"Apple官网", "41", true},     // English plus a generic word is still English
		{"abc123网站", "31", true},    // pinyin and digits
		{"wodeboke网", "41", true},   // pinyin
		{"2048官方网站", "31", true},    // digits
		{"Apple 官网", "41", true},    // also with a space (refused for the symbol as well)
		{"Apple官网", "44", false},    // Guangdong accepts Chinese-English names
		{"abc123网站", "11", false},   // Beijing has no such rule
		{"苹果官网", "41", false},       // Chinese
		{"示例ABC科技", "41", false},    // Chinese that says something, with English
		{"AI学习笔记", "31", false},     // same
		{"蓝天网", "31", false},        // a Chinese name that ends in 网
		{"ABCDEF", "41", false},     // no Chinese at all: the national rule, reported once
		{"12345678", "31", false},   // same
		{"Apple官网官网", "41", true},   // generic words repeated
		{"Apple网络", "41", false},    // 网络 is not a generic word here: 络 says something
		{"Apple站点平台", "41", false},  // 点 is not generic
		{"Apple首页主页平台", "31", true}, // only generic words
	}
	for _, tc := range cases {
		t.Run(tc.province+"/"+tc.name, func(t *testing.T) {
			c := exampleWebsite()
			c.Name = tc.name
			_, err := r.Decide(Replay(enterpriseIn(tc.province)), c)
			checkMessages(t, err, true)
			got := slices.Contains(fieldCodes(t, err, "name"), CodeNameLatinOnly)
			if got != tc.refused {
				t.Fatalf("%s in %s: latin-only refusal %v, want %v (error %v)", tc.name, tc.province, got, tc.refused, err)
			}
		})
	}
	// Accepted outright where nothing else is wrong.
	ok := exampleWebsite()
	ok.Name = "示例ABC科技"
	given(t, r, enterpriseIn("41")...).when(ok).thenTypes(TypeWebsiteSubmitted)
	ok.Name = "Apple官网"
	given(t, r, enterpriseIn("44")...).when(ok).thenTypes(TypeWebsiteSubmitted)
	// Refused with the province named in both languages.
	_, err := r.Decide(Replay(enterpriseIn("41")), ok)
	var ve *ValidationError
	if !errors.As(err, &ve) || !ve.Has("name", CodeNameLatinOnly) {
		t.Fatalf("want %s, got %v", CodeNameLatinOnly, err)
	}
	for _, f := range ve.Fields {
		if f.Code == CodeNameLatinOnly && (!strings.Contains(f.Message.Zh, "河南省") || !strings.Contains(f.Message.En, "Henan")) {
			t.Errorf("message does not name the province: %+v", f.Message)
		}
	}
	// Pure English is refused everywhere by the national rule, once.
	ok.Name = "ABCDEF"
	if codes := fieldCodes(t, func() error { _, err := r.Decide(Replay(enterpriseIn("31")), ok); return err }(), "name"); !slices.Equal(codes, []string{CodeNameNoChinese}) {
		t.Errorf("pure English in Shanghai: codes %v, want only %s", codes, CodeNameNoChinese)
	}
}

func TestLatinOnlyWebsiteNameCheckedAgainAtSubmission(t *testing.T) {
	r := mustRules(t)
	site := exampleWebsite()
	named := func(province string) []Event {
		events := enterpriseIn(province)
		return append(events, WebsiteSubmitted{Website: Website{ID: "w1", Name: "Apple官网", HomepageURLs: site.HomepageURLs,
			ServiceContent: site.ServiceContent, Domains: []Domain{{Name: "example.com", Unicode: "example.com", Facts: goodDomainFacts(companyName)}}}, At: at(2 * time.Minute)})
	}
	submit := SubmitForReview{TermsVersion: "2026-01", At: at(time.Hour)}
	given(t, r, named("41")...).when(submit).thenRejects("websites[w1].name=" + CodeNameLatinOnly)
	_, err := r.Decide(Replay(named("44")), submit)
	if slices.Contains(fieldCodes(t, err, "websites[w1].name"), CodeNameLatinOnly) {
		t.Fatalf("Guangdong refused a Chinese-English name: %v", err)
	}
}

// domainsNamed makes n domains with the prefixes given, cycling TLDs so
// that equal prefixes make different domains.
func domainsNamed(prefixes ...string) []Domain {
	tlds := []string{"com", "cn", "net", "top", "xyz", "vip", "shop", "tech", "ltd", "cc"}
	seen := map[string]int{}
	var out []Domain
	for _, p := range prefixes {
		name := p + "." + tlds[seen[p]]
		seen[p]++
		out = append(out, Domain{Name: name, Unicode: name, Facts: goodDomainFacts(companyName)})
	}
	return out
}

func prefixes(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("site%02d", i))
	}
	return out
}

// withWebsites adds websites holding the domains, at most ten a website.
func withWebsites(events []Event, domains []Domain) []Event {
	for i := 0; len(domains) > 0; i++ {
		n := min(len(domains), 10)
		id := fmt.Sprintf("w%d", i+1)
		events = append(events, WebsiteSubmitted{Website: Website{ID: id, Name: "示例网站" + id, Domains: domains[:n],
			HomepageURLs: []string{"https://" + domains[0].Name + "/"}, ServiceContent: []string{"portal_entity"}}, At: at(2 * time.Minute)})
		domains = domains[n:]
	}
	return events
}

func requirement(reqs []MaterialRequirement, kind, scope string) *MaterialRequirement {
	for i := range reqs {
		if reqs[i].Kind == kind && reqs[i].Scope == scope {
			return &reqs[i]
		}
	}
	return nil
}

func TestGuangdongConstructionPlanAboveTheDomainPrefixThreshold(t *testing.T) {
	r := mustRules(t)
	person := zhangSan()
	cases := []struct {
		name     string
		events   []Event
		wantPlan bool
	}{
		{"individual with 5 prefixes", withWebsites(individualIn("44", person), domainsNamed(prefixes(5)...)), false},
		{"individual with 6 prefixes", withWebsites(individualIn("44", person), domainsNamed(prefixes(6)...)), true},
		{"individual with 6 domains of 5 prefixes", withWebsites(individualIn("44", person),
			domainsNamed(append(prefixes(5), "site00")...)), false},
		{"organisation with 31 prefixes", withWebsites(enterpriseIn("44"), domainsNamed(prefixes(31)...)), false},
		{"organisation with 32 prefixes", withWebsites(enterpriseIn("44"), domainsNamed(prefixes(32)...)), true},
		{"organisation with 6 prefixes", withWebsites(enterpriseIn("44"), domainsNamed(prefixes(6)...)), false},
		{"Beijing individual with 6 prefixes", withWebsites(individualIn("11", person), domainsNamed(prefixes(6)...)), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := Replay(tc.events)
			reqs := r.RequiredMaterials(f)
			plan := requirement(reqs, MaterialConstructionPlan, "entity")
			if (plan != nil) != tc.wantPlan {
				t.Fatalf("construction plan required: %v, want %v", plan != nil, tc.wantPlan)
			}
			// Guangdong asks for every domain's certificate with the plan;
			// it has no domain-certificate rule otherwise.
			for _, w := range f.Websites {
				for _, d := range w.Domains {
					if got := requirement(reqs, MaterialDomainCertificate, "domain:"+d.Name) != nil; got != tc.wantPlan {
						t.Fatalf("certificate of %s required: %v, want %v", d.Name, got, tc.wantPlan)
					}
				}
			}
			if !tc.wantPlan {
				return
			}
			if plan.Code != CodeConstructionPlan || !strings.Contains(plan.Reason.Zh, "广东省") || !strings.Contains(plan.Reason.En, "Guangdong") {
				t.Errorf("requirement %+v", plan)
			}
			submit := SubmitForReview{TermsVersion: "2026-01", At: at(time.Hour)}
			given(t, r, tc.events...).when(submit).thenRejects("materials[construction_plan@entity]=" + CodeConstructionPlan)
			// Uploaded, it is no longer missing.
			uploaded := material(MaterialConstructionPlan, "entity")
			events := append(slices.Clone(tc.events), MaterialUploaded{Material: uploaded.Material, At: uploaded.At})
			given(t, r, tc.events...).when(uploaded).thenTypes(TypeMaterialUploaded)
			_, err := r.Decide(Replay(events), submit)
			if codes := fieldCodes(t, err, "materials[construction_plan@entity]"); len(codes) > 0 {
				t.Fatalf("uploaded plan still reported: %v", codes)
			}
		})
	}
	// Removing domains below the threshold drops the requirement.
	events := withWebsites(enterpriseIn("44"), domainsNamed(prefixes(32)...))
	events = append(events, WebsiteRemoved{WebsiteID: "w4", At: at(time.Hour)})
	if requirement(r.RequiredMaterials(Replay(events)), MaterialConstructionPlan, "entity") != nil {
		t.Error("a plan is still required with 30 prefixes")
	}
	// A construction plan belongs to the entity.
	given(t, r, withWebsites(enterpriseIn("44"), domainsNamed("a"))...).when(material(MaterialConstructionPlan, "website:w1")).
		thenRejects("scope=" + CodeMaterialScope)
}

// minorBorn is a principal from Jiangsu born on the date (YYYYMMDD).
func minorBorn(date string) Person {
	return Person{
		Name: "赵小明", CertificateType: "resident_id", CertificateNumber: residentID("320102" + date + "001"),
		OfficePhone: "13700137000", Mobile: "13700137000", Email: "xiaoming@example.com",
		EmergencyContact: &EmergencyContact{Name: "赵大明", Mobile: "13900139000"},
	}
}

func TestIncomeProofForPrincipalsAgedSixteenToEighteen(t *testing.T) {
	r := mustRules(t)
	for _, p := range []string{"32", "50"} {
		if got := r.Province(p).IncomeProofUnderAge; got != 18 {
			t.Fatalf("province %s: incomeProofUnderAge %d", p, got)
		}
	}
	// At t0 (2 March 2026): 17, 16, 18 years old.
	seventeen, sixteen, eighteen := minorBorn("20090101"), minorBorn("20100302"), minorBorn("20080101")
	cases := []struct {
		name     string
		province string
		person   Person
		want     bool
	}{
		{"Jiangsu, 17", "32", seventeen, true},
		{"Jiangsu, 16 today", "32", sixteen, true},
		{"Jiangsu, 18", "32", eighteen, false},
		{"Chongqing, 17", "50", seventeen, true},
		{"Chongqing, 18", "50", eighteen, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			events := withWebsites(individualIn(tc.province, tc.person), domainsNamed("xiaoming"))
			req := requirement(r.RequiredMaterials(Replay(events)), MaterialIncomeProof, "entity")
			if (req != nil) != tc.want {
				t.Fatalf("income proof required: %v, want %v", req != nil, tc.want)
			}
			submit := SubmitForReview{TermsVersion: "2026-01", At: at(time.Hour)}
			_, err := r.Decide(Replay(events), submit)
			checkMessages(t, err, true)
			got := slices.Contains(fieldCodes(t, err, "materials[income_proof@entity]"), CodeIncomeProof)
			if got != tc.want {
				t.Fatalf("submission reports %s: %v, want %v (%v)", CodeIncomeProof, got, tc.want, err)
			}
			if tc.want {
				if !strings.Contains(req.Reason.Zh, "劳动就业或收入证明") || !strings.Contains(req.Reason.En, "income") {
					t.Errorf("reason %+v", req.Reason)
				}
				proof := material(MaterialIncomeProof, "entity")
				given(t, r, events...).when(proof).thenTypes(TypeMaterialUploaded)
				_, err := r.Decide(Replay(append(slices.Clone(events), MaterialUploaded{Material: proof.Material, At: proof.At})), submit)
				if codes := fieldCodes(t, err, "materials[income_proof@entity]"); len(codes) > 0 {
					t.Fatalf("uploaded proof still reported: %v", codes)
				}
			}
		})
	}
}

func TestIncomeProofRuleKeepsTheMinimumAge(t *testing.T) {
	r := mustRules(t)
	// A 17-year-old may enter the entity in Jiangsu (and then needs the
	// proof); a 15-year-old may not, nor a 17-year-old in Zhejiang.
	entity := func(p Person) SubmitEntity {
		return SubmitEntity{Entity: Entity{Name: p.Name, CertificateAddress: "江苏省南京市玄武区中山路1号",
			MailingAddress: "江苏省南京市玄武区中山路1号", Principal: p}, At: at(time.Minute)}
	}
	verified := func(province string, p Person) []Event { return individualIn(province, p)[:1] }
	seventeen, fifteen := minorBorn("20090101"), minorBorn("20110101")
	given(t, r, verified("32", seventeen)...).when(entity(seventeen)).thenTypes(TypeEntitySubmitted)
	given(t, r, verified("32", fifteen)...).when(entity(fifteen)).thenRejects("principal.certificateNumber=" + CodePrincipalTooYoung)
	zj := entity(seventeen)
	zj.Entity.CertificateAddress, zj.Entity.MailingAddress = "浙江省杭州市西湖区文三路1号", "浙江省杭州市西湖区文三路1号"
	given(t, r, verified("33", seventeen)...).when(zj).thenRejects("principal.certificateNumber=" + CodePrincipalTooYoung)
}

func TestIncomeProofAgeIsTakenAtSubmission(t *testing.T) {
	r := mustRules(t)
	// Seventeen when the filing is filled in, eighteen on 5 March 2026.
	events := withWebsites(individualIn("32", minorBorn("20080305")), domainsNamed("xiaoming"))
	if requirement(r.RequiredMaterials(Replay(events)), MaterialIncomeProof, "entity") == nil {
		t.Fatal("no proof asked for while the principal is 17")
	}
	early := SubmitForReview{TermsVersion: "2026-01", At: time.Date(2026, 3, 4, 10, 0, 0, 0, chinaZone)}
	late := SubmitForReview{TermsVersion: "2026-01", At: time.Date(2026, 3, 5, 10, 0, 0, 0, chinaZone)}
	_, err := r.Decide(Replay(events), early)
	if !slices.Contains(fieldCodes(t, err, "materials[income_proof@entity]"), CodeIncomeProof) {
		t.Fatalf("on 4 March: %v", err)
	}
	_, err = r.Decide(Replay(events), late)
	if codes := fieldCodes(t, err, "materials[income_proof@entity]"); len(codes) > 0 {
		t.Fatalf("on the 18th birthday the proof is still asked for: %v", codes)
	}
}

func TestIncomeProofForAnOrganisationsWebsitePrincipal(t *testing.T) {
	r := mustRules(t)
	minor := minorBorn("20090101")
	events := withWebsites(enterpriseIn("32"), domainsNamed("example"))
	events = append(events, WebsitePrincipalSubmitted{WebsiteID: "w1", Principal: minor, At: at(3 * time.Minute)})
	reqs := r.RequiredMaterials(Replay(events))
	if requirement(reqs, MaterialIncomeProof, "website:w1") == nil {
		t.Fatalf("no proof asked of the 17-year-old website principal: %+v", reqs)
	}
	if requirement(reqs, MaterialIncomeProof, "entity") != nil {
		t.Fatal("proof asked of the adult entity principal")
	}
	given(t, r, events...).when(SubmitForReview{TermsVersion: "2026-01", At: at(time.Hour)}).
		thenRejects("materials[income_proof@website:w1]=" + CodeIncomeProof)
	given(t, r, events...).when(material(MaterialIncomeProof, "website:w1")).thenTypes(TypeMaterialUploaded)
	given(t, r, events...).when(material(MaterialIncomeProof, "domain:example.com")).thenRejects("scope=" + CodeMaterialScope)
	// The same company in Guangdong (no such rule; its minimum age is 18)
	// asks for no proof.
	gd := withWebsites(enterpriseIn("44"), domainsNamed("example"))
	gd = append(gd, WebsitePrincipalSubmitted{WebsiteID: "w1", Principal: minor, At: at(3 * time.Minute)})
	if requirement(r.RequiredMaterials(Replay(gd)), MaterialIncomeProof, "website:w1") != nil {
		t.Fatal("Guangdong asked for income proof")
	}
}

func TestProvinceRuleDataIsChecked(t *testing.T) {
	provinces, catalog, tlds, holidays := embedded(t, "provinces.json"), embedded(t, "catalog.json"), embedded(t, "tlds.json"), embedded(t, "holidays.json")
	for _, tc := range []struct{ old, new, want string }{
		{`"incomeProofUnderAge": 18}`, `"incomeProofUnderAge": 16}`, "not above the minimum age"},
		{`"incomeProofUnderAge": 18}`, `"incomeProofUnderAge": -1}`, "incomeProofUnderAge"},
		{`"constructionPlanOverPrefixes": {"individual": 5`, `"constructionPlanOverPrefixes": {"person": 5`, "constructionPlanOverPrefixes"},
		{`"constructionPlanOverPrefixes": {"individual": 5`, `"constructionPlanOverPrefixes": {"individual": -5`, "constructionPlanOverPrefixes"},
	} {
		t.Run(tc.new, func(t *testing.T) {
			s := string(provinces)
			if !strings.Contains(s, tc.old) {
				t.Fatalf("fixture text %q not found", tc.old)
			}
			_, err := ParseRules([]byte(strings.Replace(s, tc.old, tc.new, 1)), catalog, tlds, holidays)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error naming %q, got %v", tc.want, err)
			}
		})
	}
	_, err := ParseRules(provinces, []byte(strings.Replace(string(catalog), `"genericWords": ["官方网站"`, `"genericWords": ["", "官方网站"`, 1)), tlds, holidays)
	if err == nil || !strings.Contains(err.Error(), "genericWords") {
		t.Fatalf("an empty generic word accepted: %v", err)
	}
}
