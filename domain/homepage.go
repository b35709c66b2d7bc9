package domain

import (
	"net/url"
	"strings"
	"unicode"
)

// Codes of the problems CheckHomepageURL reports.
const (
	// CodeHomepageFormat: not an absolute URL of the accepted shape (no host,
	// user info, a fragment, an IP address, bad characters).
	CodeHomepageFormat = "homepage.format"
	// CodeHomepageScheme: the URL is not http or https.
	CodeHomepageScheme = "homepage.scheme"
	// CodeHomepagePort: the URL names a port other than its scheme's default.
	CodeHomepagePort = "homepage.port"
	// CodeHomepageForeignDomain: the host is not one of the website's
	// domains nor a subdomain of one.
	CodeHomepageForeignDomain = "homepage.foreign_domain"
)

// maxURLLen bounds the homepage URL; bureaus' forms take far less, and the
// bound keeps work on hostile input small.
const maxURLLen = 2048

// CheckHomepageURL checks the homepage URL of a website against the website's
// domains. The URL must be absolute http or https, without user info or a
// fragment, with no port other than the scheme's default (":80" for http and
// ":443" for https may be written out), and its host must be one of domains
// or a subdomain of one. Hosts are compared in ASCII (punycode) form, so
// Unicode and xn-- spellings match alike. Paths and queries are allowed.
func CheckHomepageURL(raw string, domains []DomainName) *Problem {
	if raw == "" {
		return homepageFormat("请填写网站首页网址", "enter the homepage URL")
	}
	if len(raw) > maxURLLen {
		return homepageFormat("首页网址过长，最多2048个字符", "the homepage URL is too long; at most 2048 characters")
	}
	if strings.IndexFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return homepageFormat("首页网址不能包含空格或控制字符", "the homepage URL must not contain spaces or control characters")
	}
	// Browsers read "\" as "/", so a URL with one can reach a host other than
	// the one it appears to name.
	if strings.Contains(raw, "\\") {
		return homepageFormat("首页网址不能包含反斜杠“\\”", "the homepage URL must not contain a backslash")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return homepageFormat("首页网址格式不正确", "the homepage URL is not a valid URL")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return problem(CodeHomepageScheme, "首页网址必须以 http:// 或 https:// 开头", "the homepage URL must start with http:// or https://")
	}
	if u.Opaque != "" || u.Host == "" {
		return homepageFormat("首页网址缺少域名，应形如 http://www.example.com/", "the homepage URL has no host; write it like http://www.example.com/")
	}
	if u.User != nil {
		return homepageFormat("首页网址不能包含用户名或密码（“@”之前的部分）", "the homepage URL must not contain a user name or password (the part before \"@\")")
	}
	// An empty fragment ("…/#") leaves u.Fragment empty, so look at the text.
	if strings.Contains(raw, "#") {
		return homepageFormat("首页网址不能包含“#”及其后的片段", "the homepage URL must not contain a fragment (\"#\" and what follows)")
	}
	if strings.HasSuffix(u.Host, ":") {
		return homepageFormat("首页网址的端口号为空", "the homepage URL has a colon but no port number")
	}
	if port := u.Port(); port != "" && !(scheme == "http" && port == "80") && !(scheme == "https" && port == "443") {
		return problem(CodeHomepagePort,
			"首页网址不能使用端口%s，只能使用默认端口（http 为80，https 为443）",
			"the homepage URL must not use port %s; only the default port is allowed (80 for http, 443 for https)", port)
	}
	host := u.Hostname()
	if isIPLiteral(host) {
		return homepageFormat("首页网址必须使用域名，不能使用IP地址", "the homepage URL must use a domain name, not an IP address")
	}
	ascii, prob := toASCIIName(host)
	if prob != nil {
		return homepageFormat("首页网址的主机名不是有效的域名："+prob.Message.Zh, "the host of the homepage URL is not a valid domain name: "+prob.Message.En)
	}
	for _, d := range domains {
		// A zero DomainName would otherwise match every host through the
		// suffix test below.
		if d.ASCII == "" {
			continue
		}
		if ascii == d.ASCII || strings.HasSuffix(ascii, "."+d.ASCII) {
			return nil
		}
	}
	shown := ascii
	if uni, prob := toUnicodeName(ascii); prob == nil {
		shown = uni
	}
	return problem(CodeHomepageForeignDomain,
		"首页网址的域名“%s”不是本网站填报的域名，也不是其子域名",
		"the homepage host %q is neither one of this website's domains nor a subdomain of one", shown)
}

func homepageFormat(zh, en string) *Problem {
	return &Problem{Code: CodeHomepageFormat, Message: Message{Zh: zh, En: en}}
}
