package main

import (
	"context"
	"testing"
	"time"
)

// TestCrashShort is the crash test in brief, for `make test`: a few SIGKILLs
// under load, then every check of the long run (`make crashtest`).
func TestCrashShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the server")
	}
	report, err := Run(context.Background(), Config{Kills: 5, Workers: 3, MaxDelay: 800 * time.Millisecond, Dir: t.TempDir(),
		Timeout: 5 * time.Minute})
	t.Log(report)
	if err != nil {
		t.Fatal(err)
	}
	if report.Kills != 5 || report.Acked == 0 {
		t.Fatalf("%d kills and %d acknowledged commands, want 5 kills under load", report.Kills, report.Acked)
	}
}
