package eventstore

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Audit checkpoints are events of their own stream: each commits, through
// a Merkle root, to the head of every stream as the log stood at a
// position. An auditor who kept a checkpoint's root can prove later that
// nothing before it changed.
const (
	CheckpointStream = "audit-checkpoints"
	CheckpointType   = "audit.checkpoint_recorded.v1"
)

// Checkpoint is the payload of a checkpoint event.
type Checkpoint struct {
	Position uint64 `json:"position"` // the last position it covers, in the recording store's units
	// Events is how many events of $all it covers: the same place in any
	// store the log is copied to in order (beian migrate), where positions
	// differ. Checkpoints recorded before it existed have 0.
	Events  uint64    `json:"events,omitempty"`
	Streams int       `json:"streams"`
	Root    string    `json:"root"`
	At      time.Time `json:"at"`
}

// heads folds the log up to a position into every stream's head, checking
// every stream's chain on the way.
type heads struct {
	last    map[string]Head
	checked int
}

func (h *heads) add(e RecordedEvent) error {
	prev, seen := h.last[e.Stream]
	want := uint64(0)
	if seen {
		want = prev.Revision + 1
	}
	broken := func(reason string) error {
		return &BrokenLinkError{Stream: e.Stream, Revision: e.Revision, EventID: e.ID, Reason: reason}
	}
	switch {
	case e.Revision != want:
		return broken(fmt.Sprintf("revision %d where %d was expected: an event is missing", e.Revision, want))
	case e.Metadata.Hash == "":
		return broken("no hash recorded")
	case e.Metadata.PrevHash != prev.Hash:
		return broken("does not link to the event before it")
	}
	got, err := ChainHash(e.Stream, e.Revision, e.EventData, prev.Hash)
	if err != nil {
		return err
	}
	if got != e.Metadata.Hash {
		return broken("content does not match its hash")
	}
	h.last[e.Stream] = Head{Stream: e.Stream, Revision: e.Revision, Hash: got}
	h.checked++
	return nil
}

func (h *heads) root(excluding string) (string, int) {
	var list []Head
	for s, hd := range h.last {
		if s != excluding {
			list = append(list, hd)
		}
	}
	return MerkleRoot(list), len(list)
}

// VerifyReport is what a full verification found.
type VerifyReport struct {
	Events      int
	Streams     int
	Checkpoints int
}

// VerifyLog checks every stream's hash chain over the whole log and every
// recorded checkpoint's root against the log as it stood at its position.
// The first problem is returned as a *BrokenLinkError or a
// *CheckpointMismatchError.
//
// A log copied in order into another store (beian migrate) keeps its
// events but not its positions, so a checkpoint is also checked where its
// count of events puts it: Events, or for older checkpoints Position read
// as a count (SQLite numbers events 1, 2, 3). Matching at either place is
// as strong as at the recorded one: equal roots mean equal heads, and a
// head's hash commits to its whole stream before it.
func VerifyLog(ctx context.Context, store Store) (VerifyReport, error) {
	checkpoints, err := readCheckpoints(ctx, store)
	if err != nil {
		return VerifyReport{}, err
	}
	h := &heads{last: map[string]Head{}}
	places := newCheckpointPlaces(checkpoints)
	err = foldLog(ctx, store, ^uint64(0), func(e RecordedEvent) error {
		places.check(h, e.Position-1)
		return h.add(e)
	})
	if err != nil {
		return VerifyReport{}, err
	}
	places.check(h, ^uint64(0))
	if err := places.unmatched(); err != nil {
		return VerifyReport{}, err
	}
	_, streams := h.root("")
	return VerifyReport{Events: h.checked, Streams: streams, Checkpoints: len(checkpoints)}, nil
}

// foldLog hands every event of the log up to position upTo to visit, in
// log order.
func foldLog(ctx context.Context, store Store, upTo uint64, visit func(RecordedEvent) error) error {
	var from uint64
	for from <= upTo {
		page, err := store.ReadAll(ctx, from, 1000)
		if err != nil {
			return err
		}
		for _, e := range page {
			if e.Position > upTo {
				return nil // positions may have gaps (EventStoreDB): from need not pass upTo
			}
			if err := visit(e); err != nil {
				return err
			}
			from = e.Position + 1
		}
		if len(page) < 1000 {
			return nil
		}
	}
	return nil
}

// checkpointPlaces checks each checkpoint at its two places in the log:
// by position and by count of events, in one pass.
type checkpointPlaces struct {
	cps              []Checkpoint // in order of Position (readCheckpoints)
	byCount          []int        // checkpoint indexes in order of count
	nextPos, nextCnt int
	matched          []bool
	firstRoot        []string // the root at the first place checked, for the error
	firstStreams     []int
}

