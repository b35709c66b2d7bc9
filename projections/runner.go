package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/infra/readstore"
)

// Config configures a Runner.
type Config struct {
	Events      eventstore.Store
	Read        readstore.Store
	Projections []Projection
	Logger      *slog.Logger
	Now         func() time.Time
	// BatchSize caps the events of one transaction (default 2000). Live,
	// a batch is whatever has arrived meanwhile; a catch-up or rebuild fills
	// it, and Filings and Deadlines write each filing once per batch: 2000
	// rebuilt the bench's log 1.8 times as fast as 500 (docs/performance.md).
	BatchSize int
}

// Runner keeps every projection up to date with the log.
type Runner struct {
	cfg Config

	ctx      context.Context // Start's: every loop, rebuilds too, ends with it
	mu       sync.Mutex
	loops    map[string]*loop // the loop applying each projection's serving (or first) generation
	building map[string]*loop // rebuilds in progress
	changed  chan struct{}    // closed and replaced whenever a loop advances
	feed     *feed
}

// loop applies one generation of one projection.
type loop struct {
	p          Projection
	generation int
	cancel     context.CancelFunc
	done       chan struct{}
	position   uint64 // applied, under Runner.mu
	caughtUp   bool   // applied everything stored when it (re)subscribed
	live       bool   // its tables serve queries
	err        error
	first      *tap // the loop's first subscription, shared with loops that started with it
}

// NewRunner checks the configuration.
func NewRunner(cfg Config) (*Runner, error) {
	var errs []error
	if cfg.Events == nil {
		errs = append(errs, errors.New("projections: no event store"))
	}
	if cfg.Read == nil {
		errs = append(errs, errors.New("projections: no read store"))
	}
	seen := map[string]bool{}
	for _, p := range cfg.Projections {
		if seen[p.Name()] {
			errs = append(errs, fmt.Errorf("projections: %s listed twice", p.Name()))
		}
		seen[p.Name()] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 2000
	}
	return &Runner{cfg: cfg, loops: map[string]*loop{}, building: map[string]*loop{}, changed: make(chan struct{}),
		feed: newFeed(cfg.Events, cfg.BatchSize)}, nil
}

// Names lists the projections' names, in the order of the configuration.
func (r *Runner) Names() []string {
	names := make([]string, len(r.cfg.Projections))
	for i, p := range r.cfg.Projections {
		names[i] = p.Name()
	}
	return names
}

// Projection returns the projection with the name, or nil.
func (r *Runner) Projection(name string) Projection {
	for _, p := range r.cfg.Projections {
		if p.Name() == name {
			return p
		}
	}
	return nil
}

// Start creates the registry and runs every projection until ctx ends. A
// projection whose live generation has another version, or none, is built
// from the start of the log in fresh tables; the old ones serve meanwhile.
func (r *Runner) Start(ctx context.Context) error {
	r.ctx = ctx
	err := r.cfg.Read.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
		_, err := tx.Exec(ctx, registrySchema)
		return err
	})
	if err != nil {
		return fmt.Errorf("projection registry: %w", err)
	}
	var starts []start
	for _, p := range r.cfg.Projections {
		s, err := r.startOf(ctx, p)
		if err != nil {
			return err
		}
		starts = append(starts, s)
	}
	r.run(starts)
	return nil
}

// start is a generation about to be applied from its checkpoint.
type start struct {
	p          Projection
	generation int
	from       uint64
	building   bool
}

// startOf finds the generation of p to run: the live one of its version, a
// build of it under way, or a new build.
func (r *Runner) startOf(ctx context.Context, p Projection) (start, error) {
	gens, err := r.generations(ctx, p.Name())
	if err != nil {
		return start{}, err
	}
	for _, g := range gens {
		if g.State == stateLive && g.Version == p.Version() {
			return start{p: p, generation: g.Generation, from: g.Position}, nil
		}
	}
	// No live generation of this version: resume a build of it or start one.
	for _, g := range slices.Backward(gens) {
		if g.State == stateBuilding && g.Version == p.Version() {
			return start{p: p, generation: g.Generation, from: g.Position, building: true}, nil
		}
	}
	return r.build(ctx, p, gens)
}

