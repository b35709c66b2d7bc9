package domain

import (
	"slices"
	"strconv"
	"time"
)

// Preparation problems (step 1, §3.1-§3.4).
const (
	CodeProvinceUnknown      = "province.unknown"
	CodeProvinceUnsupported  = "province.unsupported"
	CodeNatureUnknown        = "nature.unknown"
	CodeNatureUnsupported    = "nature.unsupported"
	CodeCertificateType      = "certificate.type_not_allowed"
	CodeNotFirstFiling       = "filing_type.not_first_filing"
	CodeEntityInFlight       = "entity.in_flight"
	CodeAccountOpenFiling    = "account.open_filing"
	CodeResourceKind         = "resource.kind"
	CodeResourceNotFound     = "resource.not_found"
	CodeResourceRegion       = "resource.region"
	CodeResourcePublicIP     = "resource.public_ip"
	CodeResourceBilling      = "resource.billing"
	CodeResourceDuration     = "resource.duration"
	CodeResourceExpiring     = "resource.expiring"
	CodeResourceFull         = "resource.full"
	CodeAuthCodeInvalid      = "auth_code.invalid"
	CodeAuthCodeUsed         = "auth_code.used"
	CodeAuthCodeServerExpiry = "auth_code.server_expiring"
	CodeAuthCodeDomain       = "auth_code.domain_mismatch"
	CodeAuthCodeOneWebsite   = "auth_code.one_website"
)

