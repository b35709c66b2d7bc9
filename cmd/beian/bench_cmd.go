package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/beian/beian/cmd/beian/internal/bench"
	"github.com/beian/beian/commands"
)

// benchOptions are the flags of `beian bench`.
type benchOptions struct {
	load        bench.Config
	addr        string // a running server; empty: one in process
	data        string // its data directory (dev token secret); in process: default a temporary one
	keep        bool
	jsonOut     string
	cpuProfile  string
	pid         int
	rawAppend   bool
	rawWriters  int
	rawDuration time.Duration
	seed        int
	seedWorkers int
	readRate    float64
	readFor     time.Duration
	rebuild     bool
	serverLog   string
	exe         string // the binary that serves the seeded store; default this one
}

const benchUsage = `usage: beian bench [--addr URL --data DIR] [--rate 1000] [--duration 10s] [--json FILE]
                   [--raw-append] [--rebuild] [--seed N] [--cpuprofile FILE]

Drives complete filing lives over GraphQL at a fixed offered rate (open model:
latency counts from each command's scheduled time) against --addr, or against
a server it starts in process on a temporary data directory. --seed N instead
stores N filings, then measures filing(id) reads and the RSS of a server
serving them.
`

// benchCmd parses the flags and runs the benchmark.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseBench(args, stderr)
	if err != nil {
		return helpOK(err)
	}
	return runBench(ctx, o, stdout, stderr)
}

func parseBench(args []string, stderr io.Writer) (benchOptions, error) {
	fs := newFlags("bench", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	var o benchOptions
	fs.StringVar(&o.addr, "addr", "", "URL of a running server (default: start one in process)")
	fs.StringVar(&o.data, "data", "", "data directory: of the running server with --addr (its dev token secret), else where to put the in-process one (default: a temporary directory)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary data directory")
	fs.Float64Var(&o.load.Rate, "rate", 1000, "offered commands per second; 0 skips the load")
	fs.DurationVar(&o.load.Duration, "duration", 10*time.Second, "how long filing lives are started")
	fs.DurationVar(&o.load.Drain, "drain", 30*time.Second, "how long lives in flight may finish after --duration")
	fs.IntVar(&o.load.Concurrency, "concurrency", 256, "requests in flight at most (waiting for a slot counts in the latency)")
	fs.DurationVar(&o.load.StepGap, "step-gap", 20*time.Millisecond, "time between a life's scheduled commands")
	fs.Float64Var(&o.load.LagSample, "lag-sample", 0.25, "fraction of commands followed by filing(id, minPosition) to measure projection lag")
	fs.Float64Var(&o.load.Watch, "watch", 0.25, "fraction of filings a subscriber watches over WebSocket")
	fs.StringVar(&o.jsonOut, "json", "", "also write the report as JSON to this file")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (in process: the server, the load generator and the seeding; with --seed not the child server)")
	fs.IntVar(&o.pid, "pid", 0, "with --addr: the server's process id, to report its RSS")
	fs.BoolVar(&o.rawAppend, "raw-append", false, "also measure raw event-store appends on the same disk, for the API ÷ raw ratio")
	fs.IntVar(&o.rawWriters, "raw-writers", 64, "concurrent writers of the raw append benchmark")
	fs.DurationVar(&o.rawDuration, "raw-duration", 5*time.Second, "how long the raw append benchmark runs")
	fs.IntVar(&o.seed, "seed", 0, "store this many filings through the command handlers, then measure filing(id) and the server's RSS (no load run)")
	fs.IntVar(&o.seedWorkers, "seed-workers", 64, "concurrent command handlers while seeding")
	fs.Float64Var(&o.readRate, "read-rate", 500, "filing(id) queries per second on the seeded store")
	fs.DurationVar(&o.readFor, "read-duration", 10*time.Second, "how long the seeded store is queried")
	fs.BoolVar(&o.rebuild, "rebuild", false, "time a rebuild of every projection from the log (in process only)")
	fs.StringVar(&o.serverLog, "server-log", "off", "log level of the in-process server: debug, info, warn, error or off (a run that ends cancels requests, which it logs as errors)")
	if err := parse(fs, args); err != nil {
		return o, err
	}
	if o.addr != "" && (o.rawAppend || o.rebuild || o.seed > 0) {
		return o, errors.New("--raw-append, --rebuild and --seed need the store in process: leave out --addr")
	}
	if o.addr != "" && o.data == "" {
		return o, errors.New("--addr needs --data: the server's data directory, whose dev secret signs the bench's tokens")
	}
	return o, nil
}

// runBench runs the phases asked for and prints the report.
func runBench(ctx context.Context, o benchOptions, stdout, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	o.load.Logger = logger
	serverLog, err := newLogger("server-log", o.serverLog, stderr)
	if err != nil {
		return err
	}
	rep, err := profiled(o.cpuProfile, func() (*bench.Report, error) {
		switch {
		case o.addr != "":
			return benchRemote(ctx, o)
		case o.seed > 0:
			return benchSeeded(ctx, o, logger, serverLog)
		}
		return benchInProcess(ctx, o, serverLog)
	})
	if err != nil {
		return err
	}
	if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	if o.jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
	}
	return nil
}

