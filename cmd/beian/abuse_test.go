package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/beian/beian/api"
	"github.com/golang-jwt/jwt/v5"
)

// Abuse tests: hostile requests against the whole service in process. Each
// is refused with its documented error code, and nothing is written: the
// event log's head (and for uploads the blob store) is as it was.
// limits_test.go and authz_test.go hold the cases these extend.

// schemaDoc is the served schema, read from its source.
func schemaDoc(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("../../api/schema/schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// block returns the lines of a type or input block of the schema.
func block(t testing.TB, schema, kind, name string) []string {
	t.Helper()
	_, rest, ok := strings.Cut(schema, kind+" "+name+" {\n")
	if !ok {
		t.Fatalf("schema has no %s %s", kind, name)
	}
	body, _, _ := strings.Cut(rest, "\n}")
	var lines []string
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, `"`) && !strings.HasPrefix(line, "#") {
			lines = append(lines, line)
		}
	}
	return lines
}

var schemaFieldName = regexp.MustCompile(`^(\w+)\s*[(:]`)

// schemaFields lists the fields of a schema type: Query or Mutation.
func schemaFields(t testing.TB, schema, typ string) []string {
	t.Helper()
	var names []string
	for _, line := range block(t, schema, "type", typ) {
		if m := schemaFieldName.FindStringSubmatch(line); m != nil {
			names = append(names, m[1])
		}
	}
	return names
}

// TestEveryOperationHasAnAbuseCase: the authorisation matrix (and with it
// the malformed-text test) has a case for every query and mutation of the
// schema, so a new operation without one fails here.
func TestEveryOperationHasAnAbuseCase(t *testing.T) {
	schema := schemaDoc(t)
	var want []string
	for _, typ := range []string{"Query", "Mutation"} {
		want = append(want, schemaFields(t, schema, typ)...)
	}
	var have []string
	for _, op := range operations() {
		name, _, _ := strings.Cut(op.name, " ") // "filing reveal" is a case of filing
		have = append(have, name)
	}
	sort.Strings(want)
	sort.Strings(have)
	have = slices.Compact(have)
	if !slices.Equal(want, have) {
		t.Errorf("schema operations %v\nmatrix operations %v", want, have)
	}
}

// refused posts a body and checks the refusal: status, code, and that the
// log did not move.
func (p *inProcess) refused(t *testing.T, token string, body []byte, status int, code string) reply {
	t.Helper()
	before := p.head(t)
	r := send(t, p.url, "/graphql", token, "application/json", body)
	if r.status != status || r.code() != code {
		t.Errorf("HTTP %d %s; want HTTP %d %s: %.300s", r.status, r.code(), status, code, r.body)
	}
	if after := p.head(t); after != before {
		t.Errorf("refused, yet the log moved from %d to %d", before, after)
	}
	return r
}

