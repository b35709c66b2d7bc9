package eventstoretest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// SmallFS mounts a tmpfs of size (e.g. "1m") on a new directory for the
// full-disk tests and returns the directory and a function that grows it.
// Mounting needs root (CAP_SYS_ADMIN): without it the test is skipped,
// unless BEIAN_TEST_REQUIRE_TMPFS=1 (CI sets it), where it fails, so that a
// skipped full-disk test never counts as a pass there.
func SmallFS(t *testing.T, size string) (dir string, grow func(size string)) {
	t.Helper()
	dir = t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		msg := "no small filesystem to fill (mount -t tmpfs needs root): " + err.Error() + " " + strings.TrimSpace(string(out))
		if os.Getenv("BEIAN_TEST_REQUIRE_TMPFS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "--lazy", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir, func(size string) {
		t.Helper()
		if out, err := exec.Command("mount", "-o", "remount,size="+size, dir).CombinedOutput(); err != nil {
			t.Fatalf("remount bigger: %v %s", err, out)
		}
	}
}
