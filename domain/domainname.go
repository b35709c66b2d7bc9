package domain

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Codes of the problems ParseDomainName reports.
const (
	// CodeDomainSyntax: the text is not a well-formed domain name.
	CodeDomainSyntax = "domain.syntax"
	// CodeDomainNotRegistered: a well-formed name that is not a registered
	// domain: a subdomain such as www.example.com, or a bare suffix such as
	// com or com.cn. A filing names the registered domain.
	CodeDomainNotRegistered = "domain.not_registered_domain"
	// CodeDomainTLDNotApproved: the top-level domain is not approved by MIIT,
	// so the domain cannot be filed.
	CodeDomainTLDNotApproved = "domain.tld_not_approved"
)

// ErrInvalidTLDPolicy is wrapped by every error ParseTLDPolicy returns.
const ErrInvalidTLDPolicy dataError = "invalid TLD policy data"

const (
	maxLabelLen = 63
	// maxNameLen is RFC 1035's limit on the ASCII form without the root dot.
	maxNameLen = 253
	// maxInputLen bounds the work done on input that cannot be a domain name
	// whatever its encoding: 253 ASCII characters never take more bytes than
	// this even written in CJK.
	maxInputLen = 4 * maxNameLen
)

// TLDPolicy is the data of approved top-level domains: which TLDs MIIT lets
// be filed, and the registry suffixes (such as com.cn) under which the
// registered domain has one label more than the suffix. Entries are in
// Unicode form ("中国", "com.cn"). A policy from ParseTLDPolicy is normalised
// and must not be modified afterwards.
type TLDPolicy struct {
	Version            string   `json:"version"`
	Source             string   `json:"source"`
	Approved           []string `json:"approved"`
	MultiLabelSuffixes []string `json:"multiLabelSuffixes"`
}

// ParseTLDPolicy reads the JSON of data/tlds.json. It refuses unknown fields,
// an empty version or approved list, entries that are not valid domain names
// (approved TLDs must be one label, suffixes at least two) and duplicates,
// and stores every entry in its canonical Unicode form so that lookups are
// plain string comparisons. Every error wraps ErrInvalidTLDPolicy.
func ParseTLDPolicy(data []byte) (*TLDPolicy, error) {
	var p TLDPolicy
	if err := decodeStrictJSON(data, &p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidTLDPolicy, err)
	}
	if strings.TrimSpace(p.Version) == "" {
		return nil, fmt.Errorf("%w: version is empty", ErrInvalidTLDPolicy)
	}
	if len(p.Approved) == 0 {
		return nil, fmt.Errorf("%w: approved is empty", ErrInvalidTLDPolicy)
	}
	var err error
	if p.Approved, err = canonicalEntries(p.Approved, "approved", 1, 1); err != nil {
		return nil, err
	}
	if p.MultiLabelSuffixes, err = canonicalEntries(p.MultiLabelSuffixes, "multiLabelSuffixes", 2, maxNameLen); err != nil {
		return nil, err
	}
	return &p, nil
}

// canonicalEntries returns entries in canonical Unicode form after checking
// that each has between minLabels and maxLabels labels and none repeats.
func canonicalEntries(entries []string, field string, minLabels, maxLabels int) ([]string, error) {
	out := make([]string, 0, len(entries))
	seen := make(map[string]bool, len(entries))
	for i, e := range entries {
		ascii, prob := toASCIIName(strings.TrimPrefix(e, "."))
		if prob != nil {
			return nil, fmt.Errorf("%w: %s[%d] %q: %s", ErrInvalidTLDPolicy, field, i, e, prob.Message.En)
		}
		uni, prob := toUnicodeName(ascii)
		if prob != nil {
			return nil, fmt.Errorf("%w: %s[%d] %q: %s", ErrInvalidTLDPolicy, field, i, e, prob.Message.En)
		}
		if n := strings.Count(uni, ".") + 1; n < minLabels || n > maxLabels {
			return nil, fmt.Errorf("%w: %s[%d] %q has %d labels", ErrInvalidTLDPolicy, field, i, e, n)
		}
		if seen[uni] {
			return nil, fmt.Errorf("%w: %s[%d] %q is listed twice", ErrInvalidTLDPolicy, field, i, e)
		}
		seen[uni] = true
		out = append(out, uni)
	}
	return out, nil
}

