package main

import (
	"regexp"
	"strconv"
	"testing"
)

var appendCount = regexp.MustCompile(`(?m)^beian_event_append_duration_seconds_count\{store="sqlite"\} (\d+)$`)

// TestMetricsTimeAppends: /metrics of the wired service times the event
// store's appends, by store kind, and counts each command's append.
func TestMetricsTimeAppends(t *testing.T) {
	p := startInProcess(t, t.TempDir())
	appends := func() int {
		t.Helper()
		body, err := httpGet(p.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		m := appendCount.FindStringSubmatch(body)
		if m == nil {
			return 0
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	before := appends()
	p.as("applicant", "acct-metrics").must(`mutation { verifyType(input: {province: "44", city: "深圳市", nature: "enterprise",
		certificateType: "business_licence", certificateNumber: "91440300MA5F12342Q", domains: ["example.com"],
		resource: {kind: "instance", instanceId: "ins-demo"}}) { filingId } }`, nil)
	if after := appends(); after < before+1 {
		t.Fatalf("beian_event_append_duration_seconds_count went from %d to %d after a command", before, after)
	}
}
