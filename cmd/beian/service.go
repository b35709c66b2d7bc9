package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/beian/beian/api"
	"github.com/beian/beian/commands"
	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/blobstore"
	"github.com/beian/beian/infra/bus"
	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/infra/eventstore/esdb"
	eventsqlite "github.com/beian/beian/infra/eventstore/sqlite"
	"github.com/beian/beian/infra/filingindex"
	"github.com/beian/beian/infra/metrics"
	"github.com/beian/beian/infra/privacy"
	"github.com/beian/beian/infra/providers/sim"
	readsqlite "github.com/beian/beian/infra/readstore/sqlite"
	"github.com/beian/beian/projections"
)

// Files in the data directory.
const (
	devSecretFile      = "jwt-secret"
	masterKeyFile      = "master-key" // seals the personal-data keys; BEIAN_MASTER_KEY overrides
	livenessSecretFile = "liveness-webhook-secret"
	lockFile           = "LOCK"
)

// config is everything a running service is built from.
type config struct {
	Addr      string
	Data      string
	Dev       bool
	SimData   string
	LogLevel  slog.Level
	JWTSecret string // file; empty in dev mode means the data directory's
	Logger    *slog.Logger
	Clock     commands.Clock
	// Events out: --bus kafka://… publishes to Kafka; --notify runs the
	// notification consumer in process on the in-process bus.
	EventStore string // "" or sqlite: the data directory\'s file; esdb://…: EventStoreDB/KurrentDB
	ReadStore  string // "" or sqlite: the data directory\'s file; postgres://…
	Bus        string
	Notify     bool
	// CheckpointEvery records an audit checkpoint that often (0: never).
	CheckpointEvery  time.Duration
	NotifyWebhook    string
	NotifySecretFile string
}

// service is the wired application: stores, command side, projections and
// the API. serve, the operator commands and the tests build it the same way.
type service struct {
	cfg        config
	lock       *os.File
	log        logStore         // the log as stored: sealed payloads, the bytes the hash chains cover
	events     eventstore.Store // the log as read: personal data opened
	privacy    *privacy.Protector
	keys       *privacy.KeyStore
	read       *readsqlite.Store
	rules      *domain.Rules
	sim        *sim.Providers
	app        *commands.Application
	forwarder  *bus.Forwarder
	background sync.WaitGroup // goroutines that use the stores, waited for before closing them
	runner     *projections.Runner
	scheduler  *projections.Scheduler
	reader     *projections.Reader
	metrics    *metrics.Registry
	tokens     *api.Tokens
	api        *api.Server
	cancel     context.CancelFunc
}

// projectionSet is every read model and the deadline timers, in the order
// they are built.
func projectionSet(rules *domain.Rules) []projections.Projection {
	return []projections.Projection{projections.Filings{}, projections.Audit{}, projections.ReviewQueue{}, projections.Statistics{},
		projections.Deadlines{Rules: rules}}
}

// lockData takes the data directory for this process: two processes on one
// embedded store would each believe they are its only writer.
func lockData(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("--data %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--data %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("--data %s: in use by another beian process: %w", dir, errDataInUse)
	}
	return f, nil
}

var errDataInUse = errors.New("data directory locked")

// logStore is an event-store adapter that reports its health.
type logStore interface {
	eventstore.Store
	Healthy() error
}

