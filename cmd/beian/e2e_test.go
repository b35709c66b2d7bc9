package main

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/uuid"
)

// The end-to-end tests run the built binary as a user would and walk
// filings over HTTP and WebSocket as applicant, reviewer and bureau.

const progressQuery = `query($id: ID!, $pos: String) { filing(id: $id, minPosition: $pos) {
	id status currentStep revision position steps { name state } readiness { path code }
	websites { id liveness { state sessionId } icpNumber } icpNumbers { entity websites { websiteId number } }
	rejection { stage reasons { path code message { zh en } } } sms { recipients { mobile verified } } } }`

// actors are the three parties of a filing, each with its own token.
type actors struct {
	applicant, reviewer, bureau, auditor *client
}

func newActors(t *testing.T, s *server, applicantAccount string) actors {
	c := func(role, account string) *client {
		return &client{t: t, url: s.url, token: mintToken(t, s.data, role, account)}
	}
	return actors{applicant: c("applicant", applicantAccount), reviewer: c("reviewer", "reviewer-1"),
		bureau: c("bureau", "gd-bureau"), auditor: c("auditor", "auditor-1")}
}

// progress reads the filing once the read model has the position.
func progress(c *client, id, pos string) map[string]any {
	c.t.Helper()
	return c.must(progressQuery, map[string]any{"id": id, "pos": pos})["filing"].(map[string]any)
}

// mutate runs a mutation and returns its CommandResult.
func mutate(c *client, name, inputType string, input map[string]any) map[string]any {
	c.t.Helper()
	q := fmt.Sprintf(`mutation($in: %s!) { %s(input: $in) { filingId revision position repeated events { type } } }`, inputType, name)
	return c.must(q, map[string]any{"in": input})[name].(map[string]any)
}

var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")

func zhangSan(mobile string) map[string]any {
	return map[string]any{"name": "张三", "certificateType": "resident_id", "certificateNumber": "440305199003071236",
		"officePhone": "0755-86013388", "mobile": mobile, "email": "zhangsan@example.com"}
}

// fillFiling walks the applicant's steps of the demo enterprise filing up to
// a submission, checking the progress after each step.
func fillFiling(t *testing.T, a actors) (string, *subscriber, string) {
	return fillFilingWatched(t, a, nil)
}

