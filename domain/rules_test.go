package domain

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// residentID completes 17 digits with their GB 11643 check character.
func residentID(first17 string) string {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(first17[i]-'0') * w
	}
	return first17 + string("10X98765432"[sum%11])
}

// creditCode completes 17 characters with their GB 32100 check character.
func creditCode(first17 string) string {
	const charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	sum, w := 0, 1
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(charset, first17[i]) * w
		w = w * 3 % 31
	}
	return first17 + string(charset[(31-sum%31)%31])
}

func TestVerifyTypeChecksRegionNatureAndCertificate(t *testing.T) {
	r := mustRules(t)
	s := given(t, r)
	s.when(verifyEnterprise()).thenTypes(TypeTypeVerified)

	c := verifyEnterprise()
	c.Province = "31" // Shanghai is not served by the mini-program snapshot
	s.when(c).thenRejects("province=" + CodeProvinceUnsupported)
	c.Province = "99"
	s.when(c).thenRejects("province=" + CodeProvinceUnknown)

	c = verifyEnterprise()
	c.Nature = "government"
	s.when(c).thenRejects("nature=" + CodeNatureUnsupported)
	c.Nature = "cooperative"
	s.when(c).thenRejects("nature=" + CodeNatureUnknown)

	c = verifyEnterprise()
	c.CertificateType = "resident_id"
	s.when(c).thenRejects("certificateType=" + CodeCertificateType)

	c = verifyEnterprise()
	c.CertificateNumber = "91440300MA5F12342X"
	s.when(c).thenRejects("certificateNumber=" + CodeUSCCChecksum)

	c = verifyEnterprise()
	c.CertificateNumber = "91110108MA01ABCD5T" // a Beijing enterprise filing in Guangdong
	s.when(c).thenRejects("certificateNumber=" + CodeCertificateCrossProv)

	c = verifyEnterprise()
	c.At = time.Time{}
	c.City = ""
	s.when(c).thenRejects("at="+CodeRequired, "city="+CodeRequired)
}

func TestVerifyTypeForIndividuals(t *testing.T) {
	r := mustRules(t)
	s := given(t, r)
	c := individualCommands()[0].(VerifyType)
	c.CertificateNumber = "110101199003071234"
	s.when(c).thenRejects("certificateNumber=" + CodeIDCardChecksum)

	c = individualCommands()[0].(VerifyType)
	c.CertificateNumber = residentID("11010120120101001") // 14 years old at t0
	s.when(c).thenRejects("certificateNumber=" + CodePrincipalTooYoung)

	// Beijing does not take individuals from elsewhere; Zhejiang does, with a
	// residence permit among the materials.
	c = individualCommands()[0].(VerifyType)
	c.CertificateNumber = "440305199003071236"
	s.when(c).thenRejects("certificateNumber=" + CodeCertificateCrossProv)
	c.Province, c.City = "33", "杭州市"
	s.when(c).thenTypes(TypeTypeVerified)
}

func TestVerifyTypeChecksEachDomainRule(t *testing.T) {
	r := mustRules(t)
	s := given(t, r)
	cases := []struct {
		name  string
		edit  func(*DomainInput)
		codes []string
	}{
		{"overseas registrar", func(d *DomainInput) { d.Facts.RegistrarApproved = false; d.Facts.Registrar = "GoDaddy" }, []string{CodeDomainRegistrar}},
		{"expired", func(d *DomainInput) { d.Facts.ExpiresAt = t0.Add(-time.Hour) }, []string{CodeDomainExpired}},
		{"real name", func(d *DomainInput) { d.Facts.RealNameVerified = false }, []string{CodeDomainRealName}},
		{"already filed", func(d *DomainInput) { d.Facts.AlreadyFiled = true }, []string{CodeDomainAlreadyFiled}},
		{"in flight", func(d *DomainInput) { d.Facts.InFlight = true }, []string{CodeDomainInFlight}},
		{"tld", func(d *DomainInput) { d.Name = "example.io" }, []string{CodeDomainTLDNotApproved}},
		{"subdomain", func(d *DomainInput) { d.Name = "www.example.com" }, []string{CodeDomainNotRegistered}},
		{"syntax", func(d *DomainInput) { d.Name = "exa mple.com" }, []string{CodeDomainSyntax}},
		{"everything at once", func(d *DomainInput) {
			d.Facts.RegistrarApproved, d.Facts.RealNameVerified, d.Facts.InFlight = false, false, true
		}, []string{CodeDomainRegistrar, CodeDomainRealName, CodeDomainInFlight}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := verifyEnterprise()
			tc.edit(&c.Domains[0])
			var want []string
			for _, code := range tc.codes {
				want = append(want, "domains[0]="+code)
			}
			given(t, r).when(c).thenRejects(want...)
		})
	}
	c := verifyEnterprise()
	c.Domains = append(c.Domains, c.Domains[0])
	s.when(c).thenRejects("domains[1]=" + CodeDomainDuplicate)
	c.Domains = nil
	s.when(c).thenRejects("domains=" + CodeRequired)

	// Zhejiang wants three months of registration left.
	zj := VerifyType{FilingID: "f3", Account: "a3", Province: "33", City: "杭州市", Nature: "enterprise",
		CertificateType: "business_licence", CertificateNumber: creditCode("91330100MA2AAAAA0"),
		Domains:  []DomainInput{{Name: "例子.中国", Facts: goodDomainFacts("杭州例子有限公司")}},
		Resource: goodInstance(), At: t0}
	zj.Domains[0].Facts.ExpiresAt = t0.AddDate(0, 2, 0)
	s.when(zj).thenRejects("domains[0]=" + CodeDomainValidityTooShort)
	zj.Domains[0].Facts.ExpiresAt = t0.AddDate(0, 4, 0)
	verified := s.when(zj).thenTypes(TypeTypeVerified)
	if d := verified[0].(TypeVerified).Domains[0]; d.Name != "xn--fsqu00a.xn--fiqs8s" || d.Unicode != "例子.中国" {
		t.Errorf("internationalised domain stored as %+v", d)
	}
}

