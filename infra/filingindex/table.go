package filingindex

import "encoding/binary"

// key is 16 bytes that stand for an account or a filing: a UUID or the
// first half of a SHA-256, so any 8 of its bytes are a good hash.
type key [16]byte

func (k key) hash() uint64 {
	return binary.LittleEndian.Uint64(k[:8]) ^ binary.LittleEndian.Uint64(k[8:])
}

// pair is an account and its open filing. A pair with a zero account is a
// free place (no SHA-256 starts with 16 zero bytes).
type pair struct{ account, filing key }

// table holds the (account, open filing) pairs, found by either key: the
// pairs in one slice and two open-addressing indexes (linear probing) of
// their places in it. A million open filings take about 50 MB; two Go maps
// of 16-byte keys took 156 MB, and half of the server's memory.
type table struct {
	pairs     []pair   // place 0 is never used: 0 in an index is an empty slot
	free      []uint32 // places of removed pairs, taken again first
	byAccount []uint32
	byFiling  []uint32
	n         int // pairs held
}

func newTable() *table {
	return &table{pairs: make([]pair, 1), byAccount: make([]uint32, 16), byFiling: make([]uint32, 16)}
}

func byAccount(p pair) key { return p.account }
func byFiling(p pair) key  { return p.filing }

// slot returns the slot of idx that holds the pair whose field is k, or
// the empty slot where it would go.
func (t *table) slot(idx []uint32, field func(pair) key, k key) (int, bool) {
	mask := len(idx) - 1
	for i := int(k.hash() & uint64(mask)); ; i = (i + 1) & mask {
		switch p := idx[i]; {
		case p == 0:
			return i, false
		case field(t.pairs[p]) == k:
			return i, true
		}
	}
}

// unslot empties slot i of idx, moving back the pairs after it that probed
// past it, so that every pair stays reachable from its home slot.
func (t *table) unslot(idx []uint32, field func(pair) key, i int) {
	mask := len(idx) - 1
	for j := (i + 1) & mask; idx[j] != 0; j = (j + 1) & mask {
		home := int(field(t.pairs[idx[j]]).hash() & uint64(mask))
		// The pair at j may move to i unless its home lies in (i, j].
		if (i < j && (home <= i || home > j)) || (i > j && home <= i && home > j) {
			idx[i] = idx[j]
			i = j
		}
	}
	idx[i] = 0
}

// filing returns the open filing of an account.
func (t *table) filing(account key) (key, bool) {
	i, ok := t.slot(t.byAccount, byAccount, account)
	if !ok {
		return key{}, false
	}
	return t.pairs[t.byAccount[i]].filing, true
}

// put records an account's new open filing and returns the filing it
// displaced, if any. The account's earlier filing, if still open, is
// forgotten: the account is answered with the new one, and the earlier
// one's end changes nothing.
func (t *table) put(account, filing key) (displaced key, ok bool) {
	if i, found := t.slot(t.byAccount, byAccount, account); found {
		displaced, ok = t.pairs[t.byAccount[i]].filing, true
		t.removeBy(t.byAccount, byAccount, account)
	}
	t.removeBy(t.byFiling, byFiling, filing)
	if (t.n+1)*4 > len(t.byAccount)*3 {
		t.grow()
	}
	var place uint32
	if n := len(t.free); n > 0 {
		place, t.free = t.free[n-1], t.free[:n-1]
		t.pairs[place] = pair{account, filing}
	} else {
		place = uint32(len(t.pairs))
		t.pairs = append(t.pairs, pair{account, filing})
	}
	t.index(place)
	t.n++
	return displaced, ok
}

// index puts the pair at place into both indexes.
func (t *table) index(place uint32) {
	p := t.pairs[place]
	i, _ := t.slot(t.byAccount, byAccount, p.account)
	t.byAccount[i] = place
	i, _ = t.slot(t.byFiling, byFiling, p.filing)
	t.byFiling[i] = place
}

// removeFiling removes a filing that ended, and reports whether it was open.
func (t *table) removeFiling(filing key) bool {
	return t.removeBy(t.byFiling, byFiling, filing)
}

func (t *table) removeBy(idx []uint32, field func(pair) key, k key) bool {
	i, ok := t.slot(idx, field, k)
	if !ok {
		return false
	}
	place := idx[i]
	p := t.pairs[place]
	a, _ := t.slot(t.byAccount, byAccount, p.account)
	t.unslot(t.byAccount, byAccount, a)
	f, _ := t.slot(t.byFiling, byFiling, p.filing)
	t.unslot(t.byFiling, byFiling, f)
	t.pairs[place] = pair{}
	t.free = append(t.free, place)
	t.n--
	return true
}

// grow doubles the indexes, keeping them at most three quarters full.
func (t *table) grow() {
	t.byAccount = make([]uint32, 2*len(t.byAccount))
	t.byFiling = make([]uint32, 2*len(t.byFiling))
	for place := 1; place < len(t.pairs); place++ {
		if t.pairs[place].account != (key{}) {
			t.index(uint32(place))
		}
	}
}
