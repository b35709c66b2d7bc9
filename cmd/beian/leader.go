package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/beian/beian/infra/bus"
	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/projections"
)

// The leader's work is what exactly one process does at a time: apply the
// projections, fire deadline timers, publish the stream and record audit
// checkpoints. On the embedded stores the data directory's lock already
// makes this process the only one, so it leads from the start. Replicas
// sharing a PostgreSQL read store elect the leader with an advisory lock
// (postgres.Elector); the others serve queries and commands, and follow the
// projections through the read store (projections.Observer).

// elector grants leadership; see postgres.Elector.Lead.
type elector interface {
	Lead(ctx context.Context) (leading context.Context, release func(), err error)
}

// leading is the leader's work in progress.
type leading struct {
	runner    *projections.Runner
	scheduler *projections.Scheduler
	forwarder *bus.Forwarder
	stop      func() // ends the work and waits for it
}

// lead starts the leader's work for as long as ctx lasts.
func (s *service) lead(ctx context.Context) (_ *leading, err error) {
	work, cancel := context.WithCancel(ctx)
	var running sync.WaitGroup
	l := &leading{}
	l.stop = func() {
		cancel()
		if l.runner != nil {
			l.runner.Wait()
		}
		running.Wait()
	}
	defer func() {
		if err != nil {
			l.stop()
		}
	}()
	if l.runner, err = projections.NewRunner(projections.Config{Events: s.events, Read: s.read, Projections: projectionSet(s.rules), Logger: s.cfg.Logger}); err != nil {
		return nil, err
	}
	if err := l.runner.Start(work); err != nil {
		return nil, err
	}
	l.scheduler = &projections.Scheduler{Read: s.read, Dispatcher: timerDispatcher{app: s.app}, Now: s.cfg.Clock.Now, Logger: s.cfg.Logger}
	running.Go(func() { l.scheduler.Run(work) })
	running.Go(func() { s.purgeErased(work, l.runner) })
	if s.cfg.CheckpointEvery > 0 {
		running.Go(func() { s.checkpoints(work, s.cfg.CheckpointEvery) })
	}
	if l.forwarder, err = s.eventsOut(work, &running); err != nil {
		return nil, err
	}
	return l, nil
}

// campaign leads whenever this replica holds leadership, until ctx ends.
func (s *service) campaign(ctx context.Context) {
	for {
		held, release, err := s.elector.Lead(ctx)
		if err != nil {
			return // ctx ended
		}
		l, err := s.lead(held)
		if err != nil {
			s.cfg.Logger.Error("cannot do the leader's work; stepping down", "err", err)
		} else {
			s.setLeading(l)
			<-held.Done()
			s.setLeading(nil)
			l.stop()
		}
		release()
		select { // a leader that cannot work must not flap
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (s *service) setLeading(l *leading) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leading = l
}

// leader is the leader's work when this process leads, else nil.
func (s *service) leader() *leading {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leading
}

// WaitFor waits until a read model has applied the log up to position:
// through the runner when this process runs it, through the read store's
// checkpoints on a replica.
func (s *service) WaitFor(ctx context.Context, projection string, position uint64) error {
	if s.observer != nil {
		return s.observer.WaitFor(ctx, projection, position)
	}
	if l := s.leader(); l != nil {
		return l.runner.WaitFor(ctx, projection, position)
	}
	return errors.New("projections are not running")
}

// projectionStatus is every read model's progress as this process knows it.
func (s *service) projectionStatus() []projections.Status {
	if l := s.leader(); l != nil {
		return l.runner.Status()
	}
	if s.observer != nil {
		return s.observer.Status()
	}
	return nil
}

// projectionsReady reports why the read models cannot serve yet.
func (s *service) projectionsReady() error {
	if l := s.leader(); l != nil {
		return l.runner.Ready()
	}
	if s.observer != nil {
		return s.observer.Ready()
	}
	return errors.New("projections are not running")
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
