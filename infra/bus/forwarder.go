package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/infra/readstore"
)

// PartitionKey is the message metadata the transports partition by: the
// filing id, so one filing's events keep their order.
const PartitionKey = "partition_key"

// ForwarderConfig configures a Forwarder.
type ForwarderConfig struct {
	Events    eventstore.Store
	Publisher message.Publisher
	Read      readstore.Store // keeps the checkpoint
	Name      string          // the checkpoint's name; default "forwarder"
	Logger    *slog.Logger
	BatchSize int // events per publish; default 256
}

// Forwarder publishes every filing event of the log to the topic, from its
// own checkpoint. It is the outbox: nothing is published that is not stored,
// and everything stored is published at least once (the checkpoint moves
// only after the transport acknowledged).
type Forwarder struct {
	ForwarderConfig
	accounts    map[string]string // filing → applicant account, a bounded cache; Run's own
	schemaReady atomic.Bool       // the checkpoint table exists
}

// NewForwarder checks the configuration and fills in defaults.
func NewForwarder(cfg ForwarderConfig) (*Forwarder, error) {
	if cfg.Events == nil || cfg.Publisher == nil || cfg.Read == nil {
		return nil, errors.New("forwarder: event store, publisher and read store are required")
	}
	if cfg.Name == "" {
		cfg.Name = "forwarder"
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 256
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Forwarder{ForwarderConfig: cfg}, nil
}

const checkpointSchema = `CREATE TABLE IF NOT EXISTS forwarder_checkpoints (
	name     TEXT   PRIMARY KEY,
	position BIGINT NOT NULL
)`

// Run forwards until ctx ends, resubscribing with backoff after failures.
// The checkpoint table is created by the first pass (Checkpoint), so a
// read store that is down at start-up is retried like any other failure.
func (f *Forwarder) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := f.forward(ctx)
		if ctx.Err() != nil {
			break
		}
		f.Logger.Warn("forwarder: resubscribing", "err", err, "backoff", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
		backoff = min(backoff*2, 10*time.Second)
	}
	return nil
}

// ensureSchema creates the checkpoint table once per forwarder, not on
// every resubscription (a write transaction each time).
func (f *Forwarder) ensureSchema(ctx context.Context) error {
	if f.schemaReady.Load() {
		return nil
	}
	err := f.Read.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
		_, err := tx.Exec(ctx, checkpointSchema)
		return err
	})
	if err != nil {
		return fmt.Errorf("forwarder checkpoint: %w", err)
	}
	f.schemaReady.Store(true)
	return nil
}

// Checkpoint returns the position of the last event published.
func (f *Forwarder) Checkpoint(ctx context.Context) (uint64, error) {
	if err := f.ensureSchema(ctx); err != nil {
		return 0, err
	}
	var pos int64
	err := f.Read.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
		err := tx.QueryRow(ctx, `SELECT position FROM forwarder_checkpoints WHERE name = ?`, f.Name).Scan(&pos)
		if errors.Is(err, readstore.ErrNoRows) {
			return nil
		}
		return err
	})
	return uint64(pos), err
}

func (f *Forwarder) forward(ctx context.Context) error {
	from, err := f.Checkpoint(ctx)
	if err != nil {
		return err
	}
	for {
		// Pages of the log rather than a subscription: a page is a batch for
		// the transport, and the wait for new events is the subscription's.
		page, err := f.Events.ReadAll(ctx, from+1, f.BatchSize)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			if err := f.waitForMore(ctx, from); err != nil {
				return err
			}
			continue
		}
		if err := f.publish(ctx, page); err != nil {
			return err
		}
		from = page[len(page)-1].Position
		if err := f.saveCheckpoint(ctx, from); err != nil {
			return err
		}
	}
}

// waitForMore blocks until the log has an event after position.
func (f *Forwarder) waitForMore(ctx context.Context, position uint64) error {
	sub, err := f.Events.SubscribeAll(ctx, position)
	if err != nil {
		return err
	}
	defer sub.Close()
	for {
		m, err := sub.Recv()
		if err != nil {
			return err
		}
		if m.Event != nil {
			return nil
		}
	}
}

func (f *Forwarder) publish(ctx context.Context, page []eventstore.RecordedEvent) error {
	msgs := make([]*message.Message, 0, len(page))
	for _, e := range page {
		if !strings.HasPrefix(e.Stream, "filing-") {
			continue
		}
		account, err := f.account(ctx, e)
		if err != nil {
			return err
		}
		ce, err := Envelope(e, account)
		if err != nil {
			return err
		}
		payload, err := json.Marshal(ce)
		if err != nil {
			return err
		}
		msg := message.NewMessage(ce.ID, payload)
		msg.Metadata.Set(PartitionKey, ce.Subject)
		msg.Metadata.Set("ce_type", ce.Type)
		msg.SetContext(ctx)
		msgs = append(msgs, msg)
	}
	if len(msgs) == 0 {
		return nil
	}
	if err := f.Publisher.Publish(Topic, msgs...); err != nil {
		return fmt.Errorf("publish %d events: %w", len(msgs), err)
	}
	return nil
}

func (f *Forwarder) saveCheckpoint(ctx context.Context, position uint64) error {
	return f.Read.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
		return advanceCheckpoint(ctx, tx, f.Name, position)
	})
}

// advanceCheckpoint moves a forwarder's checkpoint forward, never back.
func advanceCheckpoint(ctx context.Context, tx readstore.Tx, name string, position uint64) error {
	_, err := tx.Exec(ctx, `INSERT INTO forwarder_checkpoints (name, position) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET position = excluded.position WHERE forwarder_checkpoints.position < excluded.position`,
		name, int64(position))
	return err
}

// account finds the filing's applicant: in the event that starts the
// filing, else from a cache, else from the stream's first event.
func (f *Forwarder) account(ctx context.Context, e eventstore.RecordedEvent) (string, error) {
	filing := strings.TrimPrefix(e.Stream, "filing-")
	if f.accounts == nil || len(f.accounts) > 100_000 {
		f.accounts = map[string]string{}
	}
	first := e
	if e.Revision != 0 {
		if a, ok := f.accounts[filing]; ok {
			return a, nil
		}
		events, err := f.Events.ReadStream(ctx, e.Stream, 0, 1)
		if err != nil {
			return "", fmt.Errorf("first event of %s: %w", e.Stream, err)
		}
		if len(events) == 0 {
			return "", fmt.Errorf("first event of %s: the stream is empty", e.Stream)
		}
		first = events[0]
	}
	d, err := domain.DecodeEvent(first.Type, first.Data)
	if err != nil {
		return "", err
	}
	v, ok := d.(domain.TypeVerified)
	if !ok {
		return "", fmt.Errorf("%s does not start with %s", e.Stream, domain.TypeTypeVerified)
	}
	f.accounts[filing] = v.Account
	return v.Account, nil
}
