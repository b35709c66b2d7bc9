package domain

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Submission problems: what keeps a filing from being submitted.
const (
	CodeEntityMissing           = "step.entity_missing"
	CodeWebsiteMissing          = "step.website_missing"
	CodeWebsitePrincipalMissing = "step.website_principal_missing"
	CodeLivenessMissing         = "step.liveness_missing"
	CodeMaterialMissing         = "material.missing"
	CodeEmailNotDistinct        = "email.not_distinct"
	CodeConstructionPlan        = "material.construction_plan_required"
	CodeIncomeProof             = "material.income_proof_required"
)

// MaterialRequirement is a material the filing needs, and why.
type MaterialRequirement struct {
	Kind   string  `json:"kind"`
	Scope  string  `json:"scope"`
	Reason Message `json:"reason"`
	// Code is the problem reported while the material is missing:
	// CodeMaterialMissing unless a province rule has its own.
	Code string `json:"code"`
}

// Path is the requirement's filing path, as rejection reasons and
// submission problems name it.
func (m MaterialRequirement) Path() string { return "materials[" + m.Kind + "@" + m.Scope + "]" }

// RequiredMaterials lists the materials the filing needs as it stands, by
// entity nature and province (§3.7). Ages are taken at the filing's last
// change; the submission checks them again at its own time.
func (r *Rules) RequiredMaterials(f Filing) []MaterialRequirement {
	return r.requiredMaterials(&f, f.UpdatedAt)
}

func (r *Rules) requiredMaterials(f *Filing, at time.Time) []MaterialRequirement {
	p := r.provinceOf(f)
	var out []MaterialRequirement
	needCode := func(code, kind, scope string, m Message) {
		if !slices.ContainsFunc(out, func(x MaterialRequirement) bool { return x.Kind == kind && x.Scope == scope }) {
			out = append(out, MaterialRequirement{Kind: kind, Scope: scope, Reason: m, Code: code})
		}
	}
	need := func(kind, scope string, m Message) { needCode(CodeMaterialMissing, kind, scope, m) }
	if f.Kind() == KindOrganisation {
		need(MaterialEntityCertificate, "entity", Message{"主体证件", "the entity's certificate"})
	}
	need(MaterialPrincipalID, "entity", Message{"主体负责人证件（正反面）", "the entity principal's certificate, both sides"})
	if f.Kind() == KindOrganisation && f.Entity != nil && !f.Entity.PrincipalIsLegalRep {
		need(MaterialAuthorisationLetter, "entity", msg("%[1]s要求非法定代表人担任负责人时提供法人授权书",
			"%[2]s needs the legal representative's authorisation for another principal", p.Name, p.NameEn))
	}
	if f.Kind() == KindIndividual {
		if id, prob := ParseResidentID(f.CertificateNumber, f.CreatedAt); prob == nil && id.Province != f.Province {
			need(MaterialResidencePermit, "entity", msg("跨省个人备案需提供%[1]s居住证", "an individual from another province needs a residence permit of %[2]s",
				p.Name, p.NameEn))
		}
	}
	if f.Kind() == KindOrganisation && p.PartyBuildingLetter {
		need(MaterialPartyBuildingLetter, "entity", msg("%[1]s要求提供党建确认函", "%[2]s requires a party-building confirmation letter", p.Name, p.NameEn))
	}
	if f.Entity != nil {
		r.needIncomeProof(needCode, p, "entity", f.Entity.Principal, at)
	}
	domainCount := 0
	for _, w := range f.Websites {
		domainCount += len(w.Domains)
	}
	prefixes := domainPrefixes(f)
	limit, planRule := p.ConstructionPlanOverPrefixes[f.Kind()]
	plan := planRule && len(prefixes) > limit
	if plan {
		needCode(CodeConstructionPlan, MaterialConstructionPlan, "entity", msg(
			"%[1]s要求不同前缀的域名超过 %[2]d 个（本备案 %[3]d 个）时提供网站建设方案书，并提供每个域名的域名证书",
			"%[4]s needs a website construction plan, and every domain's certificate, above %[2]d distinct domain prefixes (this filing has %[3]d)",
			p.Name, limit, len(prefixes), p.NameEn))
	}
	for _, w := range f.Websites {
		scope := "website:" + w.ID
		need(MaterialCommitmentLetter, scope, Message{"网站备案承诺书", "the website filing commitment letter"})
		if f.Kind() == KindOrganisation && w.Principal != nil {
			if f.Entity == nil || !samePerson(*w.Principal, f.Entity.Principal) {
				need(MaterialWebsitePrincipalID, scope, Message{"网站负责人证件（正反面）", "the website principal's certificate, both sides"})
			}
			if f.Entity == nil || !samePerson(*w.Principal, f.Entity.Principal) {
				r.needIncomeProof(needCode, p, scope, *w.Principal, at)
			}
			if p.WebsitePrincipalAuthorisation && !w.PrincipalIsLegalRep {
				need(MaterialAuthorisationLetter, scope, msg("%[1]s要求网站负责人非法定代表人时提供授权书",
					"%[2]s needs the legal representative's authorisation for this website principal", p.Name, p.NameEn))
			}
		}
		for _, a := range w.PreApprovals {
			need(MaterialPreApproval, scope+":"+a.Category, msg("前置审批文件（%s）", "the pre-approval document (%s)", a.Category))
		}
		if p.DomainCertificate == "every" || p.DomainCertificate == "five_or_more" && domainCount >= 5 || plan {
			for _, d := range w.Domains {
				need(MaterialDomainCertificate, "domain:"+d.Name, msg("%[1]s要求提供域名证书：%[2]s", "%[3]s requires the domain certificate of %[2]s",
					p.Name, d.Unicode, p.NameEn))
			}
		}
	}
	return out
}

