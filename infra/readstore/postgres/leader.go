package postgres

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Elector elects one leader among the processes sharing a schema: the
// holder of a session-level advisory lock, taken on a connection of its
// own. PostgreSQL releases the lock when that connection ends, so when a
// leader dies its socket closes, the server drops the session, and
// another process gets the lock at its next try.
type Elector struct {
	url    string
	name   string // the connection's application_name, for operators
	key    int64
	every  time.Duration
	logger *slog.Logger
}

// Elector returns the election of a role (such as "projections") among the
// stores on this schema. Followers try for the lock, and the leader checks
// its connection, every interval.
func (s *Store) Elector(role string, every time.Duration) *Elector {
	if every <= 0 {
		every = time.Second
	}
	h := fnv.New64a()
	h.Write([]byte("beian/leader/" + s.cfg.Schema + "/" + role))
	return &Elector{url: s.cfg.URL, name: "beian leader " + s.cfg.Schema + "/" + role, key: int64(h.Sum64()), every: every,
		logger: s.cfg.Logger.With("role", role)}
}

// Lead blocks until this process leads, or ctx ends. The context it returns
// ends when leadership may be lost: its connection failed a check, after
// which the server may have given the lock to another process. Work done
// as the leader must stop then, and must not count on having been alone
// even before (a check runs only every interval): the projections fence
// themselves with compare-and-set checkpoints. release gives leadership up
// and ends the returned context.
func (e *Elector) Lead(ctx context.Context) (leading context.Context, release func(), err error) {
	for {
		conn, err := e.connect(ctx)
		if err == nil {
			var won bool
			won, err = e.try(ctx, conn)
			if won {
				leading, release := e.hold(ctx, conn)
				return leading, release, nil
			}
			closeQuietly(conn)
		}
		if err != nil && ctx.Err() == nil {
			e.logger.Warn("leader election: cannot reach PostgreSQL; trying again", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(e.every):
		}
	}
}

// connect opens the election's connection. Server-side keepalives make
// PostgreSQL notice a leader that vanished from the network within seconds
// (its kernel answers nothing), not after the operating system's default
// two hours; a leader that exits or is killed closes its socket at once.
func (e *Elector) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(e.url)
	if err != nil {
		return nil, err
	}
	cfg.RuntimeParams["application_name"] = e.name // pg_stat_activity shows who leads
	cfg.RuntimeParams["tcp_keepalives_idle"] = "5"
	cfg.RuntimeParams["tcp_keepalives_interval"] = "2"
	cfg.RuntimeParams["tcp_keepalives_count"] = "3"
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return pgx.ConnectConfig(cctx, cfg)
}

// try asks for the lock on conn until ctx ends or the connection fails;
// it reports whether it won.
func (e *Elector) try(ctx context.Context, conn *pgx.Conn) (bool, error) {
	for {
		var won bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, e.key).Scan(&won); err != nil {
			return false, err
		}
		if won {
			e.logger.Info("leader election: leading")
			return true, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(e.every):
		}
	}
}

// hold checks the leader's connection every interval and ends leading when
// a check fails.
func (e *Elector) hold(ctx context.Context, conn *pgx.Conn) (context.Context, func()) {
	leading, stop := context.WithCancel(ctx)
	checked := make(chan struct{})
	go func() {
		defer close(checked)
		tick := time.NewTicker(e.every)
		defer tick.Stop()
		for {
			select {
			case <-leading.Done():
				return
			case <-tick.C:
			}
			pctx, cancel := context.WithTimeout(leading, e.every)
			err := conn.Ping(pctx)
			cancel()
			if err != nil && leading.Err() == nil {
				e.logger.Error("leader election: lost the connection holding leadership; stepping down", "err", err)
				stop()
				return
			}
		}
	}()
	release := func() {
		stop()
		<-checked
		// Unlocking is a courtesy to the next leader; closing the
		// connection releases the lock in any case.
		uctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock($1)`, e.key); err != nil && !errors.Is(err, context.Canceled) {
			e.logger.Debug("leader election: unlock", "err", err)
		}
		closeQuietly(conn)
		e.logger.Info("leader election: stepped down")
	}
	return leading, release
}

func closeQuietly(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn.Close(ctx)
}
