package playground

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// get performs a request against Handler and returns the recorded response.
func get(t *testing.T, method, target string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// references returns the src of every <script> and the href of every <link>
// in an HTML document.
func references(t *testing.T, doc []byte) (scripts, links []string) {
	t.Helper()
	root, err := html.Parse(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				switch {
				case n.Data == "script" && a.Key == "src":
					scripts = append(scripts, a.Val)
				case n.Data == "link" && a.Key == "href":
					links = append(links, a.Val)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return scripts, links
}

func TestIndex(t *testing.T) {
	resp := get(t, http.MethodGet, "/", nil)
	doc := body(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache", cc)
	}
	if resp.Header.Get("ETag") == "" {
		t.Error("no ETag")
	}
	for _, bad := range []string{"http://", "https://", "//"} {
		if i := bytes.Index(doc, []byte(bad)); i >= 0 {
			t.Errorf("index.html contains %q: …%s…", bad, doc[max(0, i-40):min(len(doc), i+40)])
		}
	}

	scripts, links := references(t, doc)
	if len(scripts) != 5 || len(links) != 2 {
		t.Fatalf("scripts %q, links %q: want 5 scripts and 2 stylesheets", scripts, links)
	}
	wantType := map[string]string{
		".js":  "text/javascript; charset=utf-8",
		".css": "text/css; charset=utf-8",
	}
	for _, ref := range append(scripts, links...) {
		if !strings.HasPrefix(ref, "assets/") || strings.Contains(ref, ":") {
			t.Errorf("reference %q is not a relative assets/ URL", ref)
			continue
		}
		resp := get(t, http.MethodGet, "/"+ref, nil)
		b := body(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", ref, resp.StatusCode)
			continue
		}
		file, _, _ := strings.Cut(ref, "?")
		if ct, want := resp.Header.Get("Content-Type"), wantType[path.Ext(file)]; ct != want {
			t.Errorf("GET %s: Content-Type %q, want %q", ref, ct, want)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != immutable {
			t.Errorf("GET %s: Cache-Control %q, want %q", ref, cc, immutable)
		}
		if len(b) == 0 {
			t.Errorf("GET %s: empty body", ref)
		}
	}
	// GraphiQL needs React and ReactDOM before it, and playground.js last.
	order := []string{"react.production.min.js", "react-dom.production.min.js", "graphql-ws.min.js", "graphiql.min.js", "playground.js"}
	for i, s := range scripts {
		if !strings.HasPrefix(s, "assets/"+order[i]+"?v=") {
			t.Errorf("script %d is %q, want %s", i, s, order[i])
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	for _, target := range []string{"/", "/assets/playground.js", "/nope"} {
		resp := get(t, http.MethodGet, target, nil)
		resp.Body.Close()
		policy := resp.Header.Get("Content-Security-Policy")
		directives := map[string]string{}
		for _, d := range strings.Split(policy, ";") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
			directives[name] = value
		}
		want := map[string]string{
			"default-src":     "'none'",
			"script-src":      "'self'",
			"style-src":       "'self' 'unsafe-inline'",
			"font-src":        "'self' data:",
			"img-src":         "'self' data:",
			"connect-src":     "'self' ws://example.com wss://example.com",
			"frame-ancestors": "'none'",
		}
		for name, value := range want {
			if directives[name] != value {
				t.Errorf("%s: CSP %s = %q, want %q (policy %q)", target, name, directives[name], value, policy)
			}
		}
		if strings.Contains(policy, "unsafe-eval") || strings.Contains(policy, "http") {
			t.Errorf("%s: CSP too broad: %q", target, policy)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no X-Content-Type-Options: nosniff", target)
		}
	}
}

func TestCSPHost(t *testing.T) {
	for host, want := range map[string]string{
		"127.0.0.1:8080":    "connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080;",
		"[::1]:80":          "connect-src 'self' ws://[::1]:80 wss://[::1]:80;",
		"evil.com; img-src": "connect-src 'self';",
		"":                  "connect-src 'self';",
	} {
		if got := csp(host); !strings.Contains(got, want) {
			t.Errorf("csp(%q) = %q, want it to contain %q", host, got, want)
		}
	}
}

func TestNotFound(t *testing.T) {
	for _, target := range []string{
		"/assets/nope.js",
		"/assets/",
		"/assets",
		"/assets/../playground.go",
		"/index.html",
		"/graphql",
		"/nope",
	} {
		resp := get(t, http.MethodGet, target, nil)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", target, resp.StatusCode)
		}
	}
}

func TestMethods(t *testing.T) {
	resp := get(t, http.MethodPost, "/", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST / = %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	resp = get(t, http.MethodHead, "/assets/graphiql.min.js", nil)
	if b := body(t, resp); resp.StatusCode != http.StatusOK || len(b) != 0 {
		t.Errorf("HEAD = %d with %d bytes", resp.StatusCode, len(b))
	}
	if resp.Header.Get("Content-Length") != strconv.Itoa(len(load().assets["graphiql.min.js"].data)) {
		t.Errorf("HEAD Content-Length = %q", resp.Header.Get("Content-Length"))
	}
}

func TestCaching(t *testing.T) {
	a := load().assets["graphiql.min.js"]

	// Without the current version the URL may be stale: revalidate.
	for _, target := range []string{"/assets/graphiql.min.js", "/assets/graphiql.min.js?v=000000000000"} {
		resp := get(t, http.MethodGet, target, nil)
		resp.Body.Close()
		if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("%s: Cache-Control %q, want no-cache", target, cc)
		}
	}

	for _, target := range []string{"/", "/assets/graphiql.min.js?v=" + a.version} {
		resp := get(t, http.MethodGet, target, nil)
		resp.Body.Close()
		etag := resp.Header.Get("ETag")
		if etag == "" {
			t.Fatalf("%s: no ETag", target)
		}
		resp = get(t, http.MethodGet, target, http.Header{"If-None-Match": {etag}})
		if b := body(t, resp); resp.StatusCode != http.StatusNotModified || len(b) != 0 {
			t.Errorf("%s with If-None-Match %s = %d (%d bytes), want 304", target, etag, resp.StatusCode, len(b))
		}
	}
}

func TestGzip(t *testing.T) {
	a := load().assets["graphiql.min.js"]
	resp := get(t, http.MethodGet, "/assets/graphiql.min.js", http.Header{"Accept-Encoding": {"br, gzip"}})
	b := body(t, resp)
	if resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("Content-Encoding %q, Vary %q", resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(plain, a.data) {
		t.Fatalf("gzip body does not decode to the asset (err %v)", err)
	}
	if len(b) >= len(a.data)/2 {
		t.Errorf("gzip %d bytes of %d", len(b), len(a.data))
	}
	if resp.Header.Get("ETag") == a.etag {
		t.Error("gzip response shares the identity ETag")
	}

	for header, want := range map[string]bool{
		"":                  false,
		"gzip":              true,
		"deflate, gzip;q=1": true,
		"GZIP":              true,
		"gzip;q=0":          false,
		"gzip; q=0.0":       false,
		"identity":          false,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}

func TestEmbeddedBundles(t *testing.T) {
	for _, c := range []struct {
		name     string
		minBytes int
		contains []string
	}{
		{"graphiql.min.js", 500_000, []string{".GraphiQL=", "createFetcher", "graphiql-container", "React", "ReactDOM"}},
		{"graphiql.min.css", 100_000, []string{".graphiql-container", "CodeMirror"}},
		{"react.production.min.js", 5_000, []string{".React={}", "createElement", `version="18.`}},
		{"react-dom.production.min.js", 100_000, []string{".ReactDOM={}", "createRoot", `version="18.`}},
		{"graphql-ws.min.js", 5_000, []string{".graphqlWs={}", "createClient", "graphql-transport-ws", "connection_init"}},
		{"playground.js", 1_000, []string{
			"GraphiQL.createFetcher", "graphqlWs.createClient", "connectionParams", "Authorization",
			"location.origin + '/graphql'", "'wss://' : 'ws://'", "query Me {\\n  me {\\n    account\\n    role\\n  }\\n}",
			"ReactDOM.createRoot",
		}},
	} {
		a, ok := load().assets[c.name]
		if !ok {
			t.Errorf("%s not embedded", c.name)
			continue
		}
		if len(a.data) < c.minBytes {
			t.Errorf("%s: %d bytes, want at least %d", c.name, len(a.data), c.minBytes)
		}
		for _, s := range c.contains {
			if !bytes.Contains(a.data, []byte(s)) {
				t.Errorf("%s does not contain %q", c.name, s)
			}
		}
	}

	// No vendored script may rely on eval: the CSP forbids it.
	for name, a := range load().assets {
		if path.Ext(name) != ".js" {
			continue
		}
		for _, s := range []string{"new Function(", " Function(", "eval("} {
			if bytes.Contains(a.data, []byte(s)) {
				t.Errorf("%s contains %q, which script-src 'self' blocks", name, s)
			}
		}
	}
}

// TestVersions checks assets/VERSIONS.md against the embedded files: every
// listed bundle matches its recorded size and SHA-256, every .js/.css asset
// is either listed or our own, and each listed package has a license file.
func TestVersions(t *testing.T) {
	assets := load().assets
	listed := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(assets["VERSIONS.md"].data))
	for sc.Scan() {
		cells := strings.Split(sc.Text(), "|")
		if len(cells) != 7 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		trim := func(s string) string { return strings.Trim(strings.TrimSpace(s), "`") }
		name, pkg, size, sum := trim(cells[1]), trim(cells[2]), trim(cells[4]), trim(cells[5])
		listed[name] = true
		a, ok := assets[name]
		if !ok {
			t.Errorf("VERSIONS.md lists %s, which is not embedded", name)
			continue
		}
		if strconv.Itoa(len(a.data)) != size {
			t.Errorf("%s: %d bytes, VERSIONS.md says %s", name, len(a.data), size)
		}
		if h := sha256.Sum256(a.data); hex.EncodeToString(h[:]) != sum {
			t.Errorf("%s: sha256 %x, VERSIONS.md says %s", name, h, sum)
		}
		pkgName, _, _ := strings.Cut(strings.TrimPrefix(pkg, "@"), "@")
		if _, ok := assets["LICENSE-"+pkgName+".txt"]; !ok {
			t.Errorf("%s: no LICENSE-%s.txt", name, pkgName)
		}
	}
	if len(listed) != 5 {
		t.Errorf("VERSIONS.md lists %d bundles, want 5", len(listed))
	}
	total := 0
	for name, a := range assets {
		total += len(a.data)
		ext := path.Ext(name)
		if (ext == ".js" || ext == ".css") && !listed[name] && !strings.HasPrefix(name, "playground.") {
			t.Errorf("%s is embedded but not listed in VERSIONS.md", name)
		}
	}
	if total > 3<<20 {
		t.Errorf("embedded assets total %d bytes; keep them under 3 MiB", total)
	}
	t.Logf("embedded assets: %d files, %d bytes", len(assets), total)
}

// TestBrowser loads the page in headless Chromium, when one is installed, and
// checks that GraphiQL rendered.
func TestBrowser(t *testing.T) {
	var browser string
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Skip("no Chromium installed (looked for /usr/bin/chromium, chromium, chromium-browser, google-chrome); skipping the headless browser check")
	}
	if testing.Short() {
		t.Skip("headless browser check skipped in -short mode")
	}

	mux := http.NewServeMux()
	mux.Handle("GET /", Handler())
	mux.HandleFunc("POST /graphql", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"errors":[{"message":"no schema in this test"}]}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	profile := t.TempDir()
	cmd := exec.CommandContext(ctx, browser,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--user-data-dir="+profile, "--virtual-time-budget=10000",
		"--dump-dom", srv.URL+"/")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Env = append(os.Environ(), "HOME="+profile)
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", browser, err, stderr.String())
	}
	for _, want := range []string{"graphiql-container", "graphiql-query-editor", "CodeMirror", ">account<"} {
		if !bytes.Contains(dom, []byte(want)) {
			t.Errorf("rendered DOM lacks %q; stderr:\n%s\nDOM:\n%.2000s", want, stderr.String(), dom)
		}
	}
}

// TestMountedUnderPrefix checks that the relative asset URLs work when the
// page is mounted below the root.
func TestMountedUnderPrefix(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("GET /playground/", http.StripPrefix("/playground", Handler()))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/playground")
	if err != nil {
		t.Fatal(err)
	}
	doc := body(t, resp)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/playground/" {
		t.Fatalf("GET /playground = %d at %s", resp.StatusCode, resp.Request.URL.Path)
	}
	scripts, links := references(t, doc)
	for _, ref := range append(scripts, links...) {
		u, err := resp.Request.URL.Parse(ref)
		if err != nil {
			t.Fatal(err)
		}
		r, err := http.Get(u.String())
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", u.Path, r.StatusCode)
		}
	}
}
