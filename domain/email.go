package domain

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// CodeEmailFormat is the problem code of CheckEmail. Clients branch on it, so
// it never changes once released.
const CodeEmailFormat = "email.format"

// Length limits of RFC 5321 (path and local part), in bytes.
const (
	emailMaxLen      = 254
	emailLocalMaxLen = 64
	dnsLabelMaxLen   = 63
)

// CheckEmail checks a bare e-mail address (an RFC 5322 addr-spec): no display
// name, angle brackets or spaces, because the address is copied verbatim into
// the bureau's form. The local part is a dot-atom; quoted local parts and
// address literals are refused as no filing contact needs them. The domain
// needs at least one dot and labels of letters, digits and inner hyphens;
// non-ASCII letters are allowed so that internationalised domains (and RFC
// 6531 local parts) can be entered as the user sees them.
func CheckEmail(s string) *Problem {
	if p := checkEmailShape(s); p != nil {
		return p
	}
	at := strings.IndexByte(s, '@')
	if p := checkEmailLocal(s[:at]); p != nil {
		return p
	}
	return checkEmailDomain(s[at+1:])
}

// checkEmailShape checks what the whole string must satisfy before it is
// split at the @.
func checkEmailShape(s string) *Problem {
	switch {
	case s == "":
		return emailProblem("电子邮箱不能为空", "e-mail address is empty")
	case !utf8.ValidString(s):
		return emailProblem("电子邮箱含有无效的 UTF-8 字节", "e-mail address is not valid UTF-8")
	case len(s) > emailMaxLen:
		return emailProblem("电子邮箱长度 %d 字节，超过 254 字节", "e-mail address is %d bytes, longer than 254", len(s))
	case strings.ContainsFunc(s, isEmailDecoration):
		return emailProblem("电子邮箱只能填写地址本身，不能含有空格、尖括号或显示名称",
			"e-mail address must be a bare address without spaces, angle brackets or display name")
	case strings.Count(s, "@") != 1:
		return emailProblem("电子邮箱应含有且仅含有一个 @", "e-mail address must contain exactly one @")
	}
	return nil
}

// isEmailDecoration spots the characters of "Name <a@b.cn>" and of pasted
// text (spaces, tabs, line breaks, other control characters).
func isEmailDecoration(r rune) bool {
	return r == '<' || r == '>' || unicode.IsSpace(r) || unicode.IsControl(r)
}

// checkEmailLocal checks the part before the @ as a dot-atom.
func checkEmailLocal(local string) *Problem {
	switch {
	case local == "":
		return emailProblem("电子邮箱 @ 前的用户名为空", "e-mail address has nothing before the @")
	case len(local) > emailLocalMaxLen:
		return emailProblem("电子邮箱用户名长度 %d 字节，超过 64 字节",
			"e-mail local part is %d bytes, longer than 64", len(local))
	case local[0] == '.' || local[len(local)-1] == '.':
		return emailProblem("电子邮箱用户名不能以点开头或结尾", "e-mail local part must not start or end with a dot")
	case strings.Contains(local, ".."):
		return emailProblem("电子邮箱用户名不能含有连续的点", "e-mail local part must not contain two dots in a row")
	}
	for _, r := range local {
		if r != '.' && !isEmailAtext(r) {
			return emailProblem("电子邮箱用户名含有不允许的字符 %q", "e-mail local part contains the character %q, which is not allowed", r)
		}
	}
	return nil
}

// isEmailAtext reports whether r may appear in a dot-atom: RFC 5322 atext,
// plus non-ASCII letters and digits as RFC 6531 permits.
func isEmailAtext(r rune) bool {
	switch {
	case r < utf8.RuneSelf && (isDigit(byte(r)) || isASCIILetter(byte(r))):
		return true
	case r < utf8.RuneSelf:
		return strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r)
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// checkEmailDomain checks the part after the @ as a host name with at least
// one dot; a bare "localhost" or "corp" cannot receive the bureau's mail.
func checkEmailDomain(domain string) *Problem {
	switch {
	case domain == "":
		return emailProblem("电子邮箱 @ 后的域名为空", "e-mail address has nothing after the @")
	case domain[0] == '.' || domain[len(domain)-1] == '.':
		return emailProblem("电子邮箱域名不能以点开头或结尾", "e-mail domain must not start or end with a dot")
	case !strings.Contains(domain, "."):
		return emailProblem("电子邮箱域名 %s 应至少含有一个点", "e-mail domain %s must contain at least one dot", domain)
	}
	labels := strings.Split(domain, ".")
	for _, l := range labels {
		if p := checkEmailLabel(l); p != nil {
			return p
		}
	}
	// An all-digit top label means an IP address, which is not a mailbox
	// domain without the refused brackets.
	if allDigits(labels[len(labels)-1]) {
		return emailProblem("电子邮箱域名 %s 的顶级域不能全为数字", "e-mail domain %s must not end in an all-digit label", domain)
	}
	return nil
}

// checkEmailLabel checks one dot-separated label of the domain. The 63-byte
// limit applies to ASCII labels only: an internationalised label's limit is
// on its Punycode form, which the domain-name validator checks.
func checkEmailLabel(l string) *Problem {
	switch {
	case l == "":
		return emailProblem("电子邮箱域名不能含有连续的点", "e-mail domain must not contain two dots in a row")
	case l[0] == '-' || l[len(l)-1] == '-':
		return emailProblem("电子邮箱域名的标签 %s 不能以连字符开头或结尾",
			"e-mail domain label %s must not start or end with a hyphen", l)
	case len(l) > dnsLabelMaxLen && isASCII(l):
		return emailProblem("电子邮箱域名的标签 %s 超过 63 字节", "e-mail domain label %s is longer than 63 bytes", l)
	}
	for _, r := range l {
		if !isLabelRune(r) {
			return emailProblem("电子邮箱域名含有不允许的字符 %q", "e-mail domain contains the character %q, which is not allowed", r)
		}
	}
	return nil
}

// isLabelRune allows letters, digits and hyphens; non-ASCII letters, digits
// and combining marks (needed by many scripts) stand for IDN labels.
func isLabelRune(r rune) bool {
	if r < utf8.RuneSelf {
		b := byte(r)
		return isDigit(b) || isASCIILetter(b) || b == '-'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// isASCIILetter reports whether b is A-Z or a-z.
func isASCIILetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }

// isASCII reports whether s has no byte above 0x7F.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// emailProblem builds an email.format problem; every e-mail failure shares
// the code and differs only in the message.
func emailProblem(zh, en string, args ...any) *Problem {
	return problem(CodeEmailFormat, zh, en, args...)
}
