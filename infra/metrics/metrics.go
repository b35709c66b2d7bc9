// Package metrics is a small registry of counters, histograms and gauges
// written in the Prometheus text format: enough for /metrics without the
// client library's dependency tree.
package metrics

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// Registry holds the service's metrics. It is safe for concurrent use.
type Registry struct {
	mu         sync.Mutex
	counters   map[string]map[string]float64 // name → labels → value
	histograms map[string]map[string]*histogram
	gauges     map[string]func() map[string]float64
	help       map[string]string
}

// New returns an empty registry.
func New() *Registry {
	return &Registry{
		counters:   map[string]map[string]float64{},
		histograms: map[string]map[string]*histogram{},
		gauges:     map[string]func() map[string]float64{},
		help:       map[string]string{},
	}
}

// buckets of latency histograms, in seconds.
var buckets = [...]float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

type histogram struct {
	counts [len(buckets) + 1]uint64
	sum    float64
	n      uint64
}

// Labels renders label pairs in a stable order: Labels("a", "1", "b", "2").
func Labels(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", kv[i], kv[i+1])
	}
	return b.String()
}

// Help sets a metric's description.
func (r *Registry) Help(name, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.help[name] = text
}

// Add increments a counter.
func (r *Registry) Add(name, labels string, v float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.counters[name] == nil {
		r.counters[name] = map[string]float64{}
	}
	r.counters[name][labels] += v
}

// Observe records a duration in a histogram.
func (r *Registry) Observe(name, labels string, d time.Duration) {
	s := d.Seconds()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.histograms[name] == nil {
		r.histograms[name] = map[string]*histogram{}
	}
	h := r.histograms[name][labels]
	if h == nil {
		h = &histogram{}
		r.histograms[name][labels] = h
	}
	i := 0
	for i < len(buckets) && s > buckets[i] {
		i++
	}
	h.counts[i]++
	h.sum += s
	h.n++
}

// Gauge registers a function read at every scrape (e.g. projection lag).
func (r *Registry) Gauge(name string, read func() map[string]float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gauges[name] = read
}

// CommandDone implements commands.Metrics.
func (r *Registry) CommandDone(command, outcome string, took time.Duration) {
	r.Add("beian_commands_total", Labels("command", command, "outcome", outcome), 1)
	r.Observe("beian_command_duration_seconds", Labels("command", command), took)
}

// WriteTo writes every metric in the Prometheus text format.
func (r *Registry) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	gauges := maps.Clone(r.gauges)
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(r.counters)) {
		r.header(&b, name, "counter")
		for _, l := range slices.Sorted(maps.Keys(r.counters[name])) {
			fmt.Fprintf(&b, "%s%s %g\n", name, braces(l), r.counters[name][l])
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.histograms)) {
		r.header(&b, name, "histogram")
		for _, l := range slices.Sorted(maps.Keys(r.histograms[name])) {
			h := r.histograms[name][l]
			var cum uint64
			for i, le := range buckets {
				cum += h.counts[i]
				fmt.Fprintf(&b, "%s_bucket%s %d\n", name, braces(join(l, fmt.Sprintf("le=%q", fmt.Sprint(le)))), cum)
			}
			fmt.Fprintf(&b, "%s_bucket%s %d\n", name, braces(join(l, `le="+Inf"`)), h.n)
			fmt.Fprintf(&b, "%s_sum%s %g\n%s_count%s %d\n", name, braces(l), h.sum, name, braces(l), h.n)
		}
	}
	help := maps.Clone(r.help)
	r.mu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(gauges)) {
		if text, ok := help[name]; ok {
			fmt.Fprintf(&b, "# HELP %s %s\n", name, text)
		}
		fmt.Fprintf(&b, "# TYPE %s gauge\n", name)
		values := gauges[name]()
		for _, l := range slices.Sorted(maps.Keys(values)) {
			v := values[l]
			if math.IsNaN(v) {
				continue
			}
			fmt.Fprintf(&b, "%s%s %g\n", name, braces(l), v)
		}
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

func (r *Registry) header(b *strings.Builder, name, kind string) {
	if text, ok := r.help[name]; ok {
		fmt.Fprintf(b, "# HELP %s %s\n", name, text)
	}
	fmt.Fprintf(b, "# TYPE %s %s\n", name, kind)
}

func braces(labels string) string {
	if labels == "" {
		return ""
	}
	return "{" + labels + "}"
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "," + b
}