func TestVerifyTypeChecksTheCloudResource(t *testing.T) {
	r := mustRules(t)
	cases := []struct {
		name string
		edit func(*InstanceFacts)
		code string
	}{
		{"pay as you go", func(f *InstanceFacts) { f.Billing = BillingPostpaid }, CodeResourceBilling},
		{"one month", func(f *InstanceFacts) { f.MonthsBought = 1 }, CodeResourceDuration},
		{"expiring", func(f *InstanceFacts) { f.DaysLeft = 10 }, CodeResourceExpiring},
		{"full", func(f *InstanceFacts) { f.WebsitesFiled = 5 }, CodeResourceFull},
		{"overseas", func(f *InstanceFacts) { f.Mainland = false }, CodeResourceRegion},
		{"no public ip", func(f *InstanceFacts) { f.PublicIP = false }, CodeResourcePublicIP},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := verifyEnterprise()
			facts := *c.Resource.Instance
			tc.edit(&facts)
			c.Resource.Instance = &facts
			given(t, r).when(c).thenRejects("resource=" + tc.code)
		})
	}
	c := verifyEnterprise()
	c.Resource.Instance = nil
	given(t, r).when(c).thenRejects("resource.instanceId=" + CodeResourceNotFound)

	code := func(facts *AuthorizationCodeFacts) VerifyType {
		c := verifyEnterprise()
		c.Resource = CloudResource{Kind: ResourceAuthorizationCode, AuthorizationCode: "AUTH-1", Code: facts}
		return c
	}
	given(t, r).when(code(&AuthorizationCodeFacts{Exists: true, ServerDaysLeft: 100})).thenTypes(TypeTypeVerified)
	given(t, r).when(code(nil)).thenRejects("resource.authorizationCode=" + CodeAuthCodeInvalid)
	given(t, r).when(code(&AuthorizationCodeFacts{Exists: true, Used: true, ServerDaysLeft: 100})).thenRejects("resource.authorizationCode=" + CodeAuthCodeUsed)
	given(t, r).when(code(&AuthorizationCodeFacts{Exists: true, ServerDaysLeft: 20})).thenRejects("resource.authorizationCode=" + CodeAuthCodeServerExpiry)
	given(t, r).when(code(&AuthorizationCodeFacts{Exists: true, ServerDaysLeft: 100, Domain: "other.com"})).thenRejects("domains[0]=" + CodeAuthCodeDomain)
	c = verifyEnterprise()
	c.Resource = CloudResource{Kind: "bare_metal"}
	given(t, r).when(c).thenRejects("resource.kind=" + CodeResourceKind)
}

func TestVerifyTypeChecksFactsAcrossFilings(t *testing.T) {
	r := mustRules(t)
	c := verifyEnterprise()
	c.Facts = PreparationFacts{EntityAlreadyFiled: true, EntityInBureauElsewhere: true, AccountOpenFiling: "f0"}
	given(t, r).when(c).thenRejects("certificateNumber="+CodeNotFirstFiling, "certificateNumber="+CodeEntityInFlight, "account="+CodeAccountOpenFiling)
}

