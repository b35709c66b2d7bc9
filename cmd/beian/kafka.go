package main

import (
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

// kafkaPublisher publishes to the Kafka brokers of a --bus URL.
func kafkaPublisher(url string, logger watermill.LoggerAdapter) (message.Publisher, error) {
	return nil, fmt.Errorf("--bus %s: the Kafka transport is not wired yet", url)
}
