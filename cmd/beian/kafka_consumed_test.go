package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/beian/beian/infra/bus"
)

// awaitGroupConsumed waits until a consumer group has committed, on every
// partition of the filing topic, the offset at the partition's end as it is
// now: every message published so far has been handled and acknowledged
// (the subscriber commits only acknowledged offsets). Published is not
// consumed: a test that checks what a consumer did with a republished
// stream must wait for this, not for the publisher.
func awaitGroupConsumed(t *testing.T, brokers []string, group string) {
	t.Helper()
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	client, err := sarama.NewClient(brokers, cfg)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		client.Close()
		t.Fatal(err)
	}
	defer admin.Close() // closes the client too
	partitions, err := client.Partitions(bus.Topic)
	if err != nil {
		t.Fatal(err)
	}
	end := map[int32]int64{}
	for _, p := range partitions {
		if end[p], err = client.GetOffset(bus.Topic, p, sarama.OffsetNewest); err != nil {
			t.Fatal(err)
		}
	}
	behind := func() (string, error) {
		resp, err := admin.ListConsumerGroupOffsets(group, map[string][]int32{bus.Topic: partitions})
		if err != nil {
			return "", err
		}
		for _, p := range partitions {
			b := resp.GetBlock(bus.Topic, p)
			if b == nil {
				return "", fmt.Errorf("no offset of partition %d", p)
			}
			if b.Err != sarama.ErrNoError {
				return "", b.Err
			}
			if end[p] > 0 && b.Offset < end[p] { // an empty partition has no committed offset (-1)
				return fmt.Sprintf("partition %d committed at %d of %d", p, b.Offset, end[p]), nil
			}
		}
		return "", nil
	}
	guard := time.Now().Add(60 * time.Second) // a hung test, not a timing assertion
	for {
		lag, err := behind()
		if err == nil && lag == "" {
			return
		}
		if time.Now().After(guard) {
			t.Fatalf("group %s has not consumed the topic after 60s: %s (%v)", group, lag, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
