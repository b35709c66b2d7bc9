package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// newFlags returns a flag set whose flags default to BEIAN_<NAME>
// environment variables, applied by parse.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("beian "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// envName is the environment variable of a flag: --sim-data → BEIAN_SIM_DATA.
func envName(flagName string) string {
	return "BEIAN_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse applies environment variables for flags not given on the command
// line, then the arguments. A bad value is reported as one line naming the
// flag (or variable) and the problem.
func parse(fs *flag.FlagSet, args []string) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %v", envName(f.Name), v, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return errUsage
	}
	return nil
}

// errHelp: --help was asked for and printed.
var errHelp = errors.New("help")

// storeFlags say where the stores are; every command that opens them takes
// the same three.
type storeFlags struct{ eventStore, readStore, readSchema *string }

func addStoreFlags(fs *flag.FlagSet) storeFlags {
	return storeFlags{
		eventStore: fs.String("event-store", "sqlite", "the event log: sqlite (in --data) or esdb://host:2113?tls=false (EventStoreDB/KurrentDB)"),
		readStore:  fs.String("read-store", "sqlite", "the read models: sqlite (in --data) or postgres://user@host:5432/db (replicas share it and elect a leader)"),
		readSchema: fs.String("read-store-schema", "public", "the PostgreSQL schema of the read models and keys"),
	}
}

// set copies the flags into a service configuration.
func (f storeFlags) set(c *config) {
	c.EventStore, c.ReadStore, c.ReadStoreSchema = *f.eventStore, *f.readStore, *f.readSchema
}

// newLogger returns a text logger to w at the level a flag names: debug,
// info, warn, error, or off.
func newLogger(flagName, level string, w io.Writer) (*slog.Logger, error) {
	if level == "off" {
		return slog.New(slog.DiscardHandler), nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--%s %q: not debug, info, warn, error or off", flagName, level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
