package main

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/beian/beian/api"
	"github.com/beian/beian/infra/bus"
	"github.com/beian/beian/infra/notify"
	"github.com/beian/beian/infra/readstore"
)

// eventsOut starts the published stream for as long as ctx lasts: the
// forwarder, and with --notify the reference notification consumer in this
// process. The in-process bus makes Publish wait for the consumer's ack, so
// the forwarder's checkpoint never passes an event the consumer has not
// handled. Its goroutines are counted in running.
func (s *service) eventsOut(ctx context.Context, running *sync.WaitGroup) (*bus.Forwarder, error) {
	if !s.cfg.Notify && s.cfg.Bus == "" {
		return nil, nil // nobody listens: the log keeps everything for later
	}
	if s.cfg.Notify && s.cfg.Bus != "" {
		return nil, fmt.Errorf("--notify runs the consumer in process with the in-process bus; with --bus kafka run `beian notify` instead")
	}
	logger := watermill.NewSlogLogger(s.cfg.Logger)
	var publisher message.Publisher
	ready := make(chan struct{})
	switch {
	case s.cfg.Bus != "":
		p, err := kafkaPublisher(s.cfg.Bus, logger)
		if err != nil {
			return nil, err
		}
		publisher = p
		close(ready)
	default:
		channel := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1024, BlockPublishUntilSubscriberAck: true}, logger)
		publisher = channel
		consumer, err := notifyConsumer(ctx, s.read, s.cfg, &readySubscriber{Subscriber: channel, ready: ready})
		if err != nil {
			return nil, err
		}
		running.Add(1)
		go func() {
			defer running.Done()
			if err := consumer.Run(ctx); err != nil {
				s.cfg.Logger.Error("notify consumer stopped", "err", err)
			}
		}()
	}
	forwarder, err := bus.NewForwarder(bus.ForwarderConfig{Events: s.events, Publisher: publisher, Read: s.read, Logger: s.cfg.Logger})
	if err != nil {
		publisher.Close()
		return nil, err
	}
	running.Add(1)
	go func() {
		defer running.Done()
		defer publisher.Close()
		select {
		case <-ready: // a GoChannel publish with no subscriber yet would be lost
		case <-ctx.Done():
			return
		}
		if err := forwarder.Run(ctx); err != nil {
			s.cfg.Logger.Error("forwarder stopped", "err", err)
		}
	}()
	return forwarder, nil
}

// notifyConsumer builds the reference consumer: dedup and dead letters in
// the read store, notices to the log or a signed webhook.
func notifyConsumer(ctx context.Context, read readstore.Store, cfg config, sub message.Subscriber) (*notify.Consumer, error) {
	store, err := notify.Open(ctx, read)
	if err != nil {
		return nil, err
	}
	var notifier notify.Notifier = notify.LogNotifier{Logger: cfg.Logger.With("component", "notify")}
	if cfg.NotifyWebhook != "" {
		secret, err := webhookSecret(cfg.NotifySecretFile)
		if err != nil {
			return nil, err
		}
		notifier, err = notify.NewWebhookNotifier(notify.WebhookConfig{URL: cfg.NotifyWebhook, Secret: secret, DeadLetters: store,
			Logger: cfg.Logger})
		if err != nil {
			return nil, fmt.Errorf("--notify-webhook: %w", err)
		}
	}
	return notify.NewConsumer(notify.ConsumerConfig{Subscriber: sub, Notifier: notifier, Store: store, Logger: cfg.Logger, Now: cfg.Clock.Now})
}

// webhookSecret reads the webhook's HMAC key (hex) from a file.
func webhookSecret(path string) ([]byte, error) {
	if path == "" {
		return nil, fmt.Errorf("--notify-secret-file is required with --notify-webhook")
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("--notify-secret-file: %w", err)
	}
	secret, err := api.LoadOrCreateSecret(path)
	if err != nil {
		return nil, fmt.Errorf("--notify-secret-file: %w", err)
	}
	return secret, nil
}

// readySubscriber tells when the consumer has subscribed.
type readySubscriber struct {
	message.Subscriber
	ready chan struct{}
	once  sync.Once
}

func (r *readySubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	msgs, err := r.Subscriber.Subscribe(ctx, topic)
	if err == nil {
		r.once.Do(func() { close(r.ready) })
	}
	return msgs, err
}
