package notify

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/bus"
)

// pipeline is a consumer between a GoChannel topic and a webhook receiver.
type pipeline struct {
	pubsub   *gochannel.GoChannel
	store    *Store
	receiver *receiver
	notifier Notifier
	stop     func() error
}

// subscribed tells when the consumer has subscribed, so that nothing is
// published before anyone listens (GoChannel would drop it).
type subscribed struct {
	message.Subscriber
	ready chan struct{}
}

func (s subscribed) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	ch, err := s.Subscriber.Subscribe(ctx, topic)
	close(s.ready)
	return ch, err
}

// startPipeline runs a Consumer over a fresh GoChannel. Publish blocks until
// the consumer acknowledges, so each message is handled before the next is
// sent (GoChannel otherwise hands messages over from concurrent goroutines,
// in no set order) and a test can check the outcome as soon as Publish
// returns. wrap, if not nil, wraps the webhook notifier.
func startPipeline(t *testing.T, store *Store, rcv *receiver, url string, wrap func(Notifier) Notifier) *pipeline {
	t.Helper()
	ps := gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, watermill.NopLogger{})
	t.Cleanup(func() { ps.Close() })
	var notifier Notifier = newWebhook(t, url, store, 3)
	if wrap != nil {
		notifier = wrap(notifier)
	}
	sub := subscribed{Subscriber: ps, ready: make(chan struct{})}
	c, err := NewConsumer(ConsumerConfig{Subscriber: sub, Topic: bus.Topic, Notifier: notifier, Store: store,
		Logger: discard(), Now: func() time.Time { return t0 }, RetryDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	select {
	case <-sub.ready:
	case err := <-done:
		t.Fatalf("Run ended before subscribing: %v", err)
	}
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	t.Cleanup(func() { stop() })
	return &pipeline{pubsub: ps, store: store, receiver: rcv, notifier: notifier, stop: stop}
}

func (p *pipeline) publish(t *testing.T, payloads ...[]byte) {
	t.Helper()
	for _, b := range payloads {
		if err := p.pubsub.Publish(bus.Topic, message.NewMessage(watermill.NewUUID(), b)); err != nil {
			t.Fatal(err)
		}
	}
}

func marshal(t testing.TB, ce bus.CloudEvent) []byte {
	t.Helper()
	b, err := json.Marshal(ce)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// expectedIDs is every notice of the events, in order.
func expectedIDs(t testing.TB, ces []bus.CloudEvent) []string {
	t.Helper()
	var ids []string
	for _, ce := range ces {
		notices, err := Render(ce)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range notices {
			ids = append(ids, n.ID)
		}
	}
	return ids
}

func ids(notices []Notice) []string {
	out := make([]string, len(notices))
	for i, n := range notices {
		out[i] = n.ID
	}
	return out
}

// A filing's life through the consumer, with a redelivered event and an
// unreadable message in the middle: the receiver gets every notice once,
// in order, signed (the receiver checks signatures and keys); the second
// copy is never even sent.
func TestConsumerDeliversOnceInOrder(t *testing.T) {
	store := openStore(t)
	rcv, srv := newReceiver(t)
	p := startPipeline(t, store, rcv, srv.URL, nil)

	var ces []bus.CloudEvent
	for i, e := range lifecycle() {
		ces = append(ces, envelope(t, uint64(i), e))
	}
	for i, ce := range ces {
		p.publish(t, marshal(t, ce))
		if i == 3 { // the bus redelivers the sent-to-bureau event, and something unreadable arrives
			p.publish(t, marshal(t, ces[2]), []byte(`{"specversion":"1.0","id":`))
		}
	}
	p.publish(t, marshal(t, ces[0])) // a late redelivery of the very first

	requests, accepted := rcv.snapshot()
	want := expectedIDs(t, ces)
	if got := ids(accepted); !slices.Equal(got, want) {
		t.Errorf("received %v\nwant %v", got, want)
	}
	if requests != len(want) {
		t.Errorf("%d requests for %d notices: a redelivery was sent again", requests, len(want))
	}
	kinds := []string{KindSubmitted, KindReviewQueued, KindInitialReviewApproved, KindSentToBureau, KindSMSRequested, KindBureauApproved}
	for i, n := range accepted {
		if i < len(kinds) && n.Kind != kinds[i] {
			t.Errorf("notice %d is %s, want %s", i, n.Kind, kinds[i])
		}
	}
	for _, ce := range ces {
		if done, err := store.Delivered(context.Background(), ce.ID); err != nil || !done {
			t.Errorf("event %s (%s) not marked delivered: %v", ce.ID, ce.Type, err)
		}
	}
	letters, err := store.DeadLetters(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(letters) != 1 || !letters[0].Unreadable() || !strings.HasPrefix(letters[0].NoticeID, "unreadable/sha256:") ||
		letters[0].Payload != `{"specversion":"1.0","id":` {
		t.Errorf("dead letters %+v, want the unreadable message", letters)
	}
	if err := p.stop(); err != nil {
		t.Errorf("Run = %v after its context ended, want nil", err)
	}
}

// After a restart on the same read store, the whole topic replayed from the
// start sends nothing: the marks are durable.
func TestConsumerRestartSendsNothingTwice(t *testing.T) {
	store := openStore(t)
	rcv, srv := newReceiver(t)
	var payloads [][]byte
	for i, e := range lifecycle() {
		payloads = append(payloads, marshal(t, envelope(t, uint64(i), e)))
	}
	first := startPipeline(t, store, rcv, srv.URL, nil)
	first.publish(t, payloads[:4]...)
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	second := startPipeline(t, store, rcv, srv.URL, nil)
	second.publish(t, payloads...) // the broker replays from an older offset
	requests, accepted := rcv.snapshot()
	if requests != len(accepted) || len(accepted) != 6 {
		t.Errorf("%d requests, %d notices accepted; want 6 and 6: %v", requests, len(accepted), ids(accepted))
	}
}

// flaky fails the first call for one notice, as a Notifier whose dead-letter
// store is down would.
type flaky struct {
	Notifier
	mu     sync.Mutex
	failOn string
	calls  []string
}

func (f *flaky) Notify(ctx context.Context, n Notice) error {
	f.mu.Lock()
	f.calls = append(f.calls, n.ID)
	fail := n.ID == f.failOn
	if fail {
		f.failOn = ""
	}
	f.mu.Unlock()
	if fail {
		return errors.New("dead-letter store unavailable")
	}
	return f.Notifier.Notify(ctx, n)
}

// A failed notification leaves the event unmarked and hands it back; it is
// redelivered before anything later, so order holds.
func TestConsumerRetriesFailedEvent(t *testing.T) {
	store := openStore(t)
	rcv, srv := newReceiver(t)
	var ces []bus.CloudEvent
	for i, e := range lifecycle() {
		ces = append(ces, envelope(t, uint64(i), e))
	}
	f := &flaky{failOn: ces[2].ID + "/" + RoleApplicant}
	p := startPipeline(t, store, rcv, srv.URL, func(n Notifier) Notifier { f.Notifier = n; return f })
	for _, ce := range ces {
		p.publish(t, marshal(t, ce))
	}
	_, accepted := rcv.snapshot()
	if got, want := ids(accepted), expectedIDs(t, ces); !slices.Equal(got, want) {
		t.Errorf("received %v\nwant %v", got, want)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.calls); n != len(accepted)+1 {
		t.Errorf("%d Notify calls for %d notices, want one retry", n, len(accepted))
	}
}

// An event whose payload this consumer cannot read (a newer schema) is
// dead-lettered under its id, marked, and does not block the stream.
func TestConsumerUnreadableEvent(t *testing.T) {
	store := openStore(t)
	rcv, srv := newReceiver(t)
	p := startPipeline(t, store, rcv, srv.URL, nil)
	bad := envelope(t, 1, domain.SentToBureau{DueAt: t0, At: t0})
	bad.Data = json.RawMessage(`{"dueAt":"2026-03-31T02:10:00Z","at":"2026-03-03T02:10:00Z","bureau":"11"}`)
	good := envelope(t, 2, domain.BureauApproved{EntityNumber: "京ICP备2026012345号", At: t0})
	p.publish(t, marshal(t, bad), marshal(t, bad), marshal(t, good))

	_, accepted := rcv.snapshot()
	if got := ids(accepted); !slices.Equal(got, []string{good.ID + "/" + RoleApplicant}) {
		t.Errorf("received %v", got)
	}
	letters, err := store.DeadLetters(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(letters) != 1 || letters[0].NoticeID != unreadablePrefix+bad.ID || letters[0].EventID != bad.ID ||
		!strings.Contains(letters[0].Error, "bureau") || !strings.Contains(letters[0].Payload, bad.ID) {
		t.Errorf("dead letters %+v", letters)
	}
}

// A notice the receiver refuses is dead-lettered in the read store and the
// event counts as handled.
func TestConsumerDeadLettersRefusedNotice(t *testing.T) {
	store := openStore(t)
	rcv, srv := newReceiver(t, 422)
	p := startPipeline(t, store, rcv, srv.URL, nil)
	ce := envelope(t, 1, domain.Expired{IdleSince: t0, At: t0})
	p.publish(t, marshal(t, ce), marshal(t, ce))
	requests, _ := rcv.snapshot()
	letters, err := store.DeadLetters(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if requests != 1 || len(letters) != 1 || letters[0].NoticeID != ce.ID+"/"+RoleApplicant || letters[0].Attempts != 1 ||
		letters[0].Notice.Kind != KindExpired {
		t.Errorf("%d requests, dead letters %+v", requests, letters)
	}
}

func TestConsumerConfigValidate(t *testing.T) {
	_, err := NewConsumer(ConsumerConfig{RetryDelay: -1})
	for _, s := range []string{"subscriber", "notifier", "store", "retry delay"} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("NewConsumer = %v, want it to mention %s", err, s)
		}
	}
}
