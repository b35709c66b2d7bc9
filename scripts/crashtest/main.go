// Command crashtest kills `beian serve` with SIGKILL at random moments while
// a load client drives filings over GraphQL, restarts it, and checks at the
// end that nothing acknowledged was lost or applied twice:
//
//	go run ./scripts/crashtest -kills 200
//
// The load client writes every acknowledged command to its own fsynced log
// before it counts as acknowledged; the checks read that log, the event log,
// the read models and the notification consumer's delivery marks from the
// files the server left behind. See docs/crashtest.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	var cfg Config
	flag.IntVar(&cfg.Kills, "kills", 200, "how many times the server is killed with SIGKILL")
	flag.IntVar(&cfg.Workers, "workers", 4, "load clients, each walking filings of its own accounts")
	flag.DurationVar(&cfg.MaxDelay, "max-delay", 1500*time.Millisecond, "longest life of a server between start and kill (uniformly random)")
	flag.StringVar(&cfg.Dir, "dir", "", "work directory: binary, data, acknowledgement log, server logs (default: a new temporary one)")
	flag.Uint64Var(&cfg.Seed, "seed", 0, "seed of the kill delays (default: from the clock)")
	flag.DurationVar(&cfg.Timeout, "timeout", 30*time.Minute, "give up after this long")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg.Logger = logger
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	report, err := Run(ctx, cfg)
	stop()
	fmt.Println(report)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crashtest: FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("crashtest: PASS")
}
