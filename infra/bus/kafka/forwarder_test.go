package kafka

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/bus"
	"github.com/beian/beian/infra/eventstore"
	eventsqlite "github.com/beian/beian/infra/eventstore/sqlite"
	"github.com/beian/beian/infra/notify"
	readsqlite "github.com/beian/beian/infra/readstore/sqlite"
	"github.com/google/uuid"
)

// TestForwarderToKafkaAcrossKills: 10,000 events of 500 filings go through
// the forwarder to Kafka while the forwarder is killed and restarted twice;
// a consumer group of three reads them. Nothing is lost, each filing's
// events arrive in order, and the duplicates the restarts cause are the
// only ones, removed by the consumers' durable dedup.
func TestForwarderToKafkaAcrossKills(t *testing.T) {
	const filings, each = 500, 20
	brokers := newCluster(t)
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
	// No deadline of its own (the machine may be slow): the wait below fails
	// only when the consumers stop making progress.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cfg := Config{Brokers: brokers, ConsumerGroup: "beian-notify-test", Partitions: 12}
	if err := CreateTopic(cfg, bus.Topic); err != nil {
		t.Fatal(err)
	}

	// The log: 500 filings, their events appended interleaved.
	for round := range each {
		for f := range filings {
			id := fmt.Sprintf("f%03d", f)
			var e domain.Event = domain.MaterialRemoved{Kind: "other", Scope: fmt.Sprint(round), At: time.Now()}
			exp := eventstore.Exact(uint64(round - 1))
			if round == 0 {
				e, exp = domain.TypeVerified{FilingID: id, Account: "acct-" + id, At: time.Now()}, eventstore.NoStream()
			}
			typ, data, _ := domain.EncodeEvent(e)
			if _, err := events.Append(ctx, "filing-"+id, exp, []eventstore.EventData{{ID: uuid.NewString(), Type: typ, Data: data,
				Metadata: eventstore.Metadata{OccurredAt: e.OccurredAt()}}}); err != nil {
				t.Fatal(err)
			}
		}
	}

	// The consumer group: three subscribers sharing one durable dedup store.
	dedup, err := notify.Open(ctx, read)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	lastRevision := map[string]int64{}
	unique, duplicates := 0, 0
	consume := func(msgs <-chan *message.Message) {
		for m := range msgs {
			var ce bus.CloudEvent
			if err := json.Unmarshal(m.Payload, &ce); err != nil {
				t.Error(err)
				m.Ack()
				continue
			}
			done, err := dedup.Delivered(ctx, ce.ID)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			if done {
				duplicates++
			} else {
				if last, ok := lastRevision[ce.Subject]; ok && int64(ce.Revision) != last+1 {
					t.Errorf("filing %s: revision %d after %d", ce.Subject, ce.Revision, last)
				}
				lastRevision[ce.Subject] = int64(ce.Revision)
				unique++
			}
			mu.Unlock()
			if !done {
				if err := dedup.MarkDelivered(ctx, ce.ID, time.Now()); err != nil {
					t.Error(err)
				}
			}
			m.Ack()
		}
	}
	var consumers sync.WaitGroup
	var subs []message.Subscriber
	defer func() { // no consumer outlives the test
		cancel()
		for _, sub := range subs {
			sub.Close()
		}
		consumers.Wait()
	}()
	for range 3 {
		sub, err := NewSubscriber(cfg, testLogger())
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
		msgs, err := sub.Subscribe(ctx, bus.Topic)
		if err != nil {
			t.Fatal(err)
		}
		consumers.Go(func() { consume(msgs) })
	}

	// The forwarder, killed twice in the middle.
	pub, err := NewPublisher(cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	fwd, err := bus.NewForwarder(bus.ForwarderConfig{Events: events, Publisher: pub, Read: read, BatchSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	run := func(until uint64) {
		fctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); fwd.Run(fctx) }()
		// Killed mid-batch, with no goodbye to the transport; also on
		// t.Fatal, so that nothing publishes after pub.Close.
		defer func() { stop(); <-done }()
		for {
			cp, err := fwd.Checkpoint(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if cp >= until {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	total := uint64(filings * each)
	run(total / 3)
	run(2 * total / 3)
	run(total)

	const stall = time.Minute
	seen, progressed := -1, time.Now()
	for {
		mu.Lock()
		n := unique
		mu.Unlock()
		if n == filings*each {
			break
		}
		if n != seen {
			seen, progressed = n, time.Now()
		}
		if time.Since(progressed) > stall {
			t.Fatalf("%d of %d events consumed, none for %s", n, filings*each, stall)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lastRevision) != filings {
		t.Fatalf("events of %d filings", len(lastRevision))
	}
	for id, rev := range lastRevision {
		if rev != each-1 {
			t.Fatalf("filing %s ends at revision %d", id, rev)
		}
	}
	t.Logf("%d events, %d duplicates removed by dedup", unique, duplicates)
}
