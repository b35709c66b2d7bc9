// Command beian is the ICP filing service and its operator tools:
//
//	beian serve        the whole service (GraphQL, projections, simulated providers)
//	beian token        mint a dev bearer token
//	beian projections  status and rebuild of the read models
//	beian notify       the notification consumer of the published stream
//	beian audit        replay a filing from the log, verify the hash chains, record checkpoints
//	beian privacy      erase a data subject's personal data (crypto-shredding)
//	beian migrate      copy the event log into another event store (EventStoreDB/KurrentDB)
//	beian bench        load: filing lives over GraphQL at a fixed rate; raw appends, rebuilds, a seeded store
//
// Every flag has an environment variable BEIAN_<FLAG>; a bad value stops the
// program with one line naming the flag.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "beian:", err)
		}
		os.Exit(exitCode(err))
	}
}

// errUsage: the usage was printed; exit 2 without repeating it.
var errUsage = errors.New("usage")

func exitCode(err error) int {
	var ec interface{ ExitCode() int }
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

const usage = `beian — ICP filing (ICP备案) service

usage:
  beian serve [--addr 127.0.0.1:8080] [--data ./data] [--dev] [--sim-data FILE]
  beian token --data DIR --role ROLE [--account ID] [--ttl 24h]
  beian projections status [--data DIR]
  beian projections rebuild [NAME] [--data DIR]
  beian notify --bus kafka://host:port [--data DIR] [--webhook URL --secret-file FILE]
  beian audit replay FILING_ID [--revision N | --at RFC3339] [--json] [--data DIR]
  beian audit verify [FILING_ID | --all] [--data DIR]
  beian audit checkpoint [--data DIR]
  beian privacy erase --subject CERTIFICATE_NUMBER|SUBJECT_ID --reason TEXT [--data DIR]
  beian migrate --data DIR --to esdb://host:2113?tls=false [--from sqlite|esdb://…] [--verify=false]
  beian bench [--addr URL --data DIR] [--rate 1000] [--duration 10s] [--raw-append] [--rebuild] [--seed N] [--json FILE]

Run "beian COMMAND --help" for the flags of a command.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "token":
		return token(args[1:], stdout, stderr)
	case "projections":
		return projectionsCmd(ctx, args[1:], stdout, stderr)
	case "notify":
		return notifyCmd(ctx, args[1:], stdout, stderr)
	case "audit":
		return auditCmd(ctx, args[1:], stdout, stderr)
	case "privacy":
		return privacyCmd(ctx, args[1:], stdout, stderr)
	case "migrate":
		return migrateCmd(ctx, args[1:], stdout, stderr)
	case "bench":
		return benchCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "beian: unknown command %q\n\n%s", args[0], usage)
	return errUsage
}