// TestQueryBombsWriteNothing: depth, alias and fragment bombs and batches
// carrying mutations are refused before anything runs.
func TestQueryBombsWriteNothing(t *testing.T) {
	p := startInProcess(t, t.TempDir())
	token := p.as("applicant", "acct-bomb").token
	start := `verifyType(input: {province: "44", city: "深圳市", nature: "enterprise", certificateType: "business_licence",
		certificateNumber: "91440300MA5F12342Q", domains: ["example.com"], resource: {kind: "instance", instanceId: "ins-demo"}})`
	var aliases strings.Builder
	for i := range 40 {
		fmt.Fprintf(&aliases, "m%d: %s { filingId }\n", i, start)
	}
	// Exponential fragments: F(n) spreads F(n-1) twice, 2^40 selections
	// when expanded naively.
	var exponential strings.Builder
	exponential.WriteString("mutation { ...F40 }\nfragment F0 on Mutation { " + start + " { filingId } }\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&exponential, "fragment F%d on Mutation { ...F%d ...F%d }\n", i, i-1, i-1)
	}
	// Wide fragments: each level multiplies the fields under the limit of
	// aliases (none are used) until the selection limit.
	var wide strings.Builder
	wide.WriteString("{ ...W6 }\nfragment W0 on Query { me { account role } provinces { code name nameEn abbreviation supported } }\n")
	for i := 1; i <= 6; i++ {
		fmt.Fprintf(&wide, "fragment W%d on Query { me { ...M } ...W%d ...W%d ...W%d }\n", i, i-1, i-1, i-1)
	}
	wide.WriteString("fragment M on Me { account role }\n")
	mutations := []struct {
		name string
		body []byte
		says string // in the message: refused for the reason the case is about
	}{
		{"alias bomb of mutations", body("mutation {\n" + aliases.String() + "}"), "too many aliases"},
		{"exponential fragments", body(exponential.String()), "too many selections"},
		{"cyclic fragments", body("mutation { ...A }\nfragment A on Mutation { " + start + " { filingId } ...B }\nfragment B on Mutation { ...A }"), "within itself"},
		{"depth bomb beside a mutation", namedOperation("M", "mutation M { "+start+" { filingId } }\nquery Q { reviewQueue "+
			strings.Repeat("{ edges { node ", 8)+"{ filingId }"+strings.Repeat(" } }", 8)+" }"), "max depth"},
		{"batched mutations", []byte(`[{"query":"mutation { ` + jsonEscape(start) + ` { filingId } }"},{"query":"{ me { account } }"}]`), "batched"},
		{"oversized mutation", body("mutation { " + start + " { filingId } }" + strings.Repeat("#", 2<<20)), "exceeds"},
		{"not JSON", []byte(`{"query": "mutation { ` + jsonEscape(start)), "not valid JSON"},
		{"two operations no name", body("mutation A { " + start + " { filingId } } mutation B { " + start + " { filingId } }"), "operation name"},
	}
	for _, tc := range mutations {
		t.Run(tc.name, func(t *testing.T) {
			before := p.head(t)
			r := send(t, p.url, "/graphql", token, "application/json", tc.body)
			if r.code() != "VALIDATION" || r.status >= 500 || !strings.Contains(r.errors[0].Message, tc.says) {
				t.Errorf("HTTP %d %s; want VALIDATION saying %q: %.300s", r.status, r.code(), tc.says, r.body)
			}
			if after := p.head(t); after != before {
				t.Errorf("refused, yet the log moved from %d to %d", before, after)
			}
		})
	}
	t.Run("wide fragments", func(t *testing.T) {
		r := send(t, p.url, "/graphql", token, "application/json", body(wide.String()))
		if r.code() != "VALIDATION" || !strings.Contains(r.errors[0].Message, "too many selections") {
			t.Errorf("HTTP %d %s; want VALIDATION for too many selections: %.300s", r.status, r.code(), r.body)
		}
	})
}

