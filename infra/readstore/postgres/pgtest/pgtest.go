// Package pgtest gives tests a PostgreSQL read store on a schema of their
// own, dropped when they end, so test runs (and packages tested in
// parallel) share one database without seeing each other's tables.
//
// The database is BEIAN_TEST_POSTGRES_URL. CI sets it, and then a database
// that cannot be reached fails the test: those tests are required there.
// Without it, the local default (DefaultURL) is used if it answers, and the
// test is skipped with a message saying so if it does not, so that a
// laptop without PostgreSQL still runs the rest.
//
// It is for tests only; it imports testing.
package pgtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/beian/beian/infra/readstore/postgres"
	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable holding the test database's URL.
const EnvURL = "BEIAN_TEST_POSTGRES_URL"

// DefaultURL is the database tried when EnvURL is not set: the one a
// developer runs locally (and CI starts), with trust authentication.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// reachTimeout bounds the check that the database answers.
const reachTimeout = 5 * time.Second

// URL returns the test database's URL after checking that it answers. It
// fails the test if EnvURL is set and the database does not answer, and
// skips it if EnvURL is unset and the default does not.
func URL(t testing.TB) string {
	t.Helper()
	url, required := os.LookupEnv(EnvURL)
	if !required || url == "" {
		url, required = DefaultURL, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), reachTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	switch {
	case err == nil:
		return url
	case required:
		t.Fatalf("PostgreSQL at %s=%s cannot be reached: %v", EnvURL, redact(url), err)
	default:
		t.Skipf("PostgreSQL is not reachable at %s (%v); set %s to run this test against another database", DefaultURL, err, EnvURL)
	}
	return ""
}

// Schema returns a fresh schema name, beian_test_<random>, on the database
// at url, and drops it with everything in it when the test ends. Register
// it before opening stores on it: cleanups run last-in first-out, so the
// stores are closed before the schema goes.
func Schema(t testing.TB, url string) string {
	t.Helper()
	name := "beian_test_" + strings.ToLower(rand.Text()[:12])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// Open opens a store on schema of the database at url, closed when the
// test ends. MaxConns is small: many tests run at once against one server.
func Open(t testing.TB, url, schema string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), postgres.Config{URL: url, Schema: schema, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// NewStore is URL, Schema and Open at once: a store on a fresh schema.
func NewStore(t testing.TB) *postgres.Store {
	t.Helper()
	url := URL(t)
	return Open(t, url, Schema(t, url))
}

// redact hides a password in a URL for a failure message.
func redact(url string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return "(unparsable URL)"
	}
	return fmt.Sprintf("host=%s port=%d user=%s database=%s", cfg.Host, cfg.Port, cfg.User, cfg.Database)
}
