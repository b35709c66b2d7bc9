package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/beian/beian/infra/bus"
)

// ConsumerConfig configures a Consumer.
type ConsumerConfig struct {
	Subscriber message.Subscriber // required
	Topic      string             // default bus.Topic
	Notifier   Notifier           // required
	Store      *Store             // required: the delivered events and the dead letters
	Logger     *slog.Logger       // default slog.Default()
	Now        func() time.Time   // default time.Now
	// RetryDelay is the pause before a message is handed back (Nack) after a
	// failure, so that a store or dead-letter table that is down is not
	// hammered by an immediate redelivery; default 1s.
	RetryDelay time.Duration
}

// Validate reports every problem of the configuration at once.
func (c ConsumerConfig) Validate() error {
	var errs []error
	if c.Subscriber == nil {
		errs = append(errs, errors.New("notify consumer: no subscriber"))
	}
	if c.Notifier == nil {
		errs = append(errs, errors.New("notify consumer: no notifier"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("notify consumer: no store"))
	}
	if c.RetryDelay < 0 {
		errs = append(errs, fmt.Errorf("notify consumer: retry delay %s must not be negative", c.RetryDelay))
	}
	return errors.Join(errs...)
}

func (c *ConsumerConfig) setDefaults() {
	if c.Topic == "" {
		c.Topic = bus.Topic
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.RetryDelay == 0 {
		c.RetryDelay = time.Second
	}
}

// Consumer turns the filing stream into notices, each event's once.
//
// Messages are handled one at a time, in the order they arrive: the bus
// keeps a filing's events in order (the filing id is the partition key) and
// so, by not overlapping messages, does the consumer. For each message:
//
//  1. an envelope that cannot be read is logged, dead-lettered and
//     acknowledged: it would fail the same way on every redelivery and
//     hold back the whole stream;
//  2. an event already marked delivered is acknowledged and skipped, so a
//     redelivery sends nothing twice;
//  3. otherwise its notices are rendered and notified in order, the event
//     is marked delivered, and the message acknowledged.
//
// If notifying or marking fails, the message is handed back (Nack) after
// RetryDelay and the whole event comes again; a WebhookNotifier fails only
// when it cannot even record a dead letter.
//
// At least once, not exactly once: if the process stops after a notice was
// delivered and before the event was marked (or one notice of an event
// fails after another was delivered), the redelivered event sends that
// notice again. Such duplicates carry the same notice id, which receivers
// use as the Idempotency-Key to drop them. Closing this window would need
// the receiver in the read store's transaction, which a webhook cannot be.
type Consumer struct {
	cfg ConsumerConfig
}

// NewConsumer checks the configuration and fills in its defaults.
func NewConsumer(cfg ConsumerConfig) (*Consumer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	return &Consumer{cfg: cfg}, nil
}

// ErrSubscriptionClosed is returned by Run when the subscriber closes its
// channel while Run's context is still live: the caller should restart it.
var ErrSubscriptionClosed = errors.New("notify consumer: subscription closed")

// Run subscribes to the topic and handles messages until ctx ends, then
// returns nil. It returns an error if it cannot subscribe or the
// subscription ends by itself.
func (c *Consumer) Run(ctx context.Context) error {
	messages, err := c.cfg.Subscriber.Subscribe(ctx, c.cfg.Topic)
	if err != nil {
		return fmt.Errorf("notify consumer: subscribe to %s: %w", c.cfg.Topic, err)
	}
	c.cfg.Logger.InfoContext(ctx, "notify consumer started", "topic", c.cfg.Topic)
	for {
		select {
		case <-ctx.Done():
			return nil
		case msg, ok := <-messages:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return ErrSubscriptionClosed
			}
			if err := c.handle(ctx, msg); err != nil {
				if ctx.Err() != nil {
					msg.Nack()
					return nil
				}
				c.cfg.Logger.ErrorContext(ctx, "notification failed; the event will be redelivered",
					"message", msg.UUID, "error", err)
				_ = sleep(ctx, c.cfg.RetryDelay)
				msg.Nack()
				continue
			}
			msg.Ack()
		}
	}
}

// handle processes one message; an error means it should come again.
func (c *Consumer) handle(ctx context.Context, msg *message.Message) error {
	ce, readErr := decode(msg.Payload)
	if ce.ID != "" {
		done, err := c.cfg.Store.Delivered(ctx, ce.ID)
		if err != nil {
			return err
		}
		if done {
			c.cfg.Logger.DebugContext(ctx, "event already notified", "event", ce.ID, "type", ce.Type)
			return nil
		}
	}
	if readErr != nil {
		return c.unreadable(ctx, ce.ID, msg.Payload, readErr)
	}
	notices, err := Render(ce)
	if err != nil {
		return c.unreadable(ctx, ce.ID, msg.Payload, err)
	}
	for _, n := range notices {
		if err := c.cfg.Notifier.Notify(ctx, n); err != nil {
			return fmt.Errorf("notify consumer: event %s, notice %s: %w", ce.ID, n.ID, err)
		}
	}
	// Once sent, the mark must be written even if the consumer is stopping:
	// a shutdown must not turn a delivery into a duplicate.
	return c.cfg.Store.MarkDelivered(context.WithoutCancel(ctx), ce.ID, c.cfg.Now())
}

// decode reads a CloudEvent and checks what the consumer relies on: an id
// to deduplicate by and a type to render by. On error, the returned event
// holds whatever could be read (its id, perhaps).
func decode(payload []byte) (bus.CloudEvent, error) {
	var ce bus.CloudEvent
	if err := json.Unmarshal(payload, &ce); err != nil {
		return bus.CloudEvent{}, fmt.Errorf("not a CloudEvent: %w", err)
	}
	var errs []error
	if ce.SpecVersion != "1.0" {
		errs = append(errs, fmt.Errorf("specversion %q is not 1.0", ce.SpecVersion))
	}
	if ce.ID == "" {
		errs = append(errs, errors.New("no id"))
	}
	if ce.Type == "" {
		errs = append(errs, errors.New("no type"))
	}
	if err := errors.Join(errs...); err != nil {
		return ce, fmt.Errorf("not a filing CloudEvent: %w", err)
	}
	return ce, nil
}

// unreadablePrefix starts the notice id of an unreadable message's dead
// letter; event ids are UUIDs, so it cannot clash with a notice's id.
const unreadablePrefix = "unreadable/"

// unreadable dead-letters a message that no redelivery will make readable.
// Its key is the event id when there is one, else a hash of the payload, so
// that a redelivery of it replaces its dead letter instead of adding one.
// The event is marked delivered too: it will not be rendered, and the mark
// keeps a redelivery from logging it again. If either write fails, the
// message comes again.
func (c *Consumer) unreadable(ctx context.Context, eventID string, payload []byte, cause error) error {
	key := eventID
	if key == "" {
		sum := sha256.Sum256(payload)
		key = "sha256:" + hex.EncodeToString(sum[:])
	}
	c.cfg.Logger.WarnContext(ctx, "unreadable message dead-lettered", "key", key, "error", cause)
	dl := DeadLetter{
		NoticeID: unreadablePrefix + key, EventID: eventID, Payload: string(bytes.TrimSpace(payload)),
		Error: cause.Error(), At: c.cfg.Now(),
	}
	if err := c.cfg.Store.RecordDeadLetter(ctx, dl); err != nil {
		return err
	}
	if eventID == "" {
		return nil
	}
	return c.cfg.Store.MarkDelivered(ctx, eventID, c.cfg.Now())
}
