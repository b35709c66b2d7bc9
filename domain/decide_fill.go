package domain

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Filling-in problems (steps 2-6).
const (
	CodeEntityFirst             = "step.entity_first"
	CodeEntityNameNotPrincipal  = "entity.name_not_principal"
	CodePrincipalNotEntity      = "principal.not_certificate_holder"
	CodePrincipalMustBeLegalRep = "principal.must_be_legal_rep"
	CodePrincipalLegalRepName   = "principal.legal_rep_name_mismatch"
	CodeWebsiteNotFound         = "website.not_found"
	CodeWebsitesTooMany         = "websites.too_many"
	CodeDomainsTooMany          = "domains.too_many"
	CodeDomainsFilingCap        = "domains.filing_cap"
	CodeDomainOtherWebsite      = "domain.used_by_other_website"
	CodeHomepageDuplicate       = "homepage.duplicate"
	CodeHomepagePerDomain       = "homepage.per_domain"
	CodeHomepageTooMany         = "homepage.too_many"
	CodeServiceContentUnknown   = "service_content.unknown"
	CodeServiceContentPersonal  = "service_content.not_for_individuals"
	CodeServiceContentBlog      = "service_content.blog_banned"
	CodeServiceContentBlogReq   = "service_content.blog_required"
	CodePreApprovalUnknown      = "pre_approval.unknown"
	CodePreApprovalPersonal     = "pre_approval.not_for_individuals"
	CodePreApprovalRequired     = "pre_approval.required"
	CodeRemarksTooShort         = "remarks.too_short"
	CodeWebsitePrincipalNA      = "website_principal.not_applicable"
	CodeLivenessPrincipal       = "liveness.principal_missing"
	CodeLivenessPassed          = "liveness.already_passed"
	CodeLivenessSession         = "liveness.unknown_session"
	CodeMaterialKind            = "material.kind_unknown"
	CodeMaterialScope           = "material.scope"
	CodeMaterialDigest          = "material.sha256"
	CodeMaterialSize            = "material.size"
	CodeMaterialContentType     = "material.content_type"
	CodeMaterialNotFound        = "material.not_found"
)

