package domain

import "time"

// Problem codes of ParseResidentID. Clients branch on them, so they never
// change once released.
const (
	CodeIDCardFormat    = "id_card.format"
	CodeIDCardRegion    = "id_card.region"
	CodeIDCardBirthDate = "id_card.birth_date"
	CodeIDCardChecksum  = "id_card.checksum"
)

// residentIDLen is the length of a second-generation (GB 11643-1999) number;
// the 15-digit first-generation numbers are no longer accepted for filings.
const residentIDLen = 18

// residentIDCheckChars maps the weighted sum mod 11 to the check character
// (ISO 7064 MOD 11-2).
const residentIDCheckChars = "10X98765432"

// ResidentID is a parsed resident identity number.
type ResidentID struct {
	Number   string    // normalised: 18 chars, upper-case X
	Province string    // first two digits, GB/T 2260 province code, e.g. "44"
	Region   string    // first six digits
	Birth    time.Time // birth date at 00:00 UTC
	Male     bool      // sequence digit odd
}

// ParseResidentID checks a GB 11643 resident identity number and returns its
// parts. asOf is the caller's "today": a birth date after asOf's calendar
// date is refused, because the clock is not read here.
//
// The checks run in the order format, region, birth date, checksum and the
// first failure is returned, so that a typo in the birth date is reported as
// such rather than as a checksum mismatch.
func ParseResidentID(s string, asOf time.Time) (ResidentID, *Problem) {
	if p := checkResidentIDFormat(s); p != nil {
		return ResidentID{}, p
	}
	n := normaliseResidentID(s)
	if !isProvinceCode(n[:2]) {
		return ResidentID{}, problem(CodeIDCardRegion,
			"身份证号码前两位 %s 不是有效的省级行政区划代码",
			"resident ID starts with %s, which is not a province code", n[:2])
	}
	birth, p := residentIDBirth(n[6:14], asOf)
	if p != nil {
		return ResidentID{}, p
	}
	if want := residentIDCheckChar(n[:17]); want != n[17] {
		return ResidentID{}, problem(CodeIDCardChecksum,
			"身份证号码校验位应为 %c，实际为 %c",
			"resident ID check character should be %c, got %c", want, n[17])
	}
	return ResidentID{
		Number:   n,
		Province: n[:2],
		Region:   n[:6],
		Birth:    birth,
		Male:     (n[16]-'0')%2 == 1,
	}, nil
}

// AgeAt returns the completed years of the holder at t's calendar date (in
// t's location), the way age limits of the provinces are counted. Someone
// born on 29 February completes a year on 1 March in common years. The result
// is negative when t falls before the birth date.
func (id ResidentID) AgeAt(t time.Time) int {
	by, bm, bd := id.Birth.Date()
	ty, tm, td := t.Date()
	age := ty - by
	if tm < bm || (tm == bm && td < bd) {
		age--
	}
	return age
}

// checkResidentIDFormat accepts 17 ASCII digits followed by a digit or X,
// in either case since people type the X as they like.
func checkResidentIDFormat(s string) *Problem {
	ok := len(s) == residentIDLen
	for i := 0; ok && i < residentIDLen-1; i++ {
		ok = isDigit(s[i])
	}
	if ok {
		last := s[residentIDLen-1]
		ok = isDigit(last) || last == 'X' || last == 'x'
	}
	if !ok {
		return problem(CodeIDCardFormat,
			"身份证号码应为 17 位数字加 1 位数字或 X",
			"resident ID must be 17 digits followed by a digit or X")
	}
	return nil
}

// normaliseResidentID upper-cases the check character of a well-formed
// number; it is the only place a letter can appear.
func normaliseResidentID(s string) string {
	if s[residentIDLen-1] == 'x' {
		return s[:residentIDLen-1] + "X"
	}
	return s
}

// residentIDBirth reads YYYYMMDD (eight ASCII digits) and refuses dates that
// do not exist, lie after asOf's calendar date or before 1800-01-01. The
// lower bound is 1800 and not 1900 because the standard's own example
// 440524188001010014 is born in 1880.
func residentIDBirth(ymd string, asOf time.Time) (time.Time, *Problem) {
	y, m, d := atoiDigits(ymd[:4]), atoiDigits(ymd[4:6]), atoiDigits(ymd[6:8])
	if !isCalendarDate(y, m, d) {
		return time.Time{}, problem(CodeIDCardBirthDate,
			"身份证号码中的出生日期 %s 不是有效日期",
			"resident ID birth date %s is not a calendar date", ymd)
	}
	birth := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	ay, am, ad := asOf.Date()
	today := time.Date(ay, am, ad, 0, 0, 0, 0, time.UTC)
	if birth.After(today) {
		return time.Time{}, problem(CodeIDCardBirthDate,
			"身份证号码中的出生日期 %s 晚于 %s",
			"resident ID birth date %s is after %s", ymd, today.Format("20060102"))
	}
	if y < 1800 {
		return time.Time{}, problem(CodeIDCardBirthDate,
			"身份证号码中的出生日期 %s 早于 18000101",
			"resident ID birth date %s is before 18000101", ymd)
	}
	return birth, nil
}

// residentIDCheckChar computes the ISO 7064 MOD 11-2 check character of 17
// ASCII digits. Horner's rule multiplies each digit by 2^(18-i) mod 11, the
// weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 of the standard, without a
// weight table.
func residentIDCheckChar(digits string) byte {
	sum := 0
	for i := 0; i < len(digits); i++ {
		sum = (sum + int(digits[i]-'0')) * 2 % 11
	}
	return residentIDCheckChars[sum]
}

// isProvinceCode reports whether code is a GB/T 2260 province-level code,
// including 81/82/83 which residence permits for Hong Kong, Macau and Taiwan
// residents use.
func isProvinceCode(code string) bool {
	switch code {
	case "11", "12", "13", "14", "15",
		"21", "22", "23",
		"31", "32", "33", "34", "35", "36", "37",
		"41", "42", "43", "44", "45", "46",
		"50", "51", "52", "53", "54",
		"61", "62", "63", "64", "65",
		"81", "82", "83":
		return true
	}
	return false
}

// isCalendarDate reports whether y-m-d exists in the proleptic Gregorian
// calendar; time.Date normalises 1900-02-29 to 1 March, which shows up as a
// changed month.
func isCalendarDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 || d > 31 {
		return false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	return t.Year() == y && int(t.Month()) == m && t.Day() == d
}

// isDigit reports whether b is an ASCII digit; unicode.IsDigit would let
// full-width and other scripts' digits through.
func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// atoiDigits converts a short string already known to be ASCII digits.
func atoiDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
