package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beian/beian/cmd/beian/internal/bench"
)

// runBenchArgs runs `beian bench` with the arguments and reads its JSON report.
func runBenchArgs(t *testing.T, args ...string) (*bench.Report, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.json")
	o, err := parseBench(append(args, "--json", out, "--data", t.TempDir()), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o.exe = binary
	var table bytes.Buffer
	if err := runBench(context.Background(), o, &table, io.Discard); err != nil {
		t.Fatalf("bench: %v\n%s", err, table.String())
	}
	var rep bench.Report
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	return &rep, table.String()
}

func TestBenchWalksEveryFilingToItsICPNumbers(t *testing.T) {
	rep, table := runBenchArgs(t, "--rate", "45", "--duration", "1s", "--drain", "2m", "--lag-sample", "0.5", "--watch", "0.5",
		"--raw-append", "--raw-duration", "300ms", "--raw-writers", "4", "--rebuild")
	if rep.Lives.Started == 0 || rep.Lives.Completed != rep.Lives.Started || rep.Lives.Failed != 0 {
		t.Fatalf("lives %+v\n%s", rep.Lives, table)
	}
	if len(rep.Errors) != 0 {
		t.Fatalf("errors %v\n%s", rep.Errors, table)
	}
	if rep.Commands != 15*rep.Lives.Completed || rep.Command.Count != uint64(rep.Commands) {
		t.Fatalf("%d commands acknowledged, %d timed, for %d lives of 15\n%s", rep.Commands, rep.Command.Count, rep.Lives.Completed, table)
	}
	for _, op := range []string{"verifyType", "submitEntity", "submitWebsite", "submitWebsitePrincipal", "startLiveness", "passLiveness",
		"uploadMaterial", "submitForReview", "approveInitialReview", "sendToBureau", "requestSmsVerification", "verifySmsCode", "approveByBureau"} {
		want := uint64(rep.Lives.Completed)
		if op == "uploadMaterial" {
			want *= 3
		}
		if got := rep.Operations[op].Count; got != want {
			t.Errorf("%s counted %d times, want %d", op, got, want)
		}
		if l := rep.Operations[op]; l.P50 <= 0 || l.P50 > l.P99 || l.P99 > l.Max {
			t.Errorf("%s latencies out of order: %+v", op, l)
		}
	}
	if rep.ProjectionLag.Count == 0 || rep.Watched == 0 || rep.WatchedDone != rep.Watched || rep.SubscriberLag.Count == 0 {
		t.Errorf("after %.1fs: lag %+v, %d watched, %d saw approved, subscriber lag %+v", rep.ElapsedSec, rep.ProjectionLag, rep.Watched, rep.WatchedDone, rep.SubscriberLag)
	}
	if rep.Server == nil || rep.Server.PeakRSS <= 0 || !rep.Server.InProcess {
		t.Errorf("server memory %+v", rep.Server)
	}
	if rep.RawAppend == nil || rep.RawAppend.Events == 0 || rep.APIToRaw <= 0 {
		t.Errorf("raw append %+v, ratio %g", rep.RawAppend, rep.APIToRaw)
	}
	// Every command appends at least one event, the bench's and the raw
	// store's are separate files.
	if rep.Rebuild == nil || rep.Rebuild.Events < uint64(rep.Commands) || len(rep.Rebuild.Projections) != len(projectionSet(nil)) {
		t.Errorf("rebuild %+v", rep.Rebuild)
	}
	for _, want := range []string{"all commands", "projection lag", "errors: none", "raw append:", "rebuild:"} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}
}

func TestBenchSeedsFilingsAndReadsThemFromAServer(t *testing.T) {
	rep, table := runBenchArgs(t, "--seed", "300", "--seed-workers", "8", "--read-rate", "50", "--read-duration", "1s")
	s := rep.Seed
	if s == nil || s.Filings != 300 || s.Events < 300 || s.QueryErrors != 0 || s.Query.Count != 50 {
		t.Fatalf("seed %+v\n%s", s, table)
	}
	if s.Memory.PeakRSS <= 0 || s.Memory.InProcess || s.Memory.PID <= 0 || s.DataBytes <= 0 {
		t.Fatalf("seeded server memory %+v, data %d", s.Memory, s.DataBytes)
	}
}

func TestBenchFlagsRefuseWhatNeedsTheStoreInProcess(t *testing.T) {
	for _, args := range [][]string{{"--addr", "http://127.0.0.1:1", "--data", "d", "--seed", "10"}, {"--addr", "http://127.0.0.1:1"}} {
		if _, err := parseBench(args, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
