// Package kafka is the Kafka transport of the published filing stream: a
// watermill Publisher and Subscriber (watermill-kafka on sarama) configured
// for at-least-once delivery in order per filing. Messages are partitioned
// by their PartitionKey metadata, the filing id, so one filing's events
// share a partition and are read in the order they were written.
//
// It moves watermill messages and knows nothing of filings or envelopes: it
// must not import the domain, the application layer or infra/bus, which
// wires it in.
package kafka

import (
	"errors"
	"fmt"
	"github.com/beian/beian/infra/bus"
	"time"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill"
	wmkafka "github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/ThreeDotsLabs/watermill/message"
)

// PartitionKey is the watermill metadata key the publisher partitions by:
// the filing id. It becomes the Kafka record key, so every event of one
// filing lands on one partition, which is what keeps them in order.
const PartitionKey = bus.PartitionKey

// ErrNoPartitionKey is returned by Publish for a message without
// PartitionKey metadata. Such a message would land on a random partition
// and could overtake, or be overtaken by, the other events of its filing,
// so it is refused rather than sent.
var ErrNoPartitionKey = errors.New("message has no " + PartitionKey + " metadata")

// NewPublisher returns a publisher that waits, for every message, until
// all in-sync replicas have it; Publish returns nil only then. Publish of
// several messages sends them in order and stops at the first that fails:
// those before it are published. Every message needs PartitionKey
// metadata. A nil logger logs nothing.
func NewPublisher(c Config, logger watermill.LoggerAdapter) (message.Publisher, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("kafka publisher: %w", err)
	}
	c = c.withDefaults()
	pub, err := wmkafka.NewPublisher(wmkafka.PublisherConfig{
		Brokers:               c.Brokers,
		Marshaler:             wmkafka.NewWithPartitioningMarshaler(partitionKey),
		OverwriteSaramaConfig: producerConfig(c),
	}, orNop(logger))
	if err != nil {
		return nil, fmt.Errorf("kafka publisher for %v: %w", c.Brokers, err)
	}
	return pub, nil
}

// NewSubscriber returns a subscriber in c.ConsumerGroup. Each message is
// handed out only after the one before it on its partition was acked, and
// its offset is committed only after it is acked, so a crash redelivers
// what was not acknowledged and loses nothing (see consumerConfig). Its
// SubscribeInitialize creates a missing topic like CreateTopic. A nil
// logger logs nothing.
func NewSubscriber(c Config, logger watermill.LoggerAdapter) (message.Subscriber, error) {
	err := c.Validate()
	if c.ConsumerGroup == "" {
		err = errors.Join(err, errors.New("a subscriber needs a consumer group: without one every instance reads everything and starts over from the oldest message on each restart"))
	}
	if err != nil {
		return nil, fmt.Errorf("kafka subscriber: %w", err)
	}
	c = c.withDefaults()
	sub, err := wmkafka.NewSubscriber(wmkafka.SubscriberConfig{
		Brokers:                c.Brokers,
		Unmarshaler:            wmkafka.DefaultMarshaler{},
		OverwriteSaramaConfig:  consumerConfig(c),
		ConsumerGroup:          c.ConsumerGroup,
		InitializeTopicDetails: topicDetail(c),
	}, orNop(logger))
	if err != nil {
		return nil, fmt.Errorf("kafka subscriber for %v in group %s: %w", c.Brokers, c.ConsumerGroup, err)
	}
	return sub, nil
}

// CreateTopic creates topic with c's partitions and replication factor,
// unless it exists: an existing topic is left as it is, partition count
// included, because changing that count would move filings between
// partitions. Call it before the first publish; a broker that does not
// create topics on demand refuses to write to a missing one.
func CreateTopic(c Config, topic string) (err error) {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("kafka topic %s: %w", topic, err)
	}
	c = c.withDefaults()
	admin, err := sarama.NewClusterAdmin(c.Brokers, baseConfig(c))
	if err != nil {
		return fmt.Errorf("kafka topic %s: admin client for %v: %w", topic, c.Brokers, err)
	}
	defer func() {
		if cerr := admin.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("kafka topic %s: closing the admin client: %w", topic, cerr))
		}
	}()
	err = admin.CreateTopic(topic, topicDetail(c), false)
	if err != nil && !errors.Is(err, sarama.ErrTopicAlreadyExists) {
		return fmt.Errorf("kafka topic %s: creating it with %d partitions: %w", topic, c.Partitions, err)
	}
	return nil
}

