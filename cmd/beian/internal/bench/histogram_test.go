package bench

import (
	"testing"
	"time"
)

func TestHistogramQuantilesWithinBucketPrecision(t *testing.T) {
	var h Histogram
	for i := 1; i <= 100_000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {0.999, 99900 * time.Microsecond}, {1, 100 * time.Millisecond}} {
		got := h.Quantile(c.q)
		if diff := got - c.want; diff > c.want/64 || -diff > c.want/64 {
			t.Errorf("q%g = %s, want %s within 1/64", c.q, got, c.want)
		}
	}
	if h.Count() != 100_000 {
		t.Errorf("count %d", h.Count())
	}
}

func TestHistogramBucketsAreContiguous(t *testing.T) {
	for v := uint64(0); v < 1<<20; v++ {
		b := bucket(v)
		if lowest(b) > v || lowest(b+1) <= v {
			t.Fatalf("value %d in bucket %d of [%d, %d)", v, b, lowest(b), lowest(b+1))
		}
	}
	if b := bucket(^uint64(0)); b >= len(Histogram{}.counts) {
		t.Fatalf("largest value maps to bucket %d", b)
	}
}

func TestHistogramEmptyAndNegative(t *testing.T) {
	var a Histogram
	if a.Quantile(0.99) != 0 {
		t.Fatal("empty histogram has a quantile")
	}
	a.Record(time.Millisecond)
	a.Record(3 * time.Millisecond)
	a.Record(-time.Second) // counts as zero
	if a.Count() != 3 || a.Quantile(1) != 3*time.Millisecond || a.Quantile(0) != 0 {
		t.Fatalf("count %d, max %s, min %s", a.Count(), a.Quantile(1), a.Quantile(0))
	}
}
