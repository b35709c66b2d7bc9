package domain

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// icpPattern is the reference's parser regex (§3.10); ParseICPNumber accepts
// a subset of it.
const icpPattern = `^(京|津|冀|晋|蒙|辽|吉|黑|沪|苏|浙|皖|闽|赣|鲁|豫|鄂|湘|粤|桂|琼|渝|蜀|川|黔|滇|藏|陕|陇|甘|青|宁|新)ICP备(\d{6,10})号(-(\d+)([AX])?)?$`

func TestParseICPNumber(t *testing.T) {
	tests := []struct {
		in   string
		want ICPNumber
	}{
		{"京ICP备11018762号-11", ICPNumber{Abbr: "京", Serial: "11018762", Site: 11}},
		{"陇ICP备2021003158号", ICPNumber{Abbr: "陇", Serial: "2021003158"}},
		{"陕ICP备2024026116号-1A", ICPNumber{Abbr: "陕", Serial: "2024026116", Site: 1, Kind: ICPKindApp}},
		{"津ICP备2024011617号-2X", ICPNumber{Abbr: "津", Serial: "2024011617", Site: 2, Kind: ICPKindMiniProgram}},
		{"粤ICP备2026012345号", ICPNumber{Abbr: "粤", Serial: "2026012345"}},
		{"蜀ICP备123456号-3", ICPNumber{Abbr: "蜀", Serial: "123456", Site: 3}},
		{"川ICP备12345678号", ICPNumber{Abbr: "川", Serial: "12345678"}},
		{"甘ICP备12345678号-1", ICPNumber{Abbr: "甘", Serial: "12345678", Site: 1}},
		{"新ICP备0000000000号", ICPNumber{Abbr: "新", Serial: "0000000000"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, p := ParseICPNumber(tt.in)
			if p != nil {
				t.Fatalf("got %v, want %+v", p, tt.want)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if s := got.String(); s != tt.in {
				t.Errorf("String() = %q, want %q", s, tt.in)
			}
		})
	}
}

func TestParseICPNumberProblems(t *testing.T) {
	tests := []struct {
		in      string
		message string // part of the English message
	}{
		{"", "province abbreviation"},
		{"ICP备11018762号", "province abbreviation"},
		{"港ICP备11018762号", "province abbreviation"},
		{"京 ICP备11018762号", "ICP备"},
		{"京icp备11018762号", "ICP备"},
		{"京ICP证030173号", "ICP备"}, // a commercial licence, not a filing
		{"京ICP备12345号", "6 to 10 digits"},
		{"京ICP备12345678901号", "6 to 10 digits"},
		{"京ICP备１1018762号", "6 to 10 digits"},
		{"京ICP备11018762", "号 after"},
		{"京ICP备11018762号-", "may only end"},
		{"京ICP备11018762号-0", "may only end"},
		{"京ICP备11018762号-01", "may only end"},
		{"京ICP备11018762号-1B", "may only end"},
		{"京ICP备11018762号-1a", "may only end"},
		{"京ICP备11018762号-1AX", "may only end"},
		{"京ICP备11018762号A", "may only end"},
		{"京ICP备11018762号 ", "may only end"},
		{"京ICP备11018762号-99999999999999999999", "may only end"},
		{"\xffICP备11018762号", "province abbreviation"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, p := ParseICPNumber(tt.in)
			checkProblem(t, p, CodeICPNumberFormat)
			if !strings.Contains(p.Message.En, tt.message) {
				t.Errorf("message %q does not mention %q", p.Message.En, tt.message)
			}
			if got != (ICPNumber{}) {
				t.Errorf("got %+v with a problem, want the zero value", got)
			}
		})
	}
}

func TestICPProblemClipsInput(t *testing.T) {
	_, p := ParseICPNumber(strings.Repeat("粤", 1000))
	checkProblem(t, p, CodeICPNumberFormat)
	if len(p.Message.En) > 300 || len(p.Message.Zh) > 300 {
		t.Errorf("message not clipped: %d bytes", len(p.Message.En))
	}
}

func TestICPNumberString(t *testing.T) {
	tests := []struct {
		n    ICPNumber
		want string
	}{
		{ICPNumber{Abbr: "粤", Serial: "2026012345"}, "粤ICP备2026012345号"},
		{ICPNumber{Abbr: "粤", Serial: "2026012345", Site: 2}, "粤ICP备2026012345号-2"},
		{ICPNumber{Abbr: "粤", Serial: "2026012345", Site: 1, Kind: "A"}, "粤ICP备2026012345号-1A"},
		{ICPNumber{Abbr: "粤", Serial: "2026012345", Kind: "X"}, "粤ICP备2026012345号"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.n.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestICPNumberEntityNumber(t *testing.T) {
	n, p := ParseICPNumber("陕ICP备2024026116号-1A")
	if p != nil {
		t.Fatal(p)
	}
	want := ICPNumber{Abbr: "陕", Serial: "2024026116"}
	if got := n.EntityNumber(); got != want {
		t.Errorf("EntityNumber() = %+v, want %+v", got, want)
	}
	if got := n.EntityNumber().String(); got != "陕ICP备2024026116号" {
		t.Errorf("EntityNumber().String() = %q", got)
	}
}

func TestICPProvinceAbbreviations(t *testing.T) {
	got := ICPProvinceAbbreviations()
	if len(got) != 33 {
		t.Fatalf("got %d abbreviations, want 33: %v", len(got), got)
	}
	// The list and the reference's regex must name the same provinces.
	alternation := icpPattern[strings.Index(icpPattern, "(")+1 : strings.Index(icpPattern, ")")]
	if want := strings.Split(alternation, "|"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, a := range got {
		if _, p := ParseICPNumber(a + "ICP备11018762号"); p != nil {
			t.Errorf("%s: %v", a, p)
		}
	}
	got[0] = "changed"
	if ICPProvinceAbbreviations()[0] != "京" {
		t.Error("modifying the returned slice changed the next result")
	}
}

func FuzzParseICPNumber(f *testing.F) {
	for _, s := range []string{
		"京ICP备11018762号-11", "陇ICP备2021003158号", "陕ICP备2024026116号-1A",
		"津ICP备2024011617号-2X", "京ICP证030173号", "京ICP备11018762号-0",
		"京ICP备11018762号-01", "", "\xff",
	} {
		f.Add(s)
	}
	re := regexp.MustCompile(icpPattern)
	f.Fuzz(func(t *testing.T, s string) {
		n, p := ParseICPNumber(s)
		if p != nil {
			checkProblem(t, p, CodeICPNumberFormat)
			return
		}
		if !re.MatchString(s) {
			t.Fatalf("%q parses but does not match the reference pattern", s)
		}
		if n.String() != s {
			t.Fatalf("%q parses to %+v, which prints as %q", s, n, n.String())
		}
		again, p := ParseICPNumber(n.String())
		if p != nil || again != n {
			t.Fatalf("%q re-parses to %+v, %v; want %+v", n.String(), again, p, n)
		}
		if n.Site < 0 || (n.Site == 0 && n.Kind != "") || utf8.RuneCountInString(n.Abbr) != 1 {
			t.Fatalf("inconsistent %+v", n)
		}
		e := n.EntityNumber()
		if again, p := ParseICPNumber(e.String()); p != nil || again != e || e.Site != 0 || e.Kind != "" {
			t.Fatalf("entity number %q re-parses to %+v, %v", e.String(), again, p)
		}
	})
}