func (r *Runner) generations(ctx context.Context, name string) ([]Generation, error) {
	var gens []Generation
	err := r.cfg.Read.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
		var err error
		gens, err = generations(ctx, tx, name)
		return err
	})
	return gens, err
}

// build creates a new generation's tables; promote adds their indexes.
func (r *Runner) build(ctx context.Context, p Projection, gens []Generation) (start, error) {
	next := 1
	if len(gens) > 0 {
		next = gens[len(gens)-1].Generation + 1
	}
	t := newTables(p, next)
	now := r.cfg.Now().UnixMilli()
	err := r.cfg.Read.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
		for _, stmt := range p.Schema() {
			if _, err := tx.Exec(ctx, t.SQL(stmt)); err != nil {
				return fmt.Errorf("create tables of %s: %w", p.Name(), err)
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO projection_generations (name, generation, version, state, position, started_at, updated_at)
			VALUES (?, ?, ?, ?, 0, ?, ?)`, p.Name(), next, p.Version(), stateBuilding, now, now)
		return err
	})
	if err != nil {
		return start{}, fmt.Errorf("start building %s: %w", p.Name(), err)
	}
	r.cfg.Logger.Info("projection: building", "projection", p.Name(), "version", p.Version(), "generation", next)
	return start{p: p, generation: next, building: true}, nil
}

// Rebuild builds projections again from the start of the log into fresh
// tables while the live ones serve, then switches to them. Projections
// rebuilt in one call read the log together. ctx bounds the setup; the
// build runs until the context given to Start ends.
func (r *Runner) Rebuild(ctx context.Context, names ...string) error {
	var ps []Projection
	for i, name := range names {
		p := r.Projection(name)
		if p == nil {
			return fmt.Errorf("no projection %q", name)
		}
		if slices.Contains(names[:i], name) {
			return fmt.Errorf("%s listed twice", name)
		}
		r.mu.Lock()
		_, busy := r.building[name]
		r.mu.Unlock()
		if busy {
			return fmt.Errorf("%s is being built already", name)
		}
		ps = append(ps, p)
	}
	var starts []start
	for _, p := range ps {
		gens, err := r.generations(ctx, p.Name())
		if err != nil {
			return err
		}
		s, err := r.build(ctx, p, gens)
		if err != nil {
			r.run(starts) // those registered already are built, not left behind
			return err
		}
		starts = append(starts, s)
	}
	r.run(starts)
	return nil
}

// run starts the loops of the generations; those starting at one position
// read the log together. A building loop becomes its projection's serving
// loop when it has caught up.
func (r *Runner) run(starts []start) {
	byPosition := map[uint64][]start{}
	for _, s := range starts {
		byPosition[s.from] = append(byPosition[s.from], s)
	}
	for from, group := range byPosition {
		taps := r.feed.open(r.ctx, from, len(group))
		for i, s := range group {
			r.runLoop(s, taps[i])
		}
	}
}

func (r *Runner) runLoop(s start, first *tap) {
	ctx, cancel := context.WithCancel(r.ctx)
	l := &loop{p: s.p, generation: s.generation, cancel: cancel, done: make(chan struct{}), position: s.from, live: !s.building, first: first}
	r.mu.Lock()
	if s.building && r.loops[s.p.Name()] != nil {
		r.building[s.p.Name()] = l
	} else {
		r.loops[s.p.Name()] = l
	}
	r.mu.Unlock()
	go func() {
		defer close(l.done)
		err := r.follow(ctx, l, s.building)
		r.mu.Lock()
		l.err = err
		r.notify()
		r.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			r.cfg.Logger.Error("projection stopped", "projection", s.p.Name(), "generation", s.generation, "err", err)
		}
	}()
}

// follow subscribes from the loop's checkpoint and applies batches until
// ctx ends, resubscribing with backoff when the subscription fails.
func (r *Runner) follow(ctx context.Context, l *loop, building bool) error {
	backoff := 100 * time.Millisecond
	for {
		err := r.consume(ctx, l, &building)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrCheckpointMoved) {
			return err
		}
		r.cfg.Logger.Warn("projection: resubscribing", "projection", l.p.Name(), "err", err, "backoff", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (r *Runner) consume(ctx context.Context, l *loop, building *bool) error {
	t := l.first
	l.first = nil
	if t == nil {
		r.mu.Lock()
		from := l.position
		r.mu.Unlock()
		t = r.feed.open(r.ctx, from, 1)[0]
	}
	defer r.feed.close(t)
	tables := newTables(l.p, l.generation)
	tables.written = &writtenStates{states: map[string]writtenState{}}
	for {
		var d delivery
		select {
		case d = <-t.deliveries:
		case <-ctx.Done():
			return ctx.Err()
		}
		if d.err != nil {
			return d.err
		}
		if len(d.batch) > 0 {
			if err := r.apply(ctx, l, tables, d.batch); err != nil {
				return err
			}
		}
		if d.caughtUp {
			// A build counts as caught up once it serves: Ready must not
			// report a projection whose queries cannot be answered yet.
			if *building {
				if err := r.promote(ctx, l); err != nil {
					return err
				}
				*building = false
			}
			r.mu.Lock()
			l.caughtUp = true
			r.notify()
			r.mu.Unlock()
		}
	}
}

// apply writes a batch and its checkpoint in one transaction.
func (r *Runner) apply(ctx context.Context, l *loop, t Tables, batch []Event) error {
	r.mu.Lock()
	from := l.position
	r.mu.Unlock()
	to := batch[len(batch)-1].Position
	filingEvents := make([]Event, 0, len(batch))
	for _, e := range batch {
		if e.Domain != nil {
			filingEvents = append(filingEvents, e)
		}
	}
	err := r.cfg.Read.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
		if len(filingEvents) > 0 {
			if err := l.p.Apply(ctx, tx, t, filingEvents); err != nil {
				return fmt.Errorf("%s: apply events %d to %d: %w", l.p.Name(), filingEvents[0].Position, filingEvents[len(filingEvents)-1].Position, err)
			}
		}
		return moveCheckpoint(ctx, tx, l.p.Name(), l.generation, from, to, r.cfg.Now().UnixMilli())
	})
	if err != nil {
		return err
	}
	r.mu.Lock()
	l.position = to
	r.notify()
	r.mu.Unlock()
	return nil
}

// promote creates a caught-up building generation's indexes, makes it live
// in one transaction, then stops the loop of the generation it replaces and
// drops its tables.
func (r *Runner) promote(ctx context.Context, l *loop) error {
	if err := r.createIndexes(ctx, l); err != nil {
		return err
	}
	var old []Generation
	err := r.cfg.Read.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
		gens, err := generations(ctx, tx, l.p.Name())
		if err != nil {
			return err
		}
		for _, g := range gens {
			if g.Generation != l.generation && g.State != stateRetired {
				old = append(old, g)
			}
		}
		now := r.cfg.Now().UnixMilli()
		if _, err := tx.Exec(ctx, `UPDATE projection_generations SET state = ?, updated_at = ? WHERE name = ? AND generation <> ? AND state <> ?`,
			stateRetired, now, l.p.Name(), l.generation, stateRetired); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE projection_generations SET state = ?, updated_at = ? WHERE name = ? AND generation = ?`,
			stateLive, now, l.p.Name(), l.generation)
		return err
	})
	if err != nil {
		return fmt.Errorf("promote %s generation %d: %w", l.p.Name(), l.generation, err)
	}
	r.mu.Lock()
	previous := r.loops[l.p.Name()]
	r.loops[l.p.Name()] = l
	l.live = true
	r.notify()
	r.mu.Unlock()
	// The rebuild is in progress (Status.Building) until the old tables are
	// dropped: erasure waits for that before it compacts the store.
	defer func() {
		r.mu.Lock()
		delete(r.building, l.p.Name())
		r.notify()
		r.mu.Unlock()
	}()
	if previous != nil && previous != l {
		previous.cancel()
		<-previous.done
	}
	r.cfg.Logger.Info("projection: live", "projection", l.p.Name(), "generation", l.generation, "position", l.position)
	return r.dropRetired(ctx, l.p, old)
}