func (r *Rules) submitEntity(f *Filing, c SubmitEntity) ([]Event, error) {
	var ps problems
	checkTime(&ps, c.At)
	p := r.provinceOf(f)
	e := c.Entity
	text(&ps, "name", e.Name, true, 100)
	checkPerson(&ps, "principal", e.Principal, personContext{rules: r, province: p, kind: f.Kind(), at: c.At, mobileProvince: c.MobileProvince})
	checkAddress(&ps, "certificateAddress", e.CertificateAddress, p, "", f.Kind() == KindOrganisation)
	checkAddress(&ps, "mailingAddress", e.MailingAddress, p, f.City, true)
	if e.Remarks != "" {
		text(&ps, "remarks", e.Remarks, false, 500)
	}
	if f.Kind() == KindIndividual {
		// An individual's entity is the person: one name, one certificate.
		if e.Principal.CertificateType != f.CertificateType || !strings.EqualFold(e.Principal.CertificateNumber, f.CertificateNumber) {
			ps.addf("principal.certificateNumber", CodePrincipalNotEntity, "个人备案的负责人应为第一步验证的证件持有人",
				"an individual's principal is the holder of the certificate verified in step 1")
		}
		if e.Name != e.Principal.Name {
			ps.addf("name", CodeEntityNameNotPrincipal, "个人备案的主体名称应为负责人姓名", "an individual's entity name is the principal's name")
		}
	} else {
		text(&ps, "legalRepresentative", e.LegalRepresentative, true, 30)
		switch {
		case e.PrincipalIsLegalRep && e.LegalRepresentative != "" && e.Principal.Name != e.LegalRepresentative:
			ps.addf("principal.name", CodePrincipalLegalRepName, "负责人是法定代表人时，姓名应与法定代表人一致",
				"a principal who is the legal representative has the legal representative's name")
		case !e.PrincipalIsLegalRep && p.Principal == PrincipalLegalRep:
			ps.addf("principalIsLegalRep", CodePrincipalMustBeLegalRep, "%[1]s要求主体负责人为法定代表人",
				"%[2]s requires the entity principal to be the legal representative", p.Name, p.NameEn)
		}
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return []Event{EntitySubmitted{Entity: e, At: c.At}}, nil
}

// provinceOf returns the filing's province rules. A filing's province is
// checked when it starts, so a missing one means rule data lost a province;
// an empty rule set then applies rather than a panic.
func (r *Rules) provinceOf(f *Filing) *Province {
	if p := r.Province(f.Province); p != nil {
		return p
	}
	return &Province{Code: f.Province, Name: f.Province, NameEn: f.Province, Principal: PrincipalFree}
}

func (r *Rules) submitWebsite(f *Filing, c SubmitWebsite) ([]Event, error) {
	var ps problems
	checkTime(&ps, c.At)
	p := r.provinceOf(f)
	kind := f.Kind()
	if f.Entity == nil {
		ps.addf("entity", CodeEntityFirst, "请先填写主体信息", "fill in the entity first")
		return nil, ps.err()
	}
	id := c.WebsiteID
	switch {
	case id != "" && f.Website(id) == nil:
		ps.addf("websiteId", CodeWebsiteNotFound, "网站 %s 不存在", "website %s does not exist", id)
		return nil, ps.err()
	case id == "" && len(f.Websites) >= r.maxWebsites(p, kind):
		ps.addf("websiteId", CodeWebsitesTooMany, "每个备案最多 %d 个网站", "a filing holds at most %d websites", r.maxWebsites(p, kind))
	case id == "" && f.Resource.Kind == ResourceAuthorizationCode && len(f.Websites) > 0:
		ps.addf("websiteId", CodeAuthCodeOneWebsite, "一个备案授权码只能用于一个网站", "an authorization code covers one website")
	case id == "":
		id = "w" + strconv.Itoa(max(f.NextWebsite, 1))
	}
	domains := r.checkDomains(&ps, "domains", c.Domains, domainContext{
		province: p, individual: kind == KindIndividual, certificateNumber: f.CertificateNumber, resource: f.Resource, at: c.At,
	})
	r.checkWebsiteDomains(&ps, f, id, c.Domains, domains, p)
	checkHomepages(&ps, c.HomepageURLs, domains, p)
	r.checkServiceContent(&ps, c, kind, p)
	r.checkWebsiteName(&ps, "name", c.Name, nameContext{
		kind: kind, stateBody: r.Nature(f.Nature) != nil && r.Nature(f.Nature).State,
		principalName: f.Entity.Principal.Name, serviceContent: c.ServiceContent, preApprovals: c.PreApprovals,
		province: p,
	})
	for _, w := range f.Websites {
		if w.ID != id && w.Name == c.Name {
			ps.addf("name", CodeNameDuplicate, "与网站 %s 名称相同", "website %s already has this name", w.ID)
		}
	}
	if text(&ps, "remarks", c.Remarks, false, 500) || c.Remarks == "" {
		if min := p.PersonalRemarksMinChars; kind == KindIndividual && min > 0 && utf8.RuneCountInString(c.Remarks) < min {
			ps.addf("remarks", CodeRemarksTooShort, "%[1]s要求个人网站备注不少于 %[2]d 字", "%[3]s requires personal websites to have remarks of %[2]d characters or more",
				p.Name, min, p.NameEn)
		}
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return []Event{WebsiteSubmitted{Website: Website{
		ID: id, Name: c.Name, Domains: domains, HomepageURLs: c.HomepageURLs, ServiceContent: c.ServiceContent,
		PreApprovals: c.PreApprovals, Remarks: c.Remarks,
	}, At: c.At}}, nil
}

// checkWebsiteDomains applies the caps on domains per website and per filing,
// and keeps each domain in one website.
func (r *Rules) checkWebsiteDomains(ps *problems, f *Filing, id string, in []DomainInput, domains []Domain, p *Province) {
	if max := r.maxDomainsPerWebsite(p); len(in) > max {
		ps.addf("domains", CodeDomainsTooMany, "每个网站最多 %d 个域名", "a website holds at most %d domains", max)
	}
	if f.Resource.Kind == ResourceAuthorizationCode && len(in) > 1 {
		ps.addf("domains", CodeAuthCodeOneWebsite, "一个备案授权码只能用于一个网站的一个域名", "an authorization code covers one website with one domain")
	}
	total := len(domains)
	for _, w := range f.Websites {
		if w.ID == id {
			continue
		}
		total += len(w.Domains)
		for i, d := range domains {
			if slices.ContainsFunc(w.Domains, func(x Domain) bool { return x.Name == d.Name }) {
				ps.addf("domains["+strconv.Itoa(i)+"]", CodeDomainOtherWebsite, "域名 %s 已在网站 %s 中", "domain %s is already in website %s", d.Unicode, w.ID)
			}
		}
	}
	if limit := p.MaxDomainsPerFiling[f.Kind()]; limit > 0 && total > limit {
		ps.addf("domains", CodeDomainsFilingCap, "%[1]s每个备案最多 %[2]d 个域名", "%[3]s allows at most %[2]d domains per filing", p.Name, limit, p.NameEn)
	}
}

// checkHomepages: homepage URLs on the website's own domains; one per site,
// or one per domain where the province asks (§3.5).
func checkHomepages(ps *problems, urls []string, domains []Domain, p *Province) {
	if len(urls) == 0 {
		ps.addf("homepageUrls", CodeRequired, "至少填写一个首页网址", "at least one homepage URL is required")
		return
	}
	names := make([]DomainName, len(domains))
	for i, d := range domains {
		names[i] = DomainName{ASCII: d.Name, Unicode: d.Unicode}
	}
	for i, u := range urls {
		path := "homepageUrls[" + strconv.Itoa(i) + "]"
		if slices.Contains(urls[:i], u) {
			ps.addf(path, CodeHomepageDuplicate, "首页网址重复", "homepage URL listed twice")
			continue
		}
		ps.add(path, CheckHomepageURL(u, names))
	}
	switch {
	case p.HomepagePerDomain:
		for _, d := range names {
			n := 0
			for _, u := range urls {
				if CheckHomepageURL(u, []DomainName{d}) == nil {
					n++
				}
			}
			if n != 1 {
				ps.addf("homepageUrls", CodeHomepagePerDomain, "%[1]s要求每个域名填写一个首页网址（%[2]s）",
					"%[3]s requires one homepage URL per domain (%[2]s)", p.Name, d.Unicode, p.NameEn)
			}
		}
	case len(urls) > max(len(domains), 1):
		ps.addf("homepageUrls", CodeHomepageTooMany, "首页网址不能多于域名数", "a website has no more homepage URLs than domains")
	}
}

// checkServiceContent applies the service-content and pre-approval rules:
// individuals carry no commercial or approval-bearing content (§3.5).
func (r *Rules) checkServiceContent(ps *problems, c SubmitWebsite, kind string, p *Province) {
	if len(c.ServiceContent) == 0 {
		ps.addf("serviceContent", CodeRequired, "请选择网站服务内容", "choose the website's service content")
	}
	for i, code := range c.ServiceContent {
		path := "serviceContent[" + strconv.Itoa(i) + "]"
		sc := r.serviceContent(code)
		switch {
		case sc == nil:
			ps.addf(path, CodeServiceContentUnknown, "未知的服务内容“%s”", "unknown service content %q", code)
			continue
		case kind == KindIndividual && !sc.Individual:
			ps.addf(path, CodeServiceContentPersonal, "个人网站不能选择“%s”", "personal websites cannot offer %[2]s", sc.Zh, sc.En)
		case kind == KindIndividual && code == "blog_personal_space" && p.PersonalBlog == "banned":
			ps.addf(path, CodeServiceContentBlog, "%[1]s不允许个人网站选择“博客/个人空间”", "%[2]s does not accept blog / personal space for personal websites", p.Name, p.NameEn)
		}
		if sc.PreApproval != "" && !slices.ContainsFunc(c.PreApprovals, func(a PreApproval) bool { return a.Category == sc.PreApproval }) {
			cat := r.preApproval(sc.PreApproval)
			ps.addf(path, CodePreApprovalRequired, "“%[1]s”需要前置审批：%[2]s", "%[3]s needs the pre-approval %[4]s", sc.Zh, cat.Zh, sc.En, cat.En)
		}
	}
	if kind == KindIndividual && p.PersonalBlog == "required" && !slices.Contains(c.ServiceContent, "blog_personal_space") {
		ps.addf("serviceContent", CodeServiceContentBlogReq, "%[1]s要求个人网站选择“博客/个人空间”", "%[2]s requires personal websites to choose blog / personal space", p.Name, p.NameEn)
	}
	for i, a := range c.PreApprovals {
		path := "preApprovals[" + strconv.Itoa(i) + "]"
		switch {
		case kind == KindIndividual:
			ps.addf(path, CodePreApprovalPersonal, "个人不能持有前置审批", "individuals cannot hold pre-approvals")
		case r.preApproval(a.Category) == nil:
			ps.addf(path+".category", CodePreApprovalUnknown, "未知的前置审批类型“%s”", "unknown pre-approval category %q", a.Category)
		default:
			text(ps, path+".number", a.Number, true, 64)
		}
	}
}

func (r *Rules) submitWebsitePrincipal(f *Filing, c SubmitWebsitePrincipal) ([]Event, error) {
	var ps problems
	checkTime(&ps, c.At)
	if f.Kind() == KindIndividual {
		ps.addf("websiteId", CodeWebsitePrincipalNA, "个人备案的网站负责人即主体负责人，无需填写", "an individual's website principal is the entity principal")
		return nil, ps.err()
	}
	if f.Website(c.WebsiteID) == nil {
		ps.addf("websiteId", CodeWebsiteNotFound, "网站 %s 不存在", "website %s does not exist", c.WebsiteID)
		return nil, ps.err()
	}
	p := r.provinceOf(f)
	checkPerson(&ps, "principal", c.Principal, personContext{rules: r, province: p, kind: f.Kind(), at: c.At, mobileProvince: c.MobileProvince})
	if c.IsLegalRep && f.Entity != nil && c.Principal.Name != f.Entity.LegalRepresentative {
		ps.addf("principal.name", CodePrincipalLegalRepName, "负责人是法定代表人时，姓名应与法定代表人一致",
			"a principal who is the legal representative has the legal representative's name")
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return []Event{WebsitePrincipalSubmitted{WebsiteID: c.WebsiteID, Principal: c.Principal, IsLegalRep: c.IsLegalRep, At: c.At}}, nil
}

func removeWebsite(f *Filing, c RemoveWebsite) ([]Event, error) {
	var ps problems
	checkTime(&ps, c.At)
	if f.Website(c.WebsiteID) == nil {
		ps.addf("websiteId", CodeWebsiteNotFound, "网站 %s 不存在", "website %s does not exist", c.WebsiteID)
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return []Event{WebsiteRemoved{WebsiteID: c.WebsiteID, At: c.At}}, nil
}

func startLiveness(f *Filing, c StartLiveness) ([]Event, error) {
	var ps problems
	checkTime(&ps, c.At)
	text(&ps, "sessionId", c.SessionID, true, 128)
	w := f.Website(c.WebsiteID)
	switch {
	case w == nil:
		ps.addf("websiteId", CodeWebsiteNotFound, "网站 %s 不存在", "website %s does not exist", c.WebsiteID)
	case f.WebsitePrincipal(w) == nil:
		ps.addf("websiteId", CodeLivenessPrincipal, "请先填写网站负责人", "fill in the website principal first")
	case w.Liveness.State == LivenessStatePassed:
		ps.addf("websiteId", CodeLivenessPassed, "该网站负责人已通过核验", "this website's principal has already passed")
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return []Event{LivenessStarted{WebsiteID: c.WebsiteID, SessionID: c.SessionID, At: c.At}}, nil
}

// finishLiveness records the provider's verdict on the open session; a
// verdict on any other session (late, replayed, forged) is refused.
func finishLiveness(f *Filing, websiteID, sessionID string, at time.Time, failReasons []string) ([]Event, error) {
	var ps problems
	checkTime(&ps, at)
	w := f.Website(websiteID)
	switch {
	case w == nil:
		ps.addf("websiteId", CodeWebsiteNotFound, "网站 %s 不存在", "website %s does not exist", websiteID)
	case w.Liveness.State != LivenessStateStarted || w.Liveness.SessionID != sessionID:
		ps.addf("sessionId", CodeLivenessSession, "核验会话不存在或已结束", "no open liveness session with this id")
	}
	for i, reason := range failReasons {
		text(&ps, "reasons["+strconv.Itoa(i)+"]", reason, true, 200)
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	if failReasons != nil {
		return []Event{LivenessFailed{WebsiteID: websiteID, SessionID: sessionID, Reasons: failReasons, At: at}}, nil
	}
	return []Event{LivenessPassed{WebsiteID: websiteID, SessionID: sessionID, At: at}}, nil
}

// materialScopes says which scopes a kind of material may have.
func materialScopeFits(kind, scope string) bool {
	website := strings.HasPrefix(scope, "website:")
	websiteOnly := website && strings.Count(scope, ":") == 1
	switch kind {
	case MaterialEntityCertificate, MaterialPrincipalID, MaterialResidencePermit, MaterialPartyBuildingLetter, MaterialConstructionPlan:
		return scope == "entity"
	case MaterialAuthorisationLetter, MaterialIncomeProof:
		return scope == "entity" || websiteOnly
	case MaterialWebsitePrincipalID, MaterialCommitmentLetter:
		return websiteOnly
	case MaterialDomainCertificate:
		return strings.HasPrefix(scope, "domain:")
	case MaterialPreApproval:
		return website && strings.Count(scope, ":") == 2
	case MaterialOther:
		return true
	}
	return false
}

func (r *Rules) uploadMaterial(f *Filing, c UploadMaterial) ([]Event, error) {
	var ps problems
	checkTime(&ps, c.At)
	m := c.Material
	switch {
	case !slices.Contains(MaterialKinds(), m.Kind):
		ps.addf("kind", CodeMaterialKind, "未知的材料类型“%s”", "unknown material kind %q", m.Kind)
	case !materialScopeFits(m.Kind, m.Scope) || !f.scopeExists(m.Scope):
		ps.addf("scope", CodeMaterialScope, "材料所属对象“%s”不存在或与材料类型不符", "scope %q does not exist in the filing or does not fit the material kind", m.Scope)
	}
	if len(m.SHA256) != 64 || strings.ContainsFunc(m.SHA256, func(c rune) bool { return !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') }) {
		ps.addf("sha256", CodeMaterialDigest, "文件摘要应为 64 位小写十六进制 SHA-256", "the digest is a SHA-256 in 64 lower-case hex digits")
	}
	if m.Size <= 0 || m.Size > r.Channel.MaxMaterialBytes {
		ps.addf("size", CodeMaterialSize, "文件大小应在 1 字节到 %d 字节之间", "the file must be between 1 byte and %d bytes", r.Channel.MaxMaterialBytes)
	}
	if !slices.Contains(r.Channel.MaterialContentTypes, m.ContentType) {
		ps.addf("contentType", CodeMaterialContentType, "只接受 JPEG、PNG 或 PDF 文件", "only JPEG, PNG and PDF files are accepted")
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return []Event{MaterialUploaded{Material: m, At: c.At}}, nil
}

func removeMaterial(f *Filing, c RemoveMaterial) ([]Event, error) {
	var ps problems
	checkTime(&ps, c.At)
	if f.Material(c.Kind, c.Scope) == nil {
		ps.addf("kind", CodeMaterialNotFound, "没有该材料", "no such material in the filing")
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return []Event{MaterialRemoved{Kind: c.Kind, Scope: c.Scope, At: c.At}}, nil
}
