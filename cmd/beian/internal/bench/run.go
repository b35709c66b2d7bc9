// Package bench is an open-model load generator for beian: it walks
// complete filing lives over GraphQL/HTTP, with subscribers watching over
// WebSocket, at a fixed offered rate of commands, and reports latencies
// measured from each request's scheduled time.
//
// It speaks only HTTP and WebSocket to a server, so it drives a local or a
// remote one alike; it must not import the service's packages.
package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one run of the load.
type Config struct {
	URL string // the server, e.g. http://127.0.0.1:8080
	// Token mints a bearer token for a role and account; every life has
	// its own applicant account (one open filing per account).
	Token func(role, account string) (string, error)
	// Rate is the offered load in commands per second: a filing life of 15
	// commands starts every 15/Rate seconds.
	Rate     float64
	Duration time.Duration // how long lives are started
	// Drain is how long lives in flight may take to finish after Duration.
	Drain time.Duration
	// Concurrency bounds the requests in flight; time waiting for a slot
	// counts in the latency.
	Concurrency int
	// StepGap is the think time: step k of a life is due at its start +
	// k·StepGap (or at the answer to the step before, if later).
	StepGap time.Duration
	// LagSample is the fraction of commands followed by a read of the
	// filing at the command's position (projection lag).
	LagSample float64
	// Watch is the fraction of filings a subscriber watches.
	Watch  float64
	RunID  string // makes accounts and idempotency keys unique to the run
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Drain == 0 {
		c.Drain = 30 * time.Second
	}
	if c.Concurrency == 0 {
		c.Concurrency = 256
	}
	if c.StepGap == 0 {
		c.StepGap = 20 * time.Millisecond
	}
	if c.RunID == "" {
		c.RunID = fmt.Sprintf("%x", rand.Uint64())
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate joins every problem of the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("bench: no server URL"))
	}
	if c.Token == nil {
		errs = append(errs, errors.New("bench: no token minter"))
	}
	if c.Rate <= 0 {
		errs = append(errs, fmt.Errorf("bench: rate %g: must be positive", c.Rate))
	}
	if c.Duration <= 0 {
		errs = append(errs, fmt.Errorf("bench: duration %s: must be positive", c.Duration))
	}
	if c.Concurrency < 0 || c.LagSample < 0 || c.LagSample > 1 || c.Watch < 0 || c.Watch > 1 {
		errs = append(errs, errors.New("bench: concurrency must be ≥ 0, lag sample and watch between 0 and 1"))
	}
	return errors.Join(errs...)
}

// runner is the state of one run.
type runner struct {
	cfg        Config
	client     *client
	slots      chan struct{}
	end        time.Time // of the measured window
	serialBase int

	mu      sync.Mutex
	ops     map[string]*Histogram
	errors  map[string]int    // "op code" → count
	samples map[string]string // "op code" → the first message

	commands   Histogram // every command, from its scheduled time
	lag        Histogram // acknowledgement → visible in filing(id, minPosition)
	pushLag    Histogram // acknowledgement → subscription update with that revision
	inWindow   atomic.Int64
	acks       atomic.Int64
	updates    atomic.Int64
	watched    atomic.Int64
	sawApprove atomic.Int64
	approvedW  sync.WaitGroup // watchers expected to see approved
	sample     atomic.Uint64
}

// Run drives the load and returns its report. It fails only when the run
// could not happen; failed operations are counted in the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = cfg.Concurrency
	r := &runner{cfg: cfg, client: &client{url: cfg.URL, http: &http.Client{Transport: transport}},
		slots: make(chan struct{}, cfg.Concurrency), ops: map[string]*Histogram{}, errors: map[string]int{}, samples: map[string]string{},
		serialBase: 1_000_000 + rand.IntN(8_000_000_000)}
	defer transport.CloseIdleConnections()
	reviewer, err := cfg.Token("reviewer", "bench-reviewer")
	if err != nil {
		return nil, fmt.Errorf("bench: reviewer token: %w", err)
	}
	bureau, err := cfg.Token("bureau", "bench-bureau")
	if err != nil {
		return nil, fmt.Errorf("bench: bureau token: %w", err)
	}
	lifeCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	interval := time.Duration(float64(time.Second) * commandsPerLife / cfg.Rate)
	start := time.Now()
	r.end = start.Add(cfg.Duration)
	var lives sync.WaitGroup
	var started, completed, failed atomic.Int64
	for n := 0; ; n++ {
		due := start.Add(time.Duration(n) * interval)
		if !due.Before(r.end) {
			break
		}
		if wait := time.Until(due); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return nil, fmt.Errorf("bench: %w", ctx.Err())
			}
		}
		account := fmt.Sprintf("bench-%s-%d", cfg.RunID, n)
		applicant, err := cfg.Token("applicant", account)
		if err != nil {
			return nil, fmt.Errorf("bench: applicant token: %w", err)
		}
		l := &life{r: r, n: n, account: account, applicant: applicant, reviewer: reviewer, bureau: bureau, start: due}
		started.Add(1)
		lives.Go(func() {
			if err := l.run(lifeCtx); err != nil {
				failed.Add(1)
				cfg.Logger.Debug("life failed", "life", n, "filing", l.id, "err", err)
				return
			}
			completed.Add(1)
		})
	}
	// Let the lives in flight finish, then the subscribers see approved.
	stop := time.AfterFunc(time.Until(r.end.Add(cfg.Drain)), cancel)
	lives.Wait()
	watchersDone := make(chan struct{})
	go func() { r.approvedW.Wait(); close(watchersDone) }()
	select {
	case <-watchersDone:
	case <-lifeCtx.Done():
	}
	stop.Stop()
	elapsed := time.Since(start)
	cancel()
	return r.report(cfg, elapsed, started.Load(), completed.Load(), failed.Load()), nil
}

// do runs one request in a concurrency slot.
func (r *runner) do(ctx context.Context, req func(context.Context) error) error {
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return &opError{Op: "wait for a slot", Code: "CANCELLED", Err: ctx.Err()}
	}
	defer func() { <-r.slots }()
	return req(ctx)
}

// done records an operation's latency from since, or its error.
func (r *runner) done(op string, since time.Time, err error) {
	d := time.Since(since)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		key := op + " " + code(err)
		if r.errors[key] == 0 {
			r.samples[key] = err.Error()
		}
		r.errors[key]++
		return
	}
	h := r.ops[op]
	if h == nil {
		h = &Histogram{}
		r.ops[op] = h
	}
	h.Record(d)
	switch op {
	case opQueryFiling, opUpload, opDevSms, opSubscribe:
	default:
		r.commands.Record(d)
	}
}

// acked counts a command acknowledged, in the window or after it.
func (r *runner) acked(at time.Time) {
	r.acks.Add(1)
	if at.Before(r.end) {
		r.inWindow.Add(1)
	}
}

// sampleLag says whether this command's lag is measured: an even spread
// of the configured fraction.
func (r *runner) sampleLag() bool {
	if r.cfg.LagSample <= 0 {
		return false
	}
	n := r.sample.Add(1)
	every := uint64(1 / r.cfg.LagSample)
	return n%max(every, 1) == 0
}

func (r *runner) watchThis(n int) bool {
	if r.cfg.Watch <= 0 {
		return false
	}
	return n%max(int(1/r.cfg.Watch), 1) == 0
}
