package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/beian/beian/infra/readstore"
	"github.com/beian/beian/infra/readstore/postgres/pgtest"
)

// benchStore opens a store on a fresh schema with a filing_progress table
// of 10,000 rows and a checkpoint table: the SQLite adapter's benchmarks,
// for comparison.
func benchStore(b *testing.B) readstore.Store {
	s := pgtest.NewStore(b)
	err := s.Update(context.Background(), func(ctx context.Context, tx readstore.Tx) error {
		for _, ddl := range []string{
			`CREATE TABLE IF NOT EXISTS filing_progress (filing_id TEXT PRIMARY KEY, status TEXT NOT NULL, position BIGINT NOT NULL)`,
			`CREATE TABLE IF NOT EXISTS checkpoints (projection TEXT PRIMARY KEY, position BIGINT NOT NULL)`,
		} {
			if _, err := tx.Exec(ctx, ddl); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO filing_progress (filing_id, status, position)
			SELECT 'filing-' || i, 'draft', i FROM generate_series(0, 9999) AS i`)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkApplyEvent is a projection applying one event: an upsert of its
// row and of its checkpoint, in one Update.
func BenchmarkApplyEvent(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	var pos int64
	for b.Loop() {
		pos++
		err := s.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO filing_progress (filing_id, status, position) VALUES (?, ?, ?)
				ON CONFLICT (filing_id) DO UPDATE SET status = excluded.status, position = excluded.position`,
				fmt.Sprint("filing-", pos%10000), "submitted", pos); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO checkpoints (projection, position) VALUES ('filing_progress.v1', ?)
				ON CONFLICT (projection) DO UPDATE SET position = excluded.position`, pos)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkViewByKey is a GraphQL query reading one row, from parallel
// clients.
func BenchmarkViewByKey(b *testing.B) {
	s := benchStore(b)
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			id := fmt.Sprint("filing-", n.Add(1)%10000)
			err := s.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
				var status string
				return tx.QueryRow(ctx, `SELECT status FROM filing_progress WHERE filing_id = ?`, id).Scan(&status)
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