// createIndexes creates the generation's indexes, each in a transaction of
// its own: an index over a long log takes a while to sort, and the store's
// other writers (the other projections, the key store on PostgreSQL) wait
// for one index at a time, not for all of them and the promotion. A crash
// between them leaves a building generation with some of its indexes,
// which only makes the rest of its build slower; IF NOT EXISTS makes the
// next promote finish the set.
func (r *Runner) createIndexes(ctx context.Context, l *loop) error {
	t := newTables(l.p, l.generation)
	for _, stmt := range l.p.Indexes() {
		start := time.Now()
		err := r.cfg.Read.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
			_, err := tx.Exec(ctx, t.SQL(stmt))
			return err
		})
		if err != nil {
			return fmt.Errorf("create indexes of %s generation %d: %w", l.p.Name(), l.generation, err)
		}
		r.cfg.Logger.Debug("projection: index created", "projection", l.p.Name(), "generation", l.generation, "took", time.Since(start))
	}
	return nil
}

// dropRetired drops the tables of generations that no longer serve. Tables
// of an older version are dropped by name pattern of their generation.
func (r *Runner) dropRetired(ctx context.Context, p Projection, old []Generation) error {
	return r.cfg.Read.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
		for _, g := range old {
			for _, logical := range p.Tables() {
				if _, err := tx.Exec(ctx, fmt.Sprintf("DROP TABLE IF EXISTS %s_v%d_g%d", logical, g.Version, g.Generation)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Wait returns when every loop has stopped (after the context given to
// Start ended), so the stores can be closed under no one.
func (r *Runner) Wait() {
	r.mu.Lock()
	var loops []*loop
	for _, l := range r.loops {
		loops = append(loops, l)
	}
	for _, l := range r.building {
		loops = append(loops, l)
	}
	r.mu.Unlock()
	for _, l := range loops {
		<-l.done
	}
	r.feed.wait()
}

// notify wakes waiters; the caller holds r.mu.
func (r *Runner) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// WaitFor blocks until the named projection has applied the log up to
// position (read-your-writes), or ctx ends.
func (r *Runner) WaitFor(ctx context.Context, name string, position uint64) error {
	for {
		r.mu.Lock()
		l := r.loops[name]
		changed := r.changed
		reached := l != nil && l.live && l.position >= position
		var err error
		if l != nil {
			err = l.err
		}
		r.mu.Unlock()
		if reached {
			return nil
		}
		if err != nil {
			return fmt.Errorf("projection %s stopped: %w", name, err)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Status is a projection's state for operators.
type Status struct {
	Name       string
	Version    int
	Generation int
	Position   uint64
	CaughtUp   bool
	Building   *Status // a rebuild in progress
	Err        error
}

// Status reports every projection's serving loop.
func (r *Runner) Status() []Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Status
	for _, p := range r.cfg.Projections {
		s := Status{Name: p.Name(), Version: p.Version()}
		if l := r.loops[p.Name()]; l != nil {
			s.Generation, s.Position, s.CaughtUp, s.Err = l.generation, l.position, l.caughtUp, l.err
		}
		if b := r.building[p.Name()]; b != nil {
			s.Building = &Status{Name: p.Name(), Version: p.Version(), Generation: b.generation, Position: b.position, CaughtUp: b.caughtUp, Err: b.err}
		}
		out = append(out, s)
	}
	return out
}

// Ready reports whether every projection has a live generation that has
// caught up with the log at least once and has not stopped.
func (r *Runner) Ready() error {
	for _, s := range r.Status() {
		switch {
		case s.Err != nil:
			return fmt.Errorf("projection %s stopped: %w", s.Name, s.Err)
		case !s.CaughtUp:
			return fmt.Errorf("projection %s is catching up (at %d)", s.Name, s.Position)
		}
	}
	return nil
}
