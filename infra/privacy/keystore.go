// Package privacy protects the personal data inside events: each data
// subject (a person, identified by a keyed hash of their certificate
// number) has an AES-256-GCM key in a key store apart from the event log;
// personal fields are sealed with it when events are written and opened
// when they are read. Erasing a subject destroys the key: every copy of
// their data in the log becomes "[erased]" while the log itself, its facts
// and its hash chains stay as they were (crypto-shredding).
package privacy

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the key store's file
)

// ErrErased: the subject's key was destroyed.
var ErrErased = errors.New("data subject erased")

// KeyStore keeps one key per data subject, sealed with a master key. It is
// its own SQLite file (never the event log), with secure_delete so an
// erased key's bytes are overwritten, not just unlinked.
type KeyStore struct {
	db     *sql.DB
	master cipher.AEAD

	mu    sync.Mutex
	cache map[string][]byte // subject → key, bounded
}

// LoadMasterKey reads the master key: from the hex value (the environment)
// if given, else from a file that must not be readable by others, created
// with a random key on first use (development).
func LoadMasterKey(hexValue, path string) ([]byte, error) {
	if hexValue != "" {
		k, err := hex.DecodeString(strings.TrimSpace(hexValue))
		if err != nil || len(k) != 32 {
			return nil, errors.New("master key: want 64 hex digits (32 bytes)")
		}
		return k, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(hex.EncodeToString(k)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("master key %s: %w", path, err)
		}
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("master key %s: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("master key %s: mode %o lets others read it; chmod 600", path, fi.Mode().Perm())
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("master key %s: want 64 hex digits", path)
	}
	return k, nil
}

// OpenKeyStore opens (creating) the key store file.
func OpenKeyStore(path string, masterKey []byte) (*KeyStore, error) {
	master, err := aead(masterKey)
	if err != nil {
		return nil, fmt.Errorf("key store: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=secure_delete(ON)&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("key store %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS subject_keys (
		subject    TEXT PRIMARY KEY,
		sealed     BLOB,
		created_at INTEGER NOT NULL,
		erased_at  INTEGER
	)`); err != nil {
		db.Close()
		return nil, fmt.Errorf("key store %s: %w", path, err)
	}
	return &KeyStore{db: db, master: master, cache: map[string][]byte{}}, nil
}

// Close closes the file.
func (k *KeyStore) Close() error { return k.db.Close() }

func aead(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Key returns the subject's key, creating it when create is set and the
// subject has none. An erased subject gets ErrErased, never a new key: its
// old ciphertexts must stay unreadable.
func (k *KeyStore) Key(ctx context.Context, subject string, create bool) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if key, ok := k.cache[subject]; ok {
		return key, nil
	}
	var sealed []byte
	var erased sql.NullInt64
	err := k.db.QueryRowContext(ctx, `SELECT sealed, erased_at FROM subject_keys WHERE subject = ?`, subject).Scan(&sealed, &erased)
	switch {
	case errors.Is(err, sql.ErrNoRows) && create:
		return k.create(ctx, subject)
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("no key for subject %s", subject)
	case err != nil:
		return nil, fmt.Errorf("key store: %w", err)
	case erased.Valid:
		return nil, ErrErased
	}
	key, err := k.master.Open(nil, sealed[:k.master.NonceSize()], sealed[k.master.NonceSize():], []byte(subject))
	if err != nil {
		return nil, fmt.Errorf("key of %s does not open with this master key: %w", subject, err)
	}
	k.remember(subject, key)
	return key, nil
}

func (k *KeyStore) create(ctx context.Context, subject string) ([]byte, error) {
	key := make([]byte, 32)
	nonce := make([]byte, k.master.NonceSize())
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	sealed := k.master.Seal(nonce, nonce, key, []byte(subject))
	if _, err := k.db.ExecContext(ctx, `INSERT INTO subject_keys (subject, sealed, created_at) VALUES (?, ?, ?)`,
		subject, sealed, time.Now().UnixMilli()); err != nil {
		return nil, fmt.Errorf("key store: %w", err)
	}
	k.remember(subject, key)
	return key, nil
}

func (k *KeyStore) remember(subject string, key []byte) {
	if len(k.cache) > 10_000 {
		clear(k.cache)
	}
	k.cache[subject] = key
}

// Erase destroys a subject's key for good and reports whether there was one.
func (k *KeyStore) Erase(ctx context.Context, subject string, at time.Time) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.cache, subject)
	res, err := k.db.ExecContext(ctx, `UPDATE subject_keys SET sealed = NULL, erased_at = ? WHERE subject = ? AND erased_at IS NULL`,
		at.UnixMilli(), subject)
	if err != nil {
		return false, fmt.Errorf("key store: %w", err)
	}
	n, _ := res.RowsAffected()
	// Move the overwritten page out of the WAL into the file at once.
	if _, err := k.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return n > 0, fmt.Errorf("key store checkpoint: %w", err)
	}
	return n > 0, nil
}
