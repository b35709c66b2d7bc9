// Package esdb is the event-store port on EventStoreDB/KurrentDB, through
// the gRPC client github.com/EventStore/EventStore-Client-Go/v4. It is
// selected with --event-store esdb://host:2113 and is what a deployment
// uses once one machine's SQLite file is not enough.
//
// The client is kept behind this package: nothing else imports it, so
// moving to its successor (github.com/kurrent-io/KurrentDB-Client-Go, the
// same protocol) is a change here only. See docs/esdb.md.
//
// Positions in $all are this adapter's own: 2×(commit position+1), even,
// increasing and with gaps (see position.go). Events of system streams
// ("$…") are left out of ReadAll, Head and SubscribeAll.
//
// It imports the port and the client; it must not import domain,
// commands, projections or api.
package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"sync"
	"time"

	client "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/beian/beian/infra/eventstore"
)

// Config configures the store.
type Config struct {
	// URL is an EventStoreDB connection string: esdb://host:2113 for one
	// node, esdb+discover://host:2113 or esdb://h1:2113,h2:2113 for a
	// cluster. The client's settings ride along as query parameters
	// (tls=false, tlsCAFile, defaultDeadline, maxDiscoverAttempts, …).
	// The client defaults to TLS.
	URL    string
	Logger *slog.Logger // default slog.Default()
	// ResubscribeMin and ResubscribeMax bound the backoff between attempts
	// to resubscribe after a subscription dropped; defaults 100 ms and 5 s.
	ResubscribeMin, ResubscribeMax time.Duration
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ResubscribeMin <= 0 {
		c.ResubscribeMin = 100 * time.Millisecond
	}
	if c.ResubscribeMax <= 0 {
		c.ResubscribeMax = 5 * time.Second
	}
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("esdb event store: URL is required (esdb://host:2113)"))
	} else if u, err := url.Parse(c.URL); err == nil && u.Scheme != "esdb" && u.Scheme != "esdb+discover" {
		errs = append(errs, fmt.Errorf("esdb event store: URL scheme %q is not esdb or esdb+discover", u.Scheme))
	} else if _, err := client.ParseConnectionString(c.URL); err != nil {
		errs = append(errs, fmt.Errorf("esdb event store: URL: %w", err))
	}
	if c.ResubscribeMin > 0 && c.ResubscribeMax > 0 && c.ResubscribeMin > c.ResubscribeMax {
		errs = append(errs, fmt.Errorf("esdb event store: ResubscribeMin %s is above ResubscribeMax %s", c.ResubscribeMin, c.ResubscribeMax))
	}
	return errors.Join(errs...)
}

// Store is the EventStoreDB event store.
type Store struct {
	cfg  Config
	conf client.Configuration // parsed once; each client gets a copy
	log  *slog.Logger

	mu        sync.Mutex
	client    *client.Client
	closed    bool
	lastErr   error          // the connection failure of the latest operation; nil after one succeeds
	appending sync.WaitGroup // appends in flight, waited for by Close
	calling   sync.WaitGroup // client calls in flight, waited for (at most closeGrace) by Close
}

// closeGrace bounds how long Close waits for client calls still running
// after their callers gave up (a call blocked while the client rediscovers
// a lost server). The client's Close races with calls in flight.
const closeGrace = 5 * time.Second

// Open parses the configuration and creates the client. It does not
// contact the server: the client connects on first use, and reconnects.
func Open(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	conf, err := client.ParseConnectionString(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("esdb event store: URL: %w", err)
	}
	s := &Store{cfg: cfg, log: cfg.Logger}
	conf.Logger = s.clientLog
	s.conf = *conf
	c, err := s.newClient()
	if err != nil {
		return nil, err
	}
	s.client = c
	return s, nil
}

func (s *Store) newClient() (*client.Client, error) {
	conf := s.conf
	c, err := client.NewClient(&conf)
	if err != nil {
		return nil, fmt.Errorf("esdb event store: %w", err)
	}
	return c, nil
}

// clientLog routes the client's log lines into slog. The client logs every
// cancelled call and dropped subscription as an error; the adapter logs
// what matters itself, so the client's lines go no higher than Info.
func (s *Store) clientLog(level client.LogLevel, format string, args ...any) {
	l := slog.LevelDebug
	switch level {
	case client.LogWarn, client.LogError:
		l = slog.LevelInfo
	}
	s.log.Log(context.Background(), l, "esdb client: "+fmt.Sprintf(format, args...), "client_level", level)
}

// Close waits for appends in flight, then closes the client. Operations
// after Close return eventstore.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.appending.Wait()
	calls := make(chan struct{})
	go func() {
		s.calling.Wait()
		close(calls)
	}()
	select {
	case <-calls:
	case <-time.After(closeGrace):
		s.log.Warn("esdb: closing the client with calls still in flight", "waited", closeGrace)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.client.Close()
}

// Healthy reports eventstore.ErrClosed after Close, or the connection
// failure of the latest operation until one succeeds. Subscriptions keep
// it current: a dropped one records why, a resumed one clears it.
func (s *Store) Healthy() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return eventstore.ErrClosed
	}
	if s.lastErr != nil {
		return fmt.Errorf("esdb event store: %w", s.lastErr)
	}
	return nil
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// op is one use of the client.
type op func(ctx context.Context, c *client.Client) error

