package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // the checks read the server's files
)

// endpoint is the URL of the live server, "" while there is none.
type endpoint struct {
	mu  sync.Mutex
	url string
}

func (e *endpoint) get() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.url
}

func (e *endpoint) set(url string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.url = url
}

// server is one `beian serve` process.
type server struct {
	cmd       *exec.Cmd
	at        *endpoint
	listening chan struct{} // closed when it printed its address
	exited    chan struct{} // closed when the process is gone
	waitErr   error         // the process's end, set before exited closes
}

// start runs `beian serve` on the data directory with the notification
// consumer in process, on a port of its choosing. It returns at once; the
// endpoint gets the URL when the server prints it.
func (h *harness) start(ctx context.Context) (*server, error) {
	cmd := exec.Command(h.bin, "serve", "--dev", "--notify", "--data", h.data, "--addr", "127.0.0.1:0", "--log-level", "warn")
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("crashtest: %w", err)
	}
	cmd.Stdout, cmd.Stderr = w, h.logs
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("crashtest: start server: %w", err)
	}
	w.Close()
	s := &server{cmd: cmd, at: &h.current, listening: make(chan struct{}), exited: make(chan struct{})}
	go func() {
		defer r.Close()
		br := bufio.NewReader(r)
		line, err := br.ReadString('\n')
		if _, rest, ok := strings.Cut(line, "listening on "); err == nil && ok {
			u, _, _ := strings.Cut(rest, " ")
			s.at.set(u)
			close(s.listening)
		}
		_, _ = io.Copy(io.Discard, br)
	}()
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	return s, ctx.Err()
}

// kill ends the server with SIGKILL and waits for it. A server that had
// already exited by itself is an error: nothing else stops it.
func (s *server) kill() (bool, error) {
	s.at.set("")
	select {
	case <-s.exited:
		return false, fmt.Errorf("crashtest: the server exited by itself (%v); see server.log", s.waitErr)
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return false, fmt.Errorf("crashtest: SIGKILL: %w", err)
	}
	<-s.exited
	return true, nil
}

// terminate stops the server the polite way and checks it exited cleanly.
func (s *server) terminate() error {
	s.at.set("")
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("crashtest: SIGTERM: %w", err)
	}
	<-s.exited
	if s.waitErr != nil {
		return fmt.Errorf("crashtest: server after SIGTERM: %w; see server.log", s.waitErr)
	}
	return nil
}

// openReadOnly opens one of the server's SQLite files without writing to it.
func openReadOnly(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+url.PathEscape(path)+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("crashtest: open %s: %w", path, err)
	}
	return db, nil
}

// waitPublished waits until the forwarder's checkpoint reaches the head of
// the log: every event has then been handed to the bus and acknowledged by
// the consumer (the in-process bus blocks the publish until then).
func waitPublished(ctx context.Context, data string) error {
	events, err := openReadOnly(filepath.Join(data, "events.db"))
	if err != nil {
		return err
	}
	defer events.Close()
	read, err := openReadOnly(filepath.Join(data, "read.db"))
	if err != nil {
		return err
	}
	defer read.Close()
	var head, published sql.NullInt64
	for {
		err := events.QueryRowContext(ctx, `SELECT MAX(position) FROM events`).Scan(&head)
		if err == nil {
			err = read.QueryRowContext(ctx, `SELECT position FROM forwarder_checkpoints WHERE name = 'forwarder'`).Scan(&published)
		}
		if err == nil && published.Int64 >= head.Int64 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("crashtest: forwarder at %d of %d (last error %v): %w", published.Int64, head.Int64, err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// errFatal marks a load error that no retry can mend.
var errFatal = errors.New("refused")
