package projections

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/readstore"
)

// Reader answers queries from the live generation of each read model.
type Reader struct {
	read readstore.Store
}

// NewReader reads from a read store the runner fills.
func NewReader(read readstore.Store) *Reader {
	if read == nil {
		panic("projections.NewReader: nil read store")
	}
	return &Reader{read: read}
}

// ErrNotFound: no such filing in the read model.
var ErrNotFound = errors.New("not found")

// MaxPage bounds every page of results.
const MaxPage = 100

// Page is one page of a Relay-style connection.
type Page[T any] struct {
	Items     []T
	Cursors   []string
	HasNext   bool
	EndCursor string
}

// FilingRow is a filing as the read model holds it.
type FilingRow struct {
	Filing   domain.Filing
	Revision uint64
	Position uint64
}

// view runs fn on the live tables of p. A rebuild's swap may drop the
// tables a View chose just before it: PostgreSQL's DROP TABLE is outside a
// View's snapshot (SQLite's is not). A View that failed while the live
// generation moved on is run once more, on the new generation.
func (q *Reader) view(ctx context.Context, p Projection, fn func(ctx context.Context, tx readstore.Tx, t Tables) error) error {
	used, err := q.viewOnce(ctx, p, fn)
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrNotReady) || ctx.Err() != nil {
		return err
	}
	var live Tables
	if q.read.View(ctx, func(ctx context.Context, tx readstore.Tx) (err error) {
		live, err = liveTables(ctx, tx, p)
		return err
	}) != nil || live.generation == used.generation {
		return err
	}
	_, err = q.viewOnce(ctx, p, fn)
	return err
}

// viewOnce runs fn in one View and reports the tables it was given.
func (q *Reader) viewOnce(ctx context.Context, p Projection, fn func(ctx context.Context, tx readstore.Tx, t Tables) error) (Tables, error) {
	var used Tables
	err := q.read.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
		t, err := liveTables(ctx, tx, p)
		if err != nil {
			return err
		}
		used = t
		return fn(ctx, tx, t)
	})
	return used, err
}

