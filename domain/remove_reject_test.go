package domain

import (
	"slices"
	"testing"
	"time"
)

// secondWebsite is a second site of the enterprise fixture, on its own domain.
func secondWebsite() SubmitWebsite {
	return SubmitWebsite{
		Name: "示例商城", Domains: []DomainInput{{Name: "example.cn", Facts: goodDomainFacts(companyName)}},
		HomepageURLs: []string{"https://www.example.cn/"}, ServiceContent: []string{"portal_entity"}, At: at(6 * time.Minute),
	}
}

// twoWebsiteDraft is the enterprise filing filled in with two websites, the
// second with its principal, liveness and commitment letter, still a draft.
func twoWebsiteDraft(t *testing.T, r *Rules) []Event {
	t.Helper()
	fill := enterpriseCommands()
	fill = fill[:len(fill)-1] // not submitted
	return run(t, r, append(fill,
		secondWebsite(),
		SubmitWebsitePrincipal{WebsiteID: "w2", Principal: zhangSan(), IsLegalRep: true, At: at(7 * time.Minute)},
		StartLiveness{WebsiteID: "w2", SessionID: "live-w2", At: at(8 * time.Minute)},
		PassLiveness{WebsiteID: "w2", SessionID: "live-w2", At: at(8*time.Minute + 30*time.Second)},
		material(MaterialCommitmentLetter, "website:w2"),
	)...)
}

func TestRemoveWebsiteInEveryEditableStatus(t *testing.T) {
	r := mustRules(t)
	for _, status := range editableStatuses() {
		t.Run(string(status), func(t *testing.T) {
			commands := stages()[status]
			if status == StatusDraft {
				fill := enterpriseCommands()
				commands = fill[:len(fill)-1]
			}
			events := run(t, r, commands...)
			if f := Replay(events); f.Website("w1") == nil {
				t.Fatalf("fixture for %s has no website w1", status)
			}
			when := at(200 * time.Hour)
			given(t, r, events...).when(RemoveWebsite{WebsiteID: "w1", At: when}).
				then(WebsiteRemoved{WebsiteID: "w1", At: when})
		})
	}
}

func TestRemoveWebsiteRefusedOutsideTheEditableStatuses(t *testing.T) {
	r := mustRules(t)
	for status, commands := range stages() {
		if slices.Contains(editableStatuses(), status) {
			continue
		}
		t.Run(string(status), func(t *testing.T) {
			given(t, r, run(t, r, commands...)...).when(RemoveWebsite{WebsiteID: "w1", At: at(200 * time.Hour)}).
				thenInvalidState(status)
		})
	}
}

func TestRemoveWebsiteChecksTheWebsiteAndTime(t *testing.T) {
	r := mustRules(t)
	s := given(t, r, twoWebsiteDraft(t, r)...)
	s.when(RemoveWebsite{WebsiteID: "w9", At: at(time.Hour)}).thenRejects("websiteId=" + CodeWebsiteNotFound)
	s.when(RemoveWebsite{WebsiteID: "", At: at(time.Hour)}).thenRejects("websiteId=" + CodeWebsiteNotFound)
	s.when(RemoveWebsite{WebsiteID: "w2"}).thenRejects("at=" + CodeRequired)
	s.when(RemoveWebsite{WebsiteID: "w9"}).thenRejects("at="+CodeRequired, "websiteId="+CodeWebsiteNotFound)
	// A removed website cannot be removed twice.
	removed := append(twoWebsiteDraft(t, r), WebsiteRemoved{WebsiteID: "w2", At: at(time.Hour)})
	given(t, r, removed...).when(RemoveWebsite{WebsiteID: "w2", At: at(2 * time.Hour)}).thenRejects("websiteId=" + CodeWebsiteNotFound)
}

func TestRemoveWebsiteDropsItsMaterialsAndKeepsTheOthers(t *testing.T) {
	r := mustRules(t)
	events := twoWebsiteDraft(t, r)
	before := Replay(events)
	if before.Material(MaterialCommitmentLetter, "website:w2") == nil || len(before.Websites) != 2 {
		t.Fatalf("fixture: %d websites, materials %v", len(before.Websites), before.Materials)
	}
	removed := given(t, r, events...).when(RemoveWebsite{WebsiteID: "w2", At: at(time.Hour)}).thenTypes(TypeWebsiteRemoved)
	after := Replay(append(events, removed...))
	switch {
	case after.Website("w2") != nil || after.Website("w1") == nil:
		t.Fatalf("websites after removing w2: %+v", after.Websites)
	case after.Material(MaterialCommitmentLetter, "website:w2") != nil:
		t.Error("the removed website's commitment letter stayed")
	case after.Material(MaterialCommitmentLetter, "website:w1") == nil || after.Material(MaterialEntityCertificate, "entity") == nil:
		t.Error("materials of the entity and the other website were dropped")
	case !after.IdleSince.Equal(at(time.Hour)):
		t.Errorf("removal is an applicant action; idle since %v", after.IdleSince)
	case after.Status != StatusDraft:
		t.Errorf("status %s", after.Status)
	}
	// The filing is complete without the removed website and can be submitted.
	given(t, r, append(events, removed...)...).when(SubmitForReview{TermsVersion: "2026-01", At: at(2 * time.Hour)}).
		thenTypes(TypeSubmittedForReview)
	// Website ids are never reused: the next website is w3, and its domain is
	// free again.
	again := secondWebsite()
	again.At = at(3 * time.Hour)
	got := given(t, r, append(events, removed...)...).when(again).thenTypes(TypeWebsiteSubmitted)
	if id := got[0].(WebsiteSubmitted).Website.ID; id != "w3" {
		t.Errorf("new website id %s, want w3", id)
	}
}

