package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/beian/beian/cmd/beian/internal/bench"
	"github.com/beian/beian/commands"
	"github.com/beian/beian/infra/eventstore"
	eventsqlite "github.com/beian/beian/infra/eventstore/sqlite"
)

// readMemory reads a process's resident set from /proc/<pid>/status.
func readMemory(pid int) (bench.Memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return bench.Memory{}, fmt.Errorf("server memory: %w", err)
	}
	m := bench.Memory{PID: pid}
	for line := range strings.Lines(string(b)) {
		name, value, _ := strings.Cut(line, ":")
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		switch {
		case err != nil:
		case name == "VmHWM":
			m.PeakRSS = kb << 10
		case name == "VmRSS":
			m.RSS = kb << 10
		}
	}
	return m, nil
}

// rawAppend measures single-event appends to a fresh event store on the
// same disk, as the store's own Go benchmark does: the floor under the
// API's cost per command.
func rawAppend(ctx context.Context, path string, writers int, d time.Duration, logger *slog.Logger) (*bench.RawAppend, error) {
	store, err := eventsqlite.Open(eventsqlite.Config{Path: path, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("raw append: %w", err)
	}
	defer store.Close()
	// A payload the size of a typical filing event.
	data := []byte(`{"entity":{"name":"深圳市示例科技有限公司","certificateAddress":"广东省深圳市南山区科技园路1号","legalRepresentative":"张三"},` +
		`"principal":{"name":"张三","mobile":"13800138000","email":"zhangsan@example.com","officePhone":"0755-86013388"}}`)
	var n atomic.Int64
	errs := make(chan error, writers)
	cpu := cpuTime()
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				e := eventstore.EventData{ID: fmt.Sprintf("raw-%d-%d", w, i), Type: "filing.entity_submitted.v1", Data: data,
					Metadata: eventstore.Metadata{SchemaVersion: 1, OccurredAt: time.Now()}}
				if _, err := store.Append(ctx, fmt.Sprintf("filing-raw-%d-%d", w, i%100), eventstore.Any(), []eventstore.EventData{e}); err != nil {
					errs <- err
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return nil, fmt.Errorf("raw append: %w", err)
	}
	return &bench.RawAppend{Writers: writers, Events: n.Load(), Seconds: elapsed.Seconds(), EventsPerSec: float64(n.Load()) / elapsed.Seconds(),
		CPUSec: (cpuTime() - cpu).Seconds()}, nil
}

// rebuildAll rebuilds every projection from the log at once and times it.
func rebuildAll(ctx context.Context, s *service) (*bench.Rebuild, error) {
	if err := s.waitCaughtUp(ctx); err != nil {
		return nil, err
	}
	head, err := s.log.Head(ctx)
	if err != nil {
		return nil, err
	}
	cpu := cpuTime()
	start := time.Now()
	took := map[string]float64{}
	names := s.runner.Names()
	if err := s.runner.Rebuild(ctx, names...); err != nil {
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	for len(took) < len(names) {
		for _, st := range s.runner.Status() {
			if _, done := took[st.Name]; done {
				continue
			}
			if st.Building != nil && st.Building.Err != nil {
				return nil, fmt.Errorf("rebuild %s: %w", st.Name, st.Building.Err)
			}
			if st.Building == nil {
				took[st.Name] = time.Since(start).Seconds()
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	total := time.Since(start).Seconds()
	return &bench.Rebuild{Events: head, Seconds: total, EventsPerSec: float64(head) / total, Projections: took, CPUSec: (cpuTime() - cpu).Seconds()}, nil
}

// benchSeeded stores o.seed filings through the command handlers, lets the
// projections catch up (and rebuilds them with --rebuild), then serves the
// store from a separate `beian serve` process, so that its RSS is the
// server's alone, and measures filing(id) reads on it.
func benchSeeded(ctx context.Context, o benchOptions, logger, serverLog *slog.Logger) (*bench.Report, error) {
	dir, cleanup, err := benchData(o)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	rep := &bench.Report{}
	seed, rebuild, ids, err := seedStore(ctx, dir, o, logger, serverLog)
	if err != nil {
		return nil, err
	}
	rep.Seed, rep.Rebuild = seed, rebuild
	seed.DataBytes = dirSize(dir)
	exe := o.exe
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	url, pid, stop, err := serveChild(ctx, exe, dir)
	if err != nil {
		return nil, err
	}
	defer stop()
	tokens, err := devTokens(dir)
	if err != nil {
		return nil, err
	}
	token, err := tokens.Mint("bench-reviewer", commands.RoleReviewer, time.Hour)
	if err != nil {
		return nil, err
	}
	reads := bench.Reads{URL: url, Token: token, IDs: ids, Rate: o.readRate, Duration: o.readFor, Concurrency: o.load.Concurrency}
	if seed.Query, seed.QueryErrors, err = reads.Run(ctx); err != nil {
		return nil, err
	}
	seed.QueryPerSec = o.readRate
	if seed.Memory, err = readMemory(pid); err != nil {
		return nil, err
	}
	return rep, nil
}

// seedStore runs VerifyType, the first command of a filing, for n accounts
// through the command handlers (as the API would, without HTTP), and waits
// for the projections, then rebuilds them with --rebuild. It returns up to
// 10,000 of the filing ids, spread.
func seedStore(ctx context.Context, dir string, o benchOptions, logger, serverLog *slog.Logger) (*bench.Seed, *bench.Rebuild, []string, error) {
	s, err := open(ctx, config{Data: dir, Dev: true, Logger: serverLog, Clock: commands.SystemClock{}})
	if err != nil {
		return nil, nil, nil, err
	}
	defer s.close()
	every := max(o.seed/10_000, 1)
	var (
		next   atomic.Int64
		events atomic.Int64
		mu     sync.Mutex
		ids    []string
		first  error
	)
	start := time.Now()
	var wg sync.WaitGroup
	for range o.seedWorkers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= o.seed || ctx.Err() != nil {
					return
				}
				account := fmt.Sprintf("seed-%d", i)
				res, err := s.app.VerifyType.Handle(ctx, commands.Meta{Actor: commands.Actor{Account: account, Role: commands.RoleApplicant}, IdempotencyKey: account},
					commands.VerifyType{Province: "44", City: "深圳市", District: "南山区", Nature: "enterprise", CertificateType: "business_licence",
						CertificateNumber: "91440300MA5F12342Q", Domains: []string{"example.com"},
						Resource: commands.ResourceRef{Kind: "instance", InstanceID: "ins-demo"}})
				mu.Lock()
				if err != nil && first == nil {
					first = fmt.Errorf("seed filing %d: %w", i, err)
				}
				if err == nil && i%every == 0 {
					ids = append(ids, res.FilingID)
				}
				mu.Unlock()
				if err != nil {
					return
				}
				events.Add(int64(len(res.Events)))
				if i > 0 && i%100_000 == 0 {
					logger.Warn("seeding", "filings", i, "elapsed", time.Since(start).Round(time.Second))
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return nil, nil, nil, first
	}
	seeded := time.Since(start)
	catchUp := time.Now()
	if err := waitHead(ctx, s); err != nil {
		return nil, nil, nil, err
	}
	seed := &bench.Seed{Filings: int64(o.seed), Events: events.Load(), Seconds: seeded.Seconds(),
		FilingsPerSec: float64(o.seed) / seeded.Seconds(), CatchUpSec: time.Since(catchUp).Seconds()}
	var rebuild *bench.Rebuild
	if o.rebuild {
		if rebuild, err = rebuildAll(ctx, s); err != nil {
			return nil, nil, nil, err
		}
	}
	return seed, rebuild, ids, nil
}

// waitHead waits until every projection has applied the log's head.
func waitHead(ctx context.Context, s *service) error {
	head, err := s.log.Head(ctx)
	if err != nil {
		return err
	}
	for _, p := range projectionSet(s.rules) {
		if err := s.WaitFor(ctx, p.Name(), head); err != nil {
			return err
		}
	}
	return nil
}

// serveChild runs `beian serve --dev` on dir and waits until it is ready.
func serveChild(ctx context.Context, exe, dir string) (url string, pid int, stop func(), err error) {
	cmd := exec.Command(exe, "serve", "--dev", "--data", dir, "--addr", "127.0.0.1:0", "--log-level", "warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", 0, nil, fmt.Errorf("start the server: %w", err)
	}
	stop = func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	_, rest, ok := strings.Cut(line, "listening on ")
	if err != nil || !ok {
		stop()
		return "", 0, nil, fmt.Errorf("the server did not start: %q %v", line, err)
	}
	go io.Copy(io.Discard, stdout)
	url, _, _ = strings.Cut(rest, " ")
	for {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url, cmd.Process.Pid, stop, nil
			}
		}
		select {
		case <-ctx.Done():
			stop()
			return "", 0, nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// dirSize is the bytes of the files under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
