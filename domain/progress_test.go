package domain

import (
	"encoding/json"
	"testing"
	"time"
)

func states(p Progress) map[string]string {
	m := map[string]string{}
	for _, s := range p.Steps {
		m[s.Name] = s.State
	}
	return m
}

func TestProgressAlongTheLife(t *testing.T) {
	r := mustRules(t)
	cmds := enterpriseCommands()
	cases := []struct {
		upTo    int
		current string
		done    []string
	}{
		{1, StepEntity, []string{StepVerifyType}},
		{2, StepWebsite, []string{StepVerifyType, StepEntity}},
		{4, StepLiveness, []string{StepWebsite, StepWebsitePrincipal}},
		{6, StepMaterials, []string{StepLiveness}},
		{9, StepPreview, []string{StepMaterials}},
		{10, StepInitialReview, []string{StepPreview, StepSubmitted}},
	}
	for _, tc := range cases {
		p := r.Progress(Replay(run(t, r, cmds[:tc.upTo]...)))
		s := states(p)
		if p.CurrentStep != tc.current || s[tc.current] != StepCurrent {
			t.Fatalf("after %d commands current step %q (%v), want %q", tc.upTo, p.CurrentStep, s, tc.current)
		}
		for _, d := range tc.done {
			if s[d] != StepDone {
				t.Fatalf("after %d commands %s is %s, want done", tc.upTo, d, s[d])
			}
		}
	}
	submitted := r.Progress(Replay(run(t, r, cmds...)))
	if submitted.Deadlines.InitialReviewDue.IsZero() || len(submitted.Steps) != 11 {
		t.Fatalf("submitted progress: %+v", submitted)
	}
	approved := r.Progress(Replay(run(t, r, stages()[StatusApproved]...)))
	for _, s := range approved.Steps {
		if s.State != StepDone {
			t.Fatalf("approved filing has %s %s", s.Name, s.State)
		}
	}
}

func TestProgressShowsWhatToFix(t *testing.T) {
	r := mustRules(t)
	f := Replay(run(t, r, append(enterpriseCommands(), RejectInitialReview{Reasons: []Reason{
		{Path: "entity.principal.mobile", Code: "phone_unreachable"},
		{Path: "materials[commitment_letter@website:w1]", Code: "certificate_unclear"},
	}, At: at(time.Hour)})...))
	p := r.Progress(f)
	s := states(p)
	if s[StepEntity] != StepNeedsFix || s[StepMaterials] != StepNeedsFix || s[StepWebsite] != StepDone || p.CurrentStep != StepEntity {
		t.Fatalf("rejected progress: current %s, %v", p.CurrentStep, s)
	}
	if p.Deadlines.IdleExpires.IsZero() {
		t.Fatal("a rejected filing waits on the applicant: the idle expiry should show")
	}
}

// TestFilingStateSurvivesJSON: read models keep the folded state as JSON.
func TestFilingStateSurvivesJSON(t *testing.T) {
	r := mustRules(t)
	for status, commands := range stages() {
		f := Replay(run(t, r, commands...))
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		var back Filing
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		again, _ := json.Marshal(back)
		if string(again) != string(b) {
			t.Fatalf("%s: state changed through JSON", status)
		}
		if next, err := r.Decide(back, RemindIdle{Day: 7, At: at(100 * 24 * time.Hour)}); err == nil && len(next) == 0 {
			t.Fatal("decoded state cannot decide")
		}
	}
}

// TestStatusAfterAgreesWithEvolve: StatusAfter says what Evolve does.
func TestStatusAfterAgreesWithEvolve(t *testing.T) {
	r := mustRules(t)
	for _, commands := range stages() {
		var f Filing
		for _, e := range run(t, r, commands...) {
			before := f.Status
			f = Evolve(f, e)
			status, changes := StatusAfter(e)
			if changes && f.Status != status || !changes && f.Status != before {
				t.Fatalf("%s: Evolve gives %s, StatusAfter %s/%v", e.EventType(), f.Status, status, changes)
			}
		}
	}
}