// fillFilingWatched is fillFiling calling after with every mutation's result.
func fillFilingWatched(t *testing.T, a actors, after func(id string, res map[string]any)) (string, *subscriber, string) {
	app := a.applicant
	mutate := func(c *client, name, inputType string, input map[string]any) map[string]any {
		t.Helper()
		res := mutate(c, name, inputType, input)
		if after != nil {
			after(res["filingId"].(string), res)
		}
		return res
	}
	res := mutate(app, "verifyType", "VerifyTypeInput", map[string]any{"idempotencyKey": uuid.NewString(),
		"province": "44", "city": "深圳市", "district": "南山区", "nature": "enterprise", "certificateType": "business_licence",
		"certificateNumber": "91440300MA5F12342Q", "domains": []string{"example.com"},
		"resource": map[string]any{"kind": "instance", "instanceId": "ins-demo"}})
	id := res["filingId"].(string)
	sub := subscribe(t, app.url, app.token, id)
	step := func(want string, res map[string]any) map[string]any {
		t.Helper()
		p := progress(app, id, res["position"].(string))
		if got := str(p, "currentStep"); got != want {
			t.Fatalf("after %v current step %q, want %q (%v)", res["events"], got, want, p["steps"])
		}
		return p
	}
	step("entity", res)
	res = mutate(app, "submitEntity", "SubmitEntityInput", map[string]any{"filingId": id, "name": "深圳市示例科技有限公司",
		"certificateAddress": "广东省深圳市南山区科技园路1号", "mailingAddress": "广东省深圳市南山区科技园路1号",
		"legalRepresentative": "张三", "principalIsLegalRep": true, "principal": zhangSan("13800138000")})
	step("website", res)
	res = mutate(app, "submitWebsite", "SubmitWebsiteInput", map[string]any{"filingId": id, "name": "示例科技",
		"domains": []string{"example.com"}, "homepageUrls": []string{"https://www.example.com/"}, "serviceContent": []string{"portal_entity"}})
	step("website_principal", res)
	res = mutate(app, "submitWebsitePrincipal", "SubmitWebsitePrincipalInput", map[string]any{"filingId": id, "websiteId": "w1",
		"isLegalRep": true, "principal": zhangSan("13800138000")})
	step("liveness", res)
	res = mutate(app, "startLiveness", "StartLivenessInput", map[string]any{"filingId": id, "websiteId": "w1"})
	session := str(progress(app, id, res["position"].(string)), "websites", 0, "liveness", "sessionId")
	res = mutate(app, "passLiveness", "LivenessVerdictInput", map[string]any{"filingId": id, "websiteId": "w1", "sessionId": session})
	p := step("materials", res)
	if n := len(dig(p, "readiness").([]any)); n != 3 {
		t.Fatalf("readiness lists %d problems, want the 3 missing materials: %v", n, p["readiness"])
	}
	for i, m := range [][2]string{{"entity_certificate", "entity"}, {"principal_id", "entity"}, {"commitment_letter", "website:w1"}} {
		digest := app.upload(append(pngBytes, byte(i)))
		res = mutate(app, "uploadMaterial", "UploadMaterialInput", map[string]any{"filingId": id, "kind": m[0], "scope": m[1], "sha256": digest})
	}
	p = step("preview", res)
	if n := len(dig(p, "readiness").([]any)); n != 0 {
		t.Fatalf("a complete filing is not ready: %v", p["readiness"])
	}
	res = mutate(app, "submitForReview", "SubmitForReviewInput", map[string]any{"filingId": id, "termsVersion": "2026-01"})
	step("initial_review", res)
	return id, sub, res["position"].(string)
}

func TestFilingFromVerifyTypeToICPNumbers(t *testing.T) {
	s := startServer(t, t.TempDir())
	a := newActors(t, s, "acct-e2e-1")
	id, sub, pos := fillFiling(t, a)

	queue := a.reviewer.must(`query($pos: String!) { reviewQueue(minPosition: $pos) { edges { node { filingId overdue dueAt } } } }`, map[string]any{"pos": pos})
	if str(queue, "reviewQueue", "edges", 0, "node", "filingId") != id {
		t.Fatalf("review queue: %v", queue)
	}
	res := mutate(a.reviewer, "approveInitialReview", "ApproveInitialReviewInput", map[string]any{"filingId": id, "note": "资料齐全"})
	if got := str(progress(a.reviewer, id, res["position"].(string)), "status"); got != "provider_approved" {
		t.Fatalf("after approval: %s", got)
	}
	mutate(a.reviewer, "sendToBureau", "FilingInput", map[string]any{"filingId": id})
	res = mutate(a.bureau, "requestSmsVerification", "FilingInput", map[string]any{"filingId": id})
	if got := str(progress(a.applicant, id, res["position"].(string)), "status"); got != "sms_pending" {
		t.Fatalf("after the SMS request: %s", got)
	}
	status, inbox := a.applicant.get("/dev/sms?filingId=" + id + "&mobile=13800138000")
	if status != 200 {
		t.Fatalf("simulated phone: %d %v", status, inbox)
	}
	res = mutate(a.applicant, "verifySmsCode", "VerifySmsCodeInput", map[string]any{"filingId": id, "mobile": "13800138000",
		"certSuffix": "071236", "code": inbox["code"]})
	if got := str(progress(a.applicant, id, res["position"].(string)), "status"); got != "bureau_review" {
		t.Fatalf("after the SMS code: %s", got)
	}
	res = mutate(a.bureau, "approveByBureau", "ApproveByBureauInput", map[string]any{"filingId": id, "serial": "2026012345"})
	p := progress(a.applicant, id, res["position"].(string))
	if str(p, "status") != "approved" || str(p, "icpNumbers", "entity") != "粤ICP备2026012345号" || str(p, "websites", 0, "icpNumber") != "粤ICP备2026012345号-1" {
		t.Fatalf("approved filing: %v", p)
	}
	for _, step := range dig(p, "steps").([]any) {
		if str(step, "state") != "done" {
			t.Fatalf("step %s is %s after approval", str(step, "name"), str(step, "state"))
		}
	}

	trail := a.auditor.must(`query($id: ID!, $pos: String) { auditTrail(filingId: $id, first: 100, minPosition: $pos) { edges { node { revision type actorRole actorAccount commandId summary { zh en } } } } }`,
		map[string]any{"id": id, "pos": res["position"]})
	edges := dig(trail, "auditTrail", "edges").([]any)
	if len(edges) != int(p["revision"].(float64))+1 || str(edges[0], "node", "type") != "filing.type_verified.v1" ||
		str(edges[len(edges)-1], "node", "type") != "filing.bureau_approved.v1" {
		t.Fatalf("audit trail: %d entries, revision %v", len(edges), p["revision"])
	}
	for _, e := range edges {
		if str(e, "node", "actorRole") == "" || str(e, "node", "commandId") == "" || str(e, "node", "summary", "zh") == "" {
			t.Fatalf("audit entry lacks actor, command or summary: %v", e)
		}
	}

	seen := sub.waitFor(t, "approved")
	want := []string{"submitted", "provider_approved", "sent_to_bureau", "sms_pending", "bureau_review", "approved"}
	if i := slices.Index(seen, "draft"); i != 0 || !slices.Equal(seen[1:], want) {
		t.Fatalf("subscriber saw %v, want draft then %v", seen, want)
	}
}

