package main

import (
	"database/sql"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	_ "modernc.org/sqlite"
)

// beian runs the binary and returns its output and exit status.
func beian(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(binary, args...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// TestAuditCommands: replay a filing from the log at a revision, verify its
// chain and the whole log, record a checkpoint; then alter an event in the
// file and see verification fail with the first broken link.
func TestAuditCommands(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data)
	id, _, _ := fillFiling(t, newActors(t, s, "acct-audit"))
	s.stop(syscall.SIGTERM)

	out, code := beian(t, "audit", "replay", id, "--revision", "1", "--data", data)
	if code != 0 || !strings.Contains(out, "filing.entity_submitted.v1") || strings.Contains(out, "website_submitted") ||
		!strings.Contains(out, "current step website") {
		t.Fatalf("replay to revision 1 (exit %d):\n%s", code, out)
	}
	out, code = beian(t, "audit", "replay", id, "--json", "--data", data)
	if code != 0 || !strings.Contains(out, `"status": "submitted"`) {
		t.Fatalf("replay as JSON (exit %d):\n%s", code, out)
	}
	if out, code := beian(t, "audit", "checkpoint", "--data", data); code != 0 || !strings.Contains(out, "root") {
		t.Fatalf("checkpoint (exit %d): %s", code, out)
	}
	if out, code := beian(t, "audit", "verify", id, "--data", data); code != 0 || !strings.Contains(out, "verified") {
		t.Fatalf("verify (exit %d): %s", code, out)
	}
	if out, code := beian(t, "audit", "verify", "--all", "--data", data); code != 0 || !strings.Contains(out, "1 checkpoints") {
		t.Fatalf("verify --all (exit %d): %s", code, out)
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE events SET data = replace(data, '示例科技', '别人的科技') WHERE stream = ? AND type = 'filing.website_submitted.v1'`, "filing-"+id); err != nil {
		t.Fatal(err)
	}
	out, code = beian(t, "audit", "verify", id, "--data", data)
	if code != 1 || !strings.Contains(out, "filing-"+id+"@2") || !strings.Contains(out, "content does not match its hash") {
		t.Fatalf("verify after tampering (exit %d): %s", code, out)
	}
	if _, code := beian(t, "audit", "verify", "--all", "--data", data); code != 1 {
		t.Fatalf("verify --all after tampering exits %d", code)
	}
}
