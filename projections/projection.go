package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/infra/readstore"
)

// Projection builds one read model.
type Projection interface {
	// Name is stable; it keys the checkpoint and names the tables.
	Name() string
	// Version changes when the tables or their meaning change: a new version
	// is built from the start of the log beside the old one.
	Version() int
	// Schema returns the statements that create the tables, with table names
	// written as {logical_name}.
	Schema() []string
	// Indexes returns the statements that create the secondary indexes:
	// Apply must find its rows without them. A generation is built without
	// them and creates them when it has caught up, just before it goes live,
	// so that a rebuild sorts each index once rather than inserting into it
	// at random (a fifth of a rebuild's time, docs/performance.md). A UNIQUE
	// index is then checked at that point, not batch by batch. Like a change
	// of Schema, a change of Indexes needs a new Version: a live generation
	// never gets an index added later.
	Indexes() []string
	// Tables lists the logical table names the schema creates.
	Tables() []string
	// Apply folds a batch of filing events, in log order, into the tables,
	// inside the batch's transaction. A projection that keeps a filing's
	// folded state reads and writes it once per batch, not once per event.
	// The events are shared with the other projections: read them only.
	Apply(ctx context.Context, tx readstore.Tx, t Tables, batch []Event) error
}

// Event is a stored event with its decoded domain form.
type Event struct {
	eventstore.RecordedEvent
	FilingID string
	Domain   domain.Event
}

// decode turns a stored event into an Event. Events of other streams (not
// filings) are left undecoded.
func decode(r eventstore.RecordedEvent) (Event, error) {
	e := Event{RecordedEvent: r}
	id, isFiling := strings.CutPrefix(r.Stream, "filing-")
	if !isFiling {
		return e, nil
	}
	d, err := domain.DecodeEvent(r.Type, r.Data)
	if err != nil {
		return e, fmt.Errorf("event %d (%s): %w", r.Position, r.Type, err)
	}
	e.FilingID, e.Domain = id, d
	return e, nil
}

// filingRun is the events of one filing in a batch, in log order.
type filingRun []Event

// runsByFiling splits a batch into one run per filing, in the order of
// each filing's first event. Rows that are a function of a filing's state
// are then written once per batch: the batch is one transaction, so nobody
// sees the states in between.
func runsByFiling(batch []Event) []filingRun {
	index := map[string]int{}
	var runs []filingRun
	for _, e := range batch {
		i, ok := index[e.FilingID]
		if !ok {
			i = len(runs)
			index[e.FilingID] = i
			runs = append(runs, nil)
		}
		runs[i] = append(runs[i], e)
	}
	return runs
}

// applyEach applies a batch one event at a time, for projections whose
// rows follow events rather than a filing's state.
func applyEach(ctx context.Context, tx readstore.Tx, t Tables, batch []Event, apply func(context.Context, readstore.Tx, Tables, Event) error) error {
	for _, e := range batch {
		if err := apply(ctx, tx, t, e); err != nil {
			return fmt.Errorf("event %d (%s): %w", e.Position, e.Type, err)
		}
	}
	return nil
}

// storedState returns a filing's folded state and revision: the one the
// loop wrote last if it remembers it, else from the projection's table
// (query selects state, revision); revision -1 and the zero state if the
// filing has no row.
func storedState(ctx context.Context, tx readstore.Tx, t Tables, query, id string) (domain.Filing, int64, error) {
	if s, ok := t.written.get(id); ok {
		return s.filing, s.revision, nil
	}
	var f domain.Filing
	var stored string
	var revision int64
	err := tx.QueryRow(ctx, t.SQL(query), id).Scan(&stored, &revision)
	switch {
	case errors.Is(err, readstore.ErrNoRows):
		return f, -1, nil
	case err != nil:
		return f, 0, err
	}
	if err := json.Unmarshal([]byte(stored), &f); err != nil {
		return f, 0, fmt.Errorf("filing %s state: %w", id, err)
	}
	return f, revision, nil
}

// writtenStates remembers the filing states a loop wrote last, so that the
// next event of a live filing is folded without reading and decoding its
// state again (a read and a JSON decode of the whole filing per event, for
// Filings and Deadlines). It is only correct because the loop is the only
// writer of its tables (its checkpoint moves by compare-and-set in each
// batch) and because a batch that fails ends the loop's subscription, and
// its Tables with it: a state that was not committed is never used.
type writtenStates struct {
	states map[string]writtenState
}

type writtenState struct {
	filing   domain.Filing
	revision int64
}

// maxWrittenStates bounds the memory: about the filings live at once at a
// few thousand commands per second; a rebuild starts over when it is full.
const maxWrittenStates = 1024

func (w *writtenStates) get(id string) (writtenState, bool) {
	if w == nil {
		return writtenState{}, false
	}
	s, ok := w.states[id]
	return s, ok
}

func (w *writtenStates) put(id string, f domain.Filing, revision int64) {
	if w == nil {
		return
	}
	if len(w.states) >= maxWrittenStates {
		clear(w.states)
	}
	w.states[id] = writtenState{filing: f, revision: revision}
}

func (w *writtenStates) forget(id string) {
	if w != nil {
		delete(w.states, id)
	}
}

// Tables maps a projection's logical table names to the physical tables of
// one generation, e.g. filings → filings_v1_g3. The loop applying them
// also keeps there the filing states it wrote.
type Tables struct {
	generation int
	names      map[string]string
	written    *writtenStates // nil but in the loop writing the tables
}

func newTables(p Projection, generation int) Tables {
	t := Tables{generation: generation, names: map[string]string{}}
	for _, logical := range p.Tables() {
		t.names[logical] = fmt.Sprintf("%s_v%d_g%d", logical, p.Version(), generation)
	}
	return t
}

// SQL replaces every {logical} table name in a statement with its table.
func (t Tables) SQL(query string) string {
	for logical, physical := range t.names {
		query = strings.ReplaceAll(query, "{"+logical+"}", physical)
	}
	return query
}

// Physical returns the table of a logical name.
func (t Tables) Physical(logical string) string { return t.names[logical] }
