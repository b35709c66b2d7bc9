package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"
	"time"
)

// Latency is a histogram summarised, in milliseconds.
type Latency struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50Ms"`
	P95   float64 `json:"p95Ms"`
	P99   float64 `json:"p99Ms"`
	P999  float64 `json:"p999Ms"`
	Max   float64 `json:"maxMs"`
}

// Summarise reads the percentiles of a histogram.
func Summarise(h *Histogram) Latency {
	ms := func(q float64) float64 { return float64(h.Quantile(q).Microseconds()) / 1000 }
	return Latency{Count: h.Count(), P50: ms(0.5), P95: ms(0.95), P99: ms(0.99), P999: ms(0.999), Max: ms(1)}
}

// Report is what a run measured. The load generator fills the load part;
// the command adds the server's memory, the raw append rate, the seed and
// the rebuild when it ran them.
type Report struct {
	OfferedPerSec  float64            `json:"offeredCommandsPerSec"`
	DurationSec    float64            `json:"durationSec"`
	ElapsedSec     float64            `json:"elapsedSec"` // with the drain
	CommandsInTime int64              `json:"commandsInWindow"`
	CommandsPerSec float64            `json:"commandsPerSec"` // acknowledged within the window / window
	Commands       int64              `json:"commands"`       // acknowledged in all
	Lives          Lives              `json:"lives"`
	Command        Latency            `json:"commandLatency"` // every command, from its scheduled time
	Operations     map[string]Latency `json:"operations"`
	ProjectionLag  Latency            `json:"projectionLag"` // ack → filing(id, minPosition) answered
	SubscriberLag  Latency            `json:"subscriberLag"` // ack → filingUpdated with the revision
	Errors         map[string]int     `json:"errors"`        // "operation CODE" → count
	ErrorSamples   map[string]string  `json:"errorSamples"`  // "operation CODE" → the first message
	Updates        int64              `json:"subscriptionUpdates"`
	Watched        int64              `json:"watchedFilings"`
	WatchedDone    int64              `json:"watchedSawApproved"`
	// CPUSec is the CPU time (user + system) of the bench's process during
	// the load: with the server in process, the server's and the load
	// generator's together. On a shared machine it says what the run cost
	// where wall-clock rates only say what it got.
	CPUSec    float64    `json:"processCpuSec,omitempty"`
	Server    *Memory    `json:"server,omitempty"`
	RawAppend *RawAppend `json:"rawAppend,omitempty"`
	APIToRaw  float64    `json:"apiToRawRatio,omitempty"` // commands/s ÷ raw appends/s
	Seed      *Seed      `json:"seed,omitempty"`
	Rebuild   *Rebuild   `json:"rebuild,omitempty"`
}

// Lives counts the filing lives.
type Lives struct {
	Started   int64 `json:"started"`
	Completed int64 `json:"completed"` // approved by the bureau
	Failed    int64 `json:"failed"`    // an operation failed or the drain ran out
}

// Memory is the server's resident set, from /proc/<pid>/status.
type Memory struct {
	PID       int    `json:"pid"`
	PeakRSS   int64  `json:"peakRssBytes"` // VmHWM
	RSS       int64  `json:"rssBytes"`     // VmRSS at the end
	InProcess bool   `json:"inProcess"`    // the server ran in the bench's process: the load generator is counted too
	Note      string `json:"note,omitempty"`
}

