package main

import (
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// statusHashes runs `beian projections status --hash` and returns each
// projection's content hash.
func statusHashes(t *testing.T, data string) map[string]string {
	t.Helper()
	out, err := exec.Command(binary, "projections", "status", "--hash", "--data", data).CombinedOutput()
	if err != nil {
		t.Fatalf("projections status: %v\n%s", err, out)
	}
	hashes := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n")[1:] {
		f := strings.Fields(line)
		if f[5] != "0" {
			t.Fatalf("projection %s lags by %s after catching up", f[0], f[5])
		}
		hashes[f[0]] = f[6]
	}
	return hashes
}

// TestRestartMidStreamConvergesToARebuild kills the server while clients are
// writing, starts it again, and checks that the read models it built are
// those a rebuild from the log produces.
func TestRestartMidStreamConvergesToARebuild(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			app := &client{t: t, url: s.url, token: mintToken(t, data, "applicant", fmt.Sprintf("acct-restart-%d", w))}
			for i := 0; ; i++ {
				_, errs, err := app.try(`mutation($d: String!) { verifyType(input: {province: "44", city: "深圳市", nature: "enterprise",
					certificateType: "business_licence", certificateNumber: "91440300MA5F12342Q", domains: [$d],
					resource: {kind: "instance", instanceId: "ins-demo"}}) { filingId } }`, map[string]any{"d": "example.com"})
				if err != nil || len(errs) > 0 || i > 200 {
					return // the account's one open filing exists, or the server is gone
				}
			}
		})
	}
	// Entities and websites on filings of other accounts keep the log moving.
	app := &client{t: t, url: s.url, token: mintToken(t, data, "applicant", "acct-restart-main")}
	id := str(app.must(`mutation { verifyType(input: {province: "44", city: "深圳市", nature: "enterprise",
		certificateType: "business_licence", certificateNumber: "91440300MA5F12342Q", domains: ["example.com"],
		resource: {kind: "instance", instanceId: "ins-demo"}}) { filingId } }`, nil), "verifyType", "filingId")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 400 {
			_, errs, err := app.try(`mutation($id: ID!, $r: String) { submitEntity(input: {filingId: $id, name: "深圳市示例科技有限公司",
				certificateAddress: "广东省深圳市南山区科技园路1号", mailingAddress: "广东省深圳市南山区科技园路1号", legalRepresentative: "张三",
				principalIsLegalRep: true, remarks: $r, principal: {name: "张三", certificateType: "resident_id",
				certificateNumber: "440305199003071236", officePhone: "0755-86013388", mobile: "13800138000", email: "z@example.com"}}) { revision } }`,
				map[string]any{"id": id, "r": fmt.Sprint("第", i, "次")})
			if err != nil || len(errs) > 0 {
				return
			}
		}
	}()
	time.Sleep(400 * time.Millisecond)
	s.stop(syscall.SIGKILL) // mid-stream, no goodbye
	<-done
	wg.Wait()

	s = startServer(t, data) // catches up from its checkpoints
	deadline := time.Now().Add(20 * time.Second)
	for {
		if status, _ := (&client{t: t, url: s.url}).get("/readyz"); status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("server not ready after restart")
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.stop(syscall.SIGTERM)
	before := statusHashes(t, data)
	if out, err := exec.Command(binary, "projections", "rebuild", "--data", data).CombinedOutput(); err != nil {
		t.Fatalf("projections rebuild: %v\n%s", err, out)
	}
	after := statusHashes(t, data)
	for name, h := range before {
		if after[name] != h {
			t.Errorf("%s: read model after the restart %s, after a rebuild %s", name, h, after[name])
		}
	}
	if len(before) != 5 {
		t.Fatalf("hashes of %d projections", len(before))
	}
}