// Filing returns one filing's state.
func (q *Reader) Filing(ctx context.Context, id string) (FilingRow, error) {
	var row FilingRow
	err := q.view(ctx, Filings{}, func(ctx context.Context, tx readstore.Tx, t Tables) error {
		var state string
		var revision, position int64
		err := tx.QueryRow(ctx, t.SQL(`SELECT state, revision, position FROM {filings} WHERE id = ?`), id).Scan(&state, &revision, &position)
		if errors.Is(err, readstore.ErrNoRows) {
			return fmt.Errorf("filing %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		row.Revision, row.Position = uint64(revision), uint64(position)
		return json.Unmarshal([]byte(state), &row.Filing)
	})
	return row, err
}

// FilingFilter narrows a list of filings; empty fields do not filter.
type FilingFilter struct {
	Account  string
	Status   string
	Province string
}

// FilingSummary is a filing in a list.
type FilingSummary struct {
	ID         string
	Account    string
	Status     domain.Status
	Province   string
	Nature     string
	EntityName string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Filings lists filings, most recently changed first.
func (q *Reader) Filings(ctx context.Context, f FilingFilter, first int, after string) (Page[FilingSummary], error) {
	var page Page[FilingSummary]
	first = clampPage(first)
	cond, args := []string{"1 = 1"}, []any{}
	for col, v := range map[string]string{"account": f.Account, "status": f.Status, "province": f.Province} {
		if v != "" {
			cond = append(cond, col+" = ?")
			args = append(args, v)
		}
	}
	if after != "" {
		at, id, err := decodeCursor(after)
		if err != nil {
			return page, err
		}
		cond = append(cond, "(updated_at < ? OR (updated_at = ? AND id < ?))")
		args = append(args, at, at, id)
	}
	args = append(args, first+1)
	err := q.view(ctx, Filings{}, func(ctx context.Context, tx readstore.Tx, t Tables) error {
		rows, err := tx.Query(ctx, t.SQL(`SELECT id, account, status, province, nature, entity_name, created_at, updated_at
			FROM {filings} WHERE `+strings.Join(cond, " AND ")+` ORDER BY updated_at DESC, id DESC LIMIT ?`), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s FilingSummary
			var status string
			var created, updated int64
			if err := rows.Scan(&s.ID, &s.Account, &status, &s.Province, &s.Nature, &s.EntityName, &created, &updated); err != nil {
				return err
			}
			s.Status, s.CreatedAt, s.UpdatedAt = domain.Status(status), time.UnixMilli(created), time.UnixMilli(updated)
			page.Items = append(page.Items, s)
			page.Cursors = append(page.Cursors, encodeCursor(updated, s.ID))
		}
		return rows.Err()
	})
	return trim(page, first), err
}

// AuditEntry is one event of a filing's trail.
type AuditEntry struct {
	Position      uint64
	Revision      uint64
	EventID       string
	Type          string
	ActorAccount  string
	ActorRole     string
	OccurredAt    time.Time
	RecordedAt    time.Time
	CommandID     string
	CorrelationID string
	Summary       domain.Message
	Hash          string
	PrevHash      string
}

// AuditTrail lists a filing's events oldest first.
func (q *Reader) AuditTrail(ctx context.Context, filingID string, first int, after string) (Page[AuditEntry], error) {
	var page Page[AuditEntry]
	first = clampPage(first)
	from := int64(-1)
	if after != "" {
		n, _, err := decodeCursor(after)
		if err != nil {
			return page, err
		}
		from = n
	}
	err := q.view(ctx, Audit{}, func(ctx context.Context, tx readstore.Tx, t Tables) error {
		rows, err := tx.Query(ctx, t.SQL(`SELECT position, revision, event_id, type, actor_account, actor_role, occurred_at, recorded_at,
				command_id, correlation_id, summary_zh, summary_en, hash, prev_hash
			FROM {audit} WHERE filing_id = ? AND revision > ? ORDER BY revision LIMIT ?`), filingID, from, first+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a AuditEntry
			var pos, rev, occurred, recorded int64
			if err := rows.Scan(&pos, &rev, &a.EventID, &a.Type, &a.ActorAccount, &a.ActorRole, &occurred, &recorded,
				&a.CommandID, &a.CorrelationID, &a.Summary.Zh, &a.Summary.En, &a.Hash, &a.PrevHash); err != nil {
				return err
			}
			a.Position, a.Revision = uint64(pos), uint64(rev)
			a.OccurredAt, a.RecordedAt = time.UnixMilli(occurred), time.UnixMilli(recorded)
			page.Items = append(page.Items, a)
			page.Cursors = append(page.Cursors, encodeCursor(rev, ""))
		}
		return rows.Err()
	})
	return trim(page, first), err
}

// QueueItem is a filing waiting for the initial review.
type QueueItem struct {
	FilingID    string
	Province    string
	EntityName  string
	Submission  int
	SubmittedAt time.Time
	DueAt       time.Time
	Overdue     bool
}

// ReviewQueue lists waiting filings by due time, optionally of one province.
// A filing is overdue once its due time has passed at now, or once a timer
// flagged it.
func (q *Reader) ReviewQueue(ctx context.Context, province string, now time.Time, first int, after string) (Page[QueueItem], error) {
	var page Page[QueueItem]
	first = clampPage(first)
	cond, args := []string{"1 = 1"}, []any{}
	if province != "" {
		cond, args = append(cond, "province = ?"), append(args, province)
	}
	if after != "" {
		at, id, err := decodeCursor(after)
		if err != nil {
			return page, err
		}
		cond = append(cond, "(due_at > ? OR (due_at = ? AND filing_id > ?))")
		args = append(args, at, at, id)
	}
	args = append(args, first+1)
	err := q.view(ctx, ReviewQueue{}, func(ctx context.Context, tx readstore.Tx, t Tables) error {
		rows, err := tx.Query(ctx, t.SQL(`SELECT filing_id, province, entity_name, submission, submitted_at, due_at, flagged
			FROM {review_queue} WHERE `+strings.Join(cond, " AND ")+` ORDER BY due_at, filing_id LIMIT ?`), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var it QueueItem
			var submission, submitted, due, flagged int64
			if err := rows.Scan(&it.FilingID, &it.Province, &it.EntityName, &submission, &submitted, &due, &flagged); err != nil {
				return err
			}
			it.Submission, it.SubmittedAt, it.DueAt = int(submission), time.UnixMilli(submitted), time.UnixMilli(due)
			it.Overdue = flagged == 1 || now.After(it.DueAt)
			page.Items = append(page.Items, it)
			page.Cursors = append(page.Cursors, encodeCursor(due, it.FilingID))
		}
		return rows.Err()
	})
	return trim(page, first), err
}

// StatusCount is the number of filings in one status and province.
type StatusCount struct {
	Status   domain.Status
	Province string
	Count    int
}

// Stats are the service's statistics.
type Stats struct {
	Counts              []StatusCount
	InitialReviews      int
	MedianInitialReview time.Duration
	BureauReviews       int
	MedianBureauReview  time.Duration
}

// Stats counts filings and takes the median review times.
func (q *Reader) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	err := q.view(ctx, Statistics{}, func(ctx context.Context, tx readstore.Tx, t Tables) error {
		rows, err := tx.Query(ctx, t.SQL(`SELECT status, province, n FROM {stats_counts} WHERE n > 0 ORDER BY status, province`))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c StatusCount
			var status string
			var n int64
			if err := rows.Scan(&status, &c.Province, &n); err != nil {
				return err
			}
			c.Status, c.Count = domain.Status(status), int(n)
			s.Counts = append(s.Counts, c)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if s.InitialReviews, s.MedianInitialReview, err = median(ctx, tx, t, domain.StageInitial); err != nil {
			return err
		}
		s.BureauReviews, s.MedianBureauReview, err = median(ctx, tx, t, domain.StageBureau)
		return err
	})
	return s, err
}

// median of decided review durations of a stage, in SQL both stores speak.
func median(ctx context.Context, tx readstore.Tx, t Tables, stage string) (int, time.Duration, error) {
	var n int64
	if err := tx.QueryRow(ctx, t.SQL(`SELECT COUNT(*) FROM {stats_reviews} WHERE stage = ? AND decided = 1`), stage).Scan(&n); err != nil {
		return 0, 0, err
	}
	if n == 0 {
		return 0, 0, nil
	}
	var seconds int64
	err := tx.QueryRow(ctx, t.SQL(`SELECT seconds FROM {stats_reviews} WHERE stage = ? AND decided = 1 ORDER BY seconds LIMIT 1 OFFSET ?`),
		stage, n/2).Scan(&seconds)
	return int(n), time.Duration(seconds) * time.Second, err
}

// clampPage defaults an unset page size to 20 and caps it at MaxPage; the
// API refuses larger pages before they get here.
func clampPage(first int) int {
	if first <= 0 {
		return 20
	}
	return min(first, MaxPage)
}

// trim cuts the extra row fetched to learn whether there is a next page.
func trim[T any](p Page[T], first int) Page[T] {
	if len(p.Items) > first {
		p.Items, p.Cursors, p.HasNext = p.Items[:first], p.Cursors[:first], true
	}
	if len(p.Cursors) > 0 {
		p.EndCursor = p.Cursors[len(p.Cursors)-1]
	}
	return p
}

// ErrBadCursor: a cursor this server did not make.
var ErrBadCursor = errors.New("invalid cursor")

func encodeCursor(n int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(n, 10) + ":" + id))
}

