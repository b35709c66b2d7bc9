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
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/beian/beian/infra/readstore"
)

// ErrErased: the subject's key was destroyed.
var ErrErased = errors.New("data subject erased")

// KeyStore keeps one key per data subject, sealed with the master key, in
// a store apart from the event log: on one machine a durable SQLite file of
// its own (keys.db), with several replicas a table of the PostgreSQL schema
// they share, so that a key made on one replica opens on the others.
type KeyStore struct {
	store  readstore.Store
	master cipher.AEAD
	ttl    time.Duration
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cachedKey // subject → key, bounded
}

// cachedKey keeps the key's AEAD (an AES key schedule costs more than the
// few fields of a payload it opens) and the key itself, which the tests
// compare across stores.
type cachedKey struct {
	key   []byte
	aead  cipher.AEAD
	until time.Time
}

// KeyStoreConfig configures a key store.
type KeyStoreConfig struct {
	Store     readstore.Store // where the sealed keys live; the caller closes it
	MasterKey []byte          // 32 bytes; see LoadMasterKey
	// CacheTTL is how long a key is used from memory: the most time another
	// replica keeps opening a subject's data after this one erased it.
	// Default 2s.
	CacheTTL time.Duration
	Now      func() time.Time // default time.Now
}

// Validate reports every problem of the configuration at once.
func (c KeyStoreConfig) Validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("key store: no store"))
	}
	if len(c.MasterKey) != 32 {
		errs = append(errs, fmt.Errorf("key store: master key of %d bytes, want 32", len(c.MasterKey)))
	}
	if c.CacheTTL < 0 {
		errs = append(errs, fmt.Errorf("key store: negative cache TTL %s", c.CacheTTL))
	}
	return errors.Join(errs...)
}

const keysSchema = `CREATE TABLE IF NOT EXISTS privacy_subject_keys (
	subject    TEXT PRIMARY KEY,
	sealed     TEXT,
	created_at BIGINT NOT NULL,
	erased_at  BIGINT
)`

// purgesSchema records every erasure until the read models have been
// rebuilt without the subject's data: a process that stops in between
// finds the purge still to do when it starts again.
const purgesSchema = `CREATE TABLE IF NOT EXISTS privacy_purges (
	subject   TEXT PRIMARY KEY,
	erased_at BIGINT NOT NULL,
	purged_at BIGINT
)`

// NewKeyStore creates the key table if it is missing.
func NewKeyStore(ctx context.Context, cfg KeyStoreConfig) (*KeyStore, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 2 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	master, err := aead(cfg.MasterKey)
	if err != nil {
		return nil, fmt.Errorf("key store: %w", err)
	}
	if err := cfg.Store.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
		if _, err := tx.Exec(ctx, keysSchema); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, purgesSchema)
		return err
	}); err != nil {
		return nil, fmt.Errorf("key store: %w", err)
	}
	return &KeyStore{store: cfg.Store, master: master, ttl: cfg.CacheTTL, now: cfg.Now, cache: map[string]cachedKey{}}, nil
}

