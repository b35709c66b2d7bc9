//go:build linux

package main

import (
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/beian/beian/infra/eventstore/eventstoretest"
	"golang.org/x/sys/unix"
)

const editEntity = `mutation($id: ID!, $k: String!, $r: String) { submitEntity(input: {filingId: $id, idempotencyKey: $k,
	name: "深圳市示例科技有限公司", certificateAddress: "广东省深圳市南山区科技园路1号", mailingAddress: "广东省深圳市南山区科技园路1号",
	legalRepresentative: "张三", principalIsLegalRep: true, remarks: $r, principal: {name: "张三", certificateType: "resident_id",
	certificateNumber: "440305199003071236", officePhone: "0755-86013388", mobile: "13800138000", email: "z@example.com"}}) { revision } }`

// startFiling starts a filing for the account and returns its id.
func startFiling(t *testing.T, app *client) string {
	t.Helper()
	return str(app.must(`mutation { verifyType(input: {province: "44", city: "深圳市", nature: "enterprise",
		certificateType: "business_licence", certificateNumber: "91440300MA5F12342Q", domains: ["example.com"],
		resource: {kind: "instance", instanceId: "ins-demo"}}) { filingId } }`, nil), "verifyType", "filingId")
}

// editUntilRefused edits the filing's entity, each edit with its own key,
// until one is refused; it returns the last acknowledged revision, the
// refused edit's number and its error code.
func editUntilRefused(t *testing.T, app *client, id string, from int) (acked int, refused int, code string) {
	t.Helper()
	acked = -1
	for i := from; i < from+20_000; i++ {
		data, errs := app.query(editEntity, map[string]any{"id": id, "k": fmt.Sprint("edit-", i), "r": strings.Repeat("备注", 200) + fmt.Sprint(i)})
		if len(errs) > 0 {
			code, _ := errs[0].Extensions["code"].(string)
			return acked, i, code
		}
		acked = int(dig(data, "submitEntity", "revision").(float64))
	}
	t.Fatal("20000 edits and no refusal")
	return 0, 0, ""
}

// waitReady polls /readyz until it answers 200.
func waitReady(t *testing.T, s *server) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, body := (&client{t: t, url: s.url}).get("/readyz")
		if status == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %d %v", status, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// largestFile is the size of the biggest file under dir.
func largestFile(t *testing.T, dir string) uint64 {
	t.Helper()
	var max int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil && info.Size() > max {
			max = info.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return uint64(max)
}

// TestWriteErrorStopsTheService lets the running server's files grow by
// only 256 KiB (RLIMIT_FSIZE on its process): the kernel then fails a write
// of the event store with EFBIG. The command is refused as INTERNAL, /readyz
// reports the event store, and the store keeps refusing once the limit is
// lifted; after a restart everything acknowledged is in the log.
func TestWriteErrorStopsTheService(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data)
	app := &client{t: t, url: s.url, token: mintToken(t, data, "applicant", "acct-write-error")}
	id := startFiling(t, app)
	pid := s.cmd.Process.Pid
	var limit unix.Rlimit
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, nil, &limit); err != nil {
		t.Fatal(err)
	}
	small := unix.Rlimit{Cur: largestFile(t, data) + 256<<10, Max: limit.Max}
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &small, nil); err != nil {
		t.Fatal(err)
	}
	acked, refused, code := editUntilRefused(t, app, id, 0)
	if code != "INTERNAL" || acked < 1 {
		t.Fatalf("after %d acknowledged edits the refusal was %q, want INTERNAL", acked, code)
	}
	status, body := (&client{t: t, url: s.url}).get("/readyz")
	if status != 503 || !strings.Contains(fmt.Sprint(body["reason"]), "event store") {
		t.Fatalf("/readyz after a failed write: %d %v", status, body)
	}
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &limit, nil); err != nil { // the room returns
		t.Fatal(err)
	}
	if _, _, code := editUntilRefused(t, app, id, refused+1); code != "INTERNAL" {
		t.Fatalf("an edit after the failed write, with room again: %q, want it refused as INTERNAL", code)
	}
	s.stop(syscall.SIGKILL)
	if logs := s.logs.String(); !strings.Contains(logs, "write failed, refusing further appends") {
		t.Fatalf("the refusal was not the event store's write error:\n%s", logs)
	}

	s = startServer(t, data)
	waitReady(t, s)
	app.url = s.url
	if err := exec.Command(binary, "audit", "verify", id, "--data", data).Run(); err != nil {
		t.Fatalf("audit verify after the restart: %v", err)
	}
	f := app.must(`query($id: ID!) { filing(id: $id) { revision } }`, map[string]any{"id": id})
	rev := int(dig(f, "filing", "revision").(float64))
	if rev != acked && rev != acked+1 { // the refused edit may or may not be in the log
		t.Fatalf("revision %d after the restart, %d acknowledged", rev, acked)
	}
	// The refused edit, sent again with its key, applies at most once.
	again := app.must(editEntity, map[string]any{"id": id, "k": fmt.Sprint("edit-", refused), "r": strings.Repeat("备注", 200) + fmt.Sprint(refused)})
	if got := int(dig(again, "submitEntity", "revision").(float64)); got != acked+1 {
		t.Fatalf("the refused edit sent again landed at revision %d, want %d", got, acked+1)
	}
}

// TestFullDiskRefusesAndRecovers runs the server with its data directory on
// a 3 MB tmpfs and edits a filing until the filesystem is full: the edit is
// refused as INTERNAL and the server stays up; once the filesystem grows the
// refused edit, sent again with its key, lands once, the read models catch
// up, and after a restart everything acknowledged is there. Mounting needs
// root (see eventstoretest.SmallFS).
func TestFullDiskRefusesAndRecovers(t *testing.T) {
	data, grow := eventstoretest.SmallFS(t, "3m")
	s := startServer(t, data)
	app := &client{t: t, url: s.url, token: mintToken(t, data, "applicant", "acct-disk-full")}
	id := startFiling(t, app)
	acked, refused, code := editUntilRefused(t, app, id, 0)
	if code != "INTERNAL" || acked < 1 {
		t.Fatalf("after %d acknowledged edits the refusal was %q, want INTERNAL", acked, code)
	}
	if status, _ := (&client{t: t, url: s.url}).get("/healthz"); status != 200 {
		t.Fatalf("/healthz on a full disk: %d", status)
	}
	grow("64m")
	again := app.must(editEntity, map[string]any{"id": id, "k": fmt.Sprint("edit-", refused), "r": strings.Repeat("备注", 200) + fmt.Sprint(refused)})
	if got := int(dig(again, "submitEntity", "revision").(float64)); got != acked+1 {
		t.Fatalf("the refused edit sent again with room landed at revision %d, want %d", got, acked+1)
	}
	waitReady(t, s)
	s.stop(syscall.SIGKILL)
	if logs := s.logs.String(); !strings.Contains(logs, "disk full, append refused") {
		t.Fatalf("the refusal was not the event store's full disk:\n%s", logs)
	}

	s = startServer(t, data)
	waitReady(t, s)
	app.url = s.url
	f := app.must(`query($id: ID!) { filing(id: $id) { revision } }`, map[string]any{"id": id})
	if rev := int(dig(f, "filing", "revision").(float64)); rev != acked+1 {
		t.Fatalf("revision %d after the restart, %d acknowledged", rev, acked+1)
	}
	if out, err := exec.Command(binary, "audit", "verify", id, "--data", data).CombinedOutput(); err != nil {
		t.Fatalf("audit verify after the restart: %v\n%s", err, out)
	}
}
