package domain

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func loadTLDPolicy(tb testing.TB) *TLDPolicy {
	tb.Helper()
	data, err := os.ReadFile("data/tlds.json")
	if err != nil {
		tb.Fatal(err)
	}
	p, err := ParseTLDPolicy(data)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestTLDPolicyData(t *testing.T) {
	p := loadTLDPolicy(t)
	if p.Version == "" || p.Source == "" {
		t.Error("policy needs a version and a source")
	}
	for _, tld := range []string{"com", "cn", "net", "中国", "公司", "网络", "top", "xyz", "vip", "shop", "tech", "ltd", "cc", "tv", "info"} {
		if !slices.Contains(p.Approved, tld) {
			t.Errorf("approved lacks %q", tld)
		}
	}
	// Beijing rejects these; .co is on Tencent's FAQ list but banned on the
	// province page, so it stays out.
	for _, tld := range []string{"hk", "tw", "asia", "jp", "io", "me", "win", "org", "co"} {
		if slices.Contains(p.Approved, tld) {
			t.Errorf("approved holds rejected %q", tld)
		}
	}
	if n := len(p.Approved); n < 60 || n > 90 {
		t.Errorf("approved has %d TLDs, want about 70", n)
	}
	// 9 category and 34 administrative-region second-level domains (MIIT
	// announcement 2018 No. 7).
	if n := len(p.MultiLabelSuffixes); n != 43 {
		t.Errorf("multiLabelSuffixes has %d entries, want 43", n)
	}
	for _, s := range []string{"com.cn", "net.cn", "org.cn", "gov.cn", "edu.cn", "ac.cn", "mil.cn", "bj.cn", "sh.cn", "gd.cn", "xj.cn", "政务.cn", "公益.cn"} {
		if !slices.Contains(p.MultiLabelSuffixes, s) {
			t.Errorf("multiLabelSuffixes lacks %q", s)
		}
	}
}

func TestParseTLDPolicyNormalises(t *testing.T) {
	p, err := ParseTLDPolicy([]byte(`{"version":"v","approved":["COM",".XN--FIQS8S","網絡"],"multiLabelSuffixes":["Com.CN"]}`))
	if err != nil {
		t.Fatal(err)
	}
	// 網絡 is traditional script and maps to itself; it only needs to parse.
	if want := []string{"com", "中国", "網絡"}; !slices.Equal(p.Approved, want) {
		t.Errorf("Approved = %q, want %q", p.Approved, want)
	}
	if want := []string{"com.cn"}; !slices.Equal(p.MultiLabelSuffixes, want) {
		t.Errorf("MultiLabelSuffixes = %q, want %q", p.MultiLabelSuffixes, want)
	}
}

func TestParseTLDPolicyRefusesBadData(t *testing.T) {
	tests := []struct {
		name, json string
	}{
		{"not JSON", `tlds`},
		{"trailing data", `{"version":"v","approved":["com"]} x`},
		{"unknown field", `{"version":"v","approved":["com"],"rejected":["org"]}`},
		{"empty version", `{"version":"","approved":["com"]}`},
		{"no approved", `{"version":"v","approved":[]}`},
		{"duplicate", `{"version":"v","approved":["com","COM"]}`},
		{"invalid TLD", `{"version":"v","approved":["c_m"]}`},
		{"empty TLD", `{"version":"v","approved":[""]}`},
		{"two-label TLD", `{"version":"v","approved":["com.cn"]}`},
		{"one-label suffix", `{"version":"v","approved":["cn"],"multiLabelSuffixes":["cn"]}`},
		{"duplicate suffix", `{"version":"v","approved":["cn"],"multiLabelSuffixes":["com.cn","COM.cn"]}`},
		{"numeric TLD", `{"version":"v","approved":["123"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseTLDPolicy([]byte(tt.json))
			if err == nil || p != nil {
				t.Fatalf("ParseTLDPolicy(%s) = %v, %v; want an error", tt.json, p, err)
			}
			if !errors.Is(err, ErrInvalidTLDPolicy) {
				t.Errorf("error %v does not wrap ErrInvalidTLDPolicy", err)
			}
		})
	}
	_, err := ParseTLDPolicy([]byte(`{"version":"v","approved":"com"}`))
	var typeErr *json.UnmarshalTypeError
	if !errors.As(err, &typeErr) {
		t.Errorf("error %v does not wrap the JSON error", err)
	}
}

func TestParseDomainNameValid(t *testing.T) {
	p := loadTLDPolicy(t)
	tests := []struct {
		in   string
		want DomainName
	}{
		{"example.com", DomainName{"example.com", "example.com", "com"}},
		{"EXAMPLE.COM", DomainName{"example.com", "example.com", "com"}},
		{"example.com.", DomainName{"example.com", "example.com", "com"}},
		{"a-b.top", DomainName{"a-b.top", "a-b.top", "top"}},
		{"123.cn", DomainName{"123.cn", "123.cn", "cn"}},
		{"例子.中国", DomainName{"xn--fsqu00a.xn--fiqs8s", "例子.中国", "中国"}},
		{"例子。中国", DomainName{"xn--fsqu00a.xn--fiqs8s", "例子.中国", "中国"}},
		{"例子.中国。", DomainName{"xn--fsqu00a.xn--fiqs8s", "例子.中国", "中国"}},
		{"xn--fsqu00a.xn--fiqs8s", DomainName{"xn--fsqu00a.xn--fiqs8s", "例子.中国", "中国"}},
		{"XN--FSQU00A.XN--FIQS8S", DomainName{"xn--fsqu00a.xn--fiqs8s", "例子.中国", "中国"}},
		{"例子.com", DomainName{"xn--fsqu00a.com", "例子.com", "com"}},
		{"例子.公司", DomainName{"xn--fsqu00a.xn--55qx5d", "例子.公司", "公司"}},
		{"ｅｘａｍｐｌｅ．ｃｏｍ", DomainName{"example.com", "example.com", "com"}},
		{"example.com.cn", DomainName{"example.com.cn", "example.com.cn", "cn"}},
		{"example.org.cn", DomainName{"example.org.cn", "example.org.cn", "cn"}},
		{"example.bj.cn", DomainName{"example.bj.cn", "example.bj.cn", "cn"}},
		{"例子.政务.cn", DomainName{"xn--fsqu00a.xn--zfr164b.cn", "例子.政务.cn", "cn"}},
		{strings.Repeat("a", 63) + ".com", DomainName{strings.Repeat("a", 63) + ".com", strings.Repeat("a", 63) + ".com", "com"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, prob := ParseDomainName(tt.in, p)
			if prob != nil {
				t.Fatalf("ParseDomainName(%q) = %v", tt.in, prob)
			}
			if got != tt.want {
				t.Errorf("ParseDomainName(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if got.String() != tt.want.Unicode {
				t.Errorf("String() = %q, want %q", got.String(), tt.want.Unicode)
			}
		})
	}
}

func TestParseDomainNameProblems(t *testing.T) {
	p := loadTLDPolicy(t)
	long := strings.Repeat(strings.Repeat("a", 60)+".", 4) + "example.com" // 255 characters
	tests := []struct {
		in       string
		code     string
		mentions string // text the English message must contain
	}{
		{"", CodeDomainSyntax, "enter a domain name"},
		{" example.com", CodeDomainSyntax, "spaces"},
		{"exa mple.com", CodeDomainSyntax, "spaces"},
		{"example.com\t", CodeDomainSyntax, "spaces"},
		{"exa\x00mple.com", CodeDomainSyntax, "control"},
		{"\xff.com", CodeDomainSyntax, "UTF-8"},
		{"http://example.com", CodeDomainSyntax, "scheme"},
		{"example.com/index.html", CodeDomainSyntax, "path"},
		{"user@example.com", CodeDomainSyntax, "@"},
		{"example.com:8080", CodeDomainSyntax, "port"},
		{"*.example.com", CodeDomainSyntax, "wildcard"},
		{"1.2.3.4", CodeDomainSyntax, "IP address"},
		{"999.1.1.1", CodeDomainSyntax, "IP address"},
		{"::1", CodeDomainSyntax, "IP address"},
		{"[2001:db8::1]", CodeDomainSyntax, "IP address"},
		{"-example.com", CodeDomainSyntax, "hyphen (label 1)"},
		{"example-.com", CodeDomainSyntax, "hyphen (label 1)"},
		{"www.-example.com", CodeDomainSyntax, "hyphen (label 2)"},
		{"ab--cd.com", CodeDomainSyntax, "third and fourth"},
		{"example..com", CodeDomainSyntax, "consecutive dots"},
		{".example.com", CodeDomainSyntax, "consecutive dots"},
		{"example.com..", CodeDomainSyntax, "consecutive dots"},
		{".", CodeDomainSyntax, "enter a domain name"},
		{strings.Repeat("a", 64) + ".com", CodeDomainSyntax, "label 1 has 64"},
		{strings.Repeat("例", 70) + ".com", CodeDomainSyntax, "at most 63"},
		{long, CodeDomainSyntax, "at most 253"},
		{strings.Repeat("a", 2000), CodeDomainSyntax, "too long"},
		{"exa_mple.com", CodeDomainSyntax, "not allowed"},
		{"xn--abc.com", CodeDomainSyntax, "xn--"},
		{"xn--example.com", CodeDomainSyntax, "xn--"},
		{"com", CodeDomainNotRegistered, `"com" is a domain suffix`},
		{"中国", CodeDomainNotRegistered, "suffix"},
		{"com.cn", CodeDomainNotRegistered, `"com.cn" is a domain suffix`},
		{"bj.cn", CodeDomainNotRegistered, "suffix"},
		{"www.example.com", CodeDomainNotRegistered, `registered domain "example.com"`},
		{"a.b.example.com", CodeDomainNotRegistered, `registered domain "example.com"`},
		{"www.example.com.cn", CodeDomainNotRegistered, `registered domain "example.com.cn"`},
		{"www.例子.中国", CodeDomainNotRegistered, `registered domain "例子.中国"`},
		{"example.io", CodeDomainTLDNotApproved, ".io"},
		{"example.org", CodeDomainTLDNotApproved, ".org"},
		{"example.hk", CodeDomainTLDNotApproved, ".hk"},
		{"example.co", CodeDomainTLDNotApproved, ".co"},
		{"例子.香港", CodeDomainTLDNotApproved, ".香港"},
		{"www.example.io", CodeDomainTLDNotApproved, ".io"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, prob := ParseDomainName(tt.in, p)
			if prob == nil {
				t.Fatalf("ParseDomainName(%q) = %+v, want %s", tt.in, got, tt.code)
			}
			if got != (DomainName{}) {
				t.Errorf("ParseDomainName(%q) returned %+v with a problem", tt.in, got)
			}
			checkProblem(t, prob, tt.code)
			if prob.Code != tt.code {
				t.Errorf("code = %q, want %q", prob.Code, tt.code)
			}
			if !strings.Contains(prob.Message.En, tt.mentions) {
				t.Errorf("message %q does not mention %q", prob.Message.En, tt.mentions)
			}
		})
	}
}

func TestParseDomainNameNilPolicy(t *testing.T) {
	_, prob := ParseDomainName("example.com", nil)
	if prob == nil || prob.Code != CodeDomainTLDNotApproved {
		t.Errorf("nil policy: got %v, want %s", prob, CodeDomainTLDNotApproved)
	}
	_, prob = ParseDomainName("example.com", &TLDPolicy{Approved: []string{"com"}})
	if prob != nil {
		t.Errorf("literal policy: got %v", prob)
	}
}

func FuzzParseDomainName(f *testing.F) {
	p := loadTLDPolicy(f)
	for _, s := range []string{
		"example.com", "EXAMPLE.COM.", "例子.中国", "例子。中国", "xn--fsqu00a.xn--fiqs8s",
		"www.example.com", "example.com.cn", "例子.政务.cn", "faß.top", "ｅｘａｍｐｌｅ．ｃｏｍ",
		"example.io", "com", "*.example.com", "1.2.3.4", "[::1]", "-a.com", "ab--cd.com",
		"a..com", "http://example.com/", "example.com:80", "xn--abc.com", "مثال.com",
		"\u200d.com", "a\u0301.com", strings.Repeat("a", 64) + ".com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, prob := ParseDomainName(s, p)
		if prob != nil {
			checkProblem(t, prob, CodeDomainSyntax, CodeDomainNotRegistered, CodeDomainTLDNotApproved)
			if d != (DomainName{}) {
				t.Fatalf("ParseDomainName(%q) returned %+v with a problem", s, d)
			}
			return
		}
		if d.ASCII == "" || len(d.ASCII) > maxNameLen || d.ASCII != strings.ToLower(d.ASCII) {
			t.Fatalf("ParseDomainName(%q): bad ASCII form %q", s, d.ASCII)
		}
		for _, r := range d.ASCII {
			if r >= utf8.RuneSelf {
				t.Fatalf("ParseDomainName(%q): ASCII form %q is not ASCII", s, d.ASCII)
			}
		}
		if !strings.HasSuffix(d.Unicode, "."+d.TLD) {
			t.Fatalf("ParseDomainName(%q): TLD %q is not the last label of %q", s, d.TLD, d.Unicode)
		}
		for _, form := range []string{d.ASCII, d.Unicode} {
			again, prob := ParseDomainName(form, p)
			if prob != nil || again != d {
				t.Fatalf("ParseDomainName(%q) = %+v, but re-parsing %q gives %+v, %v", s, d, form, again, prob)
			}
		}
		if prob := CheckHomepageURL("http://"+d.Unicode+"/", []DomainName{d}); prob != nil {
			t.Fatalf("homepage on %+v refused: %v", d, prob)
		}
	})
}
