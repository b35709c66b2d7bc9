package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/beian/beian/commands"
)

// serve runs the whole service until SIGINT or SIGTERM, then drains
// requests, stops the projections and closes the stores.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	data := fs.String("data", "./data", "data directory: event store, read store, blobs, secrets")
	dev := fs.Bool("dev", false, "development mode: GraphiQL at /, introspection, the dev token secret, simulated liveness verdicts")
	simData := fs.String("sim-data", "", "seed file of the simulated providers (default: built-in demo data; see docs/sim-data.md)")
	jwtSecret := fs.String("jwt-secret-file", "", "file with the hex HS256 secret that signs bearer tokens (required without --dev)")
	logLevel := fs.String("log-level", "info", "debug, info, warn, error or off")
	stores := addStoreFlags(fs)
	blobs := fs.String("blobs", "", "directory of uploaded materials (default <data>/blobs; replicas need a shared one)")
	livenessSecretFile := fs.String("liveness-secret-file", "", "file with the hex HMAC key of liveness webhooks (default <data>/liveness-webhook-secret; the same on every replica)")
	busURL := fs.String("bus", "", "publish the filing stream to Kafka: kafka://host:port,host:port (default: in process, with --notify only)")
	notifyFlag := fs.Bool("notify", false, "run the notification consumer in process (notices to the log, or to --notify-webhook)")
	notifyWebhook := fs.String("notify-webhook", "", "deliver notices by POST to this URL, signed with --notify-secret-file")
	notifySecret := fs.String("notify-secret-file", "", "file with the hex HMAC-SHA256 key that signs webhook notices")
	checkpointEvery := fs.Duration("audit-checkpoint-every", time.Hour, "record an audit checkpoint (Merkle root of every stream's head) this often; 0 disables")
	if err := parse(fs, args); err != nil {
		return helpOK(err)
	}
	logger, err := newLogger("log-level", *logLevel, stderr)
	if err != nil {
		return err
	}
	if _, _, err := net.SplitHostPort(*addr); err != nil {
		return fmt.Errorf("--addr %q: %v", *addr, err)
	}
	cfg := config{Addr: *addr, Data: *data, Dev: *dev, SimData: *simData, JWTSecret: *jwtSecret,
		Logger: logger, Clock: commands.SystemClock{}, Bus: *busURL, Notify: *notifyFlag, NotifyWebhook: *notifyWebhook,
		NotifySecretFile: *notifySecret, CheckpointEvery: *checkpointEvery, Blobs: *blobs, LivenessSecret: *livenessSecretFile}
	stores.set(&cfg)
	s, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", *addr, err)
	}
	srv := &http.Server{Handler: s.api.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "beian listening on %s (GraphQL at %s/graphql", url, url)
	if *dev {
		fmt.Fprintf(stdout, ", GraphiQL at %s/; tokens: beian token --data %s --role applicant", url, *data)
	}
	fmt.Fprintln(stdout, ")")
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: draining requests")
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("shutdown", "err", err)
	}
	logger.Info("stopped")
	return nil
}
