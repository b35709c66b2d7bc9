package metrics

import (
	"context"
	"time"

	"github.com/beian/beian/infra/eventstore"
)

// AppendDuration is the histogram of event-store appends, by store kind.
const AppendDuration = "beian_event_append_duration_seconds"

// EventStore decorates an event store so that every Append is timed into
// AppendDuration with the label store=kind; the other methods pass through.
// Failed appends (conflicts included) are timed too: a slow store shows
// however the append ends.
type EventStore struct {
	eventstore.Store
	r      *Registry
	labels string
}

// TimeAppends wraps inner; kind names the adapter ("sqlite", "esdb").
func (r *Registry) TimeAppends(inner eventstore.Store, kind string) *EventStore {
	r.Help(AppendDuration, "Event store append latency, by store kind.")
	return &EventStore{Store: inner, r: r, labels: Labels("store", kind)}
}

// Append appends through the inner store and records how long it took.
func (s *EventStore) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) (eventstore.AppendResult, error) {
	start := time.Now()
	res, err := s.Store.Append(ctx, stream, expected, events)
	s.r.Observe(AppendDuration, s.labels, time.Since(start))
	return res, err
}