func (r *Rules) verifyType(c VerifyType) ([]Event, error) {
	var ps problems
	checkTime(&ps, c.At)
	text(&ps, "filingId", c.FilingID, true, 64)
	text(&ps, "account", c.Account, true, 128)
	province := r.Province(c.Province)
	switch {
	case province == nil:
		ps.addf("province", CodeProvinceUnknown, "未知的省份代码“%s”", "unknown province code %q", c.Province)
	case !province.Supported:
		ps.addf("province", CodeProvinceUnsupported, "%s暂不支持通过本渠道备案", "%[2]s is not served by this filing channel yet",
			province.Name, province.NameEn)
	}
	text(&ps, "city", c.City, true, 30)
	if c.District != "" {
		text(&ps, "district", c.District, false, 30)
	}
	nature := r.Nature(c.Nature)
	switch {
	case nature == nil:
		ps.addf("nature", CodeNatureUnknown, "未知的主体性质“%s”", "unknown entity nature %q", c.Nature)
	case !nature.Channel:
		ps.addf("nature", CodeNatureUnsupported, "本渠道暂不支持“%s”备案，请使用控制台", "this channel does not file for %[2]s; use the console",
			nature.Zh, nature.En)
	}
	var domains []Domain
	if province != nil && nature != nil && ps.err() == nil {
		r.checkCertificate(&ps, c, province, nature)
		domains = r.checkDomains(&ps, "domains", c.Domains, domainContext{
			province: province, individual: nature.Kind == KindIndividual,
			certificateNumber: c.CertificateNumber, resource: c.Resource, at: c.At,
		})
		r.checkResource(&ps, "resource", c.Resource, 0)
		if c.Resource.Kind == ResourceAuthorizationCode && c.Resource.Code != nil && len(c.Domains) > 1 {
			ps.addf("domains", CodeAuthCodeOneWebsite, "一个备案授权码只能用于一个网站的一个域名", "an authorization code covers one website with one domain")
		}
		if c.Facts.EntityAlreadyFiled {
			ps.addf("certificateNumber", CodeNotFirstFiling, "该主体已有备案号，请办理新增网站或变更备案",
				"this entity already has an ICP number; file a new website or a change instead")
		}
		if c.Facts.EntityInBureauElsewhere {
			ps.addf("certificateNumber", CodeEntityInFlight, "该主体有其他备案订单正在管局审核（主办者冲突）",
				"another order of this entity is under a bureau's review")
		}
		if c.Facts.AccountOpenFiling != "" {
			ps.addf("account", CodeAccountOpenFiling, "该账号已有进行中的备案订单 %s", "the account already has filing %s in progress",
				c.Facts.AccountOpenFiling)
		}
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return []Event{TypeVerified{
		FilingID: c.FilingID, Account: c.Account, Province: c.Province, City: c.City, District: c.District,
		Nature: c.Nature, CertificateType: c.CertificateType, CertificateNumber: c.CertificateNumber,
		Domains: domains, Resource: c.Resource, RulesVersion: r.Version, At: c.At,
	}}, nil
}

// checkCertificate checks the entity certificate: allowed for the nature,
// well formed, and issued in the filing's province (§3.1: no cross-province
// filing; some provinces accept individuals with a residence permit).
func (r *Rules) checkCertificate(ps *problems, c VerifyType, p *Province, n *Nature) {
	ct := r.certificate(c.CertificateType)
	if ct == nil || !slices.Contains(n.Certificates, c.CertificateType) || !ct.Channel {
		ps.addf("certificateType", CodeCertificateType, "“%s”主体不能使用该证件类型", "%[2]s entities cannot file with this certificate type",
			n.Zh, n.En)
		return
	}
	issued, prob := certificateNumber(ct.Format, c.CertificateNumber, c.At)
	if prob != nil {
		ps.add("certificateNumber", prob)
		return
	}
	if n.Kind == KindIndividual {
		if id, _ := ParseResidentID(c.CertificateNumber, c.At); id.AgeAt(c.At) < r.minPrincipalAge(p) {
			ps.addf("certificateNumber", CodePrincipalTooYoung, "%[1]s要求负责人年满 %[2]d 周岁",
				"%[3]s requires principals aged %[2]d or over", p.Name, r.minPrincipalAge(p), p.NameEn)
		}
	}
	// Individuals from elsewhere may file where the province accepts a
	// residence permit; it is then required among the materials.
	crossAllowed := n.Kind == KindIndividual && p.PersonalCrossProvince
	if issued != "" && issued != p.Code && !crossAllowed {
		ps.addf("certificateNumber", CodeCertificateCrossProv, "证件不属于%[1]s，不能跨省备案",
			"the certificate was not issued in %[2]s; filing across provinces is not allowed", p.Name, p.NameEn)
	}
}

// domainContext is what the domain rules depend on.
type domainContext struct {
	province          *Province
	individual        bool
	certificateNumber string
	resource          CloudResource
	at                time.Time
}

// checkDomains parses and checks a list of domains, returning them in checked form.
func (r *Rules) checkDomains(ps *problems, path string, in []DomainInput, c domainContext) []Domain {
	if len(in) == 0 {
		ps.addf(path, CodeRequired, "至少填写一个域名", "at least one domain is required")
		return nil
	}
	var out []Domain
	for i, d := range in {
		at := path + "[" + strconv.Itoa(i) + "]"
		name, prob := ParseDomainName(d.Name, r.tlds)
		if prob != nil {
			ps.add(at, prob)
			continue
		}
		if slices.ContainsFunc(out, func(x Domain) bool { return x.Name == name.ASCII }) {
			ps.addf(at, CodeDomainDuplicate, "域名 %s 重复", "domain %s is listed twice", name.Unicode)
			continue
		}
		checkDomainFacts(ps, at, name, d.Facts, c.province, c.at)
		if reg := d.Facts.RegistrantCertificateNumber; reg != "" && c.individual && !containsFold([]string{c.certificateNumber}, reg) {
			ps.addf(at, CodeDomainRegistrant, "域名 %s 的持有者不是备案主体", "domain %s is not registered to the filing entity", name.Unicode)
		}
		if code := c.resource.Code; c.resource.Kind == ResourceAuthorizationCode && code != nil && code.Domain != "" && code.Domain != name.ASCII {
			ps.addf(at, CodeAuthCodeDomain, "备案授权码绑定的域名是 %s", "the authorization code is bound to %s", code.Domain)
		}
		out = append(out, Domain{Name: name.ASCII, Unicode: name.Unicode, Facts: d.Facts})
	}
	return out
}

// checkResource applies the cloud resource rules (§3.4). extraWebsites is
// the number of websites this filing adds to the server.
func (r *Rules) checkResource(ps *problems, path string, res CloudResource, extraWebsites int) {
	ch := r.Channel
	switch res.Kind {
	case ResourceInstance:
		text(ps, path+".instanceId", res.InstanceID, true, 64)
		facts := res.Instance
		if facts == nil || !facts.Exists {
			ps.addf(path+".instanceId", CodeResourceNotFound, "找不到该云服务器", "no such cloud server")
			return
		}
		if !facts.Mainland {
			ps.addf(path, CodeResourceRegion, "服务器应位于中国内地", "the server must be in mainland China")
		}
		if !facts.PublicIP {
			ps.addf(path, CodeResourcePublicIP, "服务器需要公网 IP", "the server needs a public IP address")
		}
		if facts.Billing != BillingPrepaid {
			ps.addf(path, CodeResourceBilling, "按量计费的服务器不能备案，请使用包年包月", "pay-as-you-go servers cannot be filed; use a prepaid (包年包月) server")
		}
		if facts.MonthsBought < ch.MinServerMonthsBought {
			ps.addf(path, CodeResourceDuration, "服务器购买时长（含续费）需满 %d 个月", "the server must be bought for %d months or more, renewals included",
				ch.MinServerMonthsBought)
		}
		if facts.DaysLeft < ch.MinServerDaysLeft {
			ps.addf(path, CodeResourceExpiring, "服务器剩余有效期需不少于 %d 天", "the server needs %d days or more left", ch.MinServerDaysLeft)
		}
		if facts.WebsitesFiled+max(extraWebsites, 1) > ch.MaxWebsitesPerServer {
			ps.addf(path, CodeResourceFull, "每台服务器最多备案 %d 个网站，已备案 %d 个", "a server takes at most %d websites; %d are filed on it",
				ch.MaxWebsitesPerServer, facts.WebsitesFiled)
		}
	case ResourceAuthorizationCode:
		text(ps, path+".authorizationCode", res.AuthorizationCode, true, 64)
		facts := res.Code
		switch {
		case facts == nil || !facts.Exists:
			ps.addf(path+".authorizationCode", CodeAuthCodeInvalid, "备案授权码无效", "the authorization code is not valid")
		case facts.Used:
			ps.addf(path+".authorizationCode", CodeAuthCodeUsed, "备案授权码已被使用", "the authorization code has been used")
		case facts.ServerDaysLeft < ch.MinAuthCodeServerDaysLeft:
			ps.addf(path+".authorizationCode", CodeAuthCodeServerExpiry, "授权码所属服务器剩余有效期不足 %d 天", "the code's server has fewer than %d days left",
				ch.MinAuthCodeServerDaysLeft)
		}
	default:
		ps.addf(path+".kind", CodeResourceKind, "云资源类型应为云服务器或备案授权码", "the cloud resource is a server instance or an authorization code")
	}
}
