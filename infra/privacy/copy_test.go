package privacy_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beian/beian/infra/privacy"
	"github.com/beian/beian/infra/readstore"
	"github.com/beian/beian/infra/readstore/postgres/pgtest"
	readsqlite "github.com/beian/beian/infra/readstore/sqlite"
)

func keyStore(t *testing.T, store readstore.Store, master []byte) *privacy.KeyStore {
	t.Helper()
	k, err := privacy.NewKeyStore(t.Context(), privacy.KeyStoreConfig{Store: store, MasterKey: master, CacheTTL: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestCopyKeys copies keys.db into PostgreSQL as beian migrate does: the
// keys open there with the same master key, a second copy changes
// nothing, an erasure follows, and a different key for a subject refuses.
func TestCopyKeys(t *testing.T) {
	ctx := context.Background()
	master := make([]byte, 32)
	rand.Read(master)
	src, err := readsqlite.Open(readsqlite.Config{Path: filepath.Join(t.TempDir(), "keys.db"), Durable: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst := pgtest.NewStore(t)
	from, to := keyStore(t, src, master), keyStore(t, dst, master)

	keys := map[string][]byte{}
	for _, s := range []string{"subject-a", "subject-b", "subject-c"} {
		if keys[s], err = from.Key(ctx, s, true); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := from.Erase(ctx, "subject-c", time.Now()); err != nil {
		t.Fatal(err)
	}
	if r, err := privacy.CopyKeys(ctx, src, dst); err != nil || r != (privacy.CopyReport{Copied: 2, Erased: 1}) {
		t.Fatalf("first copy: %+v %v", r, err)
	}
	for _, s := range []string{"subject-a", "subject-b"} {
		if got, err := to.Key(ctx, s, false); err != nil || !bytes.Equal(got, keys[s]) {
			t.Fatalf("%s in the target: %v", s, err)
		}
	}
	if _, err := to.Key(ctx, "subject-c", true); !errors.Is(err, privacy.ErrErased) {
		t.Fatalf("erased subject in the target: %v", err)
	}
	if r, err := privacy.CopyKeys(ctx, src, dst); err != nil || r != (privacy.CopyReport{Skipped: 3}) {
		t.Fatalf("second copy: %+v %v", r, err)
	}

	if _, err := from.Erase(ctx, "subject-b", time.Now()); err != nil {
		t.Fatal(err)
	}
	if r, err := privacy.CopyKeys(ctx, src, dst); err != nil || r != (privacy.CopyReport{Erased: 1, Skipped: 2}) {
		t.Fatalf("copy after an erasure: %+v %v", r, err)
	}
	if _, err := to.Key(ctx, "subject-b", false); !errors.Is(err, privacy.ErrErased) {
		t.Fatalf("subject erased after the first copy, in the target: %v", err)
	}

	if _, err := from.Key(ctx, "subject-d", true); err != nil {
		t.Fatal(err)
	}
	if _, err := to.Key(ctx, "subject-d", true); err != nil {
		t.Fatal(err)
	}
	if _, err := privacy.CopyKeys(ctx, src, dst); err == nil || !strings.Contains(err.Error(), "subject-d has another key") {
		t.Fatalf("a different key in the target: %v", err)
	}
	if got, err := to.Key(ctx, "subject-a", false); err != nil || !bytes.Equal(got, keys["subject-a"]) {
		t.Fatalf("the refused copy changed the target: %v", err)
	}
}