func TestSubmitEntityRules(t *testing.T) {
	r := mustRules(t)
	s := given(t, r, run(t, r, verifyEnterprise())...)
	s.when(enterpriseEntity()).thenTypes(TypeEntitySubmitted)

	c := enterpriseEntity()
	c.Entity.PrincipalIsLegalRep = false // Guangdong: the principal is the legal representative
	s.when(c).thenRejects("principalIsLegalRep=" + CodePrincipalMustBeLegalRep)

	c = enterpriseEntity()
	c.Entity.Principal.Name = "赵七"
	s.when(c).thenRejects("principal.name=" + CodePrincipalLegalRepName)

	c = enterpriseEntity()
	c.Entity.Principal.OfficePhone = "010-62265678"
	c.Entity.Principal.Mobile = "12345678901"
	c.Entity.Principal.Email = "zhangsan@"
	c.Entity.MailingAddress = "北京市海淀区中关村"
	c.Entity.CertificateAddress = "广东省深圳市南山区"
	c.Entity.LegalRepresentative = ""
	s.when(c).thenRejects(
		"principal.officePhone="+CodeLandlineAreaCode, "principal.mobile="+CodeMobileFormat, "principal.email="+CodeEmailFormat,
		"mailingAddress="+CodeAddressProvince, "mailingAddress="+CodeAddressHouseNumber,
		"certificateAddress="+CodeAddressHouseNumber, "legalRepresentative="+CodeRequired)

	c = enterpriseEntity()
	c.Entity.Principal.OfficePhone = "0755-1234"
	s.when(c).thenRejects("principal.officePhone=" + CodeOfficePhone)
	c.Entity.Principal.OfficePhone = "13800138000" // organisations outside Jiangsu may give a mobile
	s.when(c).thenTypes(TypeEntitySubmitted)

	c = enterpriseEntity()
	c.Entity.Principal.CertificateNumber = residentID("44030520100101001")
	expired := t0.Add(-time.Hour)
	c.Entity.Principal.CertificateExpiry = &expired
	s.when(c).thenRejects("principal.certificateNumber="+CodePrincipalTooYoung, "principal.certificateExpiry="+CodeCertificateExpired)

	c = enterpriseEntity()
	c.Entity.Principal.Name = "张三\x00"
	s.when(c).thenRejects("principal.name=" + CodeInvalidText)
}

func TestSubmitEntityProvinceRules(t *testing.T) {
	r := mustRules(t)
	ind := individualCommands()
	s := given(t, r, run(t, r, ind[0])...)
	c := ind[1].(SubmitEntity)
	s.when(c).thenTypes(TypeEntitySubmitted)

	c.Entity.MailingAddress = "北京市东城区东华门大街5号1-2-3"
	c.Entity.Principal.EmergencyContact = nil
	s.when(c).thenRejects("mailingAddress="+CodeAddressDashNumbers, "principal.emergencyContact="+CodeEmergencyRequired)

	c = ind[1].(SubmitEntity)
	c.Entity.Name = "王先生"
	c.Entity.Principal.CertificateNumber = "110101199003070000"
	s.when(c).thenRejects("name="+CodeEntityNameNotPrincipal, "principal.certificateNumber="+CodePrincipalNotEntity)

	c = ind[1].(SubmitEntity)
	c.Entity.Principal.EmergencyContact.Mobile = c.Entity.Principal.Mobile
	s.when(c).thenRejects("principal.emergencyContact.mobile=" + CodeEmergencySameMobile)

	// Jiangsu: an enterprise landline, and a mobile registered in the province.
	js := VerifyType{FilingID: "f4", Account: "a4", Province: "32", City: "南京市", Nature: "enterprise",
		CertificateType: "business_licence", CertificateNumber: creditCode("91320100MA1AAAAA0"),
		Domains: []DomainInput{{Name: "example.net", Facts: goodDomainFacts("南京示例有限公司")}}, Resource: goodInstance(), At: t0}
	s = given(t, r, run(t, r, js)...)
	entity := SubmitEntity{Entity: Entity{
		Name: "南京示例有限公司", CertificateAddress: "江苏省南京市玄武区中山路18号", MailingAddress: "江苏省南京市玄武区中山路18号",
		LegalRepresentative: "张三", Principal: zhangSan(), PrincipalIsLegalRep: true,
	}, MobileProvince: "44", At: at(time.Minute)}
	entity.Entity.Principal.OfficePhone = "13800138000"
	entity.Entity.Principal.EmergencyContact = &EmergencyContact{Name: "李四", Mobile: "13900139000"}
	s.when(entity).thenRejects("principal.officePhone="+CodeLandlineRequired, "principal.mobile="+CodeMobileOutOfProvince)
	entity.Entity.Principal.OfficePhone = "025-84561234"
	entity.MobileProvince = "32"
	s.when(entity).thenTypes(TypeEntitySubmitted)
}

