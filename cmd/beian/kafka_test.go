package main

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beian/beian/infra/notify"
	"github.com/twmb/franz-go/pkg/kfake"
)

// TestServeAndNotifyOverKafka: `serve --bus kafka://…` publishes the stream
// and `beian notify --bus kafka://…` delivers its notices, over the Kafka
// protocol (an in-process kfake cluster: no Kafka server runs here).
func TestServeAndNotifyOverKafka(t *testing.T) {
	cluster, err := kfake.NewCluster()
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	busURL := "kafka://" + strings.Join(cluster.ListenAddrs(), ",")
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "webhook-secret")
	if err := os.WriteFile(secretFile, []byte("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secret, _ := webhookSecret(secretFile)
	rc := &receiver{t: t, secret: secret, ids: map[string]int{}}
	hook := httptest.NewServer(rc)
	defer hook.Close()

	p := startWith(t, config{Data: filepath.Join(dir, "serve"), Dev: true, Bus: busURL})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- notifyCmd(ctx, []string{"--bus", busURL + "?group=notify-test", "--data", filepath.Join(dir, "notify"),
			"--webhook", hook.URL, "--secret-file", secretFile, "--log-level", "error"}, io.Discard, io.Discard)
	}()
	fillFiling(t, p.actors("acct-kafka"))
	deadline := time.Now().Add(60 * time.Second)
	for !slices.Contains(rc.kinds("applicant"), notify.KindSubmitted) {
		if time.Now().After(deadline) {
			t.Fatalf("no submission notice over Kafka: %v", rc.kinds("applicant"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("beian notify: %v", err)
	}
}
