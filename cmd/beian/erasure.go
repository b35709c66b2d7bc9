package main

import (
	"context"
	"fmt"
	"time"

	"github.com/beian/beian/projections"
)

// Erasure has two halves. The EraseSubject command (any replica) records
// privacy.subject_erased.v1 and destroys the subject's key; the key store
// keeps the erasure as a pending purge in the same transaction. The leader
// then purges: it waits out the key cache TTL (another replica may open the
// subject's data from a cached key that long), rebuilds every read model
// from the log, which now opens the subject's fields as "[erased]",
// compacts the read store so the old pages leave its files, and only then
// records the purge done. A leader that stops in between finds the purge
// pending when it (or the next one) starts, and does it again.

// purgeEvery is how often the leader looks for pending purges: erasures
// made on other replicas reach it this way.
const purgeEvery = 500 * time.Millisecond

// purgeErased runs the leader's purges until ctx ends.
func (s *service) purgeErased(ctx context.Context, runner *projections.Runner) {
	for {
		if err := s.purge(ctx, runner); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Error("purge after an erasure failed; will try again", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(purgeEvery):
		}
	}
}

// purge does the pending purges, if any.
func (s *service) purge(ctx context.Context, runner *projections.Runner) error {
	pending, err := s.keys.PendingPurges(ctx)
	if err != nil || len(pending) == 0 {
		return err
	}
	s.cfg.Logger.Info("erasure: rebuilding the read models without the erased subjects", "subjects", len(pending),
		"wait", s.keys.CacheTTL())
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(s.keys.CacheTTL()):
	}
	// Every projection is rebuilt at once, reading the log once; the read
	// store holds the old and the new tables of all of them until the
	// rebuilds end and Compact reclaims the space.
	names := runner.Names()
	if err := waitRebuilt(ctx, runner, names...); err != nil { // rebuilds already under way started before the erasure
		return fmt.Errorf("erasure: %w", err)
	}
	if err := runner.Rebuild(ctx, names...); err != nil {
		return fmt.Errorf("erasure: rebuild: %w", err)
	}
	if err := waitRebuilt(ctx, runner, names...); err != nil {
		return fmt.Errorf("erasure: rebuild: %w", err)
	}
	if err := s.read.Compact(ctx); err != nil {
		return fmt.Errorf("erasure: compact the read store: %w", err)
	}
	if err := s.keys.Purged(ctx, pending, s.cfg.Clock.Now()); err != nil {
		return err
	}
	s.cfg.Logger.Info("erasure: read models rebuilt and compacted", "subjects", len(pending))
	return nil
}

// waitPurged waits until no erasure is waiting for its purge.
func (s *service) waitPurged(ctx context.Context) error {
	for {
		st, err := s.keys.Status(ctx)
		if err != nil {
			return err
		}
		if st.Pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
