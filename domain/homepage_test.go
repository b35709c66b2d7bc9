package domain

import (
	"net/url"
	"strings"
	"testing"
)

func siteDomains(tb testing.TB) []DomainName {
	tb.Helper()
	p := loadTLDPolicy(tb)
	var ds []DomainName
	for _, s := range []string{"example.com", "例子.中国"} {
		d, prob := ParseDomainName(s, p)
		if prob != nil {
			tb.Fatal(prob)
		}
		ds = append(ds, d)
	}
	return ds
}

func TestCheckHomepageURL(t *testing.T) {
	domains := siteDomains(t)
	tests := []struct {
		raw  string
		code string // "" for valid
	}{
		{"http://example.com", ""},
		{"https://example.com/", ""},
		{"http://www.example.com/index.html?lang=zh&x=1", ""},
		{"HTTPS://WWW.EXAMPLE.COM/", ""},
		{"http://a.b.example.com/", ""},
		{"http://example.com./", ""},
		{"http://example.com:80/", ""},
		{"https://example.com:443/", ""},
		{"http://例子.中国/", ""},
		{"http://www.例子.中国/首页", ""},
		{"http://www.xn--fsqu00a.xn--fiqs8s/", ""},
		{"http://%E4%BE%8B%E5%AD%90.xn--fiqs8s/", ""},
		{"http://ＥＸＡＭＰＬＥ.com/", ""},

		{"", CodeHomepageFormat},
		{"http://", CodeHomepageFormat},
		{"http:example.com", CodeHomepageFormat},
		{"http:///path", CodeHomepageFormat},
		{"http://user:pw@example.com/", CodeHomepageFormat},
		{"http://example.com@evil.com/", CodeHomepageFormat},
		{"http://example.com/#top", CodeHomepageFormat},
		{"http://example.com/#", CodeHomepageFormat},
		{"http://exa mple.com/", CodeHomepageFormat},
		{" http://example.com/", CodeHomepageFormat},
		{"http://example.com/\n", CodeHomepageFormat},
		{"http://example.com\\@evil.com/", CodeHomepageFormat},
		{"http://1.2.3.4/", CodeHomepageFormat},
		{"http://[::1]/", CodeHomepageFormat},
		{"http://example.com:/", CodeHomepageFormat},
		{"http://exa_mple.com/", CodeHomepageFormat},
		{"http://-example.com/", CodeHomepageFormat},
		{"http://%zz/", CodeHomepageFormat},
		{"http://example.com/" + strings.Repeat("a", 3000), CodeHomepageFormat},

		{"ftp://example.com/", CodeHomepageScheme},
		{"//example.com/", CodeHomepageScheme},
		{"www.example.com", CodeHomepageScheme},
		{"javascript:alert(1)", CodeHomepageScheme},
		{"httpx://example.com/", CodeHomepageScheme},

		{"http://example.com:8080/", CodeHomepagePort},
		{"https://example.com:80/", CodeHomepagePort},
		{"http://example.com:443/", CodeHomepagePort},
		{"http://example.com:080/", CodeHomepagePort},

		{"http://evil.com/", CodeHomepageForeignDomain},
		{"http://example.com.evil.com/", CodeHomepageForeignDomain},
		{"http://notexample.com/", CodeHomepageForeignDomain},
		{"http://com/", CodeHomepageForeignDomain},
		{"http://例子.公司/", CodeHomepageForeignDomain},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			prob := CheckHomepageURL(tt.raw, domains)
			if tt.code == "" {
				if prob != nil {
					t.Fatalf("CheckHomepageURL(%q) = %v, want nil", tt.raw, prob)
				}
				return
			}
			if prob == nil {
				t.Fatalf("CheckHomepageURL(%q) = nil, want %s", tt.raw, tt.code)
			}
			checkProblem(t, prob, tt.code)
		})
	}
}

func TestCheckHomepageURLMessages(t *testing.T) {
	domains := siteDomains(t)
	if p := CheckHomepageURL("http://www.evil.com/", domains); p == nil || !strings.Contains(p.Message.En, `"www.evil.com"`) {
		t.Errorf("foreign-domain message should name the host: %v", p)
	}
	if p := CheckHomepageURL("http://xn--fsqu00a.xn--55qx5d/", domains); p == nil || !strings.Contains(p.Message.Zh, "例子.公司") {
		t.Errorf("foreign-domain message should show the Unicode host: %v", p)
	}
	if p := CheckHomepageURL("http://example.com:8080/", domains); p == nil || !strings.Contains(p.Message.En, "8080") {
		t.Errorf("port message should name the port: %v", p)
	}
}

func TestCheckHomepageURLNoDomains(t *testing.T) {
	for _, ds := range [][]DomainName{nil, {{}}} {
		if p := CheckHomepageURL("http://example.com/", ds); p == nil || p.Code != CodeHomepageForeignDomain {
			t.Errorf("domains %v: got %v, want %s", ds, p, CodeHomepageForeignDomain)
		}
	}
}

func FuzzCheckHomepageURL(f *testing.F) {
	domains := siteDomains(f)
	for _, s := range []string{
		"http://example.com/", "https://www.例子.中国/a?b=c", "http://example.com:80/", "https://example.com:8443/",
		"ftp://example.com/", "http://user@example.com/", "http://example.com/#x", "http://evil.com/",
		"http://[::1]:80/", "http://%E4%BE%8B%E5%AD%90.xn--fiqs8s/", "http://example.com\\@evil.com/",
		"http:example.com", "//example.com", "http://example.com./", "HTTP://EXAMPLE.COM:443/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		prob := CheckHomepageURL(raw, domains)
		if prob != nil {
			checkProblem(t, prob, CodeHomepageFormat, CodeHomepageScheme, CodeHomepagePort, CodeHomepageForeignDomain)
			return
		}
		// An accepted URL must be what the checks promise.
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("accepted %q, which does not parse: %v", raw, err)
		}
		if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
			t.Fatalf("accepted %q with scheme %q", raw, u.Scheme)
		}
		if u.User != nil || strings.Contains(raw, "#") {
			t.Fatalf("accepted %q with user info or fragment", raw)
		}
		host, p := toASCIIName(u.Hostname())
		if p != nil {
			t.Fatalf("accepted %q whose host does not convert: %v", raw, p)
		}
		if !strings.HasSuffix("."+host, ".example.com") && !strings.HasSuffix("."+host, ".xn--fsqu00a.xn--fiqs8s") {
			t.Fatalf("accepted %q with foreign host %q", raw, host)
		}
	})
}
