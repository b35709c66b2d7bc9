package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/beian/beian/api"
)

// Config configures a crash test run.
type Config struct {
	Kills    int           // SIGKILLs before the final start
	Workers  int           // load clients; default 4
	MaxDelay time.Duration // a server lives a random time in [0, MaxDelay) before its kill; default 1.5s
	Dir      string        // work directory; default a new temporary directory
	Seed     uint64        // seed of the delays; 0: from the clock
	Timeout  time.Duration // the whole run; default 30 min
	Logger   *slog.Logger  // default slog.Default()
}

func (c *Config) setDefaults() {
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = 1500 * time.Millisecond
	}
	if c.Seed == 0 {
		c.Seed = uint64(time.Now().UnixNano())
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.Kills < 1 {
		errs = append(errs, fmt.Errorf("crashtest: %d kills, want at least 1", c.Kills))
	}
	if c.Workers < 0 || c.MaxDelay < 0 || c.Timeout < 0 {
		errs = append(errs, errors.New("crashtest: workers, max delay and timeout must not be negative"))
	}
	return errors.Join(errs...)
}

// Report is what a run did and found.
type Report struct {
	Dir      string
	Seed     uint64
	Kills    int           // SIGKILLs sent to a live server
	Acked    int           // commands acknowledged (lines of the acknowledgement log)
	Retried  int           // acknowledged commands that needed more than one attempt
	Repeated int           // acknowledged commands the server answered as repeats of an earlier, unacknowledged success
	Events   int           // events in the log at the end
	Duration time.Duration // the whole run, checks included
}

func (r Report) String() string {
	return fmt.Sprintf("crashtest: %d kills, %d acknowledged commands (%d retried across a kill, %d answered as repeats), %d events, %s (seed %d, dir %s)",
		r.Kills, r.Acked, r.Retried, r.Repeated, r.Events, r.Duration.Round(time.Second), r.Seed, r.Dir)
}

// Run builds beian, drives load while killing and restarting the server
// cfg.Kills times, lets it catch up once more and checks the files it left.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	cfg.setDefaults()
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	if cfg.Dir == "" {
		dir, err := os.MkdirTemp("", "beian-crashtest")
		if err != nil {
			return Report{}, fmt.Errorf("crashtest: %w", err)
		}
		cfg.Dir = dir
	}
	report := Report{Dir: cfg.Dir, Seed: cfg.Seed}
	bin, err := build(ctx, cfg.Dir)
	if err != nil {
		return report, err
	}
	cfg.Logger.Info("crashtest: built beian", "took", time.Since(start).Round(time.Millisecond))
	h, err := newHarness(cfg, bin)
	if err != nil {
		return report, err
	}
	defer h.close()
	report.Kills, err = h.loadAndKill(ctx)
	if err != nil {
		return report, err
	}
	cfg.Logger.Info("crashtest: load and kills done", "kills", report.Kills, "acknowledged", h.acks.count(), "took", time.Since(start).Round(time.Millisecond))
	acks, err := readAcks(h.acks.path)
	if err != nil {
		return report, err
	}
	report.Acked = len(acks)
	for _, a := range acks {
		if a.Attempts > 1 {
			report.Retried++
		}
		if a.Repeated {
			report.Repeated++
		}
	}
	report.Events, err = check(ctx, bin, h.data, acks, cfg.Logger)
	report.Duration = time.Since(start)
	return report, err
}

// build compiles the beian binary of this module into dir.
func build(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("crashtest: go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	bin := filepath.Join(dir, "beian")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/beian")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("crashtest: go build: %w\n%s", err, out)
	}
	return bin, nil
}

// harness is one run's server, load and acknowledgement log.
type harness struct {
	cfg     Config
	bin     string
	data    string
	logs    *os.File // every server's stderr, appended
	acks    *ackLog
	tokens  *api.Tokens
	current endpoint
	rng     *rand.Rand
}

func newHarness(cfg Config, bin string) (*harness, error) {
	data := filepath.Join(cfg.Dir, "data")
	if err := os.MkdirAll(data, 0o750); err != nil {
		return nil, fmt.Errorf("crashtest: %w", err)
	}
	// The server signs dev tokens with this secret; creating it first lets
	// the load client mint its tokens without a running server.
	secret, err := api.LoadOrCreateSecret(filepath.Join(data, "jwt-secret"))
	if err != nil {
		return nil, fmt.Errorf("crashtest: %w", err)
	}
	tokens, err := api.NewTokens(secret, time.Now)
	if err != nil {
		return nil, fmt.Errorf("crashtest: %w", err)
	}
	logs, err := os.OpenFile(filepath.Join(cfg.Dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("crashtest: %w", err)
	}
	acks, err := openAckLog(filepath.Join(cfg.Dir, "acks.jsonl"))
	if err != nil {
		logs.Close()
		return nil, err
	}
	return &harness{cfg: cfg, bin: bin, data: data, logs: logs, acks: acks, tokens: tokens,
		rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed>>1))}, nil
}

func (h *harness) close() {
	h.logs.Close()
	h.acks.close()
}

// loadAndKill runs the load client while the server is killed cfg.Kills
// times, then starts it a last time, lets the clients finish the commands
// they are in and waits for the forwarder to publish the whole log.
func (h *harness) loadAndKill(ctx context.Context) (int, error) {
	loadCtx, cancelLoad := context.WithCancel(ctx)
	defer cancelLoad()
	finish := make(chan struct{}) // closed: start no new command
	var wg sync.WaitGroup
	errs := make(chan error, h.cfg.Workers)
	for w := range h.cfg.Workers {
		wg.Go(func() {
			l := &loader{worker: w, tokens: h.tokens, at: &h.current, acks: h.acks, http: &http.Client{Timeout: 30 * time.Second}}
			if err := l.run(loadCtx, finish); err != nil {
				errs <- err
				cancelLoad()
			}
		})
	}
	stopLoad := func() error {
		close(finish)
		wg.Wait()
		close(errs)
		return errors.Join(collect(errs)...)
	}
	kills := 0
	for kills < h.cfg.Kills {
		s, err := h.start(ctx)
		if err != nil {
			cancelLoad()
			return kills, errors.Join(err, stopLoad())
		}
		// Most kills come while the server serves; one in five may come
		// while it still opens its stores or catches up.
		if h.rng.IntN(5) != 0 {
			select {
			case <-s.listening:
			case <-s.exited:
			case <-loadCtx.Done():
			}
		}
		delay := time.Duration(h.rng.Int64N(int64(h.cfg.MaxDelay)))
		select {
		case <-time.After(delay):
		case <-s.exited:
		case <-loadCtx.Done():
		}
		killed, err := s.kill()
		if err != nil || loadCtx.Err() != nil {
			cancelLoad()
			return kills, errors.Join(err, loadCtx.Err(), stopLoad())
		}
		if killed {
			kills++
		}
		if kills%25 == 0 {
			h.cfg.Logger.Info("crashtest: killed", "kills", kills, "acknowledged", h.acks.count())
		}
	}
	s, err := h.start(ctx)
	if err != nil {
		cancelLoad()
		return kills, errors.Join(err, stopLoad())
	}
	if err := stopLoad(); err != nil {
		s.kill()
		return kills, err
	}
	if err := waitPublished(ctx, h.data); err != nil {
		s.kill()
		return kills, err
	}
	return kills, s.terminate()
}

func collect(errs <-chan error) []error {
	var out []error
	for err := range errs {
		out = append(out, err)
	}
	return out
}
