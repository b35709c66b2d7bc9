package kafka

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/IBM/sarama"
)

// Defaults of a Config, applied to its zero fields.
const (
	// DefaultClientID names beian in broker logs, quotas and ACLs.
	DefaultClientID = "beian"
	// DefaultPartitions is the partition count of a topic this package
	// creates. It caps how many consumers of one group share the work, and
	// it cannot grow later without moving filings to other partitions (the
	// partition is the key's hash modulo the count), which breaks the order
	// of any filing whose events straddle the change. So it starts generous.
	DefaultPartitions int32 = 12
	// DefaultReplicationFactor -1 asks the broker for its own
	// default.replication.factor: the cluster's operators know how many
	// brokers it has, this flag does not.
	DefaultReplicationFactor int16 = -1
)

// Config of the Kafka bus. Zero fields take the package defaults; parse
// one from the --bus flag with ParseURL.
type Config struct {
	// Brokers to bootstrap from, host:port each; the client discovers the
	// rest of the cluster from them.
	Brokers []string
	// ConsumerGroup shares a topic's partitions among the subscribers of
	// one consuming service and keeps its committed offsets. A subscriber
	// needs one: without a group every instance would read every message
	// and start over from the oldest offset on each restart.
	ConsumerGroup string
	// ClientID identifies beian to the brokers (DefaultClientID).
	ClientID string
	// Partitions of a topic created by CreateTopic or a subscriber's
	// SubscribeInitialize (DefaultPartitions). Existing topics keep theirs.
	Partitions int32
	// ReplicationFactor of a created topic (DefaultReplicationFactor).
	ReplicationFactor int16
	// Version pins the Kafka protocol version, 2.5 or newer (2.8 when
	// zero). Since sarama 1.46 each request's version is negotiated with the
	// broker's ApiVersions answer, so this is a ceiling, not a promise.
	Version sarama.KafkaVersion
}

// URL parameters of the --bus flag, e.g.
// kafka://k1:9092,k2:9092?group=beian-notify&partitions=12.
const (
	paramGroup       = "group"
	paramClientID    = "client"
	paramPartitions  = "partitions"
	paramReplication = "replication"
	paramVersion     = "version"
)

// ParseURL parses a Kafka bus URL:
//
//	kafka://host:port[,host:port...][?group=G][&client=C][&partitions=N][&replication=R][&version=X.Y.Z]
//
// Every bad part is reported, joined in one error, so a mistyped flag is
// fixed in one go. The result is validated.
func ParseURL(raw string) (Config, error) {
	var c Config
	var errs []error

	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || !strings.EqualFold(scheme, "kafka") {
		return Config{}, fmt.Errorf("kafka bus URL %q: want kafka://host:port[,host:port...][?parameters]", redactCredentials(raw))
	}
	if r, fragment, found := strings.Cut(rest, "#"); found {
		errs = append(errs, fmt.Errorf("fragment #%s: a kafka bus URL has none", fragment))
		rest = r
	}
	authority, query, _ := strings.Cut(rest, "?")
	authority = strings.TrimSuffix(authority, "/")
	if hosts, path, found := strings.Cut(authority, "/"); found {
		errs = append(errs, fmt.Errorf("path /%s: a kafka bus URL has none", path))
		authority = hosts
	}
	if strings.Contains(authority, "@") {
		// Credentials in a flag end up in shell history and process lists.
		errs = append(errs, errors.New("credentials in a kafka bus URL are not supported"))
	} else if authority != "" {
		c.Brokers = strings.Split(authority, ",")
	}

	values, err := url.ParseQuery(query)
	if err != nil {
		errs = append(errs, fmt.Errorf("parameters: %w", err))
	}
	// In name order, so the same mistakes read the same every time.
	for _, name := range slices.Sorted(maps.Keys(values)) {
		vs := values[name]
		if len(vs) > 1 {
			errs = append(errs, fmt.Errorf("parameter %s given %d times", name, len(vs)))
		}
		if err := c.setParam(name, vs[0]); err != nil {
			errs = append(errs, err)
		}
	}

	// setParam leaves bad values unset, so Validate repeats none of them.
	errs = append(errs, c.Validate())
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("kafka bus URL %q: %w", redactCredentials(raw), err)
	}
	return c, nil
}

// redactCredentials hides user:password@ in a URL quoted in an error, which
// is logged.
func redactCredentials(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return raw
	}
	return scheme + "://***" + rest[at:]
}

// setParam sets the field a URL parameter names. A bad value is reported
// and left unset.
func (c *Config) setParam(name, value string) error {
	switch name {
	case paramGroup:
		if value == "" {
			return errors.New("parameter group is empty")
		}
		c.ConsumerGroup = value
	case paramClientID:
		if value == "" {
			return errors.New("parameter client is empty")
		}
		c.ClientID = value
	case paramPartitions:
		n, err := strconv.ParseInt(value, 10, 32)
		if err != nil || n < 1 {
			return fmt.Errorf("parameter partitions %q: want a whole number from 1", value)
		}
		c.Partitions = int32(n)
	case paramReplication:
		n, err := strconv.ParseInt(value, 10, 16)
		if err != nil || (n < 1 && n != -1) {
			return fmt.Errorf("parameter replication %q: want a whole number from 1, or -1 for the broker's default", value)
		}
		c.ReplicationFactor = int16(n)
	case paramVersion:
		v, err := sarama.ParseKafkaVersion(value)
		if err != nil {
			return fmt.Errorf("parameter version: %w", err)
		}
		c.Version = v
	default:
		return fmt.Errorf("unknown parameter %q (known: %s, %s, %s, %s, %s)", name,
			paramGroup, paramClientID, paramPartitions, paramReplication, paramVersion)
	}
	return nil
}

// Validate reports every problem of the configuration, joined. Zero
// fields are valid: they take the defaults.
func (c Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("no brokers"))
	}
	for _, b := range c.Brokers {
		if err := validateBroker(b); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Partitions < 0 {
		errs = append(errs, fmt.Errorf("partitions %d: want 1 or more", c.Partitions))
	}
	if c.ReplicationFactor < -1 {
		errs = append(errs, fmt.Errorf("replication factor %d: want 1 or more, or -1 for the broker's default", c.ReplicationFactor))
	}
	// From 2.5 on (KIP-360) an idempotent producer whose state the broker
	// lost bumps its epoch and carries on instead of failing every retry.
	if c.Version != (sarama.KafkaVersion{}) && !c.Version.IsAtLeast(sarama.V2_5_0_0) {
		errs = append(errs, fmt.Errorf("protocol version %s: want 2.5.0 or newer for a safe idempotent producer", c.Version))
	}
	return errors.Join(errs...)
}

func validateBroker(b string) error {
	host, port, err := net.SplitHostPort(b)
	if err != nil {
		return fmt.Errorf("broker %q: want host:port: %w", b, err)
	}
	if host == "" {
		return fmt.Errorf("broker %q: no host", b)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return fmt.Errorf("broker %q: port %q is not a number from 1 to 65535", b, port)
	}
	return nil
}

// withDefaults returns c with its zero fields set to the defaults.
func (c Config) withDefaults() Config {
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	if c.Partitions == 0 {
		c.Partitions = DefaultPartitions
	}
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = DefaultReplicationFactor
	}
	if c.Version == (sarama.KafkaVersion{}) {
		// 2.8 is the last version for which sarama has full protocol
		// coverage; every request it implies is still accepted by Kafka 4,
		// which dropped the pre-2.1 protocol versions.
		c.Version = sarama.V2_8_0_0
	}
	return c
}
