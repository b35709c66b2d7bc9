package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/beian/beian/commands"
)

// inProcess runs the whole service in this process over HTTP (component
// tests): the same wiring as `beian serve`, on a temporary data directory.
type inProcess struct {
	t   testing.TB
	svc *service
	url string
}

func startInProcess(t testing.TB, dir string) *inProcess {
	t.Helper()
	return startWith(t, config{Data: dir, Dev: true})
}

// startWith runs the service with a configuration of the test's choosing.
func startWith(t testing.TB, cfg config) *inProcess {
	t.Helper()
	var out io.Writer = io.Discard
	if os.Getenv("BEIAN_TEST_LOG") != "" {
		out = os.Stderr // to see what the service says while debugging a test
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(out, nil))
	}
	if cfg.Clock == nil {
		cfg.Clock = commands.SystemClock{}
	}
	svc, err := open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.api.Handler())
	p := &inProcess{t: t, svc: svc, url: srv.URL}
	t.Cleanup(func() { srv.Close(); svc.close() })
	return p
}

// as returns a client with a token for the account and role.
func (p *inProcess) as(role, account string) *client {
	p.t.Helper()
	if role == "" {
		return &client{t: p.t, url: p.url}
	}
	token, err := p.svc.tokens.Mint(account, role, time.Hour)
	if err != nil {
		p.t.Fatal(err)
	}
	return &client{t: p.t, url: p.url, token: token}
}

// actors returns clients for the parties of a filing.
func (p *inProcess) actors(applicantAccount string) actors {
	return actors{applicant: p.as("applicant", applicantAccount), reviewer: p.as("reviewer", "reviewer-1"),
		bureau: p.as("bureau", "gd-bureau"), auditor: p.as("auditor", "auditor-1")}
}