func aead(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Cipher returns the AEAD of the subject's key, creating the key when
// create is set and the subject has none. An erased subject gets
// ErrErased, never a new key: its old ciphertexts must stay unreadable.
func (k *KeyStore) Cipher(ctx context.Context, subject string, create bool) (cipher.AEAD, error) {
	c, err := k.entry(ctx, subject, create)
	return c.aead, err
}

func (k *KeyStore) entry(ctx context.Context, subject string, create bool) (cachedKey, error) {
	if c, ok := k.cached(subject); ok {
		return c, nil
	}
	var sealed *string
	var found bool
	read := func(ctx context.Context, tx readstore.Tx) error {
		var s *string
		var erased *int64
		err := tx.QueryRow(ctx, `SELECT sealed, erased_at FROM privacy_subject_keys WHERE subject = ?`, subject).Scan(&s, &erased)
		switch {
		case errors.Is(err, readstore.ErrNoRows):
			return nil
		case err != nil:
			return err
		case erased != nil:
			return ErrErased
		}
		sealed, found = s, true
		return nil
	}
	if err := k.store.View(ctx, read); err != nil {
		return cachedKey{}, k.fail(subject, err)
	}
	switch {
	case !found && !create:
		return cachedKey{}, fmt.Errorf("no key for subject %s", subject)
	case !found:
		// Another replica may create the same subject's key meanwhile:
		// Updates are serialised, so reading again inside one decides.
		err := k.store.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
			if err := read(ctx, tx); err != nil || found {
				return err
			}
			fresh, err := k.seal(subject)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO privacy_subject_keys (subject, sealed, created_at) VALUES (?, ?, ?)`,
				subject, fresh, k.now().UnixMilli()); err != nil {
				return err
			}
			sealed, found = &fresh, true
			return nil
		})
		if err != nil {
			return cachedKey{}, k.fail(subject, err)
		}
	}
	key, err := k.open(subject, sealed)
	if err != nil {
		return cachedKey{}, err
	}
	c, err := aead(key)
	if err != nil {
		return cachedKey{}, err
	}
	return k.remember(subject, cachedKey{key: key, aead: c}), nil
}

func (k *KeyStore) fail(subject string, err error) error {
	if errors.Is(err, ErrErased) {
		return ErrErased
	}
	return fmt.Errorf("key store: subject %s: %w", subject, err)
}

// seal makes a new random key and seals it with the master key, bound to
// the subject so that a sealed key moved to another row does not open.
func (k *KeyStore) seal(subject string) (string, error) {
	key := make([]byte, 32)
	nonce := make([]byte, k.master.NonceSize())
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(k.master.Seal(nonce, nonce, key, []byte(subject))), nil
}

func (k *KeyStore) open(subject string, sealed *string) ([]byte, error) {
	if sealed == nil {
		return nil, ErrErased
	}
	b, err := base64.StdEncoding.DecodeString(*sealed)
	if err != nil || len(b) < k.master.NonceSize() {
		return nil, fmt.Errorf("key of %s is damaged", subject)
	}
	key, err := k.master.Open(nil, b[:k.master.NonceSize()], b[k.master.NonceSize():], []byte(subject))
	if err != nil {
		return nil, fmt.Errorf("key of %s does not open with this master key: %w", subject, err)
	}
	return key, nil
}

func (k *KeyStore) cached(subject string) (cachedKey, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	c, ok := k.cache[subject]
	if !ok || !k.now().Before(c.until) {
		return cachedKey{}, false
	}
	return c, true
}

func (k *KeyStore) remember(subject string, c cachedKey) cachedKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.cache) > 10_000 {
		clear(k.cache)
	}
	c.until = k.now().Add(k.ttl)
	k.cache[subject] = c
	return c
}

// Erase destroys a subject's key for good and reports whether there was
// one, then compacts the store so the key's bytes leave its files (see
// readstore.Store.Compact for how far PostgreSQL goes). In the same
// transaction it records the purge still to do (PendingPurges).
func (k *KeyStore) Erase(ctx context.Context, subject string, at time.Time) (bool, error) {
	k.mu.Lock()
	delete(k.cache, subject)
	k.mu.Unlock()
	var erased bool
	err := k.store.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
		n, err := tx.Exec(ctx, `UPDATE privacy_subject_keys SET sealed = NULL, erased_at = ? WHERE subject = ? AND erased_at IS NULL`,
			at.UnixMilli(), subject)
		if err != nil {
			return err
		}
		erased = n > 0
		_, err = tx.Exec(ctx, `INSERT INTO privacy_purges (subject, erased_at) VALUES (?, ?) ON CONFLICT (subject) DO NOTHING`,
			subject, at.UnixMilli())
		return err
	})
	if err != nil {
		return false, fmt.Errorf("key store: erase %s: %w", subject, err)
	}
	if err := k.store.Compact(ctx); err != nil {
		return erased, fmt.Errorf("key store: erase %s: %w", subject, err)
	}
	return erased, nil
}

// Status counts the subjects with a key, those erased, and the erasures
// whose purge of the read models is still to do.
type Status struct {
	Subjects, Erased, Pending int64
}

// Status counts the store's subjects.
func (k *KeyStore) Status(ctx context.Context) (Status, error) {
	var st Status
	err := k.store.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT COUNT(*), COUNT(erased_at) FROM privacy_subject_keys`).Scan(&st.Subjects, &st.Erased); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM privacy_purges WHERE purged_at IS NULL`).Scan(&st.Pending)
	})
	if err != nil {
		return Status{}, fmt.Errorf("key store: status: %w", err)
	}
	return st, nil
}

// Known says whether the subject ever had a key, and whether it was erased.
func (k *KeyStore) Known(ctx context.Context, subject string) (known, erased bool, err error) {
	err = k.store.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
		var at *int64
		err := tx.QueryRow(ctx, `SELECT erased_at FROM privacy_subject_keys WHERE subject = ?`, subject).Scan(&at)
		if errors.Is(err, readstore.ErrNoRows) {
			return nil
		}
		known, erased = err == nil, at != nil
		return err
	})
	if err != nil {
		return false, false, fmt.Errorf("key store: subject %s: %w", subject, err)
	}
	return known, erased, nil
}

// PendingPurges lists the erased subjects whose data the read models may
// still hold, oldest erasure first.
func (k *KeyStore) PendingPurges(ctx context.Context) ([]string, error) {
	var out []string
	err := k.store.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
		rows, err := tx.Query(ctx, `SELECT subject FROM privacy_purges WHERE purged_at IS NULL ORDER BY erased_at, subject`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			out = append(out, s)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("key store: pending purges: %w", err)
	}
	return out, nil
}

// Purged records that the read models were rebuilt without the subjects.
func (k *KeyStore) Purged(ctx context.Context, subjects []string, at time.Time) error {
	err := k.store.Update(ctx, func(ctx context.Context, tx readstore.Tx) error {
		for _, s := range subjects {
			if _, err := tx.Exec(ctx, `UPDATE privacy_purges SET purged_at = ? WHERE subject = ?`, at.UnixMilli(), s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("key store: record purge: %w", err)
	}
	return nil
}

// CacheTTL is how long another replica may still use a key this one erased.
func (k *KeyStore) CacheTTL() time.Duration { return k.ttl }

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
