package eventstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzVerifyChain: tampering with any stored event's payload or metadata
// is found, and VerifyChain never panics on what a store hands it.
func FuzzVerifyChain(f *testing.F) {
	f.Add(uint8(2), []byte(`{"n":2}`), []byte(`{"schemaVersion":1,"actorAccount":"acct","occurredAt":"2026-03-02T10:00:02Z"}`))
	f.Add(uint8(0), []byte(`{"n":1}`), []byte(`{}`))
	f.Add(uint8(4), []byte("\x00\xff"), []byte(`{"hash":"","prevHash":"x"}`))
	f.Fuzz(func(t *testing.T, at uint8, data, metadata []byte) {
		events := chained(t, "filing-1", 5)
		i := int(at) % len(events)
		original := events[i].EventData
		events[i].Data = data
		// Metadata as a store reads it back: JSON that may be anything.
		var md Metadata
		if json.Unmarshal(metadata, &md) == nil {
			md.Hash, md.PrevHash = original.Metadata.Hash, original.Metadata.PrevHash
			events[i].Metadata = md
		}
		_, err := VerifyChain(events)
		changed := !bytes.Equal(data, original.Data) || events[i].Metadata.SchemaVersion != original.Metadata.SchemaVersion ||
			events[i].Metadata.ActorAccount != original.Metadata.ActorAccount || !events[i].Metadata.OccurredAt.Equal(original.Metadata.OccurredAt)
		var broken *BrokenLinkError
		switch {
		case changed && !errors.As(err, &broken):
			t.Fatalf("tampered event %d not detected: %v", i, err)
		case !changed && err != nil && !errors.As(err, &broken):
			t.Fatalf("untyped error: %v", err)
		}
	})
}
