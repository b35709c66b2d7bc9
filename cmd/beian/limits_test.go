package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// post sends a raw body to /graphql and returns the status and first error.
func post(t *testing.T, url, token string, body []byte) (int, string, string) {
	t.Helper()
	r := send(t, url, "/graphql", token, "application/json", body)
	if len(r.errors) == 0 {
		return r.status, "", ""
	}
	return r.status, r.code(), r.errors[0].Message
}

func body(query string) []byte {
	b, _ := json.Marshal(map[string]any{"query": query})
	return b
}

func TestLimitsRefuseHostileRequests(t *testing.T) {
	p := startInProcess(t, t.TempDir())
	token := p.as("reviewer", "rev-1").token
	cases := []struct {
		name   string
		body   []byte
		token  string
		status int
		code   string
		says   string
	}{
		{"depth bomb", body("{ reviewQueue " + strings.Repeat("{ edges { node ", 8) + "{ filingId }" + strings.Repeat(" } }", 8) + " }"),
			token, http.StatusOK, "VALIDATION", "depth"},
		{"alias bomb", body("{ " + strings.Repeat("x: me { account } ", 1) + aliases(100) + " }"), token, http.StatusBadRequest, "VALIDATION", "aliases"},
		{"fragment cycle", body(`query { ...A } fragment A on Query { me { account } ...B } fragment B on Query { ...A }`),
			token, http.StatusOK, "VALIDATION", "ragment"},
		{"10 MB body", body("{ me { account } }" + strings.Repeat(" ", 10<<20)), token, http.StatusBadRequest, "VALIDATION", "exceeds"},
		{"batched queries", []byte(`[{"query":"{ me { account } }"},{"query":"{ me { role } }"}]`), token, http.StatusBadRequest, "VALIDATION", "batched"},
		{"forged token", body("{ me { account } }"), "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIn0.", http.StatusUnauthorized, "UNAUTHENTICATED", "token"},
		{"page over 100", body("{ filings(first: 101) { edges { node { id } } } }"), token, http.StatusOK, "VALIDATION", "first"},
		{"no token", body("{ me { account } }"), "", http.StatusOK, "UNAUTHENTICATED", "token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, code, msg := post(t, p.url, tc.token, tc.body)
			if status != tc.status || code != tc.code || !strings.Contains(msg, tc.says) {
				t.Errorf("HTTP %d %s %q; want HTTP %d %s mentioning %q", status, code, msg, tc.status, tc.code, tc.says)
			}
		})
	}
}

func aliases(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("a")
		b.WriteString(strings.Repeat("b", i))
		b.WriteString(": me { account } ")
	}
	return b.String()
}

// TestProductionModeHidesThePlayground: without --dev there is no GraphiQL
// and no introspection, and the dev secret is not used.
func TestProductionModeHidesThePlayground(t *testing.T) {
	dir := t.TempDir()
	p := startWith(t, config{Data: dir, JWTSecret: filepath.Join(dir, "operator-secret")})
	token := p.as("reviewer", "rev-1").token
	if status, code, _ := post(t, p.url, token, body("{ __schema { types { name } } }")); code != "VALIDATION" {
		t.Errorf("introspection without --dev: HTTP %d %q", status, code)
	}
	if status, _ := (&client{t: t, url: p.url}).get("/"); status != http.StatusNotFound {
		t.Errorf("GraphiQL without --dev: HTTP %d", status)
	}
	if status, _ := (&client{t: t, url: p.url}).get("/healthz"); status != http.StatusOK {
		t.Errorf("healthz: HTTP %d", status)
	}
}