func TestRemovingTheLastWebsiteBlocksSubmission(t *testing.T) {
	r := mustRules(t)
	fill := enterpriseCommands()
	events := run(t, r, fill[:len(fill)-1]...)
	events = append(events, run1(t, r, Replay(events), RemoveWebsite{WebsiteID: "w1", At: at(time.Hour)})...)
	f := Replay(events)
	if len(f.Websites) != 0 || f.Material(MaterialCommitmentLetter, "website:w1") != nil {
		t.Fatalf("after removing the only website: %+v, %v", f.Websites, f.Materials)
	}
	given(t, r, events...).when(SubmitForReview{TermsVersion: "2026-01", At: at(2 * time.Hour)}).
		thenRejects("websites=" + CodeWebsiteMissing)
}

func TestRemoveWebsiteAfterABureauRejection(t *testing.T) {
	r := mustRules(t)
	events := run(t, r, stages()[StatusBureauRejected]...)
	removed := given(t, r, events...).when(RemoveWebsite{WebsiteID: "w1", At: at(50 * time.Hour)}).thenTypes(TypeWebsiteRemoved)
	f := Replay(append(events, removed...))
	if f.Status != StatusBureauRejected || len(f.Websites) != 0 {
		t.Fatalf("got %s with %d websites", f.Status, len(f.Websites))
	}
}

// bureauReview is the enterprise filing under the bureau's review.
func bureauReview(t *testing.T, r *Rules) []Event {
	t.Helper()
	return run(t, r, append(enterpriseCommands(), approveCmd(), sendCmd(), requestSMSCmd(), verifyCodeCmd())...)
}

func TestRejectByBureauWithFieldLevelReasons(t *testing.T) {
	r := mustRules(t)
	events := bureauReview(t, r)
	when := at(48 * time.Hour)
	reasons := []Reason{
		rejectReason("websites[w1].name", "website_name"),
		{Path: "websites[w1].domains[0]", Code: "domain_owner_mismatch"}, // standard message filled in
		{Path: "materials[commitment_letter@website:w1]", Code: "certificate_unclear", Message: Message{Zh: "承诺书不清晰", En: "the letter is blurred"}},
	}
	s := given(t, r, events...)
	s.when(RejectByBureau{Reasons: reasons, At: when}).then(BureauRejected{Reasons: []Reason{
		reasons[0],
		{Path: "websites[w1].domains[0]", Code: "domain_owner_mismatch", Message: Message{Zh: "域名所有者与主体不一致", En: "Domain owner does not match the entity"}},
		reasons[2],
	}, At: when})
}

func TestRejectByBureauChecksItsReasons(t *testing.T) {
	r := mustRules(t)
	s := given(t, r, bureauReview(t, r)...)
	when := at(48 * time.Hour)
	s.when(RejectByBureau{At: when}).thenRejects("reasons=" + CodeReasonsRequired)
	s.when(RejectByBureau{Reasons: []Reason{}, At: when}).thenRejects("reasons=" + CodeReasonsRequired)
	s.when(RejectByBureau{Reasons: []Reason{rejectReason("entity", "not_a_reason")}, At: when}).
		thenRejects("reasons[0].code=" + CodeReasonCode)
	s.when(RejectByBureau{Reasons: []Reason{rejectReason("websites[w7].name", "website_name")}, At: when}).
		thenRejects("reasons[0].path=" + CodeReasonPath)
	s.when(RejectByBureau{Reasons: []Reason{rejectReason("materials[commitment_letter@website:w7]", "material_missing")}, At: when}).
		thenRejects("reasons[0].path=" + CodeReasonPath)
	s.when(RejectByBureau{Reasons: []Reason{rejectReason("nowhere", "other")}, At: when}).
		thenRejects("reasons[0].path=" + CodeReasonPath)
	s.when(RejectByBureau{Reasons: []Reason{{Path: "entity", Code: "other", Message: Message{Zh: "只有中文"}}}, At: when}).
		thenRejects("reasons[0].message.en=" + CodeRequired)
	// Every failing reason is reported at once, with the missing time.
	s.when(RejectByBureau{Reasons: []Reason{rejectReason("entity", "other"), rejectReason("entity", "nope"), rejectReason("x.y", "other")}}).
		thenRejects("at="+CodeRequired, "reasons[1].code="+CodeReasonCode, "reasons[2].path="+CodeReasonPath)
}

