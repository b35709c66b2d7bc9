// Package playground serves GraphiQL, the in-browser GraphQL IDE, for beian's
// development mode.
//
// Everything the page needs is embedded in the binary, so it works offline:
// React 18, ReactDOM 18, GraphiQL 3 and graphql-ws as prebuilt, minified UMD
// bundles (see assets/VERSIONS.md for versions, sources and checksums), plus a
// small bootstrap script, assets/playground.js. The page talks to POST
// /graphql for queries and mutations and to the graphql-transport-ws
// WebSocket at GET /graphql for subscriptions, both on the page's own origin.
//
// Authentication: the user types {"Authorization": "Bearer <token>"} in
// GraphiQL's Headers editor. GraphiQL sends those headers with every HTTP
// request; the bootstrap script also passes the Authorization value as the
// connection_init payload ({"Authorization": "Bearer <token>"}) whenever the
// WebSocket connects, and reconnects when the value changes. GraphiQL keeps
// the headers in the browser's localStorage.
//
// Responses carry a Content-Security-Policy that allows scripts only from
// 'self' (no inline script, no eval), styles from 'self' plus inline styles
// (GraphiQL's dialogs inject <style> elements), fonts and images from 'self'
// and data: URLs (GraphiQL's stylesheet inlines its fonts), and connections
// only to 'self' and the same host over ws: and wss:.
package playground

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed index.html
var indexHTML string

//go:embed assets
var assetsFS embed.FS

// immutable is the Cache-Control for an asset requested with its current
// content version (?v=…): the URL changes whenever the content does.
const immutable = "public, max-age=31536000, immutable"

// asset is one embedded file, ready to serve.
type asset struct {
	name        string
	contentType string
	data        []byte
	version     string // first 12 hex digits of the SHA-256 of data
	etag        string

	gzipOnce sync.Once
	gzipData []byte // nil when gzip does not make the file smaller
}

// site is everything Handler serves, built once from the embedded files.
type site struct {
	assets map[string]*asset
	index  []byte
	etag   string
}

var load = sync.OnceValue(func() *site {
	s, err := build()
	if err != nil {
		// The inputs are embedded at compile time; the tests build them.
		panic("playground: " + err.Error())
	}
	return s
})

// Handler serves the GraphiQL page at the root of where it is mounted and its
// assets under assets/.
//
// Mount it at "/" or under a prefix that ends in a slash, e.g.
// mux.Handle("GET /playground/", http.StripPrefix("/playground", Handler())):
// the page refers to its assets by relative URLs. It answers GET and HEAD
// only, and 404 for any other path.
func Handler() http.Handler {
	s := load()
	return http.HandlerFunc(s.serveHTTP)
}

func build() (*site, error) {
	s := &site{assets: map[string]*asset{}}
	err := fs.WalkDir(assetsFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := assetsFS.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "assets/")
		sum := sha256.Sum256(data)
		version := hex.EncodeToString(sum[:6])
		s.assets[name] = &asset{
			name:        name,
			contentType: contentType(name),
			data:        data,
			version:     version,
			etag:        `"` + version + `"`,
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	tmpl, err := template.New("index.html").Funcs(template.FuncMap{
		// asset returns the relative, versioned URL of an embedded asset.
		"asset": func(name string) (string, error) {
			a, ok := s.assets[name]
			if !ok {
				return "", fmt.Errorf("index.html refers to missing asset %q", name)
			}
			return "assets/" + name + "?v=" + a.version, nil
		},
	}).Parse(indexHTML)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, nil); err != nil {
		return nil, err
	}
	s.index = buf.Bytes()
	sum := sha256.Sum256(s.index)
	s.etag = `"` + hex.EncodeToString(sum[:6]) + `"`
	return s, nil
}

// contentType maps the extensions of the embedded files to media types; it
// does not depend on the host's MIME tables.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	case ".md":
		return "text/markdown; charset=utf-8"
	default:
		return "text/plain; charset=utf-8"
	}
}

func (s *site) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp(r.Host))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}

	switch p := r.URL.Path; {
	case p == "/" || p == "":
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", s.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(s.index))
	case strings.HasPrefix(p, "/assets/"):
		a, ok := s.assets[strings.TrimPrefix(p, "/assets/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		a.serve(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (a *asset) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	if r.URL.Query().Get("v") == a.version {
		h.Set("Cache-Control", immutable)
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	h.Add("Vary", "Accept-Encoding")

	data, etag := a.data, a.etag
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		if gz := a.gzipped(); gz != nil {
			data, etag = gz, `"`+a.version+`-gzip"`
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

// gzipped returns the asset compressed with gzip, computed on first use, or
// nil when compression does not pay.
func (a *asset) gzipped() []byte {
	a.gzipOnce.Do(func() {
		if len(a.data) < 1024 {
			return
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(a.data) // writes to a bytes.Buffer do not fail
		_ = zw.Close()
		if buf.Len() < len(a.data) {
			a.gzipData = buf.Bytes()
		}
	})
	return a.gzipData
}

// acceptsGzip reports whether an Accept-Encoding header value admits gzip.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q, ok := strings.CutPrefix(strings.TrimSpace(params), "q=")
		if !ok {
			return true
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(q), 64)
		return err == nil && v > 0
	}
	return false
}

// validHost matches a Host header that is safe to copy into the policy.
var validHost = regexp.MustCompile(`^[A-Za-z0-9.\-]+(:[0-9]+)?$|^\[[0-9A-Fa-f:.]+\](:[0-9]+)?$`)

// csp returns the Content-Security-Policy for a request to host. connect-src
// names the host over ws: and wss: explicitly because not every browser lets
// 'self' cover WebSocket URLs.
func csp(host string) string {
	connect := "'self'"
	if validHost.MatchString(host) {
		connect += " ws://" + host + " wss://" + host
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self' 'unsafe-inline'",
		"font-src 'self' data:",
		"img-src 'self' data:",
		"connect-src " + connect,
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
}
