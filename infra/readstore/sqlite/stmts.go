package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"sync"
)

// stmtCache keeps the writer's INSERT, UPDATE and DELETE statements, and
// the SELECTs it reads one row of, prepared. Projections run the same few
// statements for every event, and parsing the SQL again for each was about
// a third of a rebuild's CPU (docs/performance.md). A statement first seen
// inside a transaction cannot be prepared there (the transaction holds the
// writer's only connection, and database/sql prepares on the *sql.DB), so
// it is prepared after the commit, for the transactions that follow;
// database/sql then reuses it on the writer's connection. Statements run to completion (Exec) or are reset
// after their one row (QueryRow; at the latest when the transaction ends),
// so a prepared one is never active when a table is dropped or the file
// vacuumed, and SQLite recompiles it by itself after a schema change.
type stmtCache struct {
	mu       sync.Mutex
	prepared map[string]*sql.Stmt // nil: could not be prepared; parse each time
	wanted   map[string]struct{}  // seen, to prepare after the transaction
}

// maxStatements bounds the cache: table names carry the projection's
// generation, so each rebuild brings new statements.
const maxStatements = 512

func newStmtCache() *stmtCache {
	return &stmtCache{prepared: map[string]*sql.Stmt{}, wanted: map[string]struct{}{}}
}

// get returns the prepared statement of a query, or nil. A query not yet
// prepared is noted for prepare if it is a single statement and keep says
// the caller ends it at once (Exec of a row change, QueryRow). A nil cache
// (Views) has nothing.
func (c *stmtCache) get(query string, keep bool) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, seen := c.prepared[query]; seen {
		return st
	}
	if keep && singleStatement(query) && len(c.wanted) < maxStatements {
		c.wanted[query] = struct{}{}
	}
	return nil
}

// singleStatement: a script of several statements would lose all but the
// first when prepared.
func singleStatement(query string) bool {
	return !strings.Contains(strings.TrimRight(strings.TrimSpace(query), "; \t\r\n"), ";")
}

// prepare prepares the statements noted since the last call. A failure
// (its table dropped meanwhile, say) only leaves the query unprepared.
func (c *stmtCache) prepare(ctx context.Context, db *sql.DB) {
	c.mu.Lock()
	wanted := c.wanted
	c.wanted = map[string]struct{}{}
	full := len(c.prepared)+len(wanted) > maxStatements
	c.mu.Unlock()
	if full {
		c.startOver(ctx, db)
	}
	for query := range wanted {
		st, err := db.PrepareContext(ctx, query)
		if err != nil {
			st = nil
		}
		c.mu.Lock()
		if _, seen := c.prepared[query]; seen && st != nil {
			st.Close()
		} else if !seen {
			c.prepared[query] = st
		}
		c.mu.Unlock()
	}
}

// startOver closes every prepared statement: each rebuild of a projection
// (and each erasure rebuilds) brings statements on new tables, and the
// cache would otherwise fill with those of dropped ones and prepare nothing
// more. It holds the writer's only connection meanwhile, so no transaction
// is running a statement it closes.
func (c *stmtCache) startOver(ctx context.Context, db *sql.DB) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return // tried again after the next transaction
	}
	defer conn.Close()
	c.mu.Lock()
	old := c.prepared
	c.prepared = map[string]*sql.Stmt{}
	c.mu.Unlock()
	for _, st := range old {
		if st != nil {
			st.Close()
		}
	}
}

// pending reports statements waiting to be prepared.
func (c *stmtCache) pending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.wanted) > 0
}

// close closes the prepared statements, before the database.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.prepared {
		if st != nil {
			st.Close()
		}
		delete(c.prepared, q)
	}
	return nil
}
