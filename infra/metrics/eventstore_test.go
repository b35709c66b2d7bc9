package metrics_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/infra/eventstore/sqlite"
	"github.com/beian/beian/infra/metrics"
	"github.com/google/uuid"
)

// TestAppendsAreTimed: appends through the decorator land in the store
// (a real SQLite event store) and in the histogram, failed ones included;
// reads are not timed.
func TestAppendsAreTimed(t *testing.T) {
	inner, err := sqlite.Open(sqlite.Config{Path: filepath.Join(t.TempDir(), "events.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	r := metrics.New()
	store := r.TimeAppends(inner, "sqlite")
	ctx := context.Background()
	event := func() []eventstore.EventData {
		return []eventstore.EventData{{ID: uuid.NewString(), Type: "test.happened.v1", Data: []byte(`{}`)}}
	}
	if _, err := store.Append(ctx, "s-1", eventstore.NoStream(), event()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, "s-1", eventstore.Exact(0), event()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, "s-1", eventstore.NoStream(), event()); !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("append to an existing stream expecting none: %v", err)
	}
	got, err := inner.ReadStream(ctx, "s-1", 0, 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("the inner store holds %d events (%v), want 2", len(got), err)
	}
	if _, err := store.ReadAll(ctx, 0, 10); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if _, err := r.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"# HELP beian_event_append_duration_seconds ",
		"# TYPE beian_event_append_duration_seconds histogram",
		`beian_event_append_duration_seconds_bucket{store="sqlite",le="+Inf"} 3`,
		`beian_event_append_duration_seconds_count{store="sqlite"} 3`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}