// needIncomeProof asks for proof of employment or income from a principal
// younger than the province's IncomeProofUnderAge. Only a resident ID tells
// the age; a principal too young to file at all is refused where the
// principal is submitted.
func (r *Rules) needIncomeProof(need func(code, kind, scope string, m Message), p *Province, scope string, person Person, at time.Time) {
	if p.IncomeProofUnderAge <= 0 || person.CertificateType != "resident_id" {
		return
	}
	id, prob := ParseResidentID(person.CertificateNumber, at)
	if prob != nil {
		return
	}
	if age := id.AgeAt(at); age >= r.minPrincipalAge(p) && age < p.IncomeProofUnderAge {
		need(CodeIncomeProof, MaterialIncomeProof, scope, msg(
			"%[1]s要求未满 %[2]d 周岁的负责人（%[3]s，%[4]d 周岁）提供劳动就业或收入证明",
			"%[5]s requires proof of employment or income from a principal under %[2]d (%[3]s is %[4]d)",
			p.Name, p.IncomeProofUnderAge, person.Name, age, p.NameEn))
	}
}

// domainPrefixes lists the distinct prefixes of the filing's domains: the
// label left of the registry suffix, so that example.com and example.cn are
// one prefix. Domains are registrable names, so it is their first label.
func domainPrefixes(f *Filing) []string {
	var out []string
	for _, w := range f.Websites {
		for _, d := range w.Domains {
			prefix, _, _ := strings.Cut(d.Name, ".")
			if !slices.Contains(out, prefix) {
				out = append(out, prefix)
			}
		}
	}
	return out
}

// Readiness lists what keeps the filing from being submitted at time at:
// missing steps and materials, and the rules that span steps (registrants,
// names against the current entity, distinct e-mails, server capacity).
// An empty list means SubmitForReview would pass these checks.
func (r *Rules) Readiness(f Filing, at time.Time) []FieldError {
	var ps problems
	r.checkReadiness(&ps, &f, at, nil)
	return ps.fields
}

func (r *Rules) checkReadiness(ps *problems, f *Filing, at time.Time, freshResource *CloudResource) {
	p := r.provinceOf(f)
	if f.Entity == nil {
		ps.addf("entity", CodeEntityMissing, "请填写主体信息", "the entity is not filled in")
	}
	if len(f.Websites) == 0 {
		ps.addf("websites", CodeWebsiteMissing, "请至少填写一个网站", "at least one website is needed")
	}
	for _, w := range f.Websites {
		path := "websites[" + w.ID + "]"
		if f.Kind() == KindOrganisation && w.Principal == nil {
			ps.addf(path+".principal", CodeWebsitePrincipalMissing, "请填写网站负责人", "the website principal is not filled in")
		}
		if w.Liveness.State != LivenessStatePassed {
			ps.addf(path+".liveness", CodeLivenessMissing, "网站负责人尚未通过视频核验", "the website principal has not passed the video check")
		}
		for i, d := range w.Domains {
			dpath := path + ".domains[" + strconv.Itoa(i) + "]"
			checkDomainFacts(ps, dpath, DomainName{ASCII: d.Name, Unicode: d.Unicode}, d.Facts, p, at)
			if !registrantMatches(f, p, d.Facts) {
				ps.addf(dpath, CodeDomainRegistrant, "域名 %s 的持有者与备案主体不一致", "domain %s is not registered to the filing entity", d.Unicode)
			}
		}
		if f.Entity != nil {
			r.checkWebsiteName(ps, path+".name", w.Name, nameContext{
				kind: f.Kind(), stateBody: r.Nature(f.Nature) != nil && r.Nature(f.Nature).State,
				principalName: f.Entity.Principal.Name, serviceContent: w.ServiceContent, preApprovals: w.PreApprovals,
				province: p,
			})
		}
	}
	for _, m := range r.requiredMaterials(f, at) {
		if f.Material(m.Kind, m.Scope) == nil {
			ps.addf(m.Path(), m.Code, "缺少材料：%s", "missing material: %[2]s", m.Reason.Zh, m.Reason.En)
		}
	}
	if p.DistinctEmails {
		checkDistinctEmails(ps, f, p)
	}
	resource := f.Resource
	if freshResource != nil {
		resource = *freshResource
	}
	if resource.Kind == ResourceInstance && resource.Instance != nil || resource.Kind == ResourceAuthorizationCode {
		r.checkResource(ps, "resource", resource, len(f.Websites))
	}
}

// checkDistinctEmails: principals who are different people give different
// e-mail addresses (Beijing, Jilin).
func checkDistinctEmails(ps *problems, f *Filing, p *Province) {
	type principal struct {
		path   string
		person Person
	}
	var seen []principal
	if f.Entity != nil {
		seen = append(seen, principal{"entity.principal.email", f.Entity.Principal})
	}
	for _, w := range f.Websites {
		if w.Principal == nil {
			continue
		}
		path := "websites[" + w.ID + "].principal.email"
		if slices.ContainsFunc(seen, func(s principal) bool {
			return !samePerson(s.person, *w.Principal) && s.person.Email == w.Principal.Email
		}) {
			ps.addf(path, CodeEmailNotDistinct, "%[1]s要求不同负责人使用不同的电子邮箱", "%[2]s requires each principal to have their own e-mail address",
				p.Name, p.NameEn)
		}
		seen = append(seen, principal{path, *w.Principal})
	}
}
