package domain

import (
	"strings"
	"testing"
	"time"
)

// testAsOf is the "today" of the resident ID tests, fixed so that the tests
// do not age.
func testAsOf() time.Time { return time.Date(2026, time.June, 1, 12, 0, 0, 0, time.UTC) }

func TestParseResidentIDVectors(t *testing.T) {
	tests := []struct {
		in      string
		code    string // "" = valid
		message string // part of the English message, for failures
	}{
		{in: "11010519491231002X"},
		{in: "440524188001010014"},
		{in: "34052419800101001X"},
		{in: "440305199003071236"},
		{in: "320102200002290013"},
		{in: "110101200001010010"},
		{in: "320102190002290017", code: CodeIDCardBirthDate, message: "19000229"},
		{in: "110101199003071234", code: CodeIDCardChecksum, message: "should be 3, got 4"},
		{in: "110101200001010011", code: CodeIDCardChecksum, message: "should be 0, got 1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			id, p := ParseResidentID(tt.in, testAsOf())
			if tt.code == "" {
				if p != nil {
					t.Fatalf("got %v, want valid", p)
				}
				if id.Number != tt.in {
					t.Errorf("Number = %q, want %q", id.Number, tt.in)
				}
				return
			}
			checkProblem(t, p, tt.code)
			if !strings.Contains(p.Message.En, tt.message) {
				t.Errorf("message %q does not mention %q", p.Message.En, tt.message)
			}
			if id != (ResidentID{}) {
				t.Errorf("got %+v with a problem, want the zero value", id)
			}
		})
	}
}

func TestParseResidentIDFields(t *testing.T) {
	tests := []struct {
		in   string
		want ResidentID
	}{
		{"11010519491231002x", ResidentID{
			Number: "11010519491231002X", Province: "11", Region: "110105",
			Birth: time.Date(1949, 12, 31, 0, 0, 0, 0, time.UTC), Male: false,
		}},
		{"440524188001010014", ResidentID{
			Number: "440524188001010014", Province: "44", Region: "440524",
			Birth: time.Date(1880, 1, 1, 0, 0, 0, 0, time.UTC), Male: true,
		}},
		{"320102200002290013", ResidentID{
			Number: "320102200002290013", Province: "32", Region: "320102",
			Birth: time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC), Male: true,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, p := ParseResidentID(tt.in, testAsOf())
			if p != nil {
				t.Fatalf("got %v, want valid", p)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseResidentIDProblems(t *testing.T) {
	tests := []struct {
		name string
		in   string
		asOf time.Time
		code string
	}{
		{"empty", "", testAsOf(), CodeIDCardFormat},
		{"17 chars", "11010519491231002", testAsOf(), CodeIDCardFormat},
		{"19 chars", "11010519491231002X0", testAsOf(), CodeIDCardFormat},
		{"15-digit first generation", "110105491231002", testAsOf(), CodeIDCardFormat},
		{"X inside", "1101051949123100X2", testAsOf(), CodeIDCardFormat},
		{"Y as check", "11010519491231002Y", testAsOf(), CodeIDCardFormat},
		{"spaces", " 11010519491231002X", testAsOf(), CodeIDCardFormat},
		{"full-width digit", "１1010519491231002X", testAsOf(), CodeIDCardFormat},
		{"region 00", "000105194912310020", testAsOf(), CodeIDCardRegion},
		{"region 71 Taiwan province code", "710105194912310020", testAsOf(), CodeIDCardRegion},
		{"region 99", "990105194912310020", testAsOf(), CodeIDCardRegion},
		// Region is checked before the date and the checksum.
		{"region before date", "991231190002290017", testAsOf(), CodeIDCardRegion},
		{"month 13", "110101200013010010", testAsOf(), CodeIDCardBirthDate},
		{"month 00", "110101200000010010", testAsOf(), CodeIDCardBirthDate},
		{"day 00", "110101200001000010", testAsOf(), CodeIDCardBirthDate},
		{"April 31", "110101200004310010", testAsOf(), CodeIDCardBirthDate},
		{"before 1800", "110101179912310010", testAsOf(), CodeIDCardBirthDate},
		{"born after asOf", "110101200001010010", time.Date(1999, 12, 31, 23, 59, 0, 0, time.UTC), CodeIDCardBirthDate},
		// The date is checked before the checksum (this one's checksum is
		// also wrong).
		{"date before checksum", "110101200013010011", testAsOf(), CodeIDCardBirthDate},
		{"check 1 instead of X", "11010519491231002" + "1", testAsOf(), CodeIDCardChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, p := ParseResidentID(tt.in, tt.asOf)
			checkProblem(t, p, tt.code)
		})
	}
}

func TestParseResidentIDAcceptsPermitsAndBounds(t *testing.T) {
	tests := []struct {
		name string
		body string // 17 digits; the check character is computed
		asOf time.Time
	}{
		{"Hong Kong permit", "81000019900101001", testAsOf()},
		{"Macau permit", "82000019900101001", testAsOf()},
		{"Taiwan permit", "83000019900101001", testAsOf()},
		{"1800-01-01", "11010118000101001", testAsOf()},
		// Born on asOf's calendar date, whatever its time of day or zone.
		{"born today", "11010120260601001", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)},
		{"born today east of UTC", "11010120260601001", time.Date(2026, 6, 1, 1, 0, 0, 0, time.FixedZone("CST", 8*3600))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.body + string(residentIDCheckChar(tt.body))
			if _, p := ParseResidentID(in, tt.asOf); p != nil {
				t.Fatalf("ParseResidentID(%q) = %v, want valid", in, p)
			}
		})
	}
}

func TestResidentIDAgeAt(t *testing.T) {
	leap := ResidentID{Birth: time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC)}
	plain := ResidentID{Birth: time.Date(2008, 6, 2, 0, 0, 0, 0, time.UTC)}
	cst := time.FixedZone("CST", 8*3600)
	tests := []struct {
		name string
		id   ResidentID
		at   time.Time
		want int
	}{
		{"day before 18th birthday", plain, time.Date(2026, 6, 1, 23, 59, 0, 0, time.UTC), 17},
		{"18th birthday", plain, time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC), 18},
		// 2026-06-02 01:00 in Beijing is still 1 June in UTC; the
		// calendar date of t counts.
		{"18th birthday in Beijing", plain, time.Date(2026, 6, 2, 1, 0, 0, 0, cst), 18},
		{"leap day, 28 Feb of a common year", leap, time.Date(2018, 2, 28, 0, 0, 0, 0, time.UTC), 17},
		{"leap day, 1 Mar of a common year", leap, time.Date(2018, 3, 1, 0, 0, 0, 0, time.UTC), 18},
		{"leap day, 29 Feb of a leap year", leap, time.Date(2016, 2, 29, 0, 0, 0, 0, time.UTC), 16},
		{"day of birth", plain, plain.Birth, 0},
		{"before birth", plain, time.Date(2008, 6, 1, 0, 0, 0, 0, time.UTC), -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.id.AgeAt(tt.at); got != tt.want {
				t.Errorf("AgeAt(%v) = %d, want %d", tt.at, got, tt.want)
			}
		})
	}
}

