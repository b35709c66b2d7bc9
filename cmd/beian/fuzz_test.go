package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"path/filepath"
	"testing"
	"time"
)

// The fuzz targets of the HTTP boundary run one service for the whole run
// (one per fuzzing worker): its real handler, stores and blob store.
// Property of each: no panic, no HTTP 5xx, no INTERNAL error, and when the
// request is refused the event log's head and the blob store are as they
// were.

// head is the position of the last event in the log.
func (p *inProcess) head(t testing.TB) uint64 {
	t.Helper()
	h, err := p.svc.events.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// blobs counts the files the blob store keeps, temporary ones included.
func (p *inProcess) blobs(t testing.TB) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(p.svc.cfg.Data, "blobs"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// reply is an HTTP answer with its GraphQL-shaped errors.
type reply struct {
	status int
	body   []byte
	errors []gqlError
}

func (r reply) code() string {
	if len(r.errors) == 0 {
		return ""
	}
	code, _ := r.errors[0].Extensions["code"].(string)
	return code
}

// send posts a raw body to a path with a token and content type.
func send(t testing.TB, url, path, token, contentType string, body []byte) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := reply{status: resp.StatusCode}
	if out.body, err = io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Errors []gqlError `json:"errors"`
	}
	_ = json.Unmarshal(out.body, &parsed)
	out.errors = parsed.Errors
	return out
}

// checkRefusal fails on a server error, and on a write by a refused request.
func checkRefusal(t testing.TB, r reply, wrote bool) {
	t.Helper()
	if r.status >= 500 || r.code() == "INTERNAL" {
		t.Fatalf("server error: HTTP %d %s", r.status, r.body)
	}
	if len(r.errors) > 0 && wrote {
		t.Fatalf("refused (HTTP %d %s) but written", r.status, r.body)
	}
}

const verifyTypeMutation = `mutation { verifyType(input: {province: "44", city: "深圳市", nature: "enterprise",
	certificateType: "business_licence", certificateNumber: "91440300MA5F12342Q", domains: ["example.com"],
	resource: {kind: "instance", instanceId: "ins-demo"}}) { filingId position } }`

// FuzzGraphQLVariables posts arbitrary variables with every operation of
// the authorisation matrix, as the filing's owner or an admin. "$FILING" in
// the variables stands for a filing the owner just started.
func FuzzGraphQLVariables(f *testing.F) {
	p := startInProcess(f, f.TempDir())
	ops := operations()
	for i, op := range ops {
		vars, err := json.Marshal(op.vars("$FILING"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), vars, false)
		f.Add(uint8(i), vars, true)
	}
	f.Add(uint8(9), []byte(`{"in":{"filingId":"$FILING","name":"\u0000","certificateAddress":"\ud800","principal":{}}}`), false)
	f.Add(uint8(10), []byte(`{"in":{"filingId":"$FILING","name":"x","domains":[1e999],"homepageUrls":null,"serviceContent":[[]]}}`), true)
	f.Add(uint8(1), []byte(`{"id":"$FILING","pos":"99999999999999999999"}`), false)
	f.Add(uint8(3), []byte(`{"id":{"$FILING":1}}`), true)
	f.Add(uint8(0), []byte(`[1,2]`), false)
	f.Add(uint8(0), []byte("{\"in\":\"\xff\"}"), false)
	admin := p.as("admin", "fuzz-admin").token
	owners := 0 // an account has one filing in progress: each input gets its own
	f.Fuzz(func(t *testing.T, opIndex uint8, vars []byte, asAdmin bool) {
		owners++
		owner, err := p.svc.tokens.Mint(fmt.Sprintf("fuzz-owner-%d", owners), "applicant", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		started := (&client{t: t, url: p.url, token: owner}).must(verifyTypeMutation, nil)
		vars = bytes.ReplaceAll(vars, []byte("$FILING"), []byte(str(started, "verifyType", "filingId")))
		op := ops[int(opIndex)%len(ops)]
		query, _ := json.Marshal(op.query)
		body := append(append(append([]byte(`{"query":`), query...), `,"variables":`...), vars...)
		body = append(body, '}')
		token := owner
		if asAdmin {
			token = admin
		}
		before := p.head(t)
		r := send(t, p.url, "/graphql", token, "application/json", body)
		checkRefusal(t, r, p.head(t) != before)
	})
}

// multipartBody is an upload as a browser sends it: one part with a field
// name, a file name and a content type.
func multipartBody(t testing.TB, field, filename, partType string, content []byte) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="`+field+`"; filename="`+filename+`"`)
	h.Set("Content-Type", partType)
	part, err := w.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(content)
	w.Close()
	return w.FormDataContentType(), b.Bytes()
}

// FuzzUpload posts arbitrary bodies, content types and parts to /uploads.
// Besides no 5xx: a refusal stores nothing, and what is stored is a JPEG,
// PNG or PDF whatever the client called it.
func FuzzUpload(f *testing.F) {
	p := startInProcess(f, f.TempDir())
	seeds := []struct {
		field, filename, partType string
		content                   []byte
	}{
		{"file", "licence.png", "image/png", pngBytes},
		{"file", "licence.pdf", "application/pdf", []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF")},
		{"file", "id.jpg", "image/jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9")},
		{"file", "../../etc/passwd", "image/png", []byte("root:x:0:0")},
		{"file", "x.png\x00.exe", "text/html", []byte("<script>alert(1)</script>")},
		{"other", "a.png", "image/png", pngBytes},
		{"file", "empty.png", "image/png", nil},
	}
	for _, s := range seeds {
		ct, body := multipartBody(f, s.field, s.filename, s.partType, s.content)
		f.Add(ct, body)
	}
	f.Add("multipart/form-data", []byte("--x\r\n\r\n"))
	f.Add("multipart/form-data; boundary=", []byte(""))
	f.Add("application/json", []byte(`{"file":"x"}`))
	token := p.as("applicant", "fuzz-uploader").token
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		if !sendableHeader(contentType) {
			t.Skip("no HTTP client sends this header value")
		}
		before := p.blobs(t)
		r := send(t, p.url, "/uploads", token, contentType, body)
		after := p.blobs(t)
		if r.status >= 500 {
			t.Fatalf("server error: HTTP %d %s", r.status, r.body)
		}
		if r.status != http.StatusCreated {
			if after != before {
				t.Fatalf("refused (HTTP %d %s) but %d files stored", r.status, r.body, after-before)
			}
			if r.code() != "VALIDATION" {
				t.Fatalf("refused without VALIDATION: HTTP %d %s", r.status, r.body)
			}
			return
		}
		var stored struct{ ContentType string }
		if err := json.Unmarshal(r.body, &stored); err != nil {
			t.Fatal(err)
		}
		switch stored.ContentType {
		case "image/jpeg", "image/png", "application/pdf":
		default:
			t.Fatalf("stored a %q", stored.ContentType)
		}
	})
}

// sendableHeader: Go's client refuses header values with control
// characters other than tab, as HTTP does.
func sendableHeader(v string) bool {
	for i := range len(v) {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