// DomainName is a registered domain name in both forms.
type DomainName struct {
	ASCII   string // punycode, lower case, no trailing dot: "xn--fsqu00a.xn--fiqs8s"
	Unicode string // as people read it: "例子.中国"
	TLD     string // Unicode form, e.g. "com", "中国"
}

// String returns the Unicode form, the one people recognise.
func (d DomainName) String() string { return d.Unicode }

// ParseDomainName checks that s is a registered domain name with a TLD that
// p approves, and returns it in both forms. It accepts upper case, Unicode
// and xn-- labels, full-width dots and one trailing dot; it refuses schemes,
// paths, ports, IP addresses, wildcards, spaces, labels over 63 or names over
// 253 characters (in ASCII form) and labels that begin or end with a hyphen.
// A nil p approves no TLD.
func ParseDomainName(s string, p *TLDPolicy) (DomainName, *Problem) {
	ascii, prob := toASCIIName(s)
	if prob != nil {
		return DomainName{}, prob
	}
	uni, prob := toUnicodeName(ascii)
	if prob != nil {
		return DomainName{}, prob
	}
	labels := strings.Split(uni, ".")
	tld := labels[len(labels)-1]
	suffixLabels := 1
	if p != nil {
		for _, suffix := range p.MultiLabelSuffixes {
			if n := strings.Count(suffix, ".") + 1; n > suffixLabels && (uni == suffix || strings.HasSuffix(uni, "."+suffix)) {
				suffixLabels = n
			}
		}
	}
	if len(labels) <= suffixLabels {
		return DomainName{}, problem(CodeDomainNotRegistered,
			"“%s”是域名后缀，请填写在其下注册的域名，例如 example.%[1]s",
			"%q is a domain suffix; enter the domain registered under it, such as example.%[1]s", uni)
	}
	if !p.approves(tld) {
		return DomainName{}, problem(CodeDomainTLDNotApproved,
			"顶级域“.%s”不在工业和信息化部批准备案的域名后缀之列",
			"the top-level domain .%s is not approved by MIIT for ICP filing", tld)
	}
	if len(labels) > suffixLabels+1 {
		registered := strings.Join(labels[len(labels)-suffixLabels-1:], ".")
		return DomainName{}, problem(CodeDomainNotRegistered,
			"“%s”是子域名，请填写注册的域名“%s”",
			"%q is a subdomain; enter the registered domain %q", uni, registered)
	}
	return DomainName{ASCII: ascii, Unicode: uni, TLD: tld}, nil
}

func (p *TLDPolicy) approves(tld string) bool {
	if p == nil {
		return false
	}
	for _, a := range p.Approved {
		if a == tld {
			return true
		}
	}
	return false
}

// nameProfile is the IDNA profile for domain names: UTS #46 lookup mapping
// (case folding, full-width forms, ideographic full stops), STD3 rules (only
// letters, digits and hyphens), hyphen and joiner checks and the bidi rule.
// It is built per call, not kept in a package variable, and pinned here
// rather than using idna.Lookup, whose settings may change between versions.
// Lengths are checked by the caller to report them precisely.
func nameProfile() *idna.Profile {
	return idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false))
}

// toASCIIName converts any spelling of a host name to its canonical ASCII
// form: lower case, punycode, no trailing dot. It checks the syntax only; it
// knows nothing of TLDs or registered domains.
func toASCIIName(s string) (string, *Problem) {
	if p := precheckName(s); p != nil {
		return "", p
	}
	ascii, err := nameProfile().ToASCII(s)
	if err != nil {
		if p := hyphenProblem(s); p != nil {
			return "", p
		}
		return "", syntaxProblem("域名含有不允许使用的字符，或其国际化（xn--）形式不合规范",
			"the domain name contains characters that are not allowed, or its internationalised (xn--) form is invalid")
	}
	ascii = strings.TrimSuffix(ascii, ".")
	if ascii == "" {
		return "", syntaxProblem("请填写域名", "enter a domain name")
	}
	labels := strings.Split(ascii, ".")
	for i, l := range labels {
		if l == "" {
			return "", syntaxProblem("域名不能以点开头，也不能有连续的点", "a domain name must not start with a dot or contain consecutive dots")
		}
		if len(l) > maxLabelLen {
			return "", syntaxProblem("域名的每一段最多63个字符，第%d段有%d个（按ASCII形式计）",
				"each label of a domain name may have at most 63 characters; label %d has %d (in ASCII form)", i+1, len(l))
		}
	}
	if len(ascii) > maxNameLen {
		return "", syntaxProblem("域名最多253个字符，此域名有%d个（按ASCII形式计）",
			"a domain name may have at most 253 characters; this one has %d (in ASCII form)", len(ascii))
	}
	if isDigits(labels[len(labels)-1]) {
		// A numeric last label means an IPv4 address, or text that only
		// looks like one; no top-level domain is numeric.
		return "", syntaxProblem("请填写域名，不能填写IP地址", "enter a domain name, not an IP address")
	}
	return ascii, nil
}

