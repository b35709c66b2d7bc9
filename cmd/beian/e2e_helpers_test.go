package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// binary is the beian binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	if needsNoBinary() {
		// The fuzz targets run the service in process; building the binary
		// in the coordinator and every worker would eat the fuzzing time.
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "beian-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "beian")
	if out, err := exec.Command("go", "build", "-race", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// needsNoBinary reports whether this process only lists tests (-list) or
// runs a fuzz target (-fuzz), as the coordinator or a worker.
func needsNoBinary() bool {
	for _, name := range []string{"test.list", "test.fuzz", "test.fuzzworker"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" && f.Value.String() != "false" {
			return true
		}
	}
	return false
}

// server is a running `beian serve`.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string
	data string
	logs *syncBuffer
}

// startServer runs the binary as a user would, on a free port.
func startServer(t *testing.T, data string) *server {
	t.Helper()
	return startServerWith(t, data, nil)
}

// startServerWith runs the binary with more environment and flags.
func startServerWith(t *testing.T, data string, env []string, flags ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--dev", "--data", data, "--addr", "127.0.0.1:0"}, flags...)...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, data: data, logs: logs}
	t.Cleanup(func() { s.stop(os.Interrupt) })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("server did not start: %v\n%s", err, logs)
	}
	_, rest, ok := strings.Cut(line, "listening on ")
	if !ok {
		t.Fatalf("unexpected first line %q", line)
	}
	s.url, _, _ = strings.Cut(rest, " ")
	go io.Copy(io.Discard, stdout)
	return s
}

// stop ends the server with a signal and waits for it.
func (s *server) stop(sig os.Signal) {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(sig)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
		s.t.Errorf("server did not stop within 20s after %v", sig)
	}
}

// syncBuffer is a buffer a server's logs are written to while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

func (s *syncBuffer) String() string { return string(s.Bytes()) }

// mintToken runs `beian token`.
func mintToken(t *testing.T, data, role, account string) string {
	t.Helper()
	out, err := exec.Command(binary, "token", "--data", data, "--role", role, "--account", account).Output()
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// client speaks GraphQL over HTTP with one token.
type client struct {
	t     testing.TB
	url   string
	token string
}

type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

// query runs an operation and returns its data and errors.
func (c *client) query(q string, vars map[string]any) (map[string]any, []gqlError) {
	c.t.Helper()
	data, errs, err := c.try(q, vars)
	if err != nil {
		c.t.Fatal(err)
	}
	return data, errs
}

// try runs an operation; err is a transport failure (the server is gone),
// which load generators expect and tests do not.
func (c *client) try(q string, vars map[string]any) (map[string]any, []gqlError, error) {
	body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, c.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []gqlError     `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, nil, fmt.Errorf("decode response (HTTP %d): %w", resp.StatusCode, err)
	}
	return out.Data, out.Errors, nil
}

// must runs an operation that must succeed.
func (c *client) must(q string, vars map[string]any) map[string]any {
	c.t.Helper()
	data, errs := c.query(q, vars)
	if len(errs) > 0 {
		c.t.Fatalf("%s\n→ %+v", firstLine(q), errs)
	}
	return data
}

// code runs an operation that must fail and returns its first error code.
func (c *client) code(q string, vars map[string]any) string {
	c.t.Helper()
	_, errs := c.query(q, vars)
	if len(errs) == 0 {
		c.t.Fatalf("%s succeeded, want an error", firstLine(q))
	}
	code, _ := errs[0].Extensions["code"].(string)
	return code
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// upload posts a file to /uploads and returns its digest.
func (c *client) upload(content []byte) string {
	c.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, _ := w.CreateFormFile("file", "id.png")
	part.Write(content)
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.url+"/uploads", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusCreated {
		c.t.Fatalf("upload: HTTP %d %v", resp.StatusCode, out)
	}
	return out["sha256"].(string)
}

// get fetches a JSON document.
func (c *client) get(path string) (int, map[string]any) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.url+path, nil)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// dig walks nested maps and lists: dig(m, "filing", "websites", 0, "id").
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any, path ...any) string {
	s, _ := dig(v, path...).(string)
	return s
}

// subscriber watches filingUpdated over graphql-transport-ws and records
// every status it is sent.
type subscriber struct {
	mu       sync.Mutex
	statuses []string
	done     chan struct{}
	err      error
}

func subscribe(t *testing.T, url, token, filingID string) *subscriber {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	must := func(v any) {
		if err := wsjson.Write(ctx, conn, v); err != nil {
			t.Fatal(err)
		}
	}
	must(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
	var ack map[string]any
	if err := wsjson.Read(ctx, conn, &ack); err != nil || ack["type"] != "connection_ack" {
		t.Fatalf("connection_init: %v %v", ack, err)
	}
	must(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": `subscription($id: ID!) { filingUpdated(id: $id) { status revision } }`, "variables": map[string]any{"id": filingID}}})
	s := &subscriber{done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			var msg map[string]any
			if err := wsjson.Read(ctx, conn, &msg); err != nil {
				s.mu.Lock()
				s.err = err
				s.mu.Unlock()
				return
			}
			if msg["type"] != "next" {
				s.mu.Lock()
				s.err = fmt.Errorf("unexpected message %v", msg)
				s.mu.Unlock()
				return
			}
			status := str(msg, "payload", "data", "filingUpdated", "status")
			s.mu.Lock()
			if len(s.statuses) == 0 || s.statuses[len(s.statuses)-1] != status {
				s.statuses = append(s.statuses, status)
			}
			s.mu.Unlock()
		}
	}()
	return s
}

// waitFor waits until the subscriber has seen the status.
func (s *subscriber) waitFor(t *testing.T, status string) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		seen := append([]string(nil), s.statuses...)
		err := s.err
		s.mu.Unlock()
		if len(seen) > 0 && seen[len(seen)-1] == status {
			return seen
		}
		if err != nil {
			t.Fatalf("subscription ended: %v (saw %v)", err, seen)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("subscriber never saw %s", status)
	return nil
}
