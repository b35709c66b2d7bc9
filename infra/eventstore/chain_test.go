package eventstore

import (
	"errors"
	"testing"
	"time"
)

func chained(t *testing.T, stream string, n int) []RecordedEvent {
	t.Helper()
	var data []EventData
	for i := range n {
		data = append(data, EventData{ID: "id-" + string(rune('a'+i)), Type: "t.v1", Data: []byte(`{"n":1}`),
			Metadata: Metadata{SchemaVersion: 1, ActorAccount: "acct", OccurredAt: time.Date(2026, 3, 2, 10, 0, i, 0, time.UTC)}})
	}
	if err := Chain(stream, 0, "", data); err != nil {
		t.Fatal(err)
	}
	out := make([]RecordedEvent, n)
	for i, d := range data {
		out[i] = RecordedEvent{EventData: d, Stream: stream, Revision: uint64(i)}
	}
	return out
}

func TestChainDetectsTampering(t *testing.T) {
	events := chained(t, "filing-1", 5)
	if _, err := VerifyChain(events); err != nil {
		t.Fatalf("an untouched chain: %v", err)
	}
	cases := map[string]func([]RecordedEvent) []RecordedEvent{
		"payload changed":  func(e []RecordedEvent) []RecordedEvent { e[2].Data = []byte(`{"n":2}`); return e },
		"metadata changed": func(e []RecordedEvent) []RecordedEvent { e[2].Metadata.ActorAccount = "someone"; return e },
		"type changed":     func(e []RecordedEvent) []RecordedEvent { e[2].Type = "t.v2"; return e },
		"event removed":    func(e []RecordedEvent) []RecordedEvent { return append(e[:2], e[3:]...) },
		"events swapped": func(e []RecordedEvent) []RecordedEvent {
			e[2], e[3] = e[3], e[2]
			e[2].Revision, e[3].Revision = 2, 3
			return e
		},
		"hash recomputed": func(e []RecordedEvent) []RecordedEvent {
			e[2].Data = []byte(`{"n":3}`)
			e[2].Metadata.Hash, _ = ChainHash(e[2].Stream, 2, e[2].EventData, e[2].Metadata.PrevHash)
			return e
		},
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := VerifyChain(tamper(chained(t, "filing-1", 5)))
			var broken *BrokenLinkError
			if !errors.As(err, &broken) || broken.Revision > 3 {
				t.Fatalf("tampering not found: %v", err)
			}
		})
	}
}

func TestMerkleRoot(t *testing.T) {
	a := []Head{{"s1", 1, "h1"}, {"s2", 0, "h2"}, {"s3", 4, "h3"}}
	b := []Head{{"s3", 4, "h3"}, {"s1", 1, "h1"}, {"s2", 0, "h2"}}
	if MerkleRoot(a) != MerkleRoot(b) {
		t.Fatal("the root depends on the order heads are given in")
	}
	c := []Head{{"s1", 1, "h1"}, {"s2", 0, "hX"}, {"s3", 4, "h3"}}
	if MerkleRoot(a) == MerkleRoot(c) || MerkleRoot(a) == MerkleRoot(a[:2]) {
		t.Fatal("different heads, same root")
	}
}
