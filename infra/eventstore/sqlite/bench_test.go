package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/infra/eventstore/eventstoretest"
)

// BenchmarkAppend measures single-event appends with synchronous=FULL: one
// writer waits for each fsync; 64 writers share them through group commit.
// It reports events/s, and the raw fsync rate of the same disk for scale.
func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := open(b, filepath.Join(b.TempDir(), "events.db"))
			defer s.Close()
			ctx := context.Background()
			var n atomic.Int64
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					for {
						i := n.Add(1)
						if i > int64(b.N) {
							return
						}
						st := fmt.Sprintf("filing-%d-%d", w, i%100)
						e := eventstoretest.Event("filing.entity_submitted.v1", "payload")
						if _, err := s.Append(ctx, st, eventstore.Any(), []eventstore.EventData{e}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		})
	}
	b.Run("fsync", func(b *testing.B) {
		f, err := os.Create(filepath.Join(b.TempDir(), "fsync"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		buf := make([]byte, 4096)
		start := time.Now()
		for b.Loop() {
			if _, err := f.WriteAt(buf, 0); err != nil {
				b.Fatal(err)
			}
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "fsyncs/s")
	})
}