func FuzzParseResidentID(f *testing.F) {
	for _, s := range []string{
		"11010519491231002X", "440524188001010014", "34052419800101001X",
		"440305199003071236", "320102200002290013", "110101200001010010",
		"320102190002290017", "110101199003071234", "110101200001010011",
		"11010519491231002x", "81000019900101001X", "", "x",
	} {
		f.Add(s, testAsOf().Unix())
	}
	f.Fuzz(func(t *testing.T, s string, asOfUnix int64) {
		asOf := time.Unix(asOfUnix, 0).UTC()
		id, p := ParseResidentID(s, asOf)
		if p != nil {
			checkProblem(t, p, CodeIDCardFormat, CodeIDCardRegion, CodeIDCardBirthDate, CodeIDCardChecksum)
			return
		}
		if !strings.EqualFold(id.Number, s) || id.Number != strings.ToUpper(id.Number) {
			t.Fatalf("Number %q is not the upper-cased input %q", id.Number, s)
		}
		again, p := ParseResidentID(id.Number, asOf)
		if p != nil || again != id {
			t.Fatalf("normalised %q re-parses to %+v, %v; want %+v", id.Number, again, p, id)
		}
		if id.Province != id.Number[:2] || id.Region != id.Number[:6] {
			t.Fatalf("Province %q / Region %q do not match %q", id.Province, id.Region, id.Number)
		}
		if got := id.Birth.Format("20060102"); got != id.Number[6:14] {
			t.Fatalf("Birth %s does not match %q", got, id.Number)
		}
		if id.AgeAt(asOf) < 0 {
			t.Fatalf("valid ID born %v is %d years old at %v", id.Birth, id.AgeAt(asOf), asOf)
		}
	})
}
