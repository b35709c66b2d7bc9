package domain

import (
	"strings"
	"testing"
)

func TestCheckEmail(t *testing.T) {
	long := strings.Repeat("a", 63)
	tests := []struct {
		name    string
		in      string
		message string // "" = valid, else part of the English message
	}{
		{"plain", "zhangsan@example.com", ""},
		{"subdomain and digits", "li.si+beian@mail.example.com.cn", ""},
		{"atext symbols", "a!#$%&'*+-/=?^_`{|}~@example.cn", ""},
		{"hyphen in label", "x@my-site.example.cn", ""},
		{"IDN domain", "info@例子.中国", ""},
		{"UTF-8 local part", "张三@example.cn", ""},
		{"combining mark in label", "a@हिन्दी.भारत", ""},
		{"64-byte local part", strings.Repeat("a", 64) + "@example.cn", ""},
		{"254 bytes", strings.Repeat("a", 64) + "@" + long + "." + long + "." + strings.Repeat("a", 58) + ".cn", ""},
		{"63-byte label", "a@" + long + ".cn", ""},
		// 66 bytes of UTF-8 but a shorter Punycode label: not refused here.
		{"long IDN label", "a@" + strings.Repeat("例", 22) + ".中国", ""},

		{"empty", "", "empty"},
		{"invalid UTF-8", "a\xff@example.cn", "UTF-8"},
		{"255 bytes", strings.Repeat("a", 64) + "@" + long + "." + long + "." + strings.Repeat("a", 59) + ".cn", "longer than 254"},
		{"display name", "Zhang San <zs@example.cn>", "bare address"},
		{"angle brackets", "<zs@example.cn>", "bare address"},
		{"leading space", " zs@example.cn", "bare address"},
		{"trailing newline", "zs@example.cn\n", "bare address"},
		{"ideographic space", "zs@example.cn\u3000", "bare address"},
		{"no @", "zs.example.cn", "exactly one @"},
		{"two @", "zs@x@example.cn", "exactly one @"},
		{"empty local", "@example.cn", "nothing before"},
		{"65-byte local part", strings.Repeat("a", 65) + "@example.cn", "longer than 64"},
		{"leading dot local", ".zs@example.cn", "start or end with a dot"},
		{"trailing dot local", "zs.@example.cn", "start or end with a dot"},
		{"double dot local", "z..s@example.cn", "two dots"},
		{"quoted local", `"zs"@example.cn`, `'"'`},
		{"comma in local", "z,s@example.cn", "','"},
		{"empty domain", "zs@", "nothing after"},
		{"no dot", "zs@localhost", "at least one dot"},
		{"leading dot domain", "zs@.example.cn", "start or end with a dot"},
		{"trailing dot domain", "zs@example.cn.", "start or end with a dot"},
		{"double dot domain", "zs@example..cn", "two dots"},
		{"leading hyphen", "zs@-example.cn", "hyphen"},
		{"trailing hyphen", "zs@example-.cn", "hyphen"},
		{"underscore in domain", "zs@ex_ample.cn", "'_'"},
		{"address literal", "zs@[127.0.0.1]", "'['"},
		{"IP address", "zs@127.0.0.1", "all-digit"},
		{"64-byte label", "a@" + long + "a.cn", "longer than 63"},
		{"ideographic full stop", "zs@例子。中国", "at least one dot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := CheckEmail(tt.in)
			if tt.message == "" {
				if p != nil {
					t.Fatalf("CheckEmail(%q) = %v, want valid", tt.in, p)
				}
				return
			}
			checkProblem(t, p, CodeEmailFormat)
			if !strings.Contains(p.Message.En, tt.message) {
				t.Errorf("message %q does not mention %q", p.Message.En, tt.message)
			}
		})
	}
}

func FuzzCheckEmail(f *testing.F) {
	for _, s := range []string{
		"zhangsan@example.com", "info@例子.中国", "Zhang San <zs@example.cn>",
		"zs@127.0.0.1", "z..s@example.cn", "a\xff@example.cn", "", "@",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := CheckEmail(s)
		if p != nil {
			checkProblem(t, p, CodeEmailFormat)
			return
		}
		local, domain, _ := strings.Cut(s, "@")
		switch {
		case len(s) > 254 || len(local) > 64:
			t.Fatalf("%q is too long but valid", s)
		case strings.Count(s, "@") != 1 || strings.ContainsAny(s, "<> \t\r\n\""):
			t.Fatalf("%q is not a bare addr-spec but valid", s)
		case !strings.Contains(domain, ".") || strings.Contains(s, ".."):
			t.Fatalf("%q has a bad domain or dots but valid", s)
		}
		// Decorating a valid address must make it invalid.
		for _, d := range []string{"<" + s + ">", " " + s, s + " ", "Name <" + s + ">"} {
			if CheckEmail(d) == nil {
				t.Fatalf("%q is valid", d)
			}
		}
	})
}
