package esdbtest

import (
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
)

// record is one event in the peer's log.
type record struct {
	id          uuid.UUID
	stream      string
	revision    uint64
	position    uint64 // byte offset in the pretend transaction file: commit = prepare position
	typ         string
	contentType string
	data        []byte
	metadata    []byte // the custom (user) metadata
	created     int64  // .NET ticks (100 ns) since the Unix epoch, as the server sends it
}

// size is how far the record moves the end of the log. It mimics a
// prepare record's header plus its variable parts so that positions have
// the gaps a real log has: nobody may assume position+1 is the next event.
func (r *record) size() uint64 {
	return 80 + uint64(len(r.stream)+len(r.typ)+len(r.contentType)+len(r.data)+len(r.metadata))
}

// memLog is the peer's storage: one append-only list in log order and an
// index per stream. Every append closes changed so live subscriptions wake.
type memLog struct {
	now func() time.Time

	mu      sync.Mutex
	records []*record
	streams map[string][]*record
	byPos   map[uint64]int // index in records, to refuse positions inside a record
	end     uint64         // position after the last record
	changed chan struct{}
}

// preamble is where the first record starts: a real log opens with epoch
// and system records, so no event sits at position 0.
const preamble = 256

func newLog(now func() time.Time) *memLog {
	return &memLog{
		now: now, streams: map[string][]*record{}, byPos: map[uint64]int{},
		end: preamble, changed: make(chan struct{}),
	}
}

// expectKind mirrors the append request's expected_stream_revision.
type expectKind int

const (
	expectAny expectKind = iota
	expectNoStream
	expectRevision
	expectStreamExists
)

type expectation struct {
	kind     expectKind
	revision uint64
}

// outcome is what an append did: written, recognised as a retry, or
// refused because the stream is not where the writer expected it.
type outcome struct {
	wrong    bool
	retry    bool
	current  int64  // the stream's last revision after the append (or now, when wrong); -1 for no stream
	position uint64 // position of the last written event, when written
}

// append applies the server's rules: the expected revision must match the
// stream's last revision, except that a batch whose ids are already in the
// stream right after the expected revision is a retry and succeeds without
// writing. A batch that only partly matches is refused, as the server
// refuses it.
func (l *memLog) append(stream string, exp expectation, events []*record) outcome {
	l.mu.Lock()
	defer l.mu.Unlock()
	recs := l.streams[stream]
	current := int64(len(recs)) - 1
	switch exp.kind {
	case expectAny:
		if last, ok, partial := retryAnywhere(recs, events); ok {
			return outcome{retry: true, current: last}
		} else if partial {
			return outcome{wrong: true, current: current}
		}
	case expectStreamExists:
		if current < 0 {
			return outcome{wrong: true, current: current}
		}
	case expectNoStream, expectRevision:
		expected := int64(-1)
		if exp.kind == expectRevision {
			expected = int64(exp.revision)
		}
		if current != expected {
			if current > expected && retryAt(recs, expected+1, events) {
				return outcome{retry: true, current: expected + int64(len(events))}
			}
			return outcome{wrong: true, current: current}
		}
	}
	created := l.now().UnixNano() / 100
	for _, r := range events {
		r.stream, r.revision, r.position, r.created = stream, uint64(len(recs)), l.end, created
		recs = append(recs, r)
		l.byPos[r.position] = len(l.records)
		l.records = append(l.records, r)
		l.end += r.size()
	}
	l.streams[stream] = recs
	close(l.changed)
	l.changed = make(chan struct{})
	return outcome{current: int64(len(recs)) - 1, position: events[len(events)-1].position}
}

// retryAt reports whether the stream holds the batch's ids, in order,
// from revision from on.
func retryAt(recs []*record, from int64, events []*record) bool {
	if from < 0 || from+int64(len(events)) > int64(len(recs)) {
		return false
	}
	for i, e := range events {
		if recs[from+int64(i)].id != e.id {
			return false
		}
	}
	return true
}