func newCheckpointPlaces(cps []Checkpoint) *checkpointPlaces {
	p := &checkpointPlaces{cps: cps, matched: make([]bool, len(cps)), firstRoot: make([]string, len(cps)), firstStreams: make([]int, len(cps))}
	for i := range cps {
		p.byCount = append(p.byCount, i)
	}
	slices.SortStableFunc(p.byCount, func(a, b int) int { return cmp.Compare(p.count(a), p.count(b)) })
	return p
}

// count is how many events checkpoint i covers.
func (p *checkpointPlaces) count(i int) uint64 {
	if p.cps[i].Events > 0 {
		return p.cps[i].Events
	}
	return p.cps[i].Position
}

// check compares the checkpoints whose places are the log as h holds it:
// every event up to position upTo (the end of the log: ^uint64(0)).
func (p *checkpointPlaces) check(h *heads, upTo uint64) {
	root, n, computed := "", 0, false
	try := func(i int) {
		if p.matched[i] {
			return
		}
		if !computed {
			root, n = h.root(CheckpointStream)
			computed = true
		}
		if p.firstRoot[i] == "" {
			p.firstRoot[i], p.firstStreams[i] = root, n
		}
		p.matched[i] = root == p.cps[i].Root && n == p.cps[i].Streams
	}
	end := upTo == ^uint64(0)
	for p.nextPos < len(p.cps) && (end || p.cps[p.nextPos].Position <= upTo) {
		try(p.nextPos)
		p.nextPos++
	}
	for p.nextCnt < len(p.byCount) && (end || p.count(p.byCount[p.nextCnt]) <= uint64(h.checked)) {
		try(p.byCount[p.nextCnt])
		p.nextCnt++
	}
}

// unmatched returns the first checkpoint (by position) that matched at
// neither place.
func (p *checkpointPlaces) unmatched() error {
	for i := range p.cps {
		if !p.matched[i] {
			return &CheckpointMismatchError{Checkpoint: p.cps[i], Root: p.firstRoot[i], Streams: p.firstStreams[i]}
		}
	}
	return nil
}

// CheckpointMismatchError: the log before a checkpoint is not the log the
// checkpoint committed to.
type CheckpointMismatchError struct {
	Checkpoint Checkpoint
	Root       string
	Streams    int
}

func (e *CheckpointMismatchError) Error() string {
	return fmt.Sprintf("checkpoint of %s at position %d recorded root %s over %d streams; the log gives %s over %d",
		e.Checkpoint.At.Format(time.RFC3339), e.Checkpoint.Position, e.Checkpoint.Root, e.Checkpoint.Streams, e.Root, e.Streams)
}

func readCheckpoints(ctx context.Context, store Store) ([]Checkpoint, error) {
	events, err := store.ReadStream(ctx, CheckpointStream, 0, 100000)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if _, err := VerifyChain(events); err != nil {
		return nil, err
	}
	out := make([]Checkpoint, 0, len(events))
	for _, e := range events {
		var cp Checkpoint
		if err := json.Unmarshal(e.Data, &cp); err != nil {
			return nil, fmt.Errorf("checkpoint %s@%d: %w", e.Stream, e.Revision, err)
		}
		out = append(out, cp)
	}
	slices.SortFunc(out, func(a, b Checkpoint) int { return cmp.Compare(a.Position, b.Position) })
	return out, nil
}

// RecordCheckpoint verifies the log up to its head and appends a checkpoint
// committing to it. It refuses when the log does not verify.
func RecordCheckpoint(ctx context.Context, store Store, now time.Time) (Checkpoint, error) {
	head, err := store.Head(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	h := &heads{last: map[string]Head{}}
	err = foldLog(ctx, store, head, func(e RecordedEvent) error {
		if err := h.add(e); err != nil {
			return fmt.Errorf("the log does not verify, no checkpoint recorded: %w", err)
		}
		return nil
	})
	if err != nil {
		return Checkpoint{}, err
	}
	root, n := h.root(CheckpointStream)
	cp := Checkpoint{Position: head, Events: uint64(h.checked), Streams: n, Root: root, At: now}
	data, err := json.Marshal(cp)
	if err != nil {
		return Checkpoint{}, err
	}
	prev := h.last[CheckpointStream]
	expected := NoStream()
	first := uint64(0)
	if prev.Hash != "" {
		expected, first = Exact(prev.Revision), prev.Revision+1
	}
	id, err := newUUID()
	if err != nil {
		return Checkpoint{}, err
	}
	events := []EventData{{ID: id, Type: CheckpointType, Data: data,
		Metadata: Metadata{SchemaVersion: 1, ActorAccount: "audit", ActorRole: "system", OccurredAt: now}}}
	if err := Chain(CheckpointStream, first, prev.Hash, events); err != nil {
		return Checkpoint{}, err
	}
	if _, err := store.Append(ctx, CheckpointStream, expected, events); err != nil {
		return Checkpoint{}, err
	}
	return cp, nil
}

// newUUID returns a random (version 4) UUID; the port stays free of
// dependencies.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
