package projections

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/beian/beian/infra/readstore"
)

// Observer follows projections that another process applies (the leading
// replica's Runner) by reading their checkpoints from the shared read
// store. A replica that runs no projections uses it to wait for a position
// (read-your-writes through minPosition) and to report how far the read
// models are. It only reads.
type Observer struct {
	read        readstore.Store
	projections []Projection
	every       time.Duration

	mu      sync.Mutex
	status  []Status
	err     error // of the last poll
	changed chan struct{}
}

// NewObserver observes the projections in read, polling every interval.
func NewObserver(read readstore.Store, projections []Projection, every time.Duration) *Observer {
	if every <= 0 {
		every = 20 * time.Millisecond
	}
	return &Observer{read: read, projections: projections, every: every, err: errors.New("not polled yet"), changed: make(chan struct{})}
}

// Run polls the registry until ctx ends.
func (o *Observer) Run(ctx context.Context) {
	tick := time.NewTicker(o.every)
	defer tick.Stop()
	for {
		o.poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (o *Observer) poll(ctx context.Context) {
	var status []Status
	err := o.read.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
		status = status[:0]
		for _, p := range o.projections {
			gens, err := generations(ctx, tx, p.Name())
			if err != nil {
				return err
			}
			s := Status{Name: p.Name(), Version: p.Version()}
			for _, g := range gens {
				switch {
				case g.State == stateLive && g.Version == p.Version():
					s.Generation, s.Position, s.CaughtUp = g.Generation, g.Position, true
				case g.State == stateBuilding && g.Version == p.Version():
					s.Building = &Status{Name: p.Name(), Version: p.Version(), Generation: g.Generation, Position: g.Position}
				}
			}
			status = append(status, s)
		}
		return nil
	})
	if ctx.Err() != nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.err = err
	if err == nil {
		o.status = status
	}
	close(o.changed)
	o.changed = make(chan struct{})
}

// WaitFor blocks until the named projection's live generation has applied
// the log up to position, or ctx ends.
func (o *Observer) WaitFor(ctx context.Context, name string, position uint64) error {
	for {
		o.mu.Lock()
		changed := o.changed
		reached := false
		for _, s := range o.status {
			if s.Name == name && s.CaughtUp && s.Position >= position {
				reached = true
			}
		}
		o.mu.Unlock()
		if reached {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Status reports the projections as the last poll found them. CaughtUp
// means a live generation of this version exists: how far it is behind the
// log is the leader's to know.
func (o *Observer) Status() []Status {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Status(nil), o.status...)
}

// Ready reports whether the registry answers and every projection has a
// live generation this build can read.
func (o *Observer) Ready() error {
	o.mu.Lock()
	err, status := o.err, o.status
	o.mu.Unlock()
	if err != nil {
		return fmt.Errorf("projection registry: %w", err)
	}
	for _, s := range status {
		if !s.CaughtUp {
			return fmt.Errorf("projection %s has no live generation of version %d yet", s.Name, s.Version)
		}
	}
	return nil
}
