package projections_test

import (
	"path/filepath"
	"testing"

	"github.com/beian/beian/infra/readstore"
	"github.com/beian/beian/infra/readstore/postgres/pgtest"
	readsqlite "github.com/beian/beian/infra/readstore/sqlite"
)

// backend is a read store the projection tests run on: the embedded one
// always, PostgreSQL where pgtest finds it (and in CI always), so that the
// projections' SQL is proven portable, not just written to the rules.
type backend struct {
	name string
	// open opens the read store of one test; dir is the test's directory.
	// Opening it again with the same dir reaches the same data, as a
	// restarted process would.
	open func(t *testing.T, dir string) (readstore.Store, error)
	// countTables counts the tables named by its one argument.
	countTables string
	// countIndexes counts the indexes named by its one argument.
	countIndexes string
}

// eachReadStore runs test once per backend, as subtests named after them.
func eachReadStore(t *testing.T, test func(t *testing.T, b backend)) {
	sqlite := backend{
		name: "sqlite",
		open: func(t *testing.T, dir string) (readstore.Store, error) {
			return readsqlite.Open(readsqlite.Config{Path: filepath.Join(dir, "read.db")})
		},
		countTables:  `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`,
		countIndexes: `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?`,
	}
	t.Run(sqlite.name, func(t *testing.T) { test(t, sqlite) })
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.URL(t)
		schema := pgtest.Schema(t, url) // one per test, whatever the number of opens
		test(t, backend{
			name: "postgres",
			open: func(t *testing.T, _ string) (readstore.Store, error) {
				return pgtest.Open(t, url, schema), nil
			},
			countTables:  `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?`,
			countIndexes: `SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ?`,
		})
	})
}
