package main

import (
	"strings"
	"testing"

	"github.com/beian/beian/infra/eventstore"
)

func event(id, stream string, revision, position uint64, command string) eventstore.RecordedEvent {
	return eventstore.RecordedEvent{EventData: eventstore.EventData{ID: id, Metadata: eventstore.Metadata{CommandID: command}},
		Stream: stream, Revision: revision, Position: position}
}

// TestChecksFindLossesAndDuplicates feeds the checks logs that break each
// promise, so a crash run that passes has been looked at by checks that can
// fail.
func TestChecksFindLossesAndDuplicates(t *testing.T) {
	acks := []ack{
		{Account: "a", Command: "verifyType", Key: "k0", Filing: "f", Revision: 0, Events: []string{"e0"}},
		{Account: "a", Command: "submitEntity", Key: "k1", Filing: "f", Revision: 1, Events: []string{"e1"}},
	}
	good := []eventstore.RecordedEvent{event("e0", "filing-f", 0, 1, "c0"), event("e1", "filing-f", 1, 2, "c1")}
	cases := []struct {
		name   string
		events []eventstore.RecordedEvent
		want   string
	}{
		{"intact", good, ""},
		{"lost", good[:1], "e1 is not in the log"},
		{"applied twice", append(good[:2:2], event("e2", "filing-f", 2, 3, "c1")), "applied more than once"},
		{"stored twice", append(good[:2:2], event("e1", "filing-f", 2, 3, "c1")), "stored twice"},
		{"revision gap", []eventstore.RecordedEvent{good[0], event("e1", "filing-f", 2, 2, "c1")}, "revision 2 where 1 was due"},
		{"position gap", []eventstore.RecordedEvent{good[0], event("e1", "filing-f", 1, 3, "c1")}, "a gap in $all"},
		{"wrong stream", []eventstore.RecordedEvent{good[0], event("e1", "filing-g", 0, 2, "c1")}, "not filing-f"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p problems
			byID := checkLog(c.events, &p)
			checkAcks(acks, c.events, byID, &p)
			err := p.err()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("intact log refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("got %v, want a problem with %q", err, c.want)
			}
		})
	}
}
