package domain

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// CodeICPNumberFormat is the problem code of ParseICPNumber. Clients branch
// on it, so it never changes once released.
const CodeICPNumberFormat = "icp_number.format"

// icpAbbreviations holds the province abbreviations an ICP number may start
// with, one rune each, in GB/T 2260 order. Sichuan and Gansu appear twice
// (蜀/川, 陇/甘) because both forms are seen on real sites. A string constant
// keeps the set immutable; ICPProvinceAbbreviations hands out copies.
const icpAbbreviations = "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝蜀川黔滇藏陕陇甘青宁新"

// The fixed parts of an ICP number around the province, serial and site.
const (
	icpInfix    = "ICP备"
	icpSuffix   = "号"
	icpMinDigit = 6
	icpMaxDigit = 10
)

// ICP number kinds: what a numbered filing (Site > 0) is for.
const (
	ICPKindWebsite     = ""
	ICPKindApp         = "A"
	ICPKindMiniProgram = "X"
)

// ICPNumber is a filing number issued by the MIIT, e.g. 粤ICP备2026012345号-2.
type ICPNumber struct {
	Abbr   string // province abbreviation, e.g. "粤"
	Serial string // 6-10 digits
	Site   int    // 0 for the entity number, else the website's number
	Kind   string // "" website, "A" app, "X" mini-program (only with Site > 0)
}

// ParseICPNumber parses an entity or website/app/mini-program ICP number
// following ^(京|…|新)ICP备(\d{6,10})号(-(\d+)([AX])?)?$. Two cases the
// pattern lets through are refused: a site number of 0 or with a leading
// zero, because the MIIT never issues one and it would not print back to the
// same text; and a site number too large for an int.
func ParseICPNumber(s string) (ICPNumber, *Problem) {
	abbr, rest, ok := cutICPAbbr(s)
	if !ok {
		return ICPNumber{}, icpProblem(s, "开头应为省份简称，如 粤、京", "must start with a province abbreviation such as 粤 or 京")
	}
	rest, ok = strings.CutPrefix(rest, icpInfix)
	if !ok {
		return ICPNumber{}, icpProblem(s, "省份简称后应为 ICP备", "must have ICP备 after the province abbreviation")
	}
	n := leadingDigits(rest)
	if n < icpMinDigit || n > icpMaxDigit {
		return ICPNumber{}, icpProblem(s, "ICP备 后应为 6-10 位数字", "must have 6 to 10 digits after ICP备")
	}
	serial := rest[:n]
	rest, ok = strings.CutPrefix(rest[n:], icpSuffix)
	if !ok {
		return ICPNumber{}, icpProblem(s, "编号后应为 号", "must have 号 after the serial number")
	}
	site, kind, ok := parseICPSite(rest)
	if !ok {
		return ICPNumber{}, icpProblem(s, "号 后只能是 -序号，可带 A（App）或 X（小程序）", "may only end in -n, optionally followed by A (app) or X (mini-program), after 号")
	}
	return ICPNumber{Abbr: abbr, Serial: serial, Site: site, Kind: kind}, nil
}

// String formats the number the way it is shown in a site's footer:
// 粤ICP备2026012345号, 粤ICP备2026012345号-2 or 粤ICP备2026012345号-1A. Kind
// is left out when Site is 0, since an entity number has no kind.
func (n ICPNumber) String() string {
	s := n.Abbr + icpInfix + n.Serial + icpSuffix
	if n.Site > 0 {
		s += "-" + strconv.Itoa(n.Site) + n.Kind
	}
	return s
}

// EntityNumber returns the number of the entity (主体备案号) that n belongs
// to: the same with Site 0 and Kind "".
func (n ICPNumber) EntityNumber() ICPNumber {
	return ICPNumber{Abbr: n.Abbr, Serial: n.Serial}
}

// ICPProvinceAbbreviations returns the 33 province abbreviations accepted at
// the start of an ICP number, in GB/T 2260 order. The slice is fresh on each
// call, so callers may modify it.
func ICPProvinceAbbreviations() []string {
	out := make([]string, 0, utf8.RuneCountInString(icpAbbreviations))
	for _, r := range icpAbbreviations {
		out = append(out, string(r))
	}
	return out
}

// cutICPAbbr splits off the leading province abbreviation.
func cutICPAbbr(s string) (abbr, rest string, ok bool) {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || !strings.ContainsRune(icpAbbreviations, r) {
		return "", s, false
	}
	return s[:size], s[size:], true
}

// parseICPSite parses what follows 号: nothing (entity number) or -n with an
// optional kind letter.
func parseICPSite(rest string) (site int, kind string, ok bool) {
	if rest == "" {
		return 0, ICPKindWebsite, true
	}
	rest, ok = strings.CutPrefix(rest, "-")
	if !ok {
		return 0, "", false
	}
	n := leadingDigits(rest)
	digits, kind := rest[:n], rest[n:]
	if n == 0 || digits[0] == '0' {
		return 0, "", false
	}
	if kind != ICPKindWebsite && kind != ICPKindApp && kind != ICPKindMiniProgram {
		return 0, "", false
	}
	site, err := strconv.Atoi(digits)
	if err != nil {
		return 0, "", false
	}
	return site, kind, true
}

// leadingDigits counts the ASCII digits s starts with.
func leadingDigits(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n
}

// icpProblem builds an icp_number.format problem that quotes the input, so
// that a list of failing numbers can be read without the request. Long input
// is clipped: a real number is under 40 characters, and a pasted page must
// not end up in every log line.
func icpProblem(s, zh, en string) *Problem {
	return problem(CodeICPNumberFormat, "备案号 %q 格式错误："+zh, "ICP number %q is malformed: "+en, clip(s, 40))
}

// clip shortens s to at most n runes, marking the cut with an ellipsis.
func clip(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos] + "…"
		}
		i++
	}
	return s
}