// errClientPanicked: the client panicked in an operation. It does so when
// a server answers what it does not expect, and when it is closed while an
// operation waits for a connection.
var errClientPanicked = errors.New("esdb client panicked")

// call runs fn on the current client, and once more after a connection
// failure:
//
//   - ConnectionClosed: the client has given up on the server for good
//     (after maxDiscoverAttempts it stops reconnecting and fails every call
//     before sending anything); call replaces it with a new one.
//   - Unavailable: the client learns that its connection broke only from a
//     failed call, and reconnects on the next one.
//   - a send that failed with io.EOF: the stream broke while the request
//     was being sent (gRPC tells why only to a receive, which the client
//     skips), and the client reports it as an unknown error.
//
// Trying again is safe for an append too: its event ids are the caller's
// deterministic ones, so if the first attempt was written after all the
// server takes the second for a retry.
func (s *Store) call(ctx context.Context, fn op) error {
	for attempt := 0; ; attempt++ {
		s.mu.Lock()
		c, closed := s.client, s.closed
		if !closed {
			s.calling.Add(1) // under mu: Close's Wait starts only after closed is set
		}
		s.mu.Unlock()
		if closed {
			return eventstore.ErrClosed
		}
		err := run(ctx, c, fn, s.calling.Done)
		if attempt == 0 && ctx.Err() == nil {
			if hasCode(err, client.ErrorCodeConnectionClosed) && s.renew(c) {
				continue
			}
			if hasCode(err, client.ErrorUnavailable) || status.Code(err) == codes.Unavailable || sendBroke(err) {
				continue
			}
		}
		s.note(ctx, err)
		return err
	}
}

// run calls fn in a goroutine of its own so that ctx bounds the wait even
// where the client does not look at it (it blocks on an internal channel
// while it rediscovers the server), and so that a panic of the client
// becomes an error instead of a crash. fn's results must only be read when
// run returned nil. finished is called when fn has returned, which may be
// after run did.
func run(ctx context.Context, c *client.Client, fn op, finished func()) error {
	if err := ctx.Err(); err != nil {
		finished()
		return err
	}
	done := make(chan error, 1)
	go func() {
		defer finished()
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("%w: %v", errClientPanicked, r)
			}
		}()
		done <- fn(ctx, c)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// renew replaces c, if it is still the current client, with a new one, and
// reports whether the caller should try again.
func (s *Store) renew(c *client.Client) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.client != c {
		return true // someone else renewed it already
	}
	fresh, err := s.newClient()
	if err != nil {
		s.log.Error("esdb: cannot create a new client", "err", err)
		return false
	}
	s.log.Warn("esdb: the client gave up reconnecting; starting a new one")
	s.client = fresh
	// Closing the old client releases calls still blocked on it (they
	// panic inside run and end with errClientPanicked).
	_ = c.Close()
	return true
}

// note keeps Healthy current: a connection failure is remembered, any
// answer from the server forgets it, a cancelled call says nothing.
func (s *Store) note(ctx context.Context, err error) {
	if err != nil && ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err == nil || !unreachable(err):
		s.lastErr = nil
	default:
		s.lastErr = err
	}
}

// hasCode reports whether err is the client's error with that code.
func hasCode(err error, code client.ErrorCode) bool {
	var e *client.Error
	return errors.As(err, &e) && e.Code() == code
}

// sendBroke: the client's gRPC stream ended while it sent the request.
func sendBroke(err error) bool {
	var e *client.Error
	return errors.As(err, &e) && errors.Is(e.Err(), io.EOF)
}

// unreachable: the server could not be asked, as opposed to a server that
// answered no.
func unreachable(err error) bool {
	var e *client.Error
	if errors.As(err, &e) {
		switch e.Code() {
		case client.ErrorUnavailable, client.ErrorCodeConnectionClosed, client.ErrorCodeDeadlineExceeded, client.ErrorCodeNotLeader:
			return true
		}
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	}
	return false
}

// permanent: retrying will not help (credentials, a refused request, a
// client that does not understand the server).
func permanent(err error) bool {
	if errors.Is(err, errClientPanicked) || errors.Is(err, errCorrupt) {
		return true
	}
	var e *client.Error
	if errors.As(err, &e) {
		switch e.Code() {
		case client.ErrorCodeUnauthenticated, client.ErrorCodeAccessDenied, client.ErrorCodeUnsupportedFeature, client.ErrorCodeParsing:
			return true
		}
	}
	switch status.Code(err) {
	case codes.InvalidArgument, codes.Unimplemented, codes.PermissionDenied, codes.Unauthenticated:
		return true
	}
	return false
}

// fail wraps err with the operation, preferring the context's error: the
// client reports a cancelled call as a gRPC status that does not unwrap to
// context.Canceled.
func (s *Store) fail(ctx context.Context, op, stream string, revision int64, err error) error {
	switch {
	case errors.Is(err, eventstore.ErrClosed):
	case ctx.Err() != nil:
		err = ctx.Err()
	case s.isClosed():
		err = fmt.Errorf("%w (%v)", eventstore.ErrClosed, err)
	}
	return &eventstore.Error{Op: op, Stream: stream, Revision: revision, Err: err}
}

func clampLimit(limit int) int {
	if limit <= 0 || limit > 10000 {
		return 10000
	}
	return limit
}
