package privacy

import (
	"context"
	"errors"
	"fmt"

	"github.com/beian/beian/infra/readstore"
)

// CopyReport counts what CopyKeys did.
type CopyReport struct {
	Copied  int // subjects' keys new to the target
	Erased  int // erased in the source, so erased (or recorded as erased) in the target
	Skipped int // already in the target as in the source
}

// subjectKey is one row of the key table.
type subjectKey struct {
	subject   string
	sealed    *string
	createdAt int64
	erasedAt  *int64
}

// CopyKeys copies every subject's sealed key from one key store into
// another: keys.db of a data directory into the PostgreSQL schema that
// replicas share, when the embedded stores move (beian migrate). The keys
// stay sealed, so the target needs the same master key. It is idempotent;
// an erasure in the source erases the target's key (an erasure must never
// be undone), and a different live key for a subject refuses: the events
// sealed with one of them would no longer open.
func CopyKeys(ctx context.Context, from, to readstore.Store) (CopyReport, error) {
	var keys []subjectKey
	err := from.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
		rows, err := tx.Query(ctx, `SELECT subject, sealed, created_at, erased_at FROM privacy_subject_keys ORDER BY subject`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k subjectKey
			if err := rows.Scan(&k.subject, &k.sealed, &k.createdAt, &k.erasedAt); err != nil {
				rows.Close()
				return err
			}
			keys = append(keys, k)
		}
		return rows.Err()
	})
	if err != nil {
		return CopyReport{}, fmt.Errorf("copy keys: read the source: %w", err)
	}
	var report CopyReport
	err = to.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
		report = CopyReport{}
		if _, err := tx.Exec(ctx, keysSchema); err != nil {
			return err
		}
		for _, k := range keys {
			if err := copyKey(ctx, tx, k, &report); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return CopyReport{}, fmt.Errorf("copy keys: %w", err)
	}
	return report, nil
}

func copyKey(ctx context.Context, tx readstore.Tx, k subjectKey, report *CopyReport) error {
	var sealed *string
	var erasedAt *int64
	err := tx.QueryRow(ctx, `SELECT sealed, erased_at FROM privacy_subject_keys WHERE subject = ?`, k.subject).Scan(&sealed, &erasedAt)
	switch {
	case errors.Is(err, readstore.ErrNoRows) && k.erasedAt != nil:
		_, err := tx.Exec(ctx, `INSERT INTO privacy_subject_keys (subject, created_at, erased_at) VALUES (?, ?, ?)`,
			k.subject, k.createdAt, *k.erasedAt)
		report.Erased++
		return err
	case errors.Is(err, readstore.ErrNoRows) && k.sealed != nil:
		_, err := tx.Exec(ctx, `INSERT INTO privacy_subject_keys (subject, sealed, created_at) VALUES (?, ?, ?)`,
			k.subject, *k.sealed, k.createdAt)
		report.Copied++
		return err
	case errors.Is(err, readstore.ErrNoRows):
		return fmt.Errorf("subject %s has neither a key nor an erasure in the source", k.subject)
	case err != nil:
		return err
	case erasedAt != nil:
		report.Skipped++ // erased there: it stays erased
		return nil
	case k.erasedAt != nil:
		_, err := tx.Exec(ctx, `UPDATE privacy_subject_keys SET sealed = NULL, erased_at = ? WHERE subject = ?`, *k.erasedAt, k.subject)
		report.Erased++
		return err
	case sealed == nil || k.sealed == nil || *sealed != *k.sealed:
		return fmt.Errorf("subject %s has another key in the target; refusing to replace it", k.subject)
	}
	report.Skipped++
	return nil
}
