package metrics

import (
	"strings"
	"testing"
	"time"
)

func TestPrometheusText(t *testing.T) {
	r := New()
	r.Help("beian_commands_total", "Commands by outcome.")
	r.CommandDone("SubmitEntity", "ok", 3*time.Millisecond)
	r.CommandDone("SubmitEntity", "ok", 30*time.Millisecond)
	r.Gauge("beian_projection_lag_events", func() map[string]float64 { return map[string]float64{Labels("projection", "filings"): 2} })
	var b strings.Builder
	if _, err := r.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"# HELP beian_commands_total Commands by outcome.",
		"# TYPE beian_commands_total counter",
		`beian_commands_total{command="SubmitEntity",outcome="ok"} 2`,
		`beian_command_duration_seconds_bucket{command="SubmitEntity",le="0.005"} 1`,
		`beian_command_duration_seconds_bucket{command="SubmitEntity",le="+Inf"} 2`,
		`beian_command_duration_seconds_count{command="SubmitEntity"} 2`,
		`beian_projection_lag_events{projection="filings"} 2`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}
