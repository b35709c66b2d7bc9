package domain

// Problem codes of the phone validators. Clients branch on them, so they
// never change once released.
const (
	CodeMobileFormat   = "mobile.format"
	CodeLandlineFormat = "landline.format"
)

// CheckMobile checks a mainland China mobile number: 11 ASCII digits, 1 then
// 3-9, i.e. ^1[3-9]\d{9}$. The finer MIIT prefix sets drift as ranges are
// allocated, so they are deliberately not enforced here.
func CheckMobile(s string) *Problem {
	ok := len(s) == 11 && s[0] == '1' && '3' <= s[1] && s[1] <= '9' && allDigits(s[2:])
	if !ok {
		return problem(CodeMobileFormat,
			"手机号码应为 11 位数字，以 13-19 开头",
			"mobile number must be 11 digits starting with 13 to 19")
	}
	return nil
}

// Landline is a parsed mainland China fixed-line number.
type Landline struct {
	AreaCode string // with its leading 0, e.g. "010", "0755"
	Number   string // the local number, 7 or 8 digits
}

// ParseLandline checks a fixed-line number with its area code, optionally
// separated by one hyphen: ^0(?:10|2\d|[3-9]\d{2})-?[2-9]\d{6,7}$. The area
// code's length follows from its second digit, so the split is unambiguous
// even without the hyphen.
func ParseLandline(s string) (Landline, *Problem) {
	n := landlineAreaLen(s)
	if n == 0 {
		return Landline{}, landlineProblem()
	}
	area, rest := s[:n], s[n:]
	if len(rest) > 0 && rest[0] == '-' {
		rest = rest[1:]
	}
	// A local number never starts with 0 or 1: those dial trunk and
	// service prefixes.
	ok := (len(rest) == 7 || len(rest) == 8) && '2' <= rest[0] && rest[0] <= '9' && allDigits(rest)
	if !ok {
		return Landline{}, landlineProblem()
	}
	return Landline{AreaCode: area, Number: rest}, nil
}

// landlineAreaLen returns the length of the area code s starts with, or 0:
// 010 for Beijing, 02x for the large cities, 0 + three digits elsewhere.
func landlineAreaLen(s string) int {
	if len(s) < 3 || s[0] != '0' {
		return 0
	}
	switch {
	case s[1] == '1' && s[2] == '0':
		return 3
	case s[1] == '2' && isDigit(s[2]):
		return 3
	case '3' <= s[1] && s[1] <= '9' && len(s) >= 4 && isDigit(s[2]) && isDigit(s[3]):
		return 4
	}
	return 0
}

// landlineProblem is the one message for every landline failure: the format
// is short enough that an example helps users more than naming the step.
func landlineProblem() *Problem {
	return problem(CodeLandlineFormat,
		"固定电话应为区号加 7-8 位号码，如 010-62265678 或 0755-86013388",
		"landline must be an area code and a 7- or 8-digit number, e.g. 010-62265678 or 0755-86013388")
}

// allDigits reports whether s is non-empty and all ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