func decodeCursor(c string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", ErrBadCursor
	}
	num, id, ok := strings.Cut(string(b), ":")
	n, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil {
		return 0, "", ErrBadCursor
	}
	return n, id, nil
}

// ContentHash is a SHA-256 over every row of a projection's live tables, in
// a canonical order: equal hashes mean equal read models, whichever
// generation holds them (the restart and crash tests compare a read model
// built incrementally with a full rebuild).
func (q *Reader) ContentHash(ctx context.Context, p Projection) (string, error) {
	h := sha256.New()
	err := q.view(ctx, p, func(ctx context.Context, tx readstore.Tx, t Tables) error {
		h.Reset() // view runs this again when a rebuild swapped the tables meanwhile
		for _, logical := range p.Tables() {
			if err := hashTable(ctx, tx, t.Physical(logical), logical, h); err != nil {
				return err
			}
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

func hashTable(ctx context.Context, tx readstore.Tx, table, logical string, h io.Writer) error {
	probe, err := tx.Query(ctx, "SELECT * FROM "+table+" LIMIT 1")
	if err != nil {
		return err
	}
	cols, err := probe.Columns()
	probe.Close()
	if err != nil {
		return err
	}
	order := make([]string, len(cols))
	for i := range cols {
		order[i] = strconv.Itoa(i + 1)
	}
	rows, err := tx.Query(ctx, "SELECT * FROM "+table+" ORDER BY "+strings.Join(order, ", "))
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Fprintf(h, "table %s %s\n", logical, strings.Join(cols, ","))
	vals := make([]string, len(cols))
	dest := make([]any, len(cols))
	for i := range vals {
		dest[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\n", strings.Join(vals, "\x1f"))
	}
	return rows.Err()
}
