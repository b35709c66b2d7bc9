package domain

import (
	"regexp"
	"testing"
)

// The reference's patterns; the byte loops of phone.go must agree with them.
const (
	mobilePattern   = `^1[3-9]\d{9}$`
	landlinePattern = `^0(?:10|2\d|[3-9]\d{2})-?[2-9]\d{6,7}$`
)

func TestCheckMobile(t *testing.T) {
	tests := []struct {
		in    string
		valid bool
	}{
		{"13800138000", true},
		{"19212345678", true},
		{"17012345678", true},
		{"12345678901", false},
		{"1380013800", false},
		{"138001380000", false},
		{"", false},
		{"23800138000", false},
		{"10800138000", false},
		{"1380013800a", false},
		{"138-0013-8000", false},
		{"+8613800138000", false},
		{" 13800138000", false},
		{"13800138000\n", false},
		{"１3800138000", false}, // full-width digit
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p := CheckMobile(tt.in)
			if tt.valid {
				if p != nil {
					t.Fatalf("got %v, want valid", p)
				}
				return
			}
			checkProblem(t, p, CodeMobileFormat)
		})
	}
}

func TestParseLandline(t *testing.T) {
	tests := []struct {
		in   string
		want Landline // zero = invalid
	}{
		{"010-62265678", Landline{"010", "62265678"}},
		{"0755-86013388", Landline{"0755", "86013388"}},
		{"01062265678", Landline{"010", "62265678"}},
		{"075586013388", Landline{"0755", "86013388"}},
		{"021-2345678", Landline{"021", "2345678"}},
		{"0898-6666666", Landline{"0898", "6666666"}},
		{"010-0123456", Landline{}},
		{"010-1234567", Landline{}},
		{"010-623456", Landline{}},
		{"010-622656789", Landline{}},
		{"011-62265678", Landline{}},
		{"001-62265678", Landline{}},
		{"10-62265678", Landline{}},
		{"010--62265678", Landline{}},
		{"010 62265678", Landline{}},
		{"(010)62265678", Landline{}},
		{"075-86013388", Landline{}},
		{"0755-", Landline{}},
		{"0", Landline{}},
		{"", Landline{}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, p := ParseLandline(tt.in)
			if tt.want == (Landline{}) {
				checkProblem(t, p, CodeLandlineFormat)
			} else if p != nil {
				t.Fatalf("got %v, want %+v", p, tt.want)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzCheckMobile(f *testing.F) {
	for _, s := range []string{"13800138000", "19212345678", "12345678901", "1380013800", "", "１3800138000"} {
		f.Add(s)
	}
	re := regexp.MustCompile(mobilePattern)
	f.Fuzz(func(t *testing.T, s string) {
		p := CheckMobile(s)
		if p != nil {
			checkProblem(t, p, CodeMobileFormat)
		}
		if (p == nil) != re.MatchString(s) {
			t.Fatalf("CheckMobile(%q) = %v, but the pattern says %v", s, p, re.MatchString(s))
		}
	})
}

func FuzzParseLandline(f *testing.F) {
	for _, s := range []string{"010-62265678", "0755-86013388", "010-0123456", "01062265678", "0755-", "", "0"} {
		f.Add(s)
	}
	re := regexp.MustCompile(landlinePattern)
	f.Fuzz(func(t *testing.T, s string) {
		l, p := ParseLandline(s)
		if (p == nil) != re.MatchString(s) {
			t.Fatalf("ParseLandline(%q) = %v, but the pattern says %v", s, p, re.MatchString(s))
		}
		if p != nil {
			checkProblem(t, p, CodeLandlineFormat)
			return
		}
		for _, form := range []string{l.AreaCode + "-" + l.Number, l.AreaCode + l.Number} {
			if again, p := ParseLandline(form); p != nil || again != l {
				t.Fatalf("%q re-parses to %+v, %v; want %+v", form, again, p, l)
			}
		}
	})
}
