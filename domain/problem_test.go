package domain

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkProblem fails unless p is a complete problem carrying one of codes:
// every problem reaches a user, so it needs a code and both messages in
// valid UTF-8. (Formatting mistakes are checked where the input is known not
// to contain fmt's markers; fuzzed input may.)
func checkProblem(tb testing.TB, p *Problem, codes ...string) {
	tb.Helper()
	if p == nil {
		tb.Fatalf("got no problem, want one of %v", codes)
	}
	if !slices.Contains(codes, p.Code) {
		tb.Fatalf("got code %q (%s), want one of %v", p.Code, p.Message.En, codes)
	}
	for _, m := range []string{p.Message.Zh, p.Message.En} {
		if strings.TrimSpace(m) == "" || !utf8.ValidString(m) {
			tb.Fatalf("problem %q has a bad message: %+v", p.Code, p.Message)
		}
	}
}
