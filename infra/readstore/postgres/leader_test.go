package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/beian/beian/infra/readstore/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// lead runs Lead in the background and delivers its outcome.
type lead struct {
	ctx     context.Context
	release func()
}

func campaign(ctx context.Context, t *testing.T, e interface {
	Lead(context.Context) (context.Context, func(), error)
}) <-chan lead {
	out := make(chan lead, 1)
	go func() {
		leading, release, err := e.Lead(ctx)
		if err != nil {
			if ctx.Err() == nil {
				t.Errorf("lead: %v", err)
			}
			close(out)
			return
		}
		out <- lead{leading, release}
	}()
	return out
}

func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: nothing after 30s", what)
	}
	panic("unreachable")
}

// TestOneLeaderAtATime: of two replicas one leads; the other takes over when
// the leader steps down, and again when the server drops the leader's
// session (as when its process dies); the ousted leader's context ends.
func TestOneLeaderAtATime(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	a, b, c := pgtest.Open(t, url, schema), pgtest.Open(t, url, schema), pgtest.Open(t, url, schema)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const every = 100 * time.Millisecond

	first := await(t, campaign(ctx, t, a.Elector("projections", every)), "first leader")
	second := campaign(ctx, t, b.Elector("projections", every))
	select {
	case <-second:
		t.Fatal("two leaders at once")
	case <-time.After(10 * every):
	}
	// Another role, or the same role on another schema, is another election.
	other := await(t, campaign(ctx, t, c.Elector("forwarder", every)), "leader of another role")
	elsewhere := pgtest.Open(t, url, pgtest.Schema(t, url))
	away := await(t, campaign(ctx, t, elsewhere.Elector("projections", every)), "leader on another schema")
	other.release()
	away.release()

	first.release()
	if first.ctx.Err() == nil {
		t.Fatal("the leader's context goes on after release")
	}
	took := await(t, second, "takeover after stepping down")

	// The server ends the leader's session: its lock is free and its
	// context ends at the next check.
	third := campaign(ctx, t, c.Elector("projections", every))
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var killed int
	err = conn.QueryRow(ctx, `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)`,
		"beian leader "+schema+"/projections").Scan(&killed)
	if err != nil || killed == 0 {
		t.Fatalf("terminated %d leader sessions, %v", killed, err)
	}
	await(t, took.ctx.Done(), "the ousted leader stepping down")
	took.release()
	last := await(t, third, "takeover after the leader's session ended")
	last.release()
}

// TestLeadGivesUpWithItsContext: a follower stops campaigning when its
// context ends.
func TestLeadGivesUpWithItsContext(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	a, b := pgtest.Open(t, url, schema), pgtest.Open(t, url, schema)
	ctx := context.Background()
	leader, release, err := a.Elector("projections", 50*time.Millisecond).Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, _, err := b.Elector("projections", 50*time.Millisecond).Lead(short); err == nil {
		t.Fatal("a second leader while the first holds the lock")
	}
	if leader.Err() != nil {
		t.Fatal("the leader stepped down meanwhile")
	}
}
