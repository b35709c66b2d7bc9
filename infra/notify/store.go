package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/beian/beian/infra/readstore"
)

// DeadLetter is a notice that could not be delivered, or a message that
// could not be read, kept for an operator to inspect and replay.
type DeadLetter struct {
	NoticeID string // the notice's id; "unreadable/<event id or payload hash>" for a message
	EventID  string // empty when the message had no readable id
	// Notice is the undelivered notice; zero for an unreadable message.
	Notice Notice
	// Payload is an unreadable message as received (made valid UTF-8), empty
	// for a notice.
	Payload  string
	Error    string // the last error
	Attempts int    // deliveries tried; 0 for an unreadable message
	At       time.Time
}

// Unreadable reports whether the dead letter is a message rather than a
// notice.
func (d DeadLetter) Unreadable() bool { return d.Notice.ID == "" }

// DeadLetterStore records dead letters. Store is the durable one.
type DeadLetterStore interface {
	RecordDeadLetter(ctx context.Context, d DeadLetter) error
}

// Store keeps, in the read store, which events have been notified and the
// dead letters. The read store is the one durable place the binary already
// has, and both tables are tiny: one row per notified event.
type Store struct {
	rs readstore.Store
}

// The tables. Columns are NOT NULL (readstore's portable SQL); times are
// Unix milliseconds. notify_dead_letters.notice holds the notice as JSON, or
// the payload of an unreadable message (whose notice_id says so).
const (
	createDelivered = `CREATE TABLE IF NOT EXISTS notify_delivered (
		event_id TEXT PRIMARY KEY,
		delivered_at BIGINT NOT NULL)`
	createDeadLetters = `CREATE TABLE IF NOT EXISTS notify_dead_letters (
		notice_id TEXT PRIMARY KEY,
		event_id TEXT NOT NULL,
		notice TEXT NOT NULL,
		error TEXT NOT NULL,
		attempts BIGINT NOT NULL,
		at BIGINT NOT NULL)`
)

// Open creates the tables if they do not exist.
func Open(ctx context.Context, rs readstore.Store) (*Store, error) {
	if rs == nil {
		return nil, errors.New("notify: no read store")
	}
	err := rs.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
		for _, ddl := range []string{createDelivered, createDeadLetters} {
			if _, err := tx.Exec(ctx, ddl); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("notify: create tables: %w", err)
	}
	return &Store{rs: rs}, nil
}

// Delivered reports whether the event's notices have all been handed over.
func (s *Store) Delivered(ctx context.Context, eventID string) (bool, error) {
	var found bool
	err := s.rs.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
		var one int64
		err := tx.QueryRow(ctx, `SELECT 1 FROM notify_delivered WHERE event_id = ?`, eventID).Scan(&one)
		if errors.Is(err, readstore.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("notify: delivered %s: %w", eventID, err)
	}
	return found, nil
}

// MarkDelivered records that the event's notices have all been handed over.
// Marking twice keeps the first time: a redelivery did not deliver again.
func (s *Store) MarkDelivered(ctx context.Context, eventID string, at time.Time) error {
	err := s.rs.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO notify_delivered (event_id, delivered_at) VALUES (?, ?)
			ON CONFLICT (event_id) DO NOTHING`, eventID, at.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("notify: mark %s delivered: %w", eventID, err)
	}
	return nil
}

// RecordDeadLetter keeps a dead letter. Recording the same notice again (a
// redelivered event that failed again) replaces the error, attempts and
// time, so the table shows the latest failure once.
func (s *Store) RecordDeadLetter(ctx context.Context, d DeadLetter) error {
	text := sanitize(d.Payload)
	if !d.Unreadable() {
		b, err := json.Marshal(d.Notice)
		if err != nil {
			return fmt.Errorf("notify: dead letter %s: %w", d.NoticeID, err)
		}
		text = string(b)
	}
	err := s.rs.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO notify_dead_letters (notice_id, event_id, notice, error, attempts, at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (notice_id) DO UPDATE SET event_id = excluded.event_id, notice = excluded.notice,
				error = excluded.error, attempts = excluded.attempts, at = excluded.at`,
			sanitize(d.NoticeID), sanitize(d.EventID), text, sanitize(d.Error), int64(d.Attempts), d.At.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("notify: record dead letter %s: %w", d.NoticeID, err)
	}
	return nil
}

// DeadLetters returns every dead letter, oldest first.
func (s *Store) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	var out []DeadLetter
	err := s.rs.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
		rows, err := tx.Query(ctx, `SELECT notice_id, event_id, notice, error, attempts, at
			FROM notify_dead_letters ORDER BY at, notice_id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d DeadLetter
			var text string
			var attempts, at int64
			if err := rows.Scan(&d.NoticeID, &d.EventID, &text, &d.Error, &attempts, &at); err != nil {
				return err
			}
			d.Attempts, d.At = int(attempts), time.UnixMilli(at).UTC()
			if strings.HasPrefix(d.NoticeID, unreadablePrefix) {
				d.Payload = text
			} else if err := json.Unmarshal([]byte(text), &d.Notice); err != nil {
				return fmt.Errorf("dead letter %s: %w", d.NoticeID, err)
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("notify: dead letters: %w", err)
	}
	return out, nil
}

// sanitize makes s storable as portable TEXT (valid UTF-8, no NUL): an
// unreadable message may be anything, and it is kept to be looked at, not
// to be byte-exact.
func sanitize(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
