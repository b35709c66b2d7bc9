package bus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/bus"
	"github.com/beian/beian/infra/eventstore"
	eventsqlite "github.com/beian/beian/infra/eventstore/sqlite"
	readsqlite "github.com/beian/beian/infra/readstore/sqlite"
	"github.com/google/uuid"
)

func TestRedactMasksPersonalData(t *testing.T) {
	payload := `{"entity":{"name":"王五","mailingAddress":"北京市东城区东华门大街5号","principal":{"name":"王五","certificateNumber":"110101200001010010",
		"mobile":"13800138000","officePhone":"010-62265678","email":"wangwu@example.cn","emergencyContact":{"name":"王六","mobile":"13900139000"}}},
		"recipients":[{"mobile":"13800138000","codeHash":"abc","certSuffix":"010010"}],"website":{"name":"旅行摄影笔记"}}`
	out, err := bus.Redact([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, plain := range []string{"110101200001010010", "13800138000", "13900139000", "62265678", "wangwu@", "东华门大街", "王五", "王六", `"abc"`, "010010"} {
		if strings.Contains(s, plain) {
			t.Errorf("%q survived redaction: %s", plain, s)
		}
	}
	for _, kept := range []string{"110101********0010", "138****8000", "w***@example.cn", "王*", "旅行摄影笔记", `"****10"`} {
		if !strings.Contains(s, kept) {
			t.Errorf("%q missing after redaction: %s", kept, s)
		}
	}
}

// TestRedactLeavesErasedValues: "[erased]" is no personal data; consumers
// see it as it is.
func TestRedactLeavesErasedValues(t *testing.T) {
	out, err := bus.Redact([]byte(`{"entity":{"name":"[erased]","principal":{"name":"[erased]","certificateNumber":"[erased]","mobile":"[erased]"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(out), `"[erased]"`); n != 4 {
		t.Fatalf("%d values read [erased] after redaction: %s", n, out)
	}
}

// appendFiling writes n events of one filing: a start and amendments.
func appendFiling(t *testing.T, store eventstore.Store, id string, n int) {
	t.Helper()
	start := domain.TypeVerified{FilingID: id, Account: "acct-" + id, Province: "44", Nature: "enterprise", At: time.Now()}
	typ, data, _ := domain.EncodeEvent(start)
	events := []eventstore.EventData{{ID: uuid.NewString(), Type: typ, Data: data, Metadata: eventstore.Metadata{OccurredAt: start.At}}}
	for i := 1; i < n; i++ {
		e := domain.MaterialRemoved{Kind: "other", Scope: fmt.Sprint(i), At: time.Now()}
		typ, data, _ := domain.EncodeEvent(e)
		events = append(events, eventstore.EventData{ID: uuid.NewString(), Type: typ, Data: data, Metadata: eventstore.Metadata{OccurredAt: e.At}})
	}
	if _, err := store.Append(context.Background(), "filing-"+id, eventstore.NoStream(), events); err != nil {
		t.Fatal(err)
	}
}

// TestForwarderPublishesEveryEventInOrderAcrossRestarts: the forwarder,
// stopped and started again from its checkpoint, publishes every event at
// least once and each filing's in order.
func TestForwarderPublishesEveryEventInOrderAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	events, err := eventsqlite.Open(eventsqlite.Config{Path: filepath.Join(dir, "events.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer events.Close()
	read, err := readsqlite.Open(readsqlite.Config{Path: filepath.Join(dir, "read.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer read.Close()
	pubsub := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 10000, BlockPublishUntilSubscriberAck: true}, watermill.NopLogger{})
	defer pubsub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	msgs, err := pubsub.Subscribe(ctx, bus.Topic)
	if err != nil {
		t.Fatal(err)
	}
	const filings, each = 40, 5
	for i := range filings {
		appendFiling(t, events, fmt.Sprintf("f%02d", i), each)
	}
	run := func() context.CancelFunc {
		fctx, stop := context.WithCancel(ctx)
		f, err := bus.NewForwarder(bus.ForwarderConfig{Events: events, Publisher: pubsub, Read: read, BatchSize: 7})
		if err != nil {
			t.Fatal(err)
		}
		go f.Run(fctx)
		return stop
	}
	stop := run()
	seen := map[string]int{}    // event ids
	last := map[string]uint64{} // filing → last revision received
	received := 0
	for received < (filings+1)*each {
		m := <-msgs
		var ce bus.CloudEvent
		if err := json.Unmarshal(m.Payload, &ce); err != nil {
			t.Fatal(err)
		}
		m.Ack()
		if seen[ce.ID]++; seen[ce.ID] > 1 {
			continue // a redelivery after the restart, allowed at least once
		}
		if r, ok := last[ce.Subject]; ok && ce.Revision != r+1 {
			t.Fatalf("filing %s: revision %d after %d", ce.Subject, ce.Revision, r)
		}
		if m.Metadata.Get(bus.PartitionKey) != ce.Subject || ce.Account != "acct-"+ce.Subject {
			t.Fatalf("partition key %q, account %q for %s", m.Metadata.Get(bus.PartitionKey), ce.Account, ce.Subject)
		}
		last[ce.Subject] = ce.Revision
		received++
		if received == filings*each/2 {
			stop() // kill it mid-stream and start again from the checkpoint
			stop = run()
			appendFiling(t, events, "late", each)
		}
	}
	stop()
	if len(last) != filings+1 {
		t.Fatalf("events of %d filings, want %d", len(last), filings+1)
	}
}
