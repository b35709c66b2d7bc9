package domain

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Field problems shared by several commands.
const (
	CodeRequired               = "required"
	CodeTooLong                = "too_long"
	CodeInvalidText            = "invalid_text"
	CodeCertificateNumber      = "certificate.number_format"
	CodeCertificateExpired     = "certificate.expired"
	CodeCertificateCrossProv   = "certificate.cross_province"
	CodePrincipalTooYoung      = "principal.too_young"
	CodePrincipalCertificate   = "principal.certificate_type"
	CodeMobileOutOfProvince    = "mobile.out_of_province"
	CodeLandlineAreaCode       = "landline.area_code_province"
	CodeLandlineRequired       = "landline.required"
	CodeOfficePhone            = "office_phone.format"
	CodeEmergencyRequired      = "emergency_contact.required"
	CodeEmergencySameMobile    = "emergency_contact.same_mobile"
	CodeAddressHouseNumber     = "address.house_number"
	CodeAddressProvince        = "address.province"
	CodeAddressCity            = "address.city"
	CodeAddressDashNumbers     = "address.dash_numbers"
	CodeDomainRegistrar        = "domain.registrar_not_approved"
	CodeDomainExpired          = "domain.expired"
	CodeDomainValidityTooShort = "domain.validity_too_short"
	CodeDomainRealName         = "domain.real_name_unverified"
	CodeDomainRegistrant       = "domain.registrant_mismatch"
	CodeDomainAlreadyFiled     = "domain.already_filed"
	CodeDomainInFlight         = "domain.in_flight"
	CodeDomainDuplicate        = "domain.duplicate"
)

// text checks a free-text field: required or not, at most max runes, valid
// UTF-8 without control characters (NUL bytes and friends never reach the log).
func text(ps *problems, path, s string, required bool, max int) bool {
	switch {
	case strings.TrimSpace(s) == "":
		if required {
			ps.addf(path, CodeRequired, "必填", "is required")
		}
		return false
	case !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl):
		ps.addf(path, CodeInvalidText, "包含无效字符", "contains invalid or control characters")
		return false
	case utf8.RuneCountInString(s) > max:
		ps.addf(path, CodeTooLong, "不能超过 %d 个字符", "must be at most %d characters", max)
		return false
	}
	return true
}

// certificateNumber checks a certificate number in the format of its type.
// It returns the province the number was issued in, when the format says.
func certificateNumber(format, number string, at time.Time) (province string, p *Problem) {
	switch format {
	case "resident_id":
		id, p := ParseResidentID(number, at)
		return id.Province, p
	case "uscc":
		c, p := ParseUSCC(number)
		return c.Province, p
	case "hk_macau_permit":
		if !matchPermit(number, "HM", 8, 10) {
			return "", problem(CodeCertificateNumber, "港澳通行证号码应为 H 或 M 加 8 至 10 位数字", "a Hong Kong/Macau permit number is H or M followed by 8 to 10 digits")
		}
	case "taiwan_permit":
		if !matchPermit(number, "", 8, 8) {
			return "", problem(CodeCertificateNumber, "台湾通行证号码应为 8 位数字", "a Taiwan permit number is 8 digits")
		}
	case "passport":
		if len(number) < 5 || len(number) > 17 || strings.ContainsFunc(number, func(r rune) bool {
			return !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z')
		}) {
			return "", problem(CodeCertificateNumber, "护照号码应为 5 至 17 位大写字母或数字", "a passport number is 5 to 17 capital letters or digits")
		}
	default: // "free": registration numbers without a published checksum
		if len(number) < 5 || len(number) > 30 || strings.ContainsFunc(number, unicode.IsSpace) {
			return "", problem(CodeCertificateNumber, "证件号码应为 5 至 30 个字符，不含空格", "a certificate number is 5 to 30 characters without spaces")
		}
	}
	return "", nil
}