func TestRejectionAndResubmission(t *testing.T) {
	s := startServer(t, t.TempDir())
	a := newActors(t, s, "acct-e2e-2")
	id, sub, _ := fillFiling(t, a)
	res := mutate(a.reviewer, "rejectInitialReview", "RejectInput", map[string]any{"filingId": id, "reasons": []map[string]any{
		{"path": "entity.principal.mobile", "code": "phone_unreachable"}}})
	p := progress(a.applicant, id, res["position"].(string))
	if str(p, "status") != "provider_rejected" || str(p, "currentStep") != "entity" ||
		str(p, "rejection", "reasons", 0, "message", "zh") != "电话无法接通" {
		t.Fatalf("rejected filing: %v", p)
	}
	res = mutate(a.applicant, "submitEntity", "SubmitEntityInput", map[string]any{"filingId": id, "name": "深圳市示例科技有限公司",
		"certificateAddress": "广东省深圳市南山区科技园路1号", "mailingAddress": "广东省深圳市南山区科技园路1号",
		"legalRepresentative": "张三", "principalIsLegalRep": true, "principal": zhangSan("13900139000")})
	res = mutate(a.applicant, "submitForReview", "SubmitForReviewInput", map[string]any{"filingId": id, "termsVersion": "2026-01"})
	if got := str(progress(a.applicant, id, res["position"].(string)), "status"); got != "submitted" {
		t.Fatalf("resubmitted filing: %s", got)
	}
	res = mutate(a.reviewer, "approveInitialReview", "ApproveInitialReviewInput", map[string]any{"filingId": id})
	if got := str(progress(a.applicant, id, res["position"].(string)), "status"); got != "provider_approved" {
		t.Fatalf("approved after resubmission: %s", got)
	}
	seen := sub.waitFor(t, "provider_approved")
	if want := []string{"draft", "submitted", "provider_rejected", "submitted", "provider_approved"}; !slices.Equal(seen, want) {
		t.Fatalf("subscriber saw %v, want %v", seen, want)
	}
}
