package domain

import (
	"strings"
	"testing"
)

func TestParseUSCCVectors(t *testing.T) {
	tests := []struct {
		in      string
		code    string // "" = valid
		message string // part of the English message, for failures
	}{
		{in: "91350100M000100Y43"},
		{in: "91440300MA5F12342Q"},
		{in: "91110108MA01ABCD5T"},
		{in: "5211000050001947XQ"},
		{in: "12100000400000624D"},
		{in: "91350100M000100Y4Z", code: CodeUSCCCharset, message: "'Z' at position 18"},
		{in: "91310115MA1H8R7C6D", code: CodeUSCCChecksum, message: "should be 7, got D"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, p := ParseUSCC(tt.in)
			if tt.code == "" {
				if p != nil {
					t.Fatalf("got %v, want valid", p)
				}
				if got.Code != tt.in {
					t.Errorf("Code = %q, want %q", got.Code, tt.in)
				}
				return
			}
			checkProblem(t, p, tt.code)
			if !strings.Contains(p.Message.En, tt.message) {
				t.Errorf("message %q does not mention %q", p.Message.En, tt.message)
			}
			if got != (USCC{}) {
				t.Errorf("got %+v with a problem, want the zero value", got)
			}
		})
	}
}

func TestParseUSCCFields(t *testing.T) {
	want := USCC{Code: "91440300MA5F12342Q", Authority: '9', Category: '1', Region: "440300", Province: "44"}
	for _, in := range []string{"91440300MA5F12342Q", "91440300ma5f12342q"} {
		t.Run(in, func(t *testing.T) {
			got, p := ParseUSCC(in)
			if p != nil {
				t.Fatalf("got %v, want valid", p)
			}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestParseUSCCProblems(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		code    string
		message string
	}{
		{"empty", "", CodeUSCCFormat, "got 0"},
		{"17 chars", "91350100M000100Y4", CodeUSCCFormat, "got 17"},
		{"19 chars", "91350100M000100Y433", CodeUSCCFormat, "got 19"},
		{"not trimmed", " 91350100M000100Y43", CodeUSCCFormat, "got 19"},
		{"letter I", "9I350100M000100Y43", CodeUSCCCharset, "'I' at position 2"},
		{"letter O", "91350100MO00100Y43", CodeUSCCCharset, "'O' at position 10"},
		{"lower-case s", "91350100M000100s43", CodeUSCCCharset, "'s' at position 16"},
		{"letter V", "V1350100M000100Y43", CodeUSCCCharset, "'V' at position 1"},
		{"hyphen", "91350100-000100Y43", CodeUSCCCharset, "'-' at position 9"},
		// Counted in characters: the full-width letter is the 9th.
		{"full-width M", "91350100Ｍ000100Y43", CodeUSCCCharset, "'Ｍ' at position 9"},
		{"invalid UTF-8", "91350100\xff000100Y43", CodeUSCCCharset, "position 9"},
		{"letter in region", "9135A100M000100Y43", CodeUSCCRegion, "position 5 is A"},
		{"checksum", "91350100M000100Y44", CodeUSCCChecksum, "should be 3, got 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, p := ParseUSCC(tt.in)
			checkProblem(t, p, tt.code)
			if !strings.Contains(p.Message.En, tt.message) {
				t.Errorf("message %q does not mention %q", p.Message.En, tt.message)
			}
		})
	}
}

func TestOrgCodeCheckValid(t *testing.T) {
	tests := []struct {
		code string
		want bool
	}{
		{"91350100M000100Y43", true},
		{"91440300MA5F12342Q", true},
		{"91110108MA01ABCD5T", true},
		{"5211000050001947XQ", true}, // org check character X
		{"12100000400000624D", true},
		// Valid USCCs (ParseUSCC accepts them) whose org code is wrong.
		{"91440300MA5F12343U", false},
		{"91350100M000100Y56", false},
		{"91310115MA1H8R7C6D", false},
		{"", false},
		{"91440300", false},
		{"91440300MA5F-2342Q", false}, // not an org-code character
		{"91440300ma5f12342Q", false}, // not normalised: only ParseUSCC output is meant
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			if got := OrgCodeCheckValid(USCC{Code: tt.code}); got != tt.want {
				t.Errorf("OrgCodeCheckValid(%q) = %v, want %v", tt.code, got, tt.want)
			}
		})
	}
	for _, s := range []string{"91440300MA5F12343U", "91350100M000100Y56"} {
		if _, p := ParseUSCC(s); p != nil {
			t.Errorf("ParseUSCC(%q) = %v; the org-code check must not be enforced", s, p)
		}
	}
}

func FuzzParseUSCC(f *testing.F) {
	for _, s := range []string{
		"91350100M000100Y43", "91440300MA5F12342Q", "91110108MA01ABCD5T",
		"5211000050001947XQ", "12100000400000624D", "91350100M000100Y4Z",
		"91310115MA1H8R7C6D", "91440300ma5f12342q", "91350100Ｍ000100Y43", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, p := ParseUSCC(s)
		_ = OrgCodeCheckValid(USCC{Code: s}) // must not panic on any input
		if p != nil {
			checkProblem(t, p, CodeUSCCFormat, CodeUSCCCharset, CodeUSCCRegion, CodeUSCCChecksum)
			return
		}
		if c.Code != strings.ToUpper(s) {
			t.Fatalf("Code %q is not the upper-cased input %q", c.Code, s)
		}
		again, p := ParseUSCC(c.Code)
		if p != nil || again != c {
			t.Fatalf("%q re-parses to %+v, %v; want %+v", c.Code, again, p, c)
		}
		if c.Authority != c.Code[0] || c.Category != c.Code[1] || c.Region != c.Code[2:8] || c.Province != c.Code[2:4] {
			t.Fatalf("parts of %+v do not match the code", c)
		}
		if !allDigits(c.Region) {
			t.Fatalf("Region %q is not digits", c.Region)
		}
	})
}