func matchPermit(s, prefixes string, minDigits, maxDigits int) bool {
	if prefixes != "" {
		if s == "" || !strings.ContainsRune(prefixes, rune(s[0])) {
			return false
		}
		s = s[1:]
	}
	if len(s) < minDigits || len(s) > maxDigits {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' })
}

// personContext is what a principal's checks depend on.
type personContext struct {
	rules    *Rules
	province *Province
	kind     string // individual or organisation filing
	at       time.Time
	// mobileProvince is the attribution of the principal's mobile, "" if unknown.
	mobileProvince string
}

// checkPerson checks a principal (entity or website) at path.
func checkPerson(ps *problems, path string, p Person, c personContext) {
	text(ps, path+".name", p.Name, true, 30)
	ct := c.rules.certificate(p.CertificateType)
	switch {
	case ct == nil || !(p.CertificateType == "resident_id" || ct.Principal):
		ps.addf(path+".certificateType", CodePrincipalCertificate,
			"负责人证件类型应为居民身份证、港澳或台湾通行证、护照", "a principal's certificate is a resident ID, a Hong Kong/Macau or Taiwan permit, or a passport")
	default:
		_, prob := certificateNumber(ct.Format, p.CertificateNumber, c.at)
		ps.add(path+".certificateNumber", prob)
		if prob == nil && p.CertificateType == "resident_id" {
			id, _ := ParseResidentID(p.CertificateNumber, c.at)
			if min := c.rules.minPrincipalAge(c.province); id.AgeAt(c.at) < min {
				ps.addf(path+".certificateNumber", CodePrincipalTooYoung,
					"%[1]s要求负责人年满 %[2]d 周岁", "%[3]s requires principals aged %[2]d or over", c.province.Name, min, c.province.NameEn)
			}
		}
	}
	if p.CertificateExpiry != nil && p.CertificateExpiry.Before(c.at) {
		ps.addf(path+".certificateExpiry", CodeCertificateExpired, "证件已过期", "the certificate has expired")
	}
	if prob := CheckMobile(p.Mobile); prob != nil {
		ps.add(path+".mobile", prob)
	} else if c.province.MobileInProvince && c.mobileProvince != "" && c.mobileProvince != c.province.Code {
		ps.addf(path+".mobile", CodeMobileOutOfProvince,
			"%[1]s要求手机号码归属本省", "%[2]s requires a mobile number registered in the province", c.province.Name, c.province.NameEn)
	}
	checkOfficePhone(ps, path+".officePhone", p.OfficePhone, c)
	ps.add(path+".email", CheckEmail(p.Email))
	switch ec := p.EmergencyContact; {
	case ec == nil && c.province.EmergencyContact:
		ps.addf(path+".emergencyContact", CodeEmergencyRequired,
			"%[1]s要求填写应急联系人", "%[2]s requires an emergency contact", c.province.Name, c.province.NameEn)
	case ec != nil:
		text(ps, path+".emergencyContact.name", ec.Name, true, 30)
		if prob := CheckMobile(ec.Mobile); prob != nil {
			ps.add(path+".emergencyContact.mobile", prob)
		} else if ec.Mobile == p.Mobile {
			ps.addf(path+".emergencyContact.mobile", CodeEmergencySameMobile,
				"应急联系人手机号不能与负责人相同", "the emergency contact needs a mobile other than the principal's")
		}
	}
}

// checkOfficePhone: organisations give a landline of their province (or,
// outside Jiangsu, a mobile); individuals may give either.
func checkOfficePhone(ps *problems, path, phone string, c personContext) {
	if phone == "" {
		ps.addf(path, CodeRequired, "必填", "is required")
		return
	}
	line, landlineProblem := ParseLandline(phone)
	if landlineProblem != nil {
		if CheckMobile(phone) != nil {
			ps.addf(path, CodeOfficePhone, "办公电话应为固定电话（如 010-62265678）或手机号码",
				"the office phone is a landline such as 010-62265678 or a mobile number")
			return
		}
		if c.kind == KindOrganisation && c.province.OrganisationLandline {
			ps.addf(path, CodeLandlineRequired, "%[1]s要求单位填写固定电话", "%[2]s requires organisations to give a landline",
				c.province.Name, c.province.NameEn)
		}
		return
	}
	if c.kind == KindOrganisation && !c.province.AreaCodeInProvince(line.AreaCode) {
		ps.addf(path, CodeLandlineAreaCode, "区号 %[1]s 不属于%[2]s", "area code %[1]s is not in %[3]s",
			line.AreaCode, c.province.Name, c.province.NameEn)
	}
}

// checkAddress checks an address is in the province and precise to the house
// number (门牌号), spelled out as the bureaus ask.
// An empty city skips the same-city rule; inProvince false skips the
// province rule (an individual's ID card may be from another province).
func checkAddress(ps *problems, path, addr string, p *Province, city string, inProvince bool) {
	if !text(ps, path, addr, true, 200) {
		return
	}
	if inProvince && !strings.Contains(addr, p.Short) {
		ps.addf(path, CodeAddressProvince, "地址应在%[1]s", "the address must be in %[2]s", p.Name, p.NameEn)
	}
	if city != "" && p.AddressSameCity && !strings.Contains(addr, strings.TrimSuffix(city, "市")) {
		ps.addf(path, CodeAddressCity, "%[1]s要求地址在%[2]s", "%[3]s requires the address to be in %[2]s", p.Name, city, p.NameEn)
	}
	if !hasHouseNumber(addr) {
		ps.addf(path, CodeAddressHouseNumber, "地址应详细到门牌号（如“88号”）", "the address must go down to the house number (such as 88号)")
	}
	if p.AddressNoDashNumbers && hasDashNumbers(addr) {
		ps.addf(path, CodeAddressDashNumbers, "%[1]s要求地址写明楼号、单元、房号，不能写成“1-2-3”", "%[2]s wants building, unit and room spelled out, not written as 1-2-3", p.Name, p.NameEn)
	}
}

// hasHouseNumber looks for a number (Arabic or Chinese) followed by 号.
func hasHouseNumber(addr string) bool {
	runes := []rune(addr)
	for i := 1; i < len(runes); i++ {
		if runes[i] == '号' && isNumeral(runes[i-1]) {
			return true
		}
	}
	return false
}

func isNumeral(r rune) bool {
	return r >= '0' && r <= '9' || r >= '０' && r <= '９' || strings.ContainsRune("零〇一二三四五六七八九十百千", r)
}

// hasDashNumbers finds "digits-digits", as in 1-2-3.
func hasDashNumbers(addr string) bool {
	for i := 1; i+1 < len(addr); i++ {
		if (addr[i] == '-') && addr[i-1] >= '0' && addr[i-1] <= '9' && addr[i+1] >= '0' && addr[i+1] <= '9' {
			return true
		}
	}
	return false
}

// checkDomainFacts applies the registry rules of §3.3 to one domain.
func checkDomainFacts(ps *problems, path string, d DomainName, facts DomainFacts, p *Province, at time.Time) {
	if !facts.RegistrarApproved {
		ps.addf(path, CodeDomainRegistrar, "域名注册商“%s”未获工信部批准，请先转入境内注册商",
			"registrar %q is not approved by MIIT; transfer the domain to an approved registrar first", facts.Registrar)
	}
	switch minExpiry := at.AddDate(0, p.MinDomainValidityMonths, 0); {
	case !facts.ExpiresAt.After(at):
		ps.addf(path, CodeDomainExpired, "域名 %s 已过期", "domain %s has expired", d.Unicode)
	case p.MinDomainValidityMonths > 0 && facts.ExpiresAt.Before(minExpiry):
		ps.addf(path, CodeDomainValidityTooShort, "%[1]s要求域名有效期剩余 %[2]d 个月以上，请先续费",
			"%[3]s requires at least %[2]d months of registration left; renew the domain first",
			p.Name, p.MinDomainValidityMonths, p.NameEn)
	}
	if !facts.RealNameVerified {
		ps.addf(path, CodeDomainRealName, "域名 %s 未完成实名认证", "domain %s has not passed real-name verification", d.Unicode)
	}
	if facts.AlreadyFiled {
		ps.addf(path, CodeDomainAlreadyFiled, "域名 %s 已备案，不能再做首次备案", "domain %s is already filed; a first filing cannot include it", d.Unicode)
	}
	if facts.InFlight {
		ps.addf(path, CodeDomainInFlight, "域名 %s 正在其他备案订单中（域名冲突）", "domain %s is in another filing order in progress", d.Unicode)
	}
}

// registrantMatches applies the registrant rule of §3.3: an individual's
// domains are registered to the person; an organisation's to the
// organisation or, where the province allows, its principal.
func registrantMatches(f *Filing, p *Province, facts DomainFacts) bool {
	if f.Entity == nil {
		return true // checked again at submission, when the entity is known
	}
	if facts.RegistrantCertificateNumber != "" {
		numbers := []string{f.CertificateNumber}
		if f.Kind() == KindOrganisation && !p.RegistrantOrganisationOnly {
			numbers = append(numbers, f.Entity.Principal.CertificateNumber)
		}
		if !containsFold(numbers, facts.RegistrantCertificateNumber) {
			return false
		}
	}
	names := []string{f.Entity.Name}
	if f.Kind() == KindOrganisation && !p.RegistrantOrganisationOnly {
		names = append(names, f.Entity.Principal.Name, f.Entity.LegalRepresentative)
	}
	return containsFold(names, facts.RegistrantName)
}

// containsFold compares names as registries write them: case, spaces and
// full-width brackets vary.
func containsFold(list []string, s string) bool {
	norm := func(x string) string {
		x = strings.NewReplacer("（", "(", "）", ")", " ", "", "\u3000", "").Replace(x)
		return strings.ToUpper(x)
	}
	for _, x := range list {
		if x != "" && norm(x) == norm(s) {
			return true
		}
	}
	return false
}
