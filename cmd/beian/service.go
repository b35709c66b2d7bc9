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
	"github.com/beian/beian/infra/readstore"
	"github.com/beian/beian/infra/readstore/postgres"
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
	EventStore string // "" or sqlite: the data directory's file; esdb://…: EventStoreDB/KurrentDB
	// ReadStore is "" or sqlite (the data directory's file) or postgres://…,
	// on which replicas share the read models and elect a leader.
	ReadStore       string
	ReadStoreSchema string // the PostgreSQL schema; default public
	Blobs           string // materials; default <data>/blobs, shared by replicas
	LivenessSecret  string // file; default <data>/liveness-webhook-secret, the same on every replica
	Bus             string
	Notify          bool
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
	keyStore   readstore.Store // keys.db on the embedded stores; nil when the keys share the PostgreSQL read store
	read       readstore.Store
	index      *filingindex.Index // account → open filing, for VerifyType
	rules      *domain.Rules
	sim        *sim.Providers
	app        *commands.Application
	background sync.WaitGroup // goroutines that use the stores, waited for before closing them
	reader     *projections.Reader
	metrics    *metrics.Registry
	tokens     *api.Tokens
	api        *api.Server
	cancel     context.CancelFunc

	elector  elector               // replicas: who leads; nil on the embedded stores (always this process)
	observer *projections.Observer // replicas: the projections as the read store shows them
	mu       sync.Mutex
	leading  *leading // the leader's work while this process leads
	// runner, scheduler and forwarder are the leader's on the embedded
	// stores, set once by open (tests and operator commands use them).
	runner    *projections.Runner
	scheduler *projections.Scheduler
	forwarder *bus.Forwarder
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

// timeAppends times the log's appends for /metrics
// (beian_event_append_duration_seconds by store kind); health passes through.
func timeAppends(r *metrics.Registry, log logStore, eventStore string) logStore {
	kind := "sqlite"
	if eventStore != "" && eventStore != "sqlite" {
		kind = "esdb"
	}
	return timedLog{EventStore: r.TimeAppends(log, kind), health: log}
}

type timedLog struct {
	*metrics.EventStore
	health interface{ Healthy() error }
}

func (l timedLog) Healthy() error { return l.health.Healthy() }

// openRead opens the read store: the SQLite file of the data directory, or
// PostgreSQL with --read-store postgres://…, where replicas share it.
func openRead(ctx context.Context, cfg config) (readstore.Store, error) {
	switch {
	case cfg.ReadStore == "" || cfg.ReadStore == "sqlite":
		store, err := readsqlite.Open(readsqlite.Config{Path: filepath.Join(cfg.Data, "read.db"), Logger: cfg.Logger})
		if err != nil {
			return nil, fmt.Errorf("read store: %w", err)
		}
		return store, nil
	case strings.HasPrefix(cfg.ReadStore, "postgres://") || strings.HasPrefix(cfg.ReadStore, "postgresql://"):
		store, err := postgres.Open(ctx, postgres.Config{URL: cfg.ReadStore, Schema: cfg.ReadStoreSchema, Logger: cfg.Logger})
		if err != nil {
			return nil, fmt.Errorf("--read-store: %w", err)
		}
		return store, nil
	}
	return nil, fmt.Errorf("--read-store %q: want sqlite or postgres://user@host:5432/db", cfg.ReadStore)
}