// partitionKey is the partitioning marshaler's key: the message's
// PartitionKey metadata, which must be there (see ErrNoPartitionKey).
func partitionKey(topic string, msg *message.Message) (string, error) {
	key := msg.Metadata.Get(PartitionKey)
	if key == "" {
		return "", fmt.Errorf("message %s to %s: %w", msg.UUID, topic, ErrNoPartitionKey)
	}
	return key, nil
}

func topicDetail(c Config) *sarama.TopicDetail {
	return &sarama.TopicDetail{NumPartitions: c.Partitions, ReplicationFactor: c.ReplicationFactor}
}

// baseConfig is what producers, consumers and the admin client share.
func baseConfig(c Config) *sarama.Config {
	sc := sarama.NewConfig()
	sc.ClientID = c.ClientID
	sc.Version = c.Version
	return sc
}

// producerConfig is the sarama configuration of the publisher. Each setting
// below serves "at least once, in order per filing, never duplicated by a
// retry of our own".
func producerConfig(c Config) *sarama.Config {
	sc := baseConfig(c)
	// A message counts as published only once every in-sync replica has it:
	// with the topic's min.insync.replicas at 2 or more, an acknowledged
	// event survives the loss of its leader. (acks=1 loses what the leader
	// had not replicated yet when it died; the forwarder would have moved
	// its checkpoint past it.)
	sc.Producer.RequiredAcks = sarama.WaitForAll
	// The broker deduplicates by producer id and sequence number, so a
	// retry after a lost acknowledgement is not written twice, and a batch
	// that failed is not overtaken by the next one.
	sc.Producer.Idempotent = true
	// sarama's idempotent producer keeps one request in flight per broker
	// (it refuses any other value): with several, a retried batch could
	// land behind its successor and reorder a filing.
	sc.Net.MaxOpenRequests = 1
	// Idempotence makes retries safe. 10 retries 250 ms apart (plus each
	// request's own timeout) ride out a leader election; past that Publish
	// fails and the forwarder retries from its checkpoint.
	sc.Producer.Retry.Max = 10
	sc.Producer.Retry.Backoff = 250 * time.Millisecond
	// The sync producer under watermill needs both to report each message.
	sc.Producer.Return.Successes = true
	sc.Producer.Return.Errors = true
	// The hash of the Java client's default partitioner (murmur2), so a
	// filing maps to the same partition whichever Kafka client writes or
	// reasons about the topic (a replay tool, a stream processor joining
	// on the filing id), not only sarama's FNV partitioner.
	sc.Producer.Partitioner = sarama.NewMurmur2Partitioner
	return sc
}

// consumerConfig is the sarama configuration of a subscriber.
//
// Offsets are committed only after the handler acks: watermill-kafka hands
// a message to the handler and waits for its Ack before it marks the
// message's offset (sess.MarkMessage) and takes the next message of the
// partition; on Nack it redelivers the same message. sarama's auto-commit
// commits marked offsets only, every second and when the group session
// ends, so a committed offset never passes an unacknowledged message. What
// was acked but not yet committed when a consumer dies is delivered again:
// at least once, and consumers deduplicate by event id.
func consumerConfig(c Config) *sarama.Config {
	sc := baseConfig(c)
	// A new group starts at the oldest retained message, not at the end:
	// a consumer that subscribes after events were published must still
	// see them.
	sc.Consumer.Offsets.Initial = sarama.OffsetOldest
	// sarama's default, spelled out because delivery depends on it: commit
	// what was marked (acked), not what was fetched.
	sc.Consumer.Offsets.AutoCommit.Enable = true
	sc.Consumer.Offsets.AutoCommit.Interval = time.Second
	// Surface consumer errors to the subscriber, which logs them, instead
	// of dropping them.
	sc.Consumer.Return.Errors = true
	// A rebalance waits until every member has learnt of it from a
	// heartbeat, and delivery stops meanwhile. Beating every second (not
	// sarama's 3 s; the session timeout stays 10 s) shortens that pause
	// each time an instance starts or stops, for one small request a second.
	sc.Consumer.Group.Heartbeat.Interval = time.Second
	return sc
}

func orNop(logger watermill.LoggerAdapter) watermill.LoggerAdapter {
	if logger == nil {
		return watermill.NopLogger{}
	}
	return logger
}