// toUnicodeName converts a canonical ASCII name to Unicode and checks that
// converting back gives the same ASCII, so that both forms of a DomainName
// parse to the same value.
func toUnicodeName(ascii string) (string, *Problem) {
	prof := nameProfile()
	uni, err := prof.ToUnicode(ascii)
	if err == nil {
		var back string
		back, err = prof.ToASCII(uni)
		if err == nil && back != ascii {
			err = fmt.Errorf("%q does not round-trip", ascii)
		}
	}
	if err != nil {
		return "", syntaxProblem("域名的国际化（xn--）形式不合规范", "the internationalised (xn--) form of the domain name is invalid")
	}
	return uni, nil
}

// precheckName catches the usual mistakes before IDNA processing, whose
// errors cannot say what is wrong.
func precheckName(s string) *Problem {
	switch {
	case s == "":
		return syntaxProblem("请填写域名", "enter a domain name")
	case len(s) > maxInputLen:
		return syntaxProblem("域名过长，最多253个字符", "the domain name is too long; at most 253 characters")
	case !utf8.ValidString(s):
		return syntaxProblem("域名含有无效的字符编码", "the domain name is not valid UTF-8")
	case strings.IndexFunc(s, unicode.IsSpace) >= 0:
		return syntaxProblem("域名不能包含空格", "a domain name must not contain spaces")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return syntaxProblem("域名不能包含控制字符", "a domain name must not contain control characters")
	case strings.Contains(s, "://"):
		return syntaxProblem("只填写域名，不要带 http:// 等协议前缀", "enter the domain name only, without a scheme such as http://")
	case strings.ContainsAny(s, "/?#@\\"):
		return syntaxProblem("只填写域名，不要带路径、参数或“@”", "enter the domain name only, without a path, query or \"@\"")
	case strings.Contains(s, "*"):
		return syntaxProblem("域名不能使用通配符“*”", "a domain name must not contain the wildcard \"*\"")
	case isIPLiteral(s):
		return syntaxProblem("请填写域名，不能填写IP地址", "enter a domain name, not an IP address")
	case strings.Contains(s, ":"):
		return syntaxProblem("域名不能带端口号", "a domain name must not include a port")
	}
	return nil
}

func isIPLiteral(s string) bool {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	_, err := netip.ParseAddr(s)
	return err == nil
}

// hyphenProblem explains an IDNA failure caused by hyphens, the one IDNA
// rule people commonly break.
func hyphenProblem(s string) *Problem {
	labels := strings.FieldsFunc(s, isDot)
	for i, l := range labels {
		if strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return syntaxProblem("域名的每一段不能以连字符“-”开头或结尾（第%d段）",
				"a label must not start or end with a hyphen (label %d)", i+1)
		}
		if len(l) >= 4 && l[2:4] == "--" && !strings.EqualFold(l[:2], "xn") {
			return syntaxProblem("域名的一段不能在第3、4位使用“--”，除非是以 xn-- 开头的国际化域名（第%d段）",
				"a label must not have \"--\" in the third and fourth positions unless it begins with xn-- (label %d)", i+1)
		}
	}
	return nil
}

// isDot reports the label separators UTS #46 maps to ".".
func isDot(r rune) bool {
	return r == '.' || r == '。' || r == '．' || r == '｡'
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func syntaxProblem(zh, en string, args ...any) *Problem {
	return problem(CodeDomainSyntax, zh, en, args...)
}
