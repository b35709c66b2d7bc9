package projections

import (
	"context"
	"errors"
	"fmt"

	"github.com/beian/beian/infra/readstore"
)

// The registry records each projection generation, its version, state and
// checkpoint. It is the truth replicas read to find the live tables.
const registrySchema = `CREATE TABLE IF NOT EXISTS projection_generations (
	name       TEXT    NOT NULL,
	generation INTEGER NOT NULL,
	version    INTEGER NOT NULL,
	state      TEXT    NOT NULL,
	position   BIGINT  NOT NULL,
	started_at BIGINT  NOT NULL,
	updated_at BIGINT  NOT NULL,
	PRIMARY KEY (name, generation)
)`

// Generation states.
const (
	stateBuilding = "building"
	stateLive     = "live"
	stateRetired  = "retired"
)

// Generation is one generation of a projection as the registry records it.
type Generation struct {
	Name       string
	Generation int
	Version    int
	State      string
	Position   uint64
	StartedAt  int64
	UpdatedAt  int64
}

// ErrNotReady: the projection has no live generation yet.
var ErrNotReady = errors.New("projection not built yet")

func generations(ctx context.Context, tx readstore.Tx, name string) ([]Generation, error) {
	rows, err := tx.Query(ctx, `SELECT name, generation, version, state, position, started_at, updated_at
		FROM projection_generations WHERE name = ? ORDER BY generation`, name)
	if err != nil {
		return nil, fmt.Errorf("registry of %s: %w", name, err)
	}
	defer rows.Close()
	var out []Generation
	for rows.Next() {
		var g Generation
		var pos int64
		if err := rows.Scan(&g.Name, &g.Generation, &g.Version, &g.State, &pos, &g.StartedAt, &g.UpdatedAt); err != nil {
			return nil, fmt.Errorf("registry of %s: %w", name, err)
		}
		g.Position = uint64(pos)
		out = append(out, g)
	}
	return out, rows.Err()
}

// liveTables returns the tables of the projection's live generation.
func liveTables(ctx context.Context, tx readstore.Tx, p Projection) (Tables, error) {
	var generation, version int
	err := tx.QueryRow(ctx, `SELECT generation, version FROM projection_generations WHERE name = ? AND state = ?`,
		p.Name(), stateLive).Scan(&generation, &version)
	if errors.Is(err, readstore.ErrNoRows) {
		return Tables{}, fmt.Errorf("%s: %w", p.Name(), ErrNotReady)
	}
	if err != nil {
		return Tables{}, fmt.Errorf("live tables of %s: %w", p.Name(), err)
	}
	if version != p.Version() {
		// An older version still serves while this one builds: its tables
		// have another shape, so this code cannot read them.
		return Tables{}, fmt.Errorf("%s: live version %d, this build reads %d: %w", p.Name(), version, p.Version(), ErrNotReady)
	}
	return newTables(p, generation), nil
}

// ErrCheckpointMoved: the checkpoint is not where this runner left it;
// another process applies the same projection.
var ErrCheckpointMoved = errors.New("checkpoint moved by another process")

// moveCheckpoint advances a generation's checkpoint from one position to
// the next, in the batch's transaction. If it is not at from, the batch
// would apply events twice or skip some: it is refused.
func moveCheckpoint(ctx context.Context, tx readstore.Tx, name string, generation int, from, to uint64, now int64) error {
	n, err := tx.Exec(ctx, `UPDATE projection_generations SET position = ?, updated_at = ? WHERE name = ? AND generation = ? AND position = ?`,
		int64(to), now, name, generation, int64(from))
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", name, err)
	}
	if n != 1 {
		return fmt.Errorf("checkpoint %s generation %d at %d: %w", name, generation, from, ErrCheckpointMoved)
	}
	return nil
}
