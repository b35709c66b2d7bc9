package esdb

import (
	"math"
	"strings"

	client "github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// Positions.
//
// EventStoreDB places an event in $all by (commit, prepare) byte offsets in
// its transaction file. For the events this adapter writes (one append is
// one implicit transaction) both are the event's own log position, unique
// and increasing, but not consecutive: the next event is where this one's
// record ends.
//
// The port passes positions around as one uint64, and its callers say
// "after p" as ReadAll(p+1). A server cannot read $all from p+1: that
// offset is inside p's record, and the server refuses or misreads it. So
// the adapter's position is 2×(log position+1): always even, never 0, and
// both p and p+1 lead back to the log position of p (p/2-1). ReadAll(from)
// reads from there inclusively and drops what lies below from;
// SubscribeAll(after) subscribes from there exclusively.
//
// Positions are therefore adapter-specific: increasing in commit order,
// with gaps, comparable only with positions of the same store. A log
// position is position/2-1, for anyone comparing with the server's UI.
// Events written by the legacy TCP API's explicit transactions share a
// commit position and are not supported.

// position is the port's position of an event at log position commit.
func position(commit uint64) uint64 { return 2*commit + 2 }

// logPosition is the log position from which p is read: that of the event
// at p or, for p+1, at p. ok is false below the first possible position.
func logPosition(p uint64) (commit uint64, ok bool) {
	if p < 2 {
		return 0, false
	}
	return p/2 - 1, true
}

// at is a $all position for the client.
func at(commit uint64) client.Position { return client.Position{Commit: commit, Prepare: commit} }

// noPosition is how the client renders the server's "-1": an event read
// from a stream on a server that does not report its place in $all.
const noPosition = math.MaxUint64

// commitOf is the event's log position, from the event itself or from the
// read's commit position when the event carries none.
func commitOf(ev *client.ResolvedEvent) uint64 {
	if e := ev.OriginalEvent(); e != nil && e.Position.Commit != noPosition {
		return e.Position.Commit
	}
	if ev.Commit != nil {
		return *ev.Commit
	}
	return noPosition
}

// system reports whether an event is the server's own (settings, users,
// statistics, projections' links): they live in "$" streams or have "$"
// types, and are not beian's.
func system(ev *client.ResolvedEvent) bool {
	e := ev.OriginalEvent()
	return e == nil || strings.HasPrefix(e.StreamID, "$") || strings.HasPrefix(e.EventType, "$")
}
