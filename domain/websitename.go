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
)

// nameContext is what a website name's rules depend on.
type nameContext struct {
	kind           string
	stateBody      bool
	principalName  string // individuals: a person's name may not be the site's
	serviceContent []string
	preApprovals   []PreApproval
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
