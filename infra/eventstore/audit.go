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
	Position uint64    `json:"position"` // the last position it covers
	Streams  int       `json:"streams"`
	Root     string    `json:"root"`
	At       time.Time `json:"at"`
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
func VerifyLog(ctx context.Context, store Store) (VerifyReport, error) {
	checkpoints, err := readCheckpoints(ctx, store)
	if err != nil {
		return VerifyReport{}, err
	}
	h := &heads{last: map[string]Head{}}
	next := 0
	check := func(upTo uint64) error {
		for next < len(checkpoints) && checkpoints[next].Position <= upTo {
			cp := checkpoints[next]
			if root, n := h.root(CheckpointStream); root != cp.Root || n != cp.Streams {
				return &CheckpointMismatchError{Checkpoint: cp, Root: root, Streams: n}
			}
			next++
		}
		return nil
	}
	var from uint64
	for {
		page, err := store.ReadAll(ctx, from, 1000)
		if err != nil {
			return VerifyReport{}, err
		}
		for _, e := range page {
			if err := check(e.Position - 1); err != nil {
				return VerifyReport{}, err
			}
			if err := h.add(e); err != nil {
				return VerifyReport{}, err
			}
			from = e.Position + 1
		}
		if len(page) < 1000 {
			break
		}
	}
	if err := check(^uint64(0)); err != nil {
		return VerifyReport{}, err
	}
	_, streams := h.root("")
	return VerifyReport{Events: h.checked, Streams: streams, Checkpoints: len(checkpoints)}, nil
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
	var from uint64
	for from <= head {
		page, err := store.ReadAll(ctx, from, 1000)
		if err != nil {
			return Checkpoint{}, err
		}
		for _, e := range page {
			if e.Position > head {
				break
			}
			if err := h.add(e); err != nil {
				return Checkpoint{}, fmt.Errorf("the log does not verify, no checkpoint recorded: %w", err)
			}
			from = e.Position + 1
		}
		if len(page) < 1000 {
			break
		}
	}
	root, n := h.root(CheckpointStream)
	cp := Checkpoint{Position: head, Streams: n, Root: root, At: now}
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