// openLog opens the event log: the SQLite file of the data directory, or
// EventStoreDB/KurrentDB with --event-store esdb://….
func openLog(cfg config) (logStore, error) {
	if cfg.EventStore == "" || cfg.EventStore == "sqlite" {
		store, err := eventsqlite.Open(eventsqlite.Config{Path: filepath.Join(cfg.Data, "events.db"), Logger: cfg.Logger})
		if err != nil {
			return nil, fmt.Errorf("event store: %w", err)
		}
		return store, nil
	}
	if !strings.HasPrefix(cfg.EventStore, "esdb://") && !strings.HasPrefix(cfg.EventStore, "esdb+discover://") {
		return nil, fmt.Errorf("--event-store %q: want sqlite or esdb://host:2113?tls=false", cfg.EventStore)
	}
	store, err := esdb.Open(esdb.Config{URL: cfg.EventStore, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("--event-store: %w", err)
	}
	return store, nil
}

// open wires the service; start runs its background parts.
func open(ctx context.Context, cfg config) (_ *service, err error) {
	s := &service{cfg: cfg}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.lock, err = lockData(cfg.Data); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if s.rules, err = domain.LoadRules(); err != nil {
		return nil, err
	}
	seed := sim.DefaultSeed()
	if cfg.SimData != "" {
		if seed, err = sim.LoadSeed(cfg.SimData); err != nil {
			return nil, fmt.Errorf("--sim-data: %w", err)
		}
	}
	if s.log, err = openLog(cfg); err != nil {
		return nil, err
	}
	master, err := privacy.LoadMasterKey(os.Getenv("BEIAN_MASTER_KEY"), filepath.Join(cfg.Data, masterKeyFile))
	if err != nil {
		return nil, err
	}
	if s.keys, err = privacy.OpenKeyStore(filepath.Join(cfg.Data, "keys.db"), master); err != nil {
		return nil, err
	}
	s.privacy = privacy.NewProtector(s.keys, master)
	s.events = privacy.NewStore(s.log, s.privacy)
	if s.read, err = readsqlite.Open(readsqlite.Config{Path: filepath.Join(cfg.Data, "read.db"), Logger: logger}); err != nil {
		return nil, fmt.Errorf("read store: %w", err)
	}
	blobs, err := blobstore.New(filepath.Join(cfg.Data, "blobs"), s.rules.Channel.MaxMaterialBytes)
	if err != nil {
		return nil, err
	}
	s.metrics = metrics.New()
	s.metrics.Help("beian_commands_total", "Commands handled, by command and outcome.")
	s.metrics.Help("beian_command_duration_seconds", "Command latency: load, decide, append.")
	s.metrics.Help("beian_http_requests_total", "HTTP requests by route and status code.")
	s.sim = sim.New(seed, cfg.Clock)
	bg, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.app, err = commands.NewApplication(commands.NewExecutor(s.events, s.rules, cfg.Clock).WithSealer(privacy.Sealer{P: s.privacy}), commands.Ports{
		Domains: s.sim, Filings: s.sim, Inventory: s.sim, Attribution: s.sim, Index: filingindex.Start(bg, s.events, logger),
		OCR: s.sim, Liveness: s.sim, SMS: s.sim, Blobs: blobs,
	}, logger, s.metrics)
	if err != nil {
		return nil, err
	}
	if s.runner, err = projections.NewRunner(projections.Config{Events: s.events, Read: s.read, Projections: projectionSet(s.rules), Logger: logger}); err != nil {
		return nil, err
	}
	s.reader = projections.NewReader(s.read)
	s.metrics.Help("beian_projection_lag_events", "Events in the log not yet applied, per projection.")
	s.metrics.Gauge("beian_projection_lag_events", s.lag)
	secret, err := s.jwtSecret()
	if err != nil {
		return nil, err
	}
	if s.tokens, err = api.NewTokens(secret, cfg.Clock.Now); err != nil {
		return nil, err
	}
	livenessSecret, err := api.LoadOrCreateSecret(filepath.Join(cfg.Data, livenessSecretFile))
	if err != nil {
		return nil, err
	}
	s.api, err = api.New(api.Config{
		App: s.app, Rules: s.rules, Reader: s.reader, Waiter: s.runner, Events: s.events, Log: s.log, Tokens: s.tokens, Blobs: blobs,
		Metrics: s.metrics, Ready: s.ready, LivenessSecret: livenessSecret, Logger: logger, Now: cfg.Clock.Now, Dev: cfg.Dev,
		Phone: s.sim,
	})
	if err != nil {
		return nil, err
	}
	if err := s.runner.Start(bg); err != nil {
		return nil, err
	}
	s.scheduler = &projections.Scheduler{Read: s.read, Dispatcher: timerDispatcher{app: s.app}, Now: cfg.Clock.Now, Logger: logger}
	go s.scheduler.Run(bg)
	go s.api.Run(bg)
	if cfg.CheckpointEvery > 0 {
		s.background.Add(1)
		go func() {
			defer s.background.Done()
			s.checkpoints(bg, cfg.CheckpointEvery)
		}()
	}
	if err := s.eventsOut(bg); err != nil {
		return nil, err
	}
	return s, nil
}

// checkpoints records an audit checkpoint periodically: each commits to the
// head of every stream, so later tampering with anything before it shows.
func (s *service) checkpoints(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		cp, err := eventstore.RecordCheckpoint(ctx, s.log, s.cfg.Clock.Now())
		if err != nil {
			if ctx.Err() == nil {
				s.cfg.Logger.Error("audit checkpoint refused", "err", err)
			}
			continue
		}
		s.cfg.Logger.Info("audit checkpoint", "position", cp.Position, "streams", cp.Streams, "root", cp.Root)
	}
}

// jwtSecret is the operator's secret file, or in dev mode the data
// directory's (created on first use).
func (s *service) jwtSecret() ([]byte, error) {
	switch {
	case s.cfg.JWTSecret != "":
		secret, err := api.LoadOrCreateSecret(s.cfg.JWTSecret)
		if err != nil {
			return nil, fmt.Errorf("--jwt-secret-file: %w", err)
		}
		return secret, nil
	case s.cfg.Dev:
		return api.LoadOrCreateSecret(filepath.Join(s.cfg.Data, devSecretFile))
	}
	return nil, errors.New("--jwt-secret-file is required without --dev (the dev secret is for development only)")
}

// ready: the event store accepts writes and every projection has caught up.
func (s *service) ready(ctx context.Context) error {
	if err := s.log.Healthy(); err != nil {
		return fmt.Errorf("event store: %w", err)
	}
	return s.runner.Ready()
}

// lag is the projections' distance from the log's head, for /metrics.
func (s *service) lag() map[string]float64 {
	head, err := s.log.Head(context.Background())
	out := map[string]float64{}
	if err != nil {
		return out
	}
	for _, st := range s.runner.Status() {
		out[metrics.Labels("projection", st.Name)] = float64(head) - float64(st.Position)
	}
	return out
}

// close stops the background work and closes the stores, in that order.
func (s *service) close() {
	if s.cancel != nil {
		s.cancel()
	}
	if s.runner != nil {
		s.runner.Wait()
	}
	s.background.Wait()
	if s.read != nil {
		s.read.Close()
	}
	if s.log != nil {
		s.log.Close()
	}
	if s.keys != nil {
		s.keys.Close()
	}
	if s.lock != nil {
		s.lock.Close() // releases the flock
	}
}