func TestRejectByBureauOnlyDuringTheBureauReview(t *testing.T) {
	r := mustRules(t)
	c := RejectByBureau{Reasons: []Reason{rejectReason("entity", "other")}, At: at(80 * time.Hour)}
	for status, commands := range stages() {
		if status == StatusBureauReview {
			continue
		}
		t.Run(string(status), func(t *testing.T) {
			given(t, r, run(t, r, commands...)...).when(c).thenInvalidState(status)
		})
	}
	given(t, r, bureauReview(t, r)...).when(c).thenTypes(TypeBureauRejected)
}

func TestAfterABureauRejection(t *testing.T) {
	r := mustRules(t)
	events := bureauReview(t, r)
	rejectedAt := at(48 * time.Hour)
	reason := rejectReason("websites[w1].name", "website_name")
	events = append(events, BureauRejected{Reasons: []Reason{reason}, At: rejectedAt})
	f := Replay(events)
	switch {
	case f.Status != StatusBureauRejected:
		t.Fatalf("status %s", f.Status)
	case f.Rejection == nil || f.Rejection.Stage != StageBureau || !f.Rejection.At.Equal(rejectedAt) ||
		!slices.Equal(f.Rejection.Reasons, []Reason{reason}):
		t.Fatalf("rejection %+v", f.Rejection)
	case !f.IdleSince.Equal(rejectedAt):
		t.Errorf("the filing waits on the applicant from the rejection; idle since %v", f.IdleSince)
	case f.Numbers != nil:
		t.Errorf("numbers issued on a rejection: %+v", f.Numbers)
	}
	s := given(t, r, events...)
	// Nothing of the bureau stage applies any more.
	s.when(bureauApproveCmd()).thenInvalidState(StatusBureauRejected)
	s.when(RejectByBureau{Reasons: []Reason{reason}, At: at(49 * time.Hour)}).thenInvalidState(StatusBureauRejected)
	s.when(verifyCodeCmd()).thenInvalidState(StatusBureauRejected)
	s.when(sendCmd()).thenInvalidState(StatusBureauRejected)
	s.when(WithdrawFiling{At: at(49 * time.Hour)}).thenInvalidState(StatusBureauRejected)
	// The applicant may abandon, or wait 45 days and the filing expires.
	s.when(AbandonFiling{At: at(49 * time.Hour)}).thenTypes(TypeAbandoned)
	s.when(Expire{At: rejectedAt.AddDate(0, 0, 44)}).thenRejects("at=" + CodeExpiryTooEarly)
	s.when(Expire{At: rejectedAt.AddDate(0, 0, 45)}).then(Expired{IdleSince: rejectedAt, At: rejectedAt.AddDate(0, 0, 45)})
	s.when(RemindIdle{Day: 7, At: rejectedAt.AddDate(0, 0, 7)}).then(IdleReminded{Day: 7, IdleSince: rejectedAt, At: rejectedAt.AddDate(0, 0, 7)})

	// Fixing the named field and resubmitting goes back to the initial review
	// as a new submission, with the bureau's clock and SMS state cleared.
	rename := exampleWebsite()
	rename.WebsiteID, rename.Name, rename.At = "w1", "示例科技服务", at(50*time.Hour)
	fixed := s.when(rename).thenTypes(TypeWebsiteSubmitted)
	events = append(events, fixed...)
	resubmit := SubmitForReview{TermsVersion: "2026-01", At: at(51 * time.Hour)}
	submitted := given(t, r, events...).when(resubmit).thenTypes(TypeSubmittedForReview)
	if n := submitted[0].(SubmittedForReview).Submission; n != 2 {
		t.Errorf("submission %d, want 2", n)
	}
	back := Replay(append(events, submitted...))
	switch {
	case back.Status != StatusSubmitted:
		t.Errorf("status %s after resubmission", back.Status)
	case back.Website("w1").Name != "示例科技服务":
		t.Errorf("name %q", back.Website("w1").Name)
	case back.SMS != nil || !back.BureauDueAt.IsZero():
		t.Errorf("bureau state survived the resubmission: sms %+v, due %v", back.SMS, back.BureauDueAt)
	}
	// The second round can be approved by the provider, and the rejection is
	// then cleared.
	approved := given(t, r, append(events, submitted...)...).when(ApproveInitialReview{At: at(52 * time.Hour)}).
		thenTypes(TypeInitialReviewApproved)
	if f := Replay(append(append(events, submitted...), approved...)); f.Rejection != nil {
		t.Errorf("rejection kept after approval: %+v", f.Rejection)
	}
}
