package projections

import (
	"context"
	"slices"
	"sync"

	"github.com/beian/beian/infra/eventstore"
)

// feed reads the log for the projections' loops. Loops that start at one
// position together (every projection at start-up, a rebuild of several)
// share one reader, and a reader that has caught up hands its loops to
// another caught-up reader at the same position: the log is then read,
// opened (personal data) and decoded once per event, not once per
// projection. Reading, opening and decoding were 48 % of the CPU of a
// rebuild of five projections (docs/performance.md).
//
// A reader hands each batch to its loops in turn, and each loop holds one
// batch in waiting, so the loops of a reader move together: the fastest is
// at most two batches ahead of the slowest. On SQLite their transactions
// take turns on the one writer anyway.
type feed struct {
	events    eventstore.Store
	batchSize int
	running   sync.WaitGroup // reader goroutines

	mu      sync.Mutex
	readers map[*reader]bool
}

// reader follows the log from one position for its taps.
type reader struct {
	cancel   context.CancelFunc
	position uint64 // the last position of what it hands or has handed to its taps, under feed.mu
	caughtUp bool   // its taps have been told they caught up, under feed.mu
	taps     []*tap // under feed.mu
}

// tap is one loop's end of a reader.
type tap struct {
	deliveries chan delivery
	gone       chan struct{} // closed when the loop stops listening
	reader     *reader       // under feed.mu; a merge moves the tap
}

// delivery is a batch of decoded events, the news that the reader caught
// up with the log, or the error that ended the reader.
type delivery struct {
	batch    []Event
	caughtUp bool
	err      error
}

func newFeed(events eventstore.Store, batchSize int) *feed {
	return &feed{events: events, batchSize: batchSize, readers: map[*reader]bool{}}
}

// open starts a reader after position from with n taps. ctx bounds the
// reader; it also stops when its last tap closes.
func (f *feed) open(ctx context.Context, from uint64, n int) []*tap {
	ctx, cancel := context.WithCancel(ctx)
	rd := &reader{cancel: cancel, position: from}
	for range n {
		rd.taps = append(rd.taps, &tap{deliveries: make(chan delivery, 1), gone: make(chan struct{}), reader: rd})
	}
	taps := slices.Clone(rd.taps)
	f.mu.Lock()
	f.readers[rd] = true
	f.mu.Unlock()
	f.running.Go(func() { f.read(ctx, rd, from) })
	return taps
}

// wait returns when every reader has stopped and closed its subscription.
func (f *feed) wait() { f.running.Wait() }

// close stops the tap's deliveries; the reader stops with its last tap.
func (f *feed) close(t *tap) {
	f.mu.Lock()
	rd := t.reader
	rd.taps = slices.DeleteFunc(rd.taps, func(o *tap) bool { return o == t })
	if len(rd.taps) == 0 {
		delete(f.readers, rd)
		rd.cancel()
	}
	f.mu.Unlock()
	close(t.gone)
}

// read subscribes after from and hands every batch to the reader's taps
// until ctx ends, the subscription fails or the reader merges into another.
func (f *feed) read(ctx context.Context, rd *reader, from uint64) {
	sub, err := f.events.SubscribeAll(ctx, from)
	if err != nil {
		f.fail(rd, err)
		return
	}
	messages := make(chan eventstore.Message, f.batchSize)
	recvErr := make(chan error, 1)
	received := make(chan struct{})
	defer func() {
		sub.Close()
		<-received // Recv has returned: nothing reads the store any more
	}()
	go func() {
		defer close(received)
		for {
			m, err := sub.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			select {
			case messages <- m:
			case <-ctx.Done():
				recvErr <- ctx.Err()
				return
			}
		}
	}()
	for {
		var d delivery
		select {
		case m := <-messages:
			d.batch, d.caughtUp, d.err = f.collect(m, messages)
		case d.err = <-recvErr:
		}
		if ctx.Err() != nil {
			return
		}
		if d.err != nil {
			f.fail(rd, d.err)
			return
		}
		f.mu.Lock()
		if len(d.batch) > 0 {
			rd.position = d.batch[len(d.batch)-1].Position
		}
		rd.caughtUp = rd.caughtUp || d.caughtUp
		taps := slices.Clone(rd.taps)
		f.mu.Unlock()
		for _, t := range taps {
			select {
			case t.deliveries <- d:
			case <-t.gone:
			}
		}
		if f.merge(rd) {
			return
		}
	}
}

// collect takes one message and whatever else is waiting, up to a batch,
// and decodes the events.
func (f *feed) collect(first eventstore.Message, more <-chan eventstore.Message) ([]Event, bool, error) {
	var batch []Event
	caughtUp := false
	m := first
	for {
		if m.CaughtUp {
			caughtUp = true
		} else {
			e, err := decode(*m.Event)
			if err != nil {
				return nil, false, err
			}
			batch = append(batch, e)
		}
		if len(batch) >= f.batchSize {
			return batch, caughtUp, nil
		}
		select {
		case m = <-more:
		default:
			return batch, caughtUp, nil
		}
	}
}

// merge hands a caught-up reader's taps to another caught-up reader at the
// same position and reports whether it did; the caller then stops. The
// caller has handed its taps everything up to that position; the other
// reader hands, or has handed, its own taps the same, and its next batch
// starts after it. The moved taps get that batch from the other reader
// only after this one's last, so each tap's batches stay in order.
func (f *feed) merge(rd *reader) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !rd.caughtUp {
		return false
	}
	for other := range f.readers {
		if other == rd || !other.caughtUp || other.position != rd.position {
			continue
		}
		for _, t := range rd.taps {
			t.reader = other
		}
		other.taps = append(other.taps, rd.taps...)
		rd.taps = nil
		delete(f.readers, rd)
		rd.cancel()
		return true
	}
	return false
}

// fail tells the reader's taps why it stopped; each loop subscribes again.
func (f *feed) fail(rd *reader, err error) {
	f.mu.Lock()
	taps := slices.Clone(rd.taps)
	rd.taps = nil
	delete(f.readers, rd)
	rd.cancel()
	f.mu.Unlock()
	for _, t := range taps {
		select {
		case t.deliveries <- delivery{err: err}:
		case <-t.gone:
		}
	}
}
