package domain

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Website name problems (§3.5).
const (
	CodeNameTooShort         = "website_name.too_short"
	CodeNameSymbols          = "website_name.symbols"
	CodeNameNoChinese        = "website_name.no_chinese"
	CodeNameStatePrefix      = "website_name.state_prefix"
	CodeNameSensitive        = "website_name.sensitive_word"
	CodeNameIndividualWord   = "website_name.individual_word"
	CodeNamePersonName       = "website_name.person_name"
	CodeNameNeedsPreApproval = "website_name.needs_pre_approval"
	CodeNameNeedsContent     = "website_name.needs_service_content"
	CodeNameDuplicate        = "website_name.duplicate"
	CodeNameLatinOnly        = "website_name.latin_only_province"
)

// nameContext is what a website name's rules depend on.
type nameContext struct {
	kind           string
	stateBody      bool
	principalName  string // individuals: a person's name may not be the site's
	serviceContent []string
	preApprovals   []PreApproval
	province       *Province // nil: no province rules
}

// checkWebsiteName applies the naming rules: what the name may contain, the
// words reserved for the state, for approvals and for organisations.
func (r *Rules) checkWebsiteName(ps *problems, path, name string, c nameContext) {
	rules := r.catalog.WebsiteNames
	if !text(ps, path, name, true, rules.MaxChars) {
		return
	}
	if utf8.RuneCountInString(name) < rules.MinChars {
		ps.addf(path, CodeNameTooShort, "网站名称至少 %d 个字", "the website name needs at least %d characters", rules.MinChars)
	}
	if strings.ContainsFunc(name, func(c rune) bool {
		return !(unicode.Is(unicode.Han, c) || c < utf8.RuneSelf && (unicode.IsLetter(c) || unicode.IsDigit(c)) || c == '·')
	}) {
		ps.addf(path, CodeNameSymbols, "网站名称只能包含汉字、字母和数字，不能含空格或特殊符号",
			"the website name may hold Chinese characters, letters and digits only, no spaces or symbols")
	}
	if !strings.ContainsFunc(name, func(c rune) bool { return unicode.Is(unicode.Han, c) }) {
		ps.addf(path, CodeNameNoChinese, "网站名称不能是纯数字或纯字母，应包含中文", "the website name must contain Chinese, not only letters or digits")
	}
	if c.province != nil && c.province.NoLatinOnlyNames && latinWithGenericChinese(name, rules.GenericWords) {
		ps.addf(path, CodeNameLatinOnly, "%[1]s不接受纯英文、拼音或数字的网站名称，加上“网”“官网”等通用字仍视为纯英文，请使用反映网站内容的中文名称",
			"%[2]s refuses website names in English, pinyin or digits, also with only a generic word such as 网 or 官网 added; use a Chinese name that says what the site is",
			c.province.Name, c.province.NameEn)
	}
	if !c.stateBody {
		for _, prefix := range rules.StatePrefixes {
			if strings.HasPrefix(name, prefix) {
				ps.addf(path, CodeNameStatePrefix, "非国家机关的网站名称不能以“%s”开头", "only state bodies may start a website name with %q", prefix)
			}
		}
	}
	for _, w := range rules.SensitiveWords {
		if strings.Contains(strings.ToUpper(name), strings.ToUpper(w)) {
			ps.addf(path, CodeNameSensitive, "网站名称含有敏感词“%s”", "the website name contains the sensitive word %q", w)
		}
	}
	if c.kind == KindIndividual {
		for _, w := range rules.IndividualForbiddenWords {
			if strings.Contains(name, w) {
				ps.addf(path, CodeNameIndividualWord, "个人网站名称不能含有“%s”", "a personal website's name may not contain %q", w)
			}
		}
		if c.principalName != "" && strings.Contains(name, c.principalName) {
			ps.addf(path, CodeNamePersonName, "个人网站名称不能使用人名", "a personal website may not be named after a person")
		}
	}
	for _, k := range rules.Keywords {
		if !strings.Contains(name, k.Word) {
			continue
		}
		if k.PreApproval != "" && !slices.ContainsFunc(c.preApprovals, func(p PreApproval) bool { return p.Category == k.PreApproval }) {
			cat := r.preApproval(k.PreApproval)
			ps.addf(path, CodeNameNeedsPreApproval, "网站名称含“%s”，需要前置审批：%s", "a website name with %[1]q needs the pre-approval %[3]s",
				k.Word, cat.Zh, cat.En)
		}
		if k.ServiceContent != "" && !slices.Contains(c.serviceContent, k.ServiceContent) {
			sc := r.serviceContent(k.ServiceContent)
			ps.addf(path, CodeNameNeedsContent, "网站名称含“%s”，服务内容应选择“%s”", "a website name with %[1]q needs the service content %[3]s",
				k.Word, sc.Zh, sc.En)
		}
	}
}

// latinWithGenericChinese reports whether a name is Latin letters or digits
// plus Chinese that is only generic words: its Chinese characters say nothing
// about the site. A name without Chinese at all is left to the national rule
// (CodeNameNoChinese), so that it is reported once.
func latinWithGenericChinese(name string, generic []string) bool {
	isHan := func(c rune) bool { return unicode.Is(unicode.Han, c) }
	if !strings.ContainsFunc(name, isHan) || !strings.ContainsFunc(name, func(c rune) bool { return c < utf8.RuneSelf && (unicode.IsLetter(c) || unicode.IsDigit(c)) }) {
		return false
	}
	words := slices.Clone(generic)
	// Longest first, so that 官方网站 goes before 网站 and 网.
	slices.SortFunc(words, func(a, b string) int { return utf8.RuneCountInString(b) - utf8.RuneCountInString(a) })
	rest := name
	for _, w := range words {
		if w != "" {
			rest = strings.ReplaceAll(rest, w, "")
		}
	}
	return !strings.ContainsFunc(rest, isHan)
}