// retryAnywhere is the check for expected revision "any": the batch is a
// retry if its first id is in the stream and the rest follow it; partial
// when the first id is there but the rest are not.
func retryAnywhere(recs []*record, events []*record) (last int64, ok, partial bool) {
	for i, r := range recs {
		if r.id == events[0].id {
			if retryAt(recs, int64(i), events) {
				return int64(i + len(events) - 1), true, false
			}
			return 0, false, true
		}
	}
	return 0, false, false
}

// readStream returns up to count events of a stream, forwards from
// revision from or backwards from it (inclusive both ways, as the server).
func (l *memLog) readStream(stream string, from uint64, fromEnd, backwards bool, count uint64) ([]*record, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	recs, ok := l.streams[stream]
	if !ok {
		return nil, false
	}
	var out []*record
	if backwards {
		i := int64(len(recs)) - 1
		if !fromEnd && int64(from) < i {
			i = int64(from)
		}
		for ; i >= 0 && uint64(len(out)) < count; i-- {
			out = append(out, recs[i])
		}
		return out, true
	}
	if fromEnd {
		return nil, true
	}
	for i := from; i < uint64(len(recs)) && uint64(len(out)) < count; i++ {
		out = append(out, recs[i])
	}
	return out, true
}

// errInvalidPosition is the peer's refusal of a $all position that falls
// inside a record: a real server cannot parse the log from there either.
type errInvalidPosition struct{ commit, prepare uint64 }

func (e errInvalidPosition) Error() string {
	return fmt.Sprintf("invalid position %d/%d: not the start of an event", e.commit, e.prepare)
}

// index returns the index of the first record at or after position p.
// p must be 0, the start of a record, or at or past the end of the log.
func (l *memLog) index(commit, prepare uint64) (int, error) {
	if commit != prepare {
		return 0, errInvalidPosition{commit, prepare}
	}
	if commit == 0 {
		return 0, nil
	}
	if commit >= l.end {
		return len(l.records), nil
	}
	i, ok := l.byPos[commit]
	if !ok {
		return 0, errInvalidPosition{commit, prepare}
	}
	return i, nil
}

// readAll returns up to count events of $all. Forwards, a position is
// inclusive; backwards, it is exclusive (the events before it), as the
// server's reader treats pre- and post-positions.
func (l *memLog) readAll(pos *[2]uint64, fromEnd, backwards bool, count uint64) ([]*record, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*record
	if backwards {
		i := len(l.records) - 1
		if pos != nil {
			j, err := l.index(pos[0], pos[1])
			if err != nil {
				return nil, err
			}
			i = j - 1
		} else if !fromEnd { // backwards from the start: nothing before it
			return nil, nil
		}
		for ; i >= 0 && uint64(len(out)) < count; i-- {
			out = append(out, l.records[i])
		}
		return out, nil
	}
	i := 0
	switch {
	case fromEnd:
		return nil, nil
	case pos != nil:
		j, err := l.index(pos[0], pos[1])
		if err != nil {
			return nil, err
		}
		i = j
	}
	for ; i < len(l.records) && uint64(len(out)) < count; i++ {
		out = append(out, l.records[i])
	}
	return out, nil
}

// subscriptionStart is the index of the first record a subscription from
// pos delivers: subscribing from a position is exclusive.
func (l *memLog) subscriptionStart(pos *[2]uint64, fromEnd bool) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case fromEnd:
		return len(l.records), nil
	case pos == nil:
		return 0, nil
	}
	i, err := l.index(pos[0], pos[1])
	if err != nil {
		return 0, err
	}
	if i < len(l.records) && l.records[i].position == pos[0] {
		i++
	}
	return i, nil
}

// from returns up to max records from index i on and the channel closed
// by the next append, read together so no append falls between them.
func (l *memLog) from(i, max int) ([]*record, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i >= len(l.records) {
		return nil, l.changed
	}
	return l.records[i:min(i+max, len(l.records))], l.changed
}

// snapshot copies every record, for tests that look at what was stored.
func (l *memLog) snapshot() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Event, len(l.records))
	for i, r := range l.records {
		out[i] = Event{
			ID: r.id, Stream: r.stream, Revision: r.revision, Position: r.position, Type: r.typ,
			ContentType: r.contentType, Data: r.data, Metadata: r.metadata,
			Created: time.Unix(0, r.created*100).UTC(),
		}
	}
	return out
}
