package main

import (
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/beian/beian/infra/bus"
	"github.com/beian/beian/infra/bus/kafka"
)

// kafkaPublisher publishes to the Kafka brokers of a --bus URL, creating
// the topic first if it does not exist.
func kafkaPublisher(url string, logger watermill.LoggerAdapter) (message.Publisher, error) {
	cfg, err := kafka.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("--bus: %w", err)
	}
	if err := kafka.CreateTopic(cfg, bus.Topic); err != nil {
		return nil, fmt.Errorf("--bus %s: %w", url, err)
	}
	return kafka.NewPublisher(cfg, logger)
}
