package domain

import "unicode/utf8"

// Problem codes of ParseUSCC. Clients branch on them, so they never change
// once released.
const (
	CodeUSCCFormat   = "uscc.format"
	CodeUSCCCharset  = "uscc.charset"
	CodeUSCCRegion   = "uscc.region"
	CodeUSCCChecksum = "uscc.checksum"
)

// usccLen is the fixed length of a code.
const usccLen = 18

// usccCharset lists the 31 symbols of GB 32100 in value order (0..30); I, O,
// Z, S and V are left out because they read like 1, 0, 2, 5 and U.
const usccCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// USCC is a parsed Unified Social Credit Code (统一社会信用代码, GB 32100).
type USCC struct {
	Code      string // 18 chars, upper-case
	Authority byte   // position 1
	Category  byte   // position 2
	Region    string // positions 3-8
	Province  string // positions 3-4
}

// ParseUSCC checks a Unified Social Credit Code and returns its parts. Lower
// case is accepted and upper-cased; surrounding spaces are not trimmed,
// because a caller that stores the code must not store a different string
// than the one checked.
//
// The embedded GB 11714 organisation-code check is not enforced: whether the
// bureaus reject codes failing it is an open question, and real codes are
// reported to fail it. OrgCodeCheckValid exposes it for warnings.
func ParseUSCC(s string) (USCC, *Problem) {
	if n := utf8.RuneCountInString(s); n != usccLen {
		return USCC{}, problem(CodeUSCCFormat,
			"统一社会信用代码应为 18 位，实际为 %d 位",
			"unified social credit code must be 18 characters, got %d", n)
	}
	if p := checkUSCCCharset(s); p != nil {
		return USCC{}, p
	}
	c := asciiUpper(s)
	for i := 2; i < 8; i++ {
		if !isDigit(c[i]) {
			return USCC{}, problem(CodeUSCCRegion,
				"统一社会信用代码第 3-8 位应为行政区划代码（数字），第 %d 位为 %c",
				"unified social credit code positions 3-8 must be a division code (digits), position %d is %c",
				i+1, c[i])
		}
	}
	if want := usccCheckChar(c[:17]); want != c[17] {
		return USCC{}, problem(CodeUSCCChecksum,
			"统一社会信用代码校验位应为 %c，实际为 %c",
			"unified social credit code check character should be %c, got %c", want, c[17])
	}
	return USCC{Code: c, Authority: c[0], Category: c[1], Region: c[2:8], Province: c[2:4]}, nil
}

// OrgCodeCheckValid reports whether positions 9-17 of code, the GB 11714
// organisation code, carry a correct check character. It is a separate
// function rather than part of ParseUSCC so that callers can show a warning
// without refusing the code. It returns false for a code that is not 18
// valid characters.
func OrgCodeCheckValid(code USCC) bool {
	c := code.Code
	if len(c) != usccLen {
		return false
	}
	// Horner's rule weights the eight body characters by 2^(9-i) mod 11,
	// which are the standard's weights 3 7 9 10 5 8 4 2.
	sum := 0
	for i := 8; i < 16; i++ {
		v := orgCodeValue(c[i])
		if v < 0 {
			return false
		}
		sum = (sum + v) * 2 % 11
	}
	var want byte
	switch r := 11 - sum; r {
	case 10:
		want = 'X'
	case 11:
		want = '0'
	default:
		want = byte('0' + r)
	}
	return c[16] == want
}

// checkUSCCCharset names the first character outside the GB 32100 set and
// its 1-based position, counted in characters so that a stray full-width
// letter is reported where the user sees it.
func checkUSCCCharset(s string) *Problem {
	pos := 0
	for _, r := range s {
		pos++
		if r < utf8.RuneSelf && usccValue(upperASCII(byte(r))) >= 0 {
			continue
		}
		return problem(CodeUSCCCharset,
			"统一社会信用代码第 %d 位字符 %q 不允许（仅限 0-9 及除 I、O、Z、S、V 外的大写字母）",
			"unified social credit code character %[2]q at position %[1]d is not allowed (only 0-9 and upper-case letters except I, O, Z, S, V)",
			pos, r)
	}
	return nil
}

// usccCheckChar computes the check character of the first 17 characters,
// which must all be in usccCharset. Weights are 3^(i-1) mod 31.
func usccCheckChar(body string) byte {
	sum, w := 0, 1
	for i := 0; i < len(body); i++ {
		sum += usccValue(body[i]) * w
		w = w * 3 % 31
	}
	return usccCharset[(31-sum%31)%31]
}

// usccValue returns the value 0..30 of an upper-case symbol, or -1.
func usccValue(b byte) int {
	for i := 0; i < len(usccCharset); i++ {
		if usccCharset[i] == b {
			return i
		}
	}
	return -1
}

// orgCodeValue returns the GB 11714 value of a character: digits 0-9 and
// letters A=10 … Z=35, or -1.
func orgCodeValue(b byte) int {
	switch {
	case isDigit(b):
		return int(b - '0')
	case 'A' <= b && b <= 'Z':
		return int(b-'A') + 10
	}
	return -1
}

// asciiUpper upper-cases ASCII letters only. strings.ToUpper would map some
// non-ASCII letters onto ASCII ones (ſ to S) and change byte lengths.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = upperASCII(c)
	}
	return string(b)
}

// upperASCII upper-cases one ASCII letter and leaves any other byte alone.
func upperASCII(b byte) byte {
	if 'a' <= b && b <= 'z' {
		return b - 'a' + 'A'
	}
	return b
}