// open wires the service and starts its background parts.
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
	s.metrics = metrics.New()
	if s.log, err = openLog(cfg); err != nil {
		return nil, err
	}
	s.log = timeAppends(s.metrics, s.log, cfg.EventStore)
	if s.read, err = openRead(ctx, cfg); err != nil {
		return nil, err
	}
	pg, replicas := s.read.(*postgres.Store)
	if s.keyStore, s.keys, s.privacy, err = openKeys(ctx, cfg, pg); err != nil {
		return nil, err
	}
	s.events = privacy.NewStore(s.log, s.privacy)
	blobDir := cfg.Blobs
	if blobDir == "" {
		blobDir = filepath.Join(cfg.Data, "blobs")
	}
	blobs, err := blobstore.New(blobDir, s.rules.Channel.MaxMaterialBytes)
	if err != nil {
		return nil, err
	}
	s.metrics.Help("beian_commands_total", "Commands handled, by command and outcome.")
	s.metrics.Help("beian_command_duration_seconds", "Command latency: load, decide, append.")
	s.metrics.Help("beian_http_requests_total", "HTTP requests by route and status code.")
	s.sim = sim.New(seed, cfg.Clock)
	bg, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.index = filingindex.Start(bg, s.log, logger)
	s.app, err = commands.NewApplication(commands.NewExecutor(s.events, s.rules, cfg.Clock).WithSealer(privacy.Sealer{P: s.privacy}), commands.Ports{
		Domains: s.sim, Filings: s.sim, Inventory: s.sim, Attribution: s.sim, Index: s.index,
		OCR: s.sim, Liveness: s.sim, SMS: s.sim, Blobs: blobs, Subjects: s.privacy,
	}, logger, s.metrics)
	if err != nil {
		return nil, err
	}
	s.reader = projections.NewReader(s.read)
	s.metrics.Help("beian_projection_lag_events", "Events in the log not yet applied, per projection.")
	s.metrics.Gauge("beian_projection_lag_events", s.lag)
	s.metrics.Help("beian_leader", "1 while this process does the leader's work (projections, timers, publishing), else 0.")
	s.metrics.Gauge("beian_leader", func() map[string]float64 {
		if s.leader() != nil {
			return map[string]float64{"": 1}
		}
		return map[string]float64{"": 0}
	})
	secret, err := s.jwtSecret()
	if err != nil {
		return nil, err
	}
	if s.tokens, err = api.NewTokens(secret, cfg.Clock.Now); err != nil {
		return nil, err
	}
	livenessFile := cfg.LivenessSecret
	if livenessFile == "" {
		livenessFile = filepath.Join(cfg.Data, livenessSecretFile)
	}
	livenessSecret, err := api.LoadOrCreateSecret(livenessFile)
	if err != nil {
		return nil, fmt.Errorf("liveness webhook secret: %w", err)
	}
	s.api, err = api.New(api.Config{
		App: s.app, Rules: s.rules, Reader: s.reader, Waiter: s, Events: s.events, Log: s.log, Tokens: s.tokens, Blobs: blobs,
		Metrics: s.metrics, Ready: s.ready, LivenessSecret: livenessSecret, Logger: logger, Now: cfg.Clock.Now, Dev: cfg.Dev,
		Phone: s.sim,
	})
	if err != nil {
		return nil, err
	}
	go s.api.Run(bg)
	if replicas {
		// Leadership moves between replicas; every replica follows the
		// projections through the read store.
		s.elector = pg.Elector("leader", time.Second)
		s.observer = projections.NewObserver(s.read, projectionSet(s.rules), 10*time.Millisecond)
		s.background.Go(func() { s.observer.Run(bg) })
		s.background.Go(func() { s.campaign(bg) })
		return s, nil
	}
	l, err := s.lead(bg)
	if err != nil {
		return nil, err
	}
	s.setLeading(l)
	s.runner, s.scheduler, s.forwarder = l.runner, l.scheduler, l.forwarder
	return s, nil
}

// openKeys opens the personal-data key store: keys.db in the data
// directory, or a table of the PostgreSQL read store that replicas share.
// Replicas must share the master key too, so there it is never created:
// it comes from BEIAN_MASTER_KEY (or an existing file).
//
// keyStore is keys.db, which the caller closes; nil with pg.
func openKeys(ctx context.Context, cfg config, pg *postgres.Store) (keyStore readstore.Store, keys *privacy.KeyStore, p *privacy.Protector, err error) {
	path := filepath.Join(cfg.Data, masterKeyFile)
	env := os.Getenv("BEIAN_MASTER_KEY")
	if pg != nil && env == "" {
		if _, err := os.Stat(path); err != nil {
			return nil, nil, nil, fmt.Errorf("BEIAN_MASTER_KEY is required with --read-store postgres: every replica must open the same personal-data keys")
		}
	}
	master, err := privacy.LoadMasterKey(env, path)
	if err != nil {
		return nil, nil, nil, err
	}
	var store readstore.Store = pg
	if pg == nil {
		if keyStore, err = openKeyStore(cfg); err != nil {
			return nil, nil, nil, err
		}
		store = keyStore
	}
	if keys, err = privacy.NewKeyStore(ctx, privacy.KeyStoreConfig{Store: store, MasterKey: master}); err != nil {
		if keyStore != nil {
			keyStore.Close()
		}
		return nil, nil, nil, err
	}
	return keyStore, keys, privacy.NewProtector(keys, master), nil
}

// openKeyStore opens keys.db of the data directory.
func openKeyStore(cfg config) (readstore.Store, error) {
	store, err := readsqlite.Open(readsqlite.Config{Path: filepath.Join(cfg.Data, "keys.db"), ReadConns: 2, Durable: true, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("key store: %w", err)
	}
	return store, nil
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
	if err := s.index.Ready(); err != nil {
		return err
	}
	return s.projectionsReady()
}

// lag is the projections' distance from the log's head, for /metrics.
func (s *service) lag() map[string]float64 {
	head, err := s.log.Head(context.Background())
	out := map[string]float64{}
	if err != nil {
		return out
	}
	for _, st := range s.projectionStatus() {
		out[metrics.Labels("projection", st.Name)] = float64(head) - float64(st.Position)
	}
	return out
}

// close stops the background work and closes the stores, in that order.
func (s *service) close() {
	if s.cancel != nil {
		s.cancel()
	}
	s.background.Wait() // the campaign steps down before it returns
	if s.index != nil {
		<-s.index.Done() // it reads the log
	}
	if l := s.leader(); l != nil {
		l.stop()
	}
	for _, c := range []interface{ Close() error }{s.read, s.keyStore, s.log} {
		if c != nil {
			c.Close()
		}
	}
	if s.lock != nil {
		s.lock.Close() // releases the flock
	}
}
