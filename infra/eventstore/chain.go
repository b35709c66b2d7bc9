package eventstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"
)

// The hash chain makes the log tamper-evident: every event records a
// SHA-256 over its stream, revision, type, payload and metadata (without
// the chain fields) and the previous event's hash in the same stream. An
// event changed, removed or inserted after the fact breaks every link after
// it. Encrypted payloads are hashed as stored, so erasing a key (crypto-
// shredding) leaves the chain intact.

// ChainHash computes an event's hash from its place and its predecessor's.
func ChainHash(stream string, revision uint64, e EventData, prevHash string) (string, error) {
	md := e.Metadata
	md.Hash, md.PrevHash = "", ""
	metadata, err := json.Marshal(md)
	if err != nil {
		return "", fmt.Errorf("hash chain: %w", err)
	}
	h := sha256.New()
	field := func(b []byte) { // length-prefixed, so no two inputs share an encoding
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field([]byte(stream))
	var rev [8]byte
	binary.BigEndian.PutUint64(rev[:], revision)
	h.Write(rev[:])
	field([]byte(e.Type))
	field(e.Data)
	field(metadata)
	field([]byte(prevHash))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Chain fills in the chain fields of events about to be appended after the
// stream's last event (lastHash "" for a new stream; first is the first new
// revision).
func Chain(stream string, first uint64, lastHash string, events []EventData) error {
	prev := lastHash
	for i := range events {
		events[i].Metadata.PrevHash = prev
		h, err := ChainHash(stream, first+uint64(i), events[i], prev)
		if err != nil {
			return err
		}
		events[i].Metadata.Hash = h
		prev = h
	}
	return nil
}

// BrokenLinkError names the first event whose hash or link does not hold.
type BrokenLinkError struct {
	Stream   string
	Revision uint64
	EventID  string
	Reason   string
}

func (e *BrokenLinkError) Error() string {
	return fmt.Sprintf("hash chain broken at %s@%d (event %s): %s", e.Stream, e.Revision, e.EventID, e.Reason)
}

// VerifyChain checks one stream's events, read in revision order from 0.
// It returns the last hash, or the first broken link.
func VerifyChain(events []RecordedEvent) (string, error) {
	h := &heads{last: map[string]Head{}}
	for _, e := range events {
		if err := h.add(e); err != nil {
			return "", err
		}
	}
	if len(events) == 0 {
		return "", nil
	}
	return h.last[events[len(events)-1].Stream].Hash, nil
}

// Head is a stream's last event as a checkpoint records it.
type Head struct {
	Stream   string `json:"stream"`
	Revision uint64 `json:"revision"`
	Hash     string `json:"hash"`
}

// MerkleRoot is the root of a binary Merkle tree over the heads of every
// stream, sorted by stream: one hash that commits to the whole log as it
// stood, so a checkpoint can be recorded cheaply and checked later.
func MerkleRoot(heads []Head) string {
	heads = slices.Clone(heads)
	slices.SortFunc(heads, func(a, b Head) int { return strings.Compare(a.Stream, b.Stream) })
	level := make([][]byte, len(heads))
	for i, hd := range heads {
		level[i] = leaf(hd)
	}
	if len(level) == 0 {
		sum := sha256.Sum256(nil)
		return hex.EncodeToString(sum[:])
	}
	for len(level) > 1 {
		var next [][]byte
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i]) // an odd node moves up unchanged
				continue
			}
			next = append(next, node(sha256.New(), level[i], level[i+1]))
		}
		level = next
	}
	return hex.EncodeToString(level[0])
}

func leaf(hd Head) []byte {
	sum := sha256.Sum256(fmt.Appendf([]byte{0}, "%s\x00%d\x00%s", hd.Stream, hd.Revision, hd.Hash))
	return sum[:]
}

func node(h hash.Hash, a, b []byte) []byte {
	h.Write([]byte{1})
	h.Write(a)
	h.Write(b)
	return h.Sum(nil)
}

// ReadStreamFrom reads a whole stream from revision from on, page by page;
// a missing stream is an empty one.
func ReadStreamFrom(ctx context.Context, store Store, stream string, from uint64) ([]RecordedEvent, error) {
	var out []RecordedEvent
	for {
		page, err := store.ReadStream(ctx, stream, from+uint64(len(out)), 1000)
		if errors.Is(err, ErrNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < 1000 {
			return out, nil
		}
	}
}