func TestSubmitWebsiteRules(t *testing.T) {
	r := mustRules(t)
	events := run(t, r, verifyEnterprise(), enterpriseEntity())
	s := given(t, r, events...)
	s.when(exampleWebsite()).then(WebsiteSubmitted{Website: Website{
		ID: "w1", Name: "示例科技", Domains: []Domain{{Name: "example.com", Unicode: "example.com", Facts: goodDomainFacts(companyName)}},
		HomepageURLs: []string{"https://www.example.com/"}, ServiceContent: []string{"portal_entity"},
	}, At: exampleWebsite().At})

	names := map[string][]string{
		"示例":      {CodeNameTooShort},
		"示例-科技":   {CodeNameSymbols},
		"Example": {CodeNameNoChinese},
		"中国示例科技":  {CodeNameStatePrefix},
		"示例彩票服务":  {CodeNameSensitive},
		"示例新闻中心":  {CodeNameNeedsPreApproval},
		"示例技术论坛":  {CodeNameNeedsContent},
	}
	for name, codes := range names {
		t.Run(name, func(t *testing.T) {
			c := exampleWebsite()
			c.Name = name
			var want []string
			for _, code := range codes {
				want = append(want, "name="+code)
			}
			given(t, r, events...).when(c).thenRejects(want...)
		})
	}

	c := exampleWebsite()
	c.ServiceContent = []string{"news", "astrology"}
	s.when(c).thenRejects("serviceContent[0]="+CodePreApprovalRequired, "serviceContent[1]="+CodeServiceContentUnknown)
	c.ServiceContent = []string{"news"}
	c.PreApprovals = []PreApproval{{Category: "news", Number: "44120170001"}}
	s.when(c).thenTypes(TypeWebsiteSubmitted)

	c = exampleWebsite()
	c.HomepageURLs = []string{"https://other.com/"}
	s.when(c).thenRejects("homepageUrls[0]=" + CodeHomepageForeignDomain)
	c.HomepageURLs = nil
	s.when(c).thenRejects("homepageUrls=" + CodeRequired)

	withSite := append(events, run1(t, r, Replay(events), exampleWebsite())...)
	second := exampleWebsite()
	second.Name = "示例商城"
	given(t, r, withSite...).when(second).thenRejects("domains[0]=" + CodeDomainOtherWebsite)
	same := exampleWebsite()
	same.Domains = []DomainInput{{Name: "example.net", Facts: goodDomainFacts(companyName)}}
	same.HomepageURLs = []string{"https://example.net"}
	given(t, r, withSite...).when(same).thenRejects("name=" + CodeNameDuplicate)
	c = exampleWebsite()
	c.WebsiteID = "w9"
	given(t, r, withSite...).when(c).thenRejects("websiteId=" + CodeWebsiteNotFound)

	given(t, r, run(t, r, verifyEnterprise())...).when(exampleWebsite()).thenRejects("entity=" + CodeEntityFirst)
}

func TestSubmitWebsiteRulesForIndividuals(t *testing.T) {
	r := mustRules(t)
	ind := individualCommands()
	events := run(t, r, ind[:2]...)
	s := given(t, r, events...)
	c := ind[2].(SubmitWebsite)
	c.Name = "王五的博客"
	s.when(c).thenRejects("name="+CodeNameIndividualWord, "name="+CodeNamePersonName)
	c = ind[2].(SubmitWebsite)
	c.ServiceContent = []string{"portal_general"}
	c.PreApprovals = []PreApproval{{Category: "news", Number: "1"}}
	s.when(c).thenRejects("serviceContent[0]="+CodeServiceContentPersonal, "preApprovals[0]="+CodePreApprovalPersonal)

	withSite := append(events, run1(t, r, Replay(events), ind[2])...)
	c = ind[2].(SubmitWebsite)
	c.Name = "第二个网站"
	c.Domains = []DomainInput{{Name: "wangwu.com", Facts: goodDomainFacts("王五")}}
	c.HomepageURLs = []string{"http://wangwu.com"}
	given(t, r, withSite...).when(c).thenRejects("websiteId=" + CodeWebsitesTooMany)
	given(t, r, withSite...).when(SubmitWebsitePrincipal{WebsiteID: "w1", Principal: zhangSan(), At: at(time.Hour)}).
		thenRejects("websiteId=" + CodeWebsitePrincipalNA)
}

