package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/beian/beian/infra/readstore"
	"github.com/beian/beian/infra/readstore/sqlite"
)

// A projection applies an event and advances its checkpoint in one Update,
// so that after a crash it resumes exactly after the last event it applied;
// a query reads the read model in a View.
func Example() {
	dir, err := os.MkdirTemp("", "readstore")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := sqlite.Open(sqlite.Config{Path: filepath.Join(dir, "read.db")})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()

	apply := func(position int64, filing, status string) error {
		return store.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
			for _, ddl := range []string{
				`CREATE TABLE IF NOT EXISTS filing_progress (filing_id TEXT PRIMARY KEY, status TEXT NOT NULL, position BIGINT NOT NULL)`,
				`CREATE TABLE IF NOT EXISTS checkpoints (projection TEXT PRIMARY KEY, position BIGINT NOT NULL)`,
			} {
				if _, err := tx.Exec(ctx, ddl); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO filing_progress (filing_id, status, position) VALUES (?, ?, ?)
				ON CONFLICT (filing_id) DO UPDATE SET status = excluded.status, position = excluded.position`,
				filing, status, position); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO checkpoints (projection, position) VALUES ('filing_progress.v1', ?)
				ON CONFLICT (projection) DO UPDATE SET position = excluded.position`, position)
			return err
		})
	}
	if err := apply(1, "filing-0193", "draft"); err != nil {
		log.Fatal(err)
	}
	if err := apply(2, "filing-0193", "submitted"); err != nil {
		log.Fatal(err)
	}

	err = store.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
		var status string
		var checkpoint int64
		if err := tx.QueryRow(ctx, `SELECT status FROM filing_progress WHERE filing_id = ?`, "filing-0193").Scan(&status); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT position FROM checkpoints WHERE projection = 'filing_progress.v1'`).Scan(&checkpoint); err != nil {
			return err
		}
		fmt.Println(status, "at position", checkpoint)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output: submitted at position 2
}
