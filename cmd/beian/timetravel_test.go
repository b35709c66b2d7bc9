package main

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/beian/beian/commands"
	"github.com/google/uuid"
)

const filingFields = `id account status revision position currentStep steps { name state } deadlines { initialReviewDue bureauReviewDue smsExpires idleExpires }
	province nature certificateNumber domains { name } entity { name principal { name mobile } } websites { id name domains liveness { state }
	icpNumber } materials { kind scope } requiredMaterials { kind scope provided } rejection { stage reasons { path code } }
	sms { recipients { mobile verified } } icpNumbers { entity } submission createdAt updatedAt`

// TestTimeTravelEqualsTheReadModel: for every revision of a full filing,
// filingAt (folded from the log) equals what filing (the read model) showed
// when the filing was at that revision.
func TestTimeTravelEqualsTheReadModel(t *testing.T) {
	p := startInProcess(t, t.TempDir())
	a := p.actors("acct-travel")
	seen := map[int]string{}
	var id string
	commandsRun := 0
	capture := func(pos string) {
		t.Helper()
		commandsRun++
		data := a.auditor.must(`query($id: ID!, $pos: String) { filing(id: $id, minPosition: $pos) { `+filingFields+` } }`,
			map[string]any{"id": id, "pos": pos})
		b, _ := json.Marshal(data["filing"])
		seen[int(dig(data, "filing", "revision").(float64))] = string(b)
	}
	id, _, _ = fillFilingWatched(t, a, func(filing string, res map[string]any) {
		id = filing
		capture(res["position"].(string))
	})
	ctx := t.Context()
	app := p.svc.app
	meta := func(role string) commands.Meta {
		return commands.Meta{Actor: commands.Actor{Account: role + "-1", Role: role}, IdempotencyKey: uuid.NewString()}
	}
	steps := []func() (commands.Result, error){
		func() (commands.Result, error) {
			return app.ApproveInitialReview.Handle(ctx, meta(commands.RoleReviewer), commands.ApproveInitialReview{FilingID: id})
		},
		func() (commands.Result, error) {
			return app.SendToBureau.Handle(ctx, meta(commands.RoleReviewer), commands.SendToBureau{FilingID: id})
		},
		func() (commands.Result, error) {
			return app.RequestSmsVerification.Handle(ctx, meta(commands.RoleBureau), commands.RequestSmsVerification{FilingID: id})
		},
		func() (commands.Result, error) {
			code, _ := p.svc.sim.SentCode(id, "13800138000")
			return app.VerifySmsCode.Handle(ctx, commands.Meta{Actor: commands.Actor{Account: "acct-travel", Role: commands.RoleApplicant},
				IdempotencyKey: uuid.NewString()}, commands.VerifySmsCode{FilingID: id, Mobile: "13800138000", CertSuffix: "071236", Code: code})
		},
		func() (commands.Result, error) {
			return app.ApproveByBureau.Handle(ctx, meta(commands.RoleBureau), commands.ApproveByBureau{FilingID: id, Serial: "2026012345"})
		},
	}
	for _, step := range steps {
		res, err := step()
		if err != nil {
			t.Fatal(err)
		}
		capture(fmt.Sprint(res.Position))
	}
	for rev, want := range seen {
		data := a.auditor.must(`query($id: ID!, $rev: Int) { filingAt(id: $id, revision: $rev) { revision filing { `+filingFields+` } } }`,
			map[string]any{"id": id, "rev": rev})
		got, _ := json.Marshal(dig(data, "filingAt", "filing"))
		if string(got) != want {
			t.Errorf("revision %d:\n filingAt %s\n filing   %s", rev, got, want)
		}
	}
	// Every revision a command left the filing at; the events of one command
	// (an SMS code verified and the verification completed) commit together,
	// so the state between them was never visible to compare with.
	if len(seen) != commandsRun {
		t.Fatalf("%d revisions compared for %d commands", len(seen), commandsRun)
	}
}