func TestSubmitWebsiteProvinceRules(t *testing.T) {
	r := mustRules(t)
	// Shandong individuals write remarks of 30 characters or more; Zhejiang
	// individuals may not run a blog; Henan allows one domain per website.
	start := func(province, city, domain string) []Event {
		id := residentID(province + "010219900101001")
		return run(t, r,
			VerifyType{FilingID: "f" + province, Account: "a" + province, Province: province, City: city, Nature: "individual",
				CertificateType: "resident_id", CertificateNumber: id,
				Domains: []DomainInput{{Name: domain, Facts: goodDomainFacts("赵六")}}, Resource: goodInstance(), At: t0},
			SubmitEntity{Entity: Entity{Name: "赵六", CertificateAddress: "某地某路1号", MailingAddress: r.Province(province).Short + "省" + city + "人民路1号",
				Principal: Person{Name: "赵六", CertificateType: "resident_id", CertificateNumber: id, OfficePhone: "13800138000",
					Mobile: "13800138000", Email: "zl@example.com", EmergencyContact: &EmergencyContact{Name: "赵七", Mobile: "13900139000"}}},
				MobileProvince: province, At: at(time.Minute)})
	}
	site := func(domains ...string) SubmitWebsite {
		c := SubmitWebsite{Name: "读书笔记分享", HomepageURLs: []string{"http://" + domains[0]}, ServiceContent: []string{"blog_personal_space"}, At: at(time.Hour)}
		for _, d := range domains {
			c.Domains = append(c.Domains, DomainInput{Name: d, Facts: goodDomainFacts("赵六")})
		}
		return c
	}
	given(t, r, start("37", "济南市", "zl.cn")...).when(site("zl.cn")).thenRejects("remarks=" + CodeRemarksTooShort)
	given(t, r, start("33", "杭州市", "zl.cn")...).when(site("zl.cn")).thenRejects("serviceContent[0]=" + CodeServiceContentBlog)
	given(t, r, start("41", "郑州市", "zl.cn")...).when(site("zl.cn", "zl.com")).thenRejects("domains=" + CodeDomainsTooMany)
}

func TestLivenessRules(t *testing.T) {
	r := mustRules(t)
	cmds := enterpriseCommands()
	events := run(t, r, cmds[:3]...)
	s := given(t, r, events...)
	s.when(StartLiveness{WebsiteID: "w1", SessionID: "s", At: at(time.Hour)}).thenRejects("websiteId=" + CodeLivenessPrincipal)
	events = run(t, r, cmds[:5]...)
	s = given(t, r, events...)
	s.when(PassLiveness{WebsiteID: "w1", SessionID: "forged", At: at(time.Hour)}).thenRejects("sessionId=" + CodeLivenessSession)
	s.when(FailLiveness{WebsiteID: "w1", SessionID: "live-1", Reasons: []string{"口罩遮挡"}, At: at(time.Hour)}).
		then(LivenessFailed{WebsiteID: "w1", SessionID: "live-1", Reasons: []string{"口罩遮挡"}, At: at(time.Hour)})
	passed := run(t, r, cmds[:6]...)
	given(t, r, passed...).when(StartLiveness{WebsiteID: "w1", SessionID: "again", At: at(time.Hour)}).thenRejects("websiteId=" + CodeLivenessPassed)

	// A different website principal must pass again.
	f := Replay(passed)
	changed := Evolve(f, WebsitePrincipalSubmitted{WebsiteID: "w1", Principal: liSi(), At: at(time.Hour)})
	if changed.Websites[0].Liveness.State != LivenessStatePending {
		t.Fatalf("liveness kept after the principal changed: %+v", changed.Websites[0].Liveness)
	}
}

func TestMaterialRules(t *testing.T) {
	r := mustRules(t)
	events := run(t, r, enterpriseCommands()[:3]...)
	s := given(t, r, events...)
	bad := UploadMaterial{Material: Material{Kind: MaterialCommitmentLetter, Scope: "website:w7", SHA256: "xyz", Size: 20 << 20, ContentType: "image/gif"}, At: at(time.Hour)}
	s.when(bad).thenRejects("scope="+CodeMaterialScope, "sha256="+CodeMaterialDigest, "size="+CodeMaterialSize, "contentType="+CodeMaterialContentType)
	bad.Material.Kind = "selfie"
	s.when(bad).thenRejects("kind=" + CodeMaterialKind)
	s.when(material(MaterialEntityCertificate, "website:w1")).thenRejects("scope=" + CodeMaterialScope)
	s.when(material(MaterialDomainCertificate, "domain:example.com")).thenTypes(TypeMaterialUploaded)
	s.when(RemoveMaterial{Kind: MaterialPrincipalID, Scope: "entity", At: at(time.Hour)}).thenRejects("kind=" + CodeMaterialNotFound)

	// Removing a website drops its materials.
	withMaterial := append(events, run1(t, r, Replay(events), material(MaterialCommitmentLetter, "website:w1"))...)
	f := Replay(append(withMaterial, WebsiteRemoved{WebsiteID: "w1", At: at(time.Hour)}))
	if len(f.Materials) != 0 {
		t.Fatalf("materials of a removed website remain: %+v", f.Materials)
	}
}

