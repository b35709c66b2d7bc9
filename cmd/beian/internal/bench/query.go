package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Reads is an open-model load of filing(id) queries on stored filings.
type Reads struct {
	URL         string
	Token       string // a staff token: it may read every filing
	IDs         []string
	Rate        float64 // queries per second
	Duration    time.Duration
	Concurrency int
}

// Run sends the reads on schedule, each for a random filing, and returns
// their latency from the scheduled time and the number that failed.
func (q Reads) Run(ctx context.Context) (Latency, int, error) {
	if len(q.IDs) == 0 || q.Rate <= 0 || q.Duration <= 0 || q.Concurrency <= 0 {
		return Latency{}, 0, fmt.Errorf("bench: reads need filings, a rate, a duration and a concurrency")
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = q.Concurrency
	defer transport.CloseIdleConnections()
	c := &client{url: q.URL, http: &http.Client{Transport: transport}}
	slots := make(chan struct{}, q.Concurrency)
	var h Histogram
	var mu sync.Mutex
	failed := 0
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / q.Rate)
	start := time.Now()
	for n := 0; time.Duration(n)*interval < q.Duration; n++ {
		due := start.Add(time.Duration(n) * interval)
		if wait := time.Until(due); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				wg.Wait()
				return Latency{}, 0, fmt.Errorf("bench: %w", ctx.Err())
			}
		}
		id := q.IDs[rand.IntN(len(q.IDs))]
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			var out struct {
				Filing struct {
					ID string `json:"id"`
				} `json:"filing"`
			}
			err := c.graphql(ctx, opQueryFiling, q.Token, `query($id: ID!) { filing(id: $id) { id status currentStep revision steps { name state } } }`,
				map[string]any{"id": id}, &out)
			if err == nil && out.Filing.ID != id {
				err = &opError{Op: opQueryFiling, Code: "NOT_FOUND", Msg: id}
			}
			if err != nil {
				mu.Lock()
				failed++
				mu.Unlock()
				return
			}
			h.Record(time.Since(due))
		})
	}
	wg.Wait()
	return Summarise(&h), failed, nil
}
