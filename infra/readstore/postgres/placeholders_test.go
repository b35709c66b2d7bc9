package postgres

import "testing"

func TestRebind(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT n FROM t WHERE k = ?`, `SELECT n FROM t WHERE k = $1`},
		{`INSERT INTO t (a, b, c) VALUES (?, ?,?)`, `INSERT INTO t (a, b, c) VALUES ($1, $2,$3)`},
		{`SELECT ? FROM t LIMIT ? OFFSET ?`, `SELECT $1 FROM t LIMIT $2 OFFSET $3`},
		{strings12(), strings12Want()},
		// '?' where it is not a placeholder is left alone.
		{`SELECT 'why?' FROM t WHERE k = ?`, `SELECT 'why?' FROM t WHERE k = $1`},
		{`SELECT 'it''s ?' || ?`, `SELECT 'it''s ?' || $1`},
		{`SELECT E'\'?' || ?`, `SELECT E'\'?' || $1`},
		{`SELECT e'a\\' || ?`, `SELECT e'a\\' || $1`},
		{`SELECT 'a\' || ?`, `SELECT 'a\' || $1`}, // no backslash escapes outside E'…'
		{`SELECT "odd?col" FROM t WHERE k = ?`, `SELECT "odd?col" FROM t WHERE k = $1`},
		{`SELECT "a""?" FROM t WHERE k = ?`, `SELECT "a""?" FROM t WHERE k = $1`},
		{"SELECT n -- why?\nFROM t WHERE k = ?", "SELECT n -- why?\nFROM t WHERE k = $1"},
		{`SELECT n /* ? /* nested ? */ still ? */ FROM t WHERE k = ?`, `SELECT n /* ? /* nested ? */ still ? */ FROM t WHERE k = $1`},
		{`SELECT $$a ? b$$, $tag$ ? $x$ ? $tag$, ?`, `SELECT $$a ? b$$, $tag$ ? $x$ ? $tag$, $1`},
		{`SELECT a$b, ? FROM t`, `SELECT a$b, $1 FROM t`},
		{`SELECT n/2, ? FROM t`, `SELECT n/2, $1 FROM t`},
		{`SELECT n-1, ? FROM t`, `SELECT n-1, $1 FROM t`},
		{`SELECT 备案?`, `SELECT 备案$1`},
		// Unterminated tokens run to the end, changing nothing.
		{`SELECT 'open ?`, `SELECT 'open ?`},
		{`SELECT ? /* open ?`, `SELECT $1 /* open ?`},
		{`SELECT ? -- ?`, `SELECT $1 -- ?`},
		{`SELECT $q$ ?`, `SELECT $q$ ?`},
	} {
		if got := rebind(tc.in); got != tc.want {
			t.Errorf("rebind(%q)\n = %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

// strings12 is a statement with twelve placeholders: $10 and later take two
// digits.
func strings12() string {
	return `INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
}

func strings12Want() string {
	return `INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`
}

func TestWriterLockKeyIsStable(t *testing.T) {
	// The key must not change between releases: replicas of two versions
	// during a rolling deploy would otherwise not exclude each other.
	if k := writerLockKey("public"); k != writerLockKey("public") || k == writerLockKey("beian") {
		t.Fatalf("key %d", k)
	}
	if got, want := writerLockKey("public"), int64(pinnedPublicKey); got != want {
		t.Fatalf("writerLockKey(public) = %d, want %d: the key changed", got, want)
	}
}

// pinnedPublicKey is writerLockKey("public") as released.
const pinnedPublicKey = 4514425579471357862