func TestRequiredMaterialsByProvince(t *testing.T) {
	r := mustRules(t)
	f := Replay(run(t, r, enterpriseCommands()[:4]...))
	if got := len(r.RequiredMaterials(f)); got != 3 {
		t.Fatalf("Guangdong enterprise with one site needs 3 materials, got %+v", r.RequiredMaterials(f))
	}
	f.Province = "52" // Guizhou: a certificate for every domain
	f.Websites[0].PrincipalIsLegalRep = false
	var kinds []string
	for _, m := range r.RequiredMaterials(f) {
		kinds = append(kinds, m.Kind+"@"+m.Scope)
	}
	want := "entity_certificate@entity principal_id@entity commitment_letter@website:w1 authorisation_letter@website:w1 domain_certificate@domain:example.com"
	if strings.Join(kinds, " ") != want {
		t.Fatalf("Guizhou materials:\n got %s\nwant %s", strings.Join(kinds, " "), want)
	}
}

func TestSubmitForReviewListsEverythingMissing(t *testing.T) {
	r := mustRules(t)
	given(t, r, run(t, r, verifyEnterprise())...).when(SubmitForReview{At: at(time.Hour)}).
		thenRejects("termsVersion="+CodeRequired, "entity="+CodeEntityMissing, "websites="+CodeWebsiteMissing)

	cmds := enterpriseCommands()
	events := run(t, r, cmds[:4]...)
	given(t, r, events...).when(SubmitForReview{TermsVersion: "v1", At: at(time.Hour)}).thenRejects(
		"websites[w1].liveness="+CodeLivenessMissing,
		"materials[entity_certificate@entity]="+CodeMaterialMissing,
		"materials[principal_id@entity]="+CodeMaterialMissing,
		"materials[commitment_letter@website:w1]="+CodeMaterialMissing)

	// Facts age: the domain expired since step 1, and the server filled up.
	all := run(t, r, cmds[:9]...)
	full := goodInstance()
	full.Instance.WebsitesFiled = 5
	late := SubmitForReview{TermsVersion: "v1", Resource: &full, At: t0.AddDate(2, 0, 1)}
	given(t, r, all...).when(late).thenRejects("websites[w1].domains[0]="+CodeDomainExpired, "resource="+CodeResourceFull)
}

func TestSubmitForReviewChecksTheRegistrant(t *testing.T) {
	r := mustRules(t)
	cmds := enterpriseCommands()
	v := verifyEnterprise()
	v.Domains[0].Facts.RegistrantName = "别人的公司"
	w := exampleWebsite()
	w.Domains[0].Facts.RegistrantName = "别人的公司"
	cmds[0], cmds[2] = v, w
	events := run(t, r, cmds[:9]...)
	given(t, r, events...).when(cmds[9]).thenRejects("websites[w1].domains[0]=" + CodeDomainRegistrant)
}

func TestSubmitForReviewChecksDistinctEmailsInBeijing(t *testing.T) {
	r := mustRules(t)
	bj := VerifyType{FilingID: "f5", Account: "a5", Province: "11", City: "北京市", Nature: "enterprise",
		CertificateType: "business_licence", CertificateNumber: "91110108MA01ABCD5T",
		Domains: []DomainInput{{Name: "example.org.cn", Facts: goodDomainFacts("北京示例有限公司")}}, Resource: goodInstance(), At: t0}
	boss := zhangSan()
	boss.OfficePhone = "010-62265678"
	boss.EmergencyContact = &EmergencyContact{Name: "李四", Mobile: "13900139000"}
	staff := liSi()
	staff.OfficePhone = "010-62265679"
	staff.Email = boss.Email
	staff.EmergencyContact = &EmergencyContact{Name: "张三", Mobile: "13800138000"}
	events := run(t, r, bj,
		SubmitEntity{Entity: Entity{Name: "北京示例有限公司", CertificateAddress: "北京市海淀区中关村大街1号", MailingAddress: "北京市海淀区中关村大街1号",
			LegalRepresentative: "张三", Principal: boss, PrincipalIsLegalRep: true}, At: at(time.Minute)},
		SubmitWebsite{Name: "示例科技", Domains: []DomainInput{{Name: "example.org.cn", Facts: goodDomainFacts("北京示例有限公司")}},
			HomepageURLs: []string{"https://example.org.cn"}, ServiceContent: []string{"portal_entity"}, At: at(2 * time.Minute)},
		SubmitWebsitePrincipal{WebsiteID: "w1", Principal: staff, At: at(3 * time.Minute)},
	)
	given(t, r, events...).when(SubmitForReview{TermsVersion: "v1", At: at(time.Hour)}).
		thenRejects("websites[w1].principal.email=" + CodeEmailNotDistinct)
}

