package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/beian/beian/commands"
	"github.com/beian/beian/projections"
)

// projectionsCmd shows or rebuilds the read models. It opens the data
// directory itself, so the server must be stopped; rebuilding while serving
// happens inside the server when a projection's version changes.
func projectionsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "status" && args[0] != "rebuild" {
		fmt.Fprintln(stderr, "usage: beian projections status|rebuild [NAME] [--data DIR]")
		return errUsage
	}
	sub, rest := args[0], args[1:]
	var name string
	if sub == "rebuild" && len(rest) > 0 && rest[0] != "" && rest[0][0] != '-' {
		name, rest = rest[0], rest[1:]
	}
	fs := newFlags("projections "+sub, stderr)
	data := fs.String("data", "./data", "data directory")
	withHash := fs.Bool("hash", false, "also print a SHA-256 of each read model's contents (equal hashes: equal read models)")
	if err := parse(fs, rest); err != nil {
		return helpOK(err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := open(ctx, config{Data: *data, Dev: true, Logger: logger, Clock: commands.SystemClock{}})
	if errors.Is(err, errDataInUse) {
		return fmt.Errorf("%w; stop `beian serve` first (a running server rebuilds a projection itself when its version changes)", err)
	}
	if err != nil {
		return err
	}
	defer s.close()
	if sub == "rebuild" {
		names := []string{name}
		if name == "" {
			names = s.runner.Names()
		}
		if err := s.waitCaughtUp(ctx); err != nil {
			return err
		}
		start := time.Now()
		if err := s.runner.Rebuild(ctx, names...); err != nil {
			return err
		}
		if err := waitRebuilt(ctx, s.runner, names...); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rebuilt %s in %s\n", strings.Join(names, ", "), time.Since(start).Round(time.Millisecond))
	}
	if err := s.waitCaughtUp(ctx); err != nil {
		return err
	}
	head, err := s.events.Head(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprint(w, "PROJECTION\tVERSION\tGENERATION\tCHECKPOINT\tHEAD\tLAG")
	if *withHash {
		fmt.Fprint(w, "\tHASH")
	}
	fmt.Fprintln(w)
	for _, st := range s.runner.Status() {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d", st.Name, st.Version, st.Generation, st.Position, head, head-st.Position)
		if *withHash {
			h, err := s.reader.ContentHash(ctx, s.runner.Projection(st.Name))
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "\t%s", h)
		}
		fmt.Fprintln(w)
	}
	return w.Flush()
}

// waitCaughtUp waits until every projection has caught up once.
func (s *service) waitCaughtUp(ctx context.Context) error {
	for {
		if err := s.runner.Ready(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitRebuilt waits until no rebuild of the named projections is in progress.
func waitRebuilt(ctx context.Context, runner *projections.Runner, names ...string) error {
	for {
		building := false
		for _, st := range runner.Status() {
			if slices.Contains(names, st.Name) && st.Building != nil {
				if st.Building.Err != nil {
					return st.Building.Err
				}
				building = true
			}
		}
		if !building {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
