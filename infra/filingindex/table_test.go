package filingindex

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestTableAgreesWithMaps: random puts and removals, through several
// growths and many backward shifts, answer as two maps do.
func TestTableAgreesWithMaps(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	keyOf := func(kind string, n int) key {
		sum := sha256.Sum256(fmt.Appendf(nil, "%s%d", kind, n))
		return key(sum[:16])
	}
	tb := newTable()
	open := map[key]key{}     // account → filing
	accounts := map[key]key{} // filing → account
	const accountsN, filingsN = 3000, 20000
	for step := range 200000 {
		switch account, filing := keyOf("a", rng.IntN(accountsN)), keyOf("f", rng.IntN(filingsN)); rng.IntN(3) {
		case 0, 1:
			tb.put(account, filing)
			if old, ok := open[account]; ok {
				delete(accounts, old)
			}
			if old, ok := accounts[filing]; ok {
				delete(open, old)
			}
			open[account], accounts[filing] = filing, account
		case 2:
			_, want := accounts[filing]
			if got := tb.removeFiling(filing); got != want {
				t.Fatalf("step %d: removeFiling = %v, want %v", step, got, want)
			}
			if a, ok := accounts[filing]; ok {
				delete(open, a)
				delete(accounts, filing)
			}
		}
		if tb.n != len(open) {
			t.Fatalf("step %d: %d pairs, want %d", step, tb.n, len(open))
		}
		if step%997 == 0 {
			for n := range accountsN {
				a := keyOf("a", n)
				got, ok := tb.filing(a)
				want, wantOK := open[a]
				if ok != wantOK || got != want {
					t.Fatalf("step %d: filing of account %d = %x, %v; want %x, %v", step, n, got, ok, want, wantOK)
				}
			}
		}
	}
	if len(tb.byAccount) > 4*accountsN {
		t.Errorf("%d slots for at most %d pairs", len(tb.byAccount), accountsN)
	}
}