func TestRejectionReasonsAreChecked(t *testing.T) {
	r := mustRules(t)
	s := given(t, r, run(t, r, enterpriseCommands()...)...)
	s.when(RejectInitialReview{At: at(time.Hour)}).thenRejects("reasons=" + CodeReasonsRequired)
	s.when(RejectInitialReview{Reasons: []Reason{
		{Path: "websites[w9].name", Code: "website_name"},
		{Path: "entity.name", Code: "too_ugly"},
		{Path: "materials[commitment_letter@website:w1]", Code: "material_missing"},
		{Path: "websites[w1].domains[0]", Code: "domain_owner_mismatch"},
	}, At: at(time.Hour)}).thenRejects("reasons[0].path="+CodeReasonPath, "reasons[1].code="+CodeReasonCode)
}

func TestBureauApprovalNeedsASerial(t *testing.T) {
	r := mustRules(t)
	s := given(t, r, run(t, r, stages()[StatusBureauReview]...)...)
	for _, serial := range []string{"", "12345", "12345678901", "2026ABCD"} {
		s.when(ApproveByBureau{Serial: serial, At: at(80 * time.Hour)}).thenRejects("serial=" + CodeICPSerial)
	}
}

func TestEveryProvinceHasConsistentRules(t *testing.T) {
	r := mustRules(t)
	abbrs := strings.Join(ICPProvinceAbbreviations(), "")
	supported := 0
	seenAreaCodes := map[string]string{}
	for _, p := range r.Provinces() {
		if !strings.Contains(abbrs, p.Abbr) {
			t.Errorf("%s: abbreviation %s cannot appear in an ICP number", p.Code, p.Abbr)
		}
		if p.Supported {
			supported++
		}
		for code := 10; code < 1000; code++ {
			ac := "0" + strconv.Itoa(code)
			if p.AreaCodeInProvince(ac) {
				if other, dup := seenAreaCodes[ac]; dup {
					t.Errorf("area code %s in %s and %s", ac, other, p.Code)
				}
				seenAreaCodes[ac] = p.Code
			}
		}
		if r.ProvinceByAbbr(p.Abbr) != p {
			t.Errorf("%s: ProvinceByAbbr(%s) finds another province", p.Code, p.Abbr)
		}
	}
	if len(r.Provinces()) != 31 || supported != 17 {
		t.Errorf("%d provinces, %d supported; want 31 and the 17 of the mini-program snapshot", len(r.Provinces()), supported)
	}
	if !r.Province("44").AreaCodeInProvince("0755") || r.Province("44").AreaCodeInProvince("010") {
		t.Error("Shenzhen's 0755 is in Guangdong, Beijing's 010 is not")
	}
}

func TestPrincipalCertificateTypes(t *testing.T) {
	r := mustRules(t)
	s := given(t, r, run(t, r, verifyEnterprise())...)
	cases := []struct{ typ, number, code string }{
		{"hk_macau_permit", "H12345678", ""},
		{"hk_macau_permit", "X12345678", CodeCertificateNumber},
		{"taiwan_permit", "12345678", ""},
		{"taiwan_permit", "1234567", CodeCertificateNumber},
		{"passport", "E12345678", ""},
		{"passport", "e1", CodeCertificateNumber},
		{"business_licence", "91440300MA5F12342Q", CodePrincipalCertificate},
	}
	for _, tc := range cases {
		c := enterpriseEntity()
		c.Entity.PrincipalIsLegalRep = true
		c.Entity.Principal.CertificateType, c.Entity.Principal.CertificateNumber = tc.typ, tc.number
		o := s.when(c)
		if tc.code == "" {
			o.thenTypes(TypeEntitySubmitted)
			continue
		}
		path := "principal.certificateNumber"
		if tc.code == CodePrincipalCertificate {
			path = "principal.certificateType"
		}
		o.thenRejects(path + "=" + tc.code)
	}
}

func TestIndividualPrincipalChangeResetsLiveness(t *testing.T) {
	r := mustRules(t)
	events := run(t, r, individualCommands()[:5]...)
	f := Replay(events)
	if f.Websites[0].Liveness.State != LivenessStatePassed {
		t.Fatal("fixture did not pass liveness")
	}
	other := individualCommands()[1].(SubmitEntity).Entity
	other.Principal.Mobile = "13700137000"
	if g := Evolve(f, EntitySubmitted{Entity: other, At: at(time.Hour)}); g.Websites[0].Liveness.State != LivenessStatePassed {
		t.Fatal("same person with a new mobile lost the liveness check")
	}
	other.Principal.CertificateNumber = residentID("11010119900101001")
	if g := Evolve(f, EntitySubmitted{Entity: other, At: at(time.Hour)}); g.Websites[0].Liveness.State != LivenessStatePending {
		t.Fatal("another person kept the liveness check")
	}
}