// benchRemote drives a running server, minting tokens with its dev secret.
func benchRemote(ctx context.Context, o benchOptions) (*bench.Report, error) {
	tokens, err := devTokens(o.data)
	if err != nil {
		return nil, fmt.Errorf("--data %s: %w", o.data, err)
	}
	o.load.URL = o.addr
	o.load.Token = func(role, account string) (string, error) { return tokens.Mint(account, role, time.Hour) }
	rep, err := bench.Run(ctx, o.load)
	if err != nil {
		return nil, err
	}
	if o.pid > 0 {
		m, err := readMemory(o.pid)
		if err != nil {
			return nil, err
		}
		rep.Server = &m
	}
	return rep, nil
}

// benchInProcess starts the service on a temporary data directory, with
// the embedded stores as `beian serve` opens them, and drives it.
func benchInProcess(ctx context.Context, o benchOptions, logger *slog.Logger) (*bench.Report, error) {
	dir, cleanup, err := benchData(o)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	s, url, stop, err := listenInProcess(ctx, dir, logger)
	if err != nil {
		return nil, err
	}
	defer stop()
	o.load.URL = url
	o.load.Token = func(role, account string) (string, error) { return s.tokens.Mint(account, role, time.Hour) }
	rep := &bench.Report{}
	if o.load.Rate > 0 {
		cpu := cpuTime()
		if rep, err = bench.Run(ctx, o.load); err != nil {
			return nil, err
		}
		rep.CPUSec = (cpuTime() - cpu).Seconds()
	}
	m, err := readMemory(os.Getpid())
	if err != nil {
		return nil, err
	}
	m.InProcess = true
	rep.Server = &m
	if o.rawAppend {
		if rep.RawAppend, err = rawAppend(ctx, filepath.Join(dir, "raw-append.db"), o.rawWriters, o.rawDuration, logger); err != nil {
			return nil, err
		}
		rep.APIToRaw = rep.CommandsPerSec / rep.RawAppend.EventsPerSec
	}
	if o.rebuild {
		if rep.Rebuild, err = rebuildAll(ctx, s); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchData is the data directory of an in-process run and how to clean it.
func benchData(o benchOptions) (string, func(), error) {
	if o.data != "" {
		return o.data, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "beian-bench-")
	if err != nil {
		return "", nil, fmt.Errorf("bench data directory: %w", err)
	}
	if o.keep {
		return dir, func() {}, nil
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// listenInProcess opens the service on dir and serves its API on a free
// port, as `beian serve --dev` does.
func listenInProcess(ctx context.Context, dir string, logger *slog.Logger) (*service, string, func(), error) {
	s, err := open(ctx, config{Data: dir, Dev: true, Logger: logger, Clock: commands.SystemClock{}})
	if err != nil {
		return nil, "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.close()
		return nil, "", nil, fmt.Errorf("bench listen: %w", err)
	}
	srv := &http.Server{Handler: s.api.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go srv.Serve(ln)
	stop := func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
		s.close()
	}
	return s, "http://" + ln.Addr().String(), stop, nil
}

// profiled runs f under the CPU profiler when file is set.
func profiled(file string, f func() (*bench.Report, error)) (*bench.Report, error) {
	if file == "" {
		return f()
	}
	out, err := os.Create(file)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	defer out.Close()
	if err := pprof.StartCPUProfile(out); err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	defer pprof.StopCPUProfile()
	return f()
}
