package bus

import (
	"context"
	"fmt"

	"github.com/beian/beian/infra/readstore"
)

// Checkpoints returns the checkpoint of every forwarder recorded in a read
// store, by name: the position of the last event each published.
func Checkpoints(ctx context.Context, read readstore.Store) (map[string]uint64, error) {
	out := map[string]uint64{}
	err := read.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
		if _, err := tx.Exec(ctx, checkpointSchema); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT name, position FROM forwarder_checkpoints ORDER BY name`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var name string
			var pos int64
			if err := rows.Scan(&name, &pos); err != nil {
				rows.Close()
				return err
			}
			out[name] = uint64(pos)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("forwarder checkpoints: %w", err)
	}
	return out, nil
}

// AdvanceCheckpoint moves a forwarder's checkpoint to position unless it is
// there or past it already: when the log was copied into another store
// (beian migrate), the forwarder on the copy starts after what the old one
// published instead of publishing the whole log again.
func AdvanceCheckpoint(ctx context.Context, read readstore.Store, name string, position uint64) error {
	err := read.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
		if _, err := tx.Exec(ctx, checkpointSchema); err != nil {
			return err
		}
		return advanceCheckpoint(ctx, tx, name, position)
	})
	if err != nil {
		return fmt.Errorf("forwarder checkpoint %s: %w", name, err)
	}
	return nil
}