// RawAppend is the event store's own append rate on the same disk.
type RawAppend struct {
	Writers      int     `json:"writers"`
	Events       int64   `json:"events"`
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"eventsPerSec"`
	CPUSec       float64 `json:"processCpuSec"`
}

// Seed is a store filled with filings and the reads measured on it.
type Seed struct {
	Filings       int64   `json:"filings"`
	Events        int64   `json:"events"`
	Seconds       float64 `json:"seconds"`
	CatchUpSec    float64 `json:"projectionCatchUpSec"`
	Query         Latency `json:"filingQuery"`
	QueryErrors   int     `json:"filingQueryErrors"`
	QueryPerSec   float64 `json:"filingQueriesOfferedPerSec"`
	Memory        Memory  `json:"memory"`
	DataBytes     int64   `json:"dataBytes"`
	FilingsPerSec float64 `json:"filingsPerSec"`
}

// Rebuild is every projection rebuilt from the log.
type Rebuild struct {
	Events       uint64             `json:"events"` // the log's length
	Seconds      float64            `json:"seconds"`
	EventsPerSec float64            `json:"eventsPerSec"` // log length ÷ the slowest projection's time
	CPUSec       float64            `json:"processCpuSec"`
	Projections  map[string]float64 `json:"projectionSeconds"`
}

func (r *runner) report(cfg Config, elapsed time.Duration, started, completed, failed int64) *Report {
	rep := &Report{OfferedPerSec: cfg.Rate, DurationSec: cfg.Duration.Seconds(), ElapsedSec: elapsed.Seconds(),
		CommandsInTime: r.inWindow.Load(), Commands: r.acks.Load(),
		Lives:   Lives{Started: started, Completed: completed, Failed: failed},
		Command: Summarise(&r.commands), ProjectionLag: Summarise(&r.lag), SubscriberLag: Summarise(&r.pushLag),
		Operations: map[string]Latency{}, Errors: map[string]int{},
		Updates: r.updates.Load(), Watched: r.watched.Load(), WatchedDone: r.sawApprove.Load()}
	rep.CommandsPerSec = float64(rep.CommandsInTime) / cfg.Duration.Seconds()
	r.mu.Lock()
	defer r.mu.Unlock()
	for op, h := range r.ops {
		rep.Operations[op] = Summarise(h)
	}
	maps.Copy(rep.Errors, r.errors)
	rep.ErrorSamples = maps.Clone(r.samples)
	return rep
}

// WriteTable prints the report for a person.
func (rep *Report) WriteTable(out io.Writer) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "offered\t%.0f commands/s for %.0fs (open model; latency from the scheduled time)\t\n", rep.OfferedPerSec, rep.DurationSec)
	fmt.Fprintf(w, "achieved\t%.0f commands/s in the window; %d commands acknowledged in %.1fs\t\n", rep.CommandsPerSec, rep.Commands, rep.ElapsedSec)
	fmt.Fprintf(w, "lives\t%d started, %d approved, %d failed\t\n", rep.Lives.Started, rep.Lives.Completed, rep.Lives.Failed)
	fmt.Fprintf(w, "subscribers\t%d watched, %d saw approved, %d updates\t\n", rep.Watched, rep.WatchedDone, rep.Updates)
	w.Flush()
	fmt.Fprintln(out)
	fmt.Fprintln(w, "OPERATION\tCOUNT\tP50 ms\tP95 ms\tP99 ms\tP99.9 ms\tMAX ms\t")
	row := func(name string, l Latency) {
		fmt.Fprintf(w, "%s\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", name, l.Count, l.P50, l.P95, l.P99, l.P999, l.Max)
	}
	for _, op := range slices.Sorted(maps.Keys(rep.Operations)) {
		row(op, rep.Operations[op])
	}
	row("all commands", rep.Command)
	row("projection lag", rep.ProjectionLag)
	row("subscriber lag", rep.SubscriberLag)
	if rep.Seed != nil {
		row(fmt.Sprintf("filing(id), %d stored", rep.Seed.Filings), rep.Seed.Query)
	}
	w.Flush()
	fmt.Fprintln(out)
	if len(rep.Errors) == 0 {
		fmt.Fprintln(out, "errors: none")
	}
	for _, k := range slices.Sorted(maps.Keys(rep.Errors)) {
		fmt.Fprintf(out, "errors: %s × %d (first: %.160s)\n", k, rep.Errors[k], rep.ErrorSamples[k])
	}
	if rep.CPUSec > 0 && rep.Commands > 0 {
		fmt.Fprintf(out, "CPU: %.1f s for the load, %.2f ms per acknowledged command (this process: server and load generator when in process)\n",
			rep.CPUSec, 1000*rep.CPUSec/float64(rep.Commands))
	}
	if m := rep.Server; m != nil {
		fmt.Fprintf(out, "server RSS: peak %s, now %s (pid %d%s)\n", mib(m.PeakRSS), mib(m.RSS), m.PID, inProcess(m))
	}
	if a := rep.RawAppend; a != nil {
		fmt.Fprintf(out, "raw append: %.0f events/s (%d writers, %d events in %.1fs, %.1f CPU-s); API ÷ raw = %.3f\n",
			a.EventsPerSec, a.Writers, a.Events, a.Seconds, a.CPUSec, rep.APIToRaw)
	}
	if s := rep.Seed; s != nil {
		fmt.Fprintf(out, "seed: %d filings, %d events in %.1fs (%.0f filings/s), projections caught up in %.1fs, data %s\n",
			s.Filings, s.Events, s.Seconds, s.FilingsPerSec, s.CatchUpSec, mib(s.DataBytes))
		fmt.Fprintf(out, "seed: filing(id) at %.0f/s: p50 %.2f ms, p99 %.2f ms, %d errors; RSS peak %s, now %s%s\n",
			s.QueryPerSec, s.Query.P50, s.Query.P99, s.QueryErrors, mib(s.Memory.PeakRSS), mib(s.Memory.RSS), inProcess(&s.Memory))
	}
	if b := rep.Rebuild; b != nil {
		fmt.Fprintf(out, "rebuild: %d events, every projection in %.2fs: %.0f events/s (%.1f CPU-s)", b.Events, b.Seconds, b.EventsPerSec, b.CPUSec)
		for _, n := range slices.Sorted(maps.Keys(b.Projections)) {
			fmt.Fprintf(out, "; %s %.2fs", n, b.Projections[n])
		}
		fmt.Fprintln(out)
	}
	return nil
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func inProcess(m *Memory) string {
	if m.InProcess {
		return ", in process: includes the load generator"
	}
	return ""
}
