package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/beian/beian/commands"
	"github.com/beian/beian/infra/bus/kafka"
	readsqlite "github.com/beian/beian/infra/readstore/sqlite"
)

// notifyCmd is the standalone notification consumer: it reads the published
// stream from Kafka in a consumer group and delivers notices, remembering
// what it delivered in its own store so a redelivery sends nothing twice.
func notifyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("notify", stderr)
	busURL := fs.String("bus", "", "Kafka brokers: kafka://host:port,host:port?group=beian-notify (required; in process use serve --notify)")
	data := fs.String("data", "./notify-data", "directory of the consumer's own store (delivered events, dead letters)")
	webhook := fs.String("webhook", "", "deliver notices by POST to this URL (default: to the log)")
	secret := fs.String("secret-file", "", "file with the hex HMAC-SHA256 key that signs webhook notices")
	logLevel := fs.String("log-level", "info", "debug, info, warn, error or off")
	if err := parse(fs, args); err != nil {
		return helpOK(err)
	}
	logger, err := newLogger("log-level", *logLevel, stderr)
	if err != nil {
		return err
	}
	if *busURL == "" {
		return fmt.Errorf("--bus is required (kafka://host:port); the in-process consumer is `beian serve --notify`")
	}
	cfg, err := kafka.ParseURL(*busURL)
	if err != nil {
		return fmt.Errorf("--bus: %w", err)
	}
	if cfg.ConsumerGroup == "" {
		cfg.ConsumerGroup = "beian-notify"
	}
	if err := os.MkdirAll(*data, 0o750); err != nil {
		return fmt.Errorf("--data %s: %w", *data, err)
	}
	read, err := readsqlite.Open(readsqlite.Config{Path: filepath.Join(*data, "notify.db"), Logger: logger})
	if err != nil {
		return fmt.Errorf("--data %s: %w", *data, err)
	}
	defer read.Close()
	sub, err := kafka.NewSubscriber(cfg, watermill.NewSlogLogger(logger))
	if err != nil {
		return err
	}
	defer sub.Close()
	consumer, err := notifyConsumer(ctx, read, config{Logger: logger, Clock: commands.SystemClock{}, NotifyWebhook: *webhook, NotifySecretFile: *secret}, sub)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "beian notify: consuming %s as group %s\n", *busURL, cfg.ConsumerGroup)
	return consumer.Run(ctx)
}