func TestReadinessOfACompleteFiling(t *testing.T) {
	r := mustRules(t)
	cmds := enterpriseCommands()
	f := Replay(run(t, r, cmds[:len(cmds)-1]...))
	if problems := r.Readiness(f, at(time.Hour)); len(problems) != 0 {
		t.Fatalf("a complete filing is not ready: %+v", problems)
	}
	f = Replay(run(t, r, cmds[:2]...))
	if problems := r.Readiness(f, at(time.Hour)); len(problems) != 3 || problems[0].Code != CodeWebsiteMissing {
		t.Fatalf("want the website step and two materials missing, got %+v", problems)
	}
}

func TestHomepagePerDomainInShaanxi(t *testing.T) {
	r := mustRules(t)
	sn := VerifyType{FilingID: "f6", Account: "a6", Province: "61", City: "西安市", Nature: "enterprise",
		CertificateType: "business_licence", CertificateNumber: creditCode("91610100MA6AAAAA0"),
		Domains: []DomainInput{{Name: "example.com", Facts: goodDomainFacts(companyName)}}, Resource: goodInstance(), At: t0}
	entity := enterpriseEntity()
	entity.Entity.CertificateAddress, entity.Entity.MailingAddress = "陕西省西安市雁塔区长安路1号", "陕西省西安市雁塔区长安路1号"
	entity.Entity.Principal.OfficePhone = "029-88886666"
	entity.MobileProvince = "61"
	s := given(t, r, run(t, r, sn, entity)...)
	site := exampleWebsite()
	site.Domains = append(site.Domains, DomainInput{Name: "example.net", Facts: goodDomainFacts(companyName)})
	s.when(site).thenRejects("homepageUrls=" + CodeHomepagePerDomain)
	site.HomepageURLs = append(site.HomepageURLs, "https://example.net/")
	s.when(site).thenTypes(TypeWebsiteSubmitted)
}

func TestRegistrantMayBeThePrincipalUnlessTheProvinceSaysOrganisationOnly(t *testing.T) {
	r := mustRules(t)
	f := Replay(run(t, r, enterpriseCommands()[:2]...))
	facts := goodDomainFacts("张三")
	if !registrantMatches(&f, r.Province("44"), facts) {
		t.Error("Guangdong: a domain registered to the principal should match")
	}
	if registrantMatches(&f, r.Province("35"), facts) {
		t.Error("Fujian: only the organisation may hold the domain")
	}
	facts = goodDomainFacts("深圳市示例科技有限公司 ")
	facts.RegistrantCertificateNumber = "91440300ma5f12342q"
	if !registrantMatches(&f, r.Province("44"), facts) {
		t.Error("case and spacing should not matter")
	}
	facts.RegistrantCertificateNumber = "91110108MA01ABCD5T"
	if registrantMatches(&f, r.Province("44"), facts) {
		t.Error("another certificate should not match")
	}
}

func TestZhejiangBureauHasThirtyWorkingDays(t *testing.T) {
	r := mustRules(t)
	f := Filing{Status: StatusProviderApproved, Province: "33"}
	events, err := r.Decide(f, SendToBureau{At: time.Date(2026, 3, 2, 9, 0, 0, 0, chinaZone)})
	if err != nil {
		t.Fatal(err)
	}
	if due := events[0].(SentToBureau).DueAt; !due.Equal(time.Date(2026, 4, 14, 9, 0, 0, 0, chinaZone)) {
		t.Fatalf("due %v; 30 working days from 2 March 2026 skip 清明 (4-6 April)", due)
	}
}

func TestParseRulesReportsBrokenData(t *testing.T) {
	read := func(name string) []byte {
		b, err := embeddedData.ReadFile("data/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	provinces := strings.Replace(string(read("provinces.json")), `"principal": "free"`, `"principal": "anyone"`, 1)
	provinces = strings.Replace(provinces, `"areaCodes": ["010"]`, `"areaCodes": ["10-9"]`, 1)
	_, err := ParseRules([]byte(provinces), read("catalog.json"), read("tlds.json"), read("holidays.json"))
	if err == nil || !strings.Contains(err.Error(), "anyone") || !strings.Contains(err.Error(), "10-9") {
		t.Fatalf("want both problems reported, got %v", err)
	}
	if _, err := ParseRules(read("provinces.json"), []byte("{"), read("tlds.json"), read("holidays.json")); err == nil {
		t.Fatal("broken catalog accepted")
	}
}