// namedOperation is a request body naming the operation to run.
func namedOperation(name, doc string) []byte {
	b, _ := json.Marshal(map[string]any{"query": doc, "operationName": name})
	return b
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// TestHostileTokensWriteNothing: expired, forged and malformed tokens on a
// mutation are refused as UNAUTHENTICATED (HTTP 401) before it runs.
func TestHostileTokensWriteNothing(t *testing.T) {
	dir := t.TempDir()
	p := startInProcess(t, dir)
	secret, err := api.LoadOrCreateSecret(filepath.Join(dir, devSecretFile))
	if err != nil {
		t.Fatal(err)
	}
	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	now := time.Now()
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "acct-hostile", "role": "admin", "iss": "beian", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		edit(c)
		return c
	}
	unsigned := func(header, payload string) string {
		enc := base64.RawURLEncoding.EncodeToString
		return enc([]byte(header)) + "." + enc([]byte(payload)) + "."
	}
	expiredTokens, err := api.NewTokens(secret, func() time.Time { return now.Add(-2 * time.Hour) })
	if err != nil {
		t.Fatal(err)
	}
	expired, err := expiredTokens.Mint("acct-hostile", "admin", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	valid := sign(jwt.SigningMethodHS256, secret, claims(func(jwt.MapClaims) {}))
	tokens := map[string]string{
		"expired":           expired,
		"wrong signature":   sign(jwt.SigningMethodHS256, bytes.Repeat([]byte("k"), 32), claims(func(jwt.MapClaims) {})),
		"alg none":          unsigned(`{"alg":"none","typ":"JWT"}`, `{"sub":"acct-hostile","role":"admin","iss":"beian","exp":4102444800}`),
		"alg none with sig": unsigned(`{"alg":"none"}`, `{"sub":"a","role":"admin","iss":"beian","exp":4102444800}`) + "c2ln",
		"HS512":             sign(jwt.SigningMethodHS512, secret, claims(func(jwt.MapClaims) {})),
		"no expiry":         sign(jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { delete(c, "exp") })),
		"other issuer":      sign(jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["iss"] = "evil" })),
		"system role":       sign(jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["role"] = "system" })),
		"unknown role":      sign(jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["role"] = "root" })),
		"no account":        sign(jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { delete(c, "sub") })),
		"not yet valid":     sign(jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() })),
		"payload swapped":   strings.Join([]string{strings.Split(valid, ".")[0], base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"acct-other","role":"admin","iss":"beian","exp":4102444800}`)), strings.Split(valid, ".")[2]}, "."),
		"garbage":           "not.a.token",
		"malformed UTF-8":   "tok\xffen",
	}
	mutation := body(verifyTypeMutation)
	for name, token := range tokens {
		t.Run(name, func(t *testing.T) {
			p.refused(t, token, mutation, http.StatusUnauthorized, "UNAUTHENTICATED")
			before := p.blobs(t)
			ct, upload := multipartBody(t, "file", "a.png", "image/png", pngBytes)
			if r := send(t, p.url, "/uploads", token, ct, upload); r.status != http.StatusUnauthorized || r.code() != "UNAUTHENTICATED" {
				t.Errorf("upload: HTTP %d %s", r.status, r.code())
			}
			if p.blobs(t) != before {
				t.Error("a refused upload was stored")
			}
		})
	}
	// The same token, well signed, is accepted: the cases above fail for
	// what they say.
	if r := send(t, p.url, "/graphql", valid, "application/json", body(`{ me { account } }`)); len(r.errors) > 0 {
		t.Fatalf("the valid token: %s", r.body)
	}
}

// TestHostileUploadsStoreNothing: uploads too large, of the wrong type, of
// the wrong role or malformed are refused and nothing is stored.
func TestHostileUploadsStoreNothing(t *testing.T) {
	p := startInProcess(t, t.TempDir())
	applicant, reviewer := p.as("applicant", "acct-upload").token, p.as("reviewer", "rev-1").token
	limit := p.svc.rules.Channel.MaxMaterialBytes
	big := append(append([]byte{}, pngBytes...), bytes.Repeat([]byte{0}, int(limit))...)
	pngCT, pngBody := multipartBody(t, "file", "a.png", "image/png", pngBytes)
	bigCT, bigBody := multipartBody(t, "file", "big.png", "image/png", big)
	htmlCT, htmlBody := multipartBody(t, "file", "a.png", "image/png", []byte("<html><script>alert(1)</script></html>"))
	cases := []struct {
		name, token, contentType string
		body                     []byte
		status                   int
		code                     string
	}{
		{"over the size limit", applicant, bigCT, bigBody, http.StatusBadRequest, "VALIDATION"},
		{"HTML called a PNG", applicant, htmlCT, htmlBody, http.StatusBadRequest, "VALIDATION"},
		{"reviewer", reviewer, pngCT, pngBody, http.StatusForbidden, "FORBIDDEN"},
		{"no token", "", pngCT, pngBody, http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"truncated multipart", applicant, pngCT, pngBody[:len(pngBody)/2], http.StatusBadRequest, "VALIDATION"},
		{"not multipart", applicant, "application/octet-stream", pngBytes, http.StatusBadRequest, "VALIDATION"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := p.blobs(t)
			r := send(t, p.url, "/uploads", tc.token, tc.contentType, tc.body)
			if r.status != tc.status || r.code() != tc.code {
				t.Errorf("HTTP %d %s; want HTTP %d %s: %.300s", r.status, r.code(), tc.status, tc.code, r.body)
			}
			if after := p.blobs(t); after != before {
				t.Errorf("refused, yet %d files were stored", after-before)
			}
		})
	}
	// The same PNG from the applicant is stored: the refusals are real.
	if r := send(t, p.url, "/uploads", applicant, pngCT, pngBody); r.status != http.StatusCreated {
		t.Fatalf("a good upload: HTTP %d %s", r.status, r.body)
	}
}

// inputField is a field of a schema input type.
type inputField struct {
	name, typ string // typ without ! and []
	list      bool
	required  bool
}

var inputFieldLine = regexp.MustCompile(`^(\w+):\s*(\[?)(\w+)[!\]]*`)

func inputFields(t testing.TB, schema, typ string) []inputField {
	t.Helper()
	var fields []inputField
	for _, line := range block(t, schema, "input", typ) {
		m := inputFieldLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("input %s: cannot read %q", typ, line)
		}
		fields = append(fields, inputField{name: m[1], typ: m[3], list: m[2] == "[", required: strings.HasSuffix(m[0], "!")})
	}
	return fields
}

// textCase is one input with one text field set to a hostile value.
type textCase struct {
	path  string
	input map[string]any
}

// textCases sets every String and ID field of an input type (nested input
// objects and lists included), one at a time, to bad, on a copy of base.
// It marks the input types it walked.
func textCases(t testing.TB, schema, typ string, base map[string]any, bad any, walked map[string]bool) []textCase {
	t.Helper()
	walked[typ] = true
	var cases []textCase
	for _, f := range inputFields(t, schema, typ) {
		set := func(v any) map[string]any {
			in := clone(base)
			if f.list {
				v = []any{v}
			}
			in[f.name] = v
			return in
		}
		switch f.typ {
		case "String", "ID":
			cases = append(cases, textCase{path: f.name, input: set(bad)})
		case "Int", "Boolean", "Time", "Float":
		default: // a nested input object: its fields, inside a valid parent
			nested := nestedBase(t, schema, f.typ, base[f.name])
			for _, c := range textCases(t, schema, f.typ, nested, bad, walked) {
				cases = append(cases, textCase{path: f.name + "." + c.path, input: set(c.input)})
			}
		}
	}
	return cases
}

// nestedBase is the value a nested input starts from: the base's own, or
// its required text fields filled in.
func nestedBase(t testing.TB, schema, typ string, v any) map[string]any {
	t.Helper()
	if list, ok := v.([]any); ok && len(list) > 0 {
		v = list[0]
	}
	if list, ok := v.([]map[string]any); ok && len(list) > 0 {
		v = list[0]
	}
	if m, ok := v.(map[string]any); ok {
		return m
	}
	m := map[string]any{}
	for _, f := range inputFields(t, schema, typ) {
		if f.required && (f.typ == "String" || f.typ == "ID") {
			m[f.name] = "x"
		}
	}
	return m
}

// clone copies a JSON-like map deeply enough to change one field.
func clone(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// hostileText is malformed text as a client can send it: a NUL byte, raw
// bytes that are not UTF-8, and an unpaired surrogate escape. The raw forms
// are spliced into the JSON body in place of their markers.
var hostileText = map[string]struct {
	marker string
	raw    string
}{
	"NUL":             {"a\x00b", ""},
	"malformed UTF-8": {"@@BAD-UTF8@@", "广东\xff\xfe省"},
	"lone surrogate":  {"@@SURROGATE@@", `a\ud800b`},
}

// TestMalformedTextInEveryField: NUL bytes and malformed UTF-8 in every
// text field of every input type are refused as VALIDATION naming the
// field, in Chinese and English, and nothing is written.
func TestMalformedTextInEveryField(t *testing.T) {
	p := startInProcess(t, t.TempDir())
	schema := schemaDoc(t)
	owner := p.as("applicant", "acct-text")
	admin := p.as("admin", "adm-text").token
	id := str(owner.must(verifyTypeMutation, nil), "verifyType", "filingId")
	inputOf := regexp.MustCompile(`\$in: (\w+)!`)
	type target struct{ name, query, typ string }
	var targets []target
	for _, op := range operations() {
		if m := inputOf.FindStringSubmatch(op.query); m != nil {
			targets = append(targets, target{op.name, op.query, m[1]})
		}
	}
	// The inputs the matrix writes inline or that queries take.
	targets = append(targets,
		target{"recognizeCertificate", `mutation($in: RecognizeCertificateInput!) { recognizeCertificate(input: $in) { name { value } } }`, "RecognizeCertificateInput"},
		target{"filings", `query($in: FilingFilter) { filings(filter: $in) { edges { node { id } } } }`, "FilingFilter"},
		target{"filing reveal", fmt.Sprintf(`query($in: RevealInput!) { filing(id: %q, reveal: $in) { id } }`, id), "RevealInput"})
	bases := map[string]map[string]any{"recognizeCertificate": {"sha256": strings.Repeat("0", 64)}, "filings": {},
		"filing reveal": {"reason": "abuse test"}}
	for _, op := range operations() {
		if vars := op.vars(id); vars != nil {
			if in, ok := vars["in"].(map[string]any); ok {
				bases[op.name] = in
			}
		}
	}
	covered := map[string]bool{}
	for _, tg := range targets {
		for kind, bad := range hostileText {
			for _, c := range textCases(t, schema, tg.typ, bases[tg.name], bad.marker, covered) {
				t.Run(tg.name+"/"+c.path+"/"+kind, func(t *testing.T) {
					b, err := json.Marshal(map[string]any{"query": tg.query, "variables": map[string]any{"in": c.input}})
					if err != nil {
						t.Fatal(err)
					}
					if bad.raw != "" {
						b = bytes.ReplaceAll(b, []byte(bad.marker), []byte(bad.raw))
					}
					checkTextRefusal(t, p.refused(t, admin, b, http.StatusOK, "VALIDATION"))
				})
			}
		}
	}
	// Every input type of the schema was walked.
	for _, m := range regexp.MustCompile(`(?m)^input (\w+) \{`).FindAllStringSubmatch(schema, -1) {
		if !covered[m[1]] {
			t.Errorf("input %s has no malformed-text case", m[1])
		}
	}
	// The same NUL as a GraphQL string escape in the document itself.
	t.Run("NUL in the query", func(t *testing.T) {
		q := fmt.Sprintf(`mutation { withdrawFiling(input: {filingId: %q, reason: "a\u0000b"}) { filingId } }`, id)
		checkTextRefusal(t, p.refused(t, owner.token, body(q), http.StatusOK, "VALIDATION"))
	})
}

// checkTextRefusal: the refusal names an invalid_text field in both languages.
func checkTextRefusal(t *testing.T, r reply) {
	t.Helper()
	if len(r.errors) == 0 {
		return
	}
	fields, _ := r.errors[0].Extensions["fields"].([]any)
	for _, f := range fields {
		if str(f, "code") == "invalid_text" && str(f, "path") != "" && str(f, "message", "zh") != "" && str(f, "message", "en") != "" {
			return
		}
	}
	t.Errorf("no invalid_text field named: %.400s", r.body)
}
