package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/beian/beian/infra/eventstore"
)

// The authorisation matrix: every query and mutation, with a token of every
// role, another applicant's token and none; a refusal writes nothing.
// TestEveryOperationHasAnAbuseCase keeps it complete against the schema. "ok" means the request got past
// authorisation (it may still fail on the filing's state or input); any
// other value is the error code the request must get.

type operation struct {
	name  string
	query string // $id is the owner's filing
	vars  func(id string) map[string]any
}

func in(id string, extra map[string]any) map[string]any {
	input := map[string]any{"filingId": id}
	for k, v := range extra {
		input[k] = v
	}
	return map[string]any{"in": input}
}

func mutationOp(name, inputType string, extra map[string]any) operation {
	return operation{name: name, query: fmt.Sprintf(`mutation($in: %s!) { %s(input: $in) { filingId } }`, inputType, name),
		vars: func(id string) map[string]any { return in(id, extra) }}
}

func queryOp(name, query string) operation {
	return operation{name: name, query: query, vars: func(id string) map[string]any {
		vars := map[string]any{}
		if strings.Contains(query, "$id") {
			vars["id"] = id
		}
		if strings.Contains(query, "$pos") {
			vars["pos"] = "0" // replaced by the cell's position
		}
		return vars
	}}
}

var principal = map[string]any{"name": "张三", "certificateType": "resident_id", "certificateNumber": "440305199003071236",
	"officePhone": "0755-86013388", "mobile": "13800138000", "email": "z@example.com"}

func operations() []operation {
	reasons := map[string]any{"reasons": []map[string]any{{"path": "entity", "code": "other"}}}
	return []operation{
		queryOp("me", `{ me { account } }`),
		queryOp("filing", `query($id: ID!, $pos: String) { filing(id: $id, minPosition: $pos) { id } }`),
		queryOp("filings", `{ filings { edges { node { id } } } }`),
		queryOp("filingAt", `query($id: ID!) { filingAt(id: $id, revision: 0) { revision } }`),
		queryOp("auditTrail", `query($id: ID!, $pos: String) { auditTrail(filingId: $id, minPosition: $pos) { edges { node { type } } } }`),
		queryOp("reviewQueue", `{ reviewQueue { edges { node { filingId } } } }`),
		queryOp("provinces", `{ provinces { code } }`),
		queryOp("stats", `{ stats { initialReviews } }`),
		queryOp("filing reveal", `query($id: ID!, $pos: String) { filing(id: $id, minPosition: $pos, reveal: {reason: "authorisation matrix"}) { id } }`),
		queryOp("filingAt reveal", `query($id: ID!) { filingAt(id: $id, revision: 0, reveal: {reason: "authorisation matrix"}) { revision } }`),
		queryOp("personalDataAccess", `{ personalDataAccess { edges { node { reason } } } }`),
		queryOp("subjectErasures", `{ subjectErasures { edges { node { subject } } } }`),
		{name: "verifyType", query: `mutation($in: VerifyTypeInput!) { verifyType(input: $in) { filingId } }`,
			vars: func(id string) map[string]any {
				return map[string]any{"in": map[string]any{"province": "44", "city": "深圳市", "nature": "enterprise",
					"certificateType": "business_licence", "certificateNumber": "91440300MA5F12342Q", "domains": []string{"example.net"},
					"resource": map[string]any{"kind": "instance", "instanceId": "ins-demo"}}}
			}},
		mutationOp("submitEntity", "SubmitEntityInput", map[string]any{"name": "深圳市示例科技有限公司", "certificateAddress": "广东省深圳市南山区科技园路1号",
			"mailingAddress": "广东省深圳市南山区科技园路1号", "legalRepresentative": "张三", "principalIsLegalRep": true, "principal": principal}),
		mutationOp("submitWebsite", "SubmitWebsiteInput", map[string]any{"name": "示例科技", "domains": []string{"example.com"},
			"homepageUrls": []string{"https://example.com"}, "serviceContent": []string{"portal_entity"}}),
		mutationOp("removeWebsite", "RemoveWebsiteInput", map[string]any{"websiteId": "w1"}),
		mutationOp("submitWebsitePrincipal", "SubmitWebsitePrincipalInput", map[string]any{"websiteId": "w1", "principal": principal}),
		{name: "recognizeCertificate", query: `mutation { recognizeCertificate(input: {sha256: "00"}) { name { value } } }`,
			vars: func(string) map[string]any { return nil }},
		mutationOp("startLiveness", "StartLivenessInput", map[string]any{"websiteId": "w1"}),
		mutationOp("passLiveness", "LivenessVerdictInput", map[string]any{"websiteId": "w1", "sessionId": "s"}),
		mutationOp("failLiveness", "LivenessVerdictInput", map[string]any{"websiteId": "w1", "sessionId": "s", "reasons": []string{"x"}}),
		mutationOp("uploadMaterial", "UploadMaterialInput", map[string]any{"kind": "other", "scope": "entity", "sha256": strings.Repeat("0", 64)}),
		mutationOp("removeMaterial", "RemoveMaterialInput", map[string]any{"kind": "other", "scope": "entity"}),
		mutationOp("submitForReview", "SubmitForReviewInput", map[string]any{"termsVersion": "v1"}),
		mutationOp("withdrawFiling", "ReasonedInput", nil),
		mutationOp("abandonFiling", "ReasonedInput", nil),
		mutationOp("approveInitialReview", "ApproveInitialReviewInput", nil),
		mutationOp("rejectInitialReview", "RejectInput", reasons),
		mutationOp("sendToBureau", "FilingInput", nil),
		mutationOp("requestSmsVerification", "FilingInput", nil),
		mutationOp("verifySmsCode", "VerifySmsCodeInput", map[string]any{"mobile": "13800138000", "certSuffix": "071236", "code": "123456"}),
		mutationOp("approveByBureau", "ApproveByBureauInput", map[string]any{"serial": "2026012345"}),
		mutationOp("rejectByBureau", "RejectInput", reasons),
		{name: "eraseSubject", query: `mutation($in: EraseSubjectInput!) { eraseSubject(input: $in) { subject } }`,
			vars: func(string) map[string]any {
				return map[string]any{"in": map[string]any{"subject": "110101199001011234", "reason": "authorisation matrix"}}
			}},
	}
}

// Callers of the matrix.
const (
	owner     = "owner"
	other     = "other applicant"
	reviewer  = "reviewer"
	bureau    = "bureau"
	auditor   = "auditor"
	admin     = "admin"
	anonymous = "anonymous"
)

func callers() []string { return []string{owner, other, reviewer, bureau, auditor, admin, anonymous} }

// expected says what a caller gets for an operation.
func expected(op, caller string) string {
	if caller == anonymous {
		return "UNAUTHENTICATED"
	}
	staffRead := map[string]bool{reviewer: true, bureau: true, auditor: true, admin: true}
	applicantCommand := map[string]bool{"submitEntity": true, "submitWebsite": true, "removeWebsite": true, "submitWebsitePrincipal": true,
		"startLiveness": true, "uploadMaterial": true, "removeMaterial": true, "submitForReview": true, "withdrawFiling": true,
		"abandonFiling": true, "verifySmsCode": true}
	switch {
	case op == "me" || op == "provinces" || op == "filings":
		return "ok"
	case op == "filing" || op == "filingAt" || op == "auditTrail":
		if caller == other {
			return "NOT_FOUND"
		}
		return "ok"
	case op == "reviewQueue":
		return map[bool]string{true: "ok", false: "FORBIDDEN"}[caller == reviewer || caller == auditor || caller == admin]
	case op == "stats":
		return map[bool]string{true: "ok", false: "FORBIDDEN"}[staffRead[caller]]
	case op == "verifyType" || op == "recognizeCertificate":
		return map[bool]string{true: "ok", false: "FORBIDDEN"}[caller == owner || caller == other || caller == admin]
	case applicantCommand[op]:
		switch caller {
		case owner, admin:
			return "ok"
		case other:
			return "NOT_FOUND"
		}
		return "FORBIDDEN"
	case op == "passLiveness" || op == "failLiveness":
		// The liveness provider's verdict: admins, and in dev mode the owner
		// through the simulated provider.
		return map[bool]string{true: "ok", false: "FORBIDDEN"}[caller == owner || caller == admin]
	case op == "approveInitialReview" || op == "rejectInitialReview" || op == "sendToBureau":
		return map[bool]string{true: "ok", false: "FORBIDDEN"}[caller == reviewer || caller == admin]
	case op == "filing reveal" || op == "filingAt reveal":
		// Reviewers, the bureau and admins may reveal; another's filing
		// stays NOT_FOUND to an applicant, as without reveal.
		if caller == other {
			return "NOT_FOUND"
		}
		return map[bool]string{true: "ok", false: "FORBIDDEN"}[caller == reviewer || caller == bureau || caller == admin]
	case op == "personalDataAccess" || op == "subjectErasures":
		return map[bool]string{true: "ok", false: "FORBIDDEN"}[caller == auditor || caller == admin]
	case op == "eraseSubject":
		return map[bool]string{true: "ok", false: "FORBIDDEN"}[caller == admin]
	case op == "requestSmsVerification" || op == "approveByBureau" || op == "rejectByBureau":
		return map[bool]string{true: "ok", false: "FORBIDDEN"}[caller == bureau || caller == admin]
	}
	return "unknown operation " + op
}

func TestAuthorisationMatrix(t *testing.T) {
	p := startInProcess(t, t.TempDir())
	roles := map[string][2]string{reviewer: {"reviewer", "rev-1"}, bureau: {"bureau", "bur-1"}, auditor: {"auditor", "aud-1"},
		admin: {"admin", "adm-1"}, anonymous: {"", ""}}
	cell := 0
	for _, op := range operations() {
		for _, caller := range callers() {
			cell++
			// Each cell gets its own owner and filing: an allowed command may change it.
			ownerAccount := fmt.Sprintf("owner-%d", cell)
			ownerClient := p.as("applicant", ownerAccount)
			started := ownerClient.must(`mutation { verifyType(input: {province: "44", city: "深圳市", nature: "enterprise",
				certificateType: "business_licence", certificateNumber: "91440300MA5F12342Q", domains: ["example.com"],
				resource: {kind: "instance", instanceId: "ins-demo"}}) { filingId position } }`, nil)
			id := str(started, "verifyType", "filingId")
			var c *client
			switch caller {
			case owner:
				c = ownerClient
			case other:
				c = p.as("applicant", fmt.Sprintf("other-%d", cell))
			default:
				c = p.as(roles[caller][0], roles[caller][1])
			}
			want := expected(op.name, caller)
			vars := op.vars(id)
			if _, ok := vars["pos"]; ok {
				vars["pos"] = str(started, "verifyType", "position")
			}
			before := p.head(t)
			_, errs := c.query(op.query, vars)
			if len(errs) > 0 && p.head(t) != before {
				t.Errorf("%s as %s: refused (%v), yet the log moved", op.name, caller, errs)
			}
			got := "ok"
			if len(errs) > 0 {
				code, _ := errs[0].Extensions["code"].(string)
				if code == "FORBIDDEN" || code == "NOT_FOUND" || code == "UNAUTHENTICATED" || want != "ok" {
					got = code
				}
			}
			if got != want {
				t.Errorf("%s as %s: got %s, want %s (%v)", op.name, caller, got, want, errs)
			}
		}
	}
	// Applicants list their own filings only.
	data := p.as("applicant", "owner-1").must(`{ filings { edges { node { account } } } }`, nil)
	for _, e := range dig(data, "filings", "edges").([]any) {
		if str(e, "node", "account") != "owner-1" {
			t.Fatalf("an applicant listed another's filing: %v", e)
		}
	}
}

// TestPersonalDataMasked: staff see ID numbers, phones and e-mails masked;
// a reviewer who reveals them, with a reason, sees them whole, and the read
// is recorded in the chained privacy-access stream that auditors page
// through.
func TestPersonalDataMasked(t *testing.T) {
	p := startInProcess(t, t.TempDir())
	app := p.as("applicant", "acct-mask")
	id := str(app.must(`mutation { verifyType(input: {province: "44", city: "深圳市", nature: "enterprise",
		certificateType: "business_licence", certificateNumber: "91440300MA5F12342Q", domains: ["example.com"],
		resource: {kind: "instance", instanceId: "ins-demo"}}) { filingId } }`, nil), "verifyType", "filingId")
	res := app.must(`mutation($in: SubmitEntityInput!) { submitEntity(input: $in) { position } }`, in(id, map[string]any{
		"name": "深圳市示例科技有限公司", "certificateAddress": "广东省深圳市南山区科技园路1号", "mailingAddress": "广东省深圳市南山区科技园路1号",
		"legalRepresentative": "张三", "principalIsLegalRep": true, "principal": principal}))
	q := `query($id: ID!, $pos: String) { filing(id: $id, minPosition: $pos) { entity { mailingAddress principal { certificateNumber mobile email } } } }`
	vars := map[string]any{"id": id, "pos": str(res, "submitEntity", "position")}
	masked := p.as("auditor", "aud-1").must(q, vars)
	if got := str(masked, "filing", "entity", "principal", "certificateNumber"); got != "440305********1236" {
		t.Errorf("auditor sees ID %q", got)
	}
	if got := str(masked, "filing", "entity", "principal", "mobile"); got != "138****8000" {
		t.Errorf("auditor sees mobile %q", got)
	}
	if got := str(masked, "filing", "entity", "principal", "email"); got != "z***@example.com" {
		t.Errorf("auditor sees email %q", got)
	}
	if got := str(masked, "filing", "entity", "mailingAddress"); strings.Contains(got, "科技园路") {
		t.Errorf("auditor sees address %q", got)
	}
	rev := p.as("reviewer", "rev-1")
	if got := str(rev.must(q, vars), "filing", "entity", "principal", "certificateNumber"); got != "440305********1236" {
		t.Errorf("reviewer without reveal sees ID %q", got)
	}
	revealQ := `query($id: ID!, $reason: String!) { filing(id: $id, reveal: {reason: $reason}) { entity { principal { certificateNumber mobile } } } }`
	_, errs := rev.query(revealQ, map[string]any{"id": id, "reason": " "})
	assertFields(t, errs, "reveal.reason:required")
	if code := p.as("auditor", "aud-1").code(revealQ, map[string]any{"id": id, "reason": "curious"}); code != "FORBIDDEN" {
		t.Errorf("an auditor revealing: %s", code)
	}
	for _, reason := range []string{"initial review of the entity", "second look", "third look"} {
		whole := rev.must(revealQ, map[string]any{"id": id, "reason": reason})
		if got := str(whole, "filing", "entity", "principal", "certificateNumber"); got != "440305199003071236" {
			t.Errorf("reviewer revealing sees ID %q", got)
		}
	}
	if got := str(p.as("bureau", "bur-1").must(`query($id: ID!) { filingAt(id: $id, revision: 1, reveal: {reason: "bureau check"}) { filing { entity { principal { mobile } } } } }`,
		map[string]any{"id": id}), "filingAt", "filing", "entity", "principal", "mobile"); got != "13800138000" {
		t.Errorf("bureau revealing filingAt sees %q", got)
	}

	accessQ := `query($after: String) { personalDataAccess(first: 2, after: $after) { edges { cursor node { actorAccount actorRole filingId query
		fields subjects reason at hash } } pageInfo { hasNextPage endCursor } } }`
	if code := rev.code(accessQ, nil); code != "FORBIDDEN" {
		t.Errorf("a reviewer reading the access record: %s", code)
	}
	aud := p.as("auditor", "aud-1")
	page := aud.must(accessQ, nil)
	first := dig(page, "personalDataAccess", "edges").([]any)
	if len(first) != 2 || dig(page, "personalDataAccess", "pageInfo", "hasNextPage") != true {
		t.Fatalf("first page: %v", page)
	}
	e := first[0].(map[string]any)["node"]
	if str(e, "actorAccount") != "rev-1" || str(e, "actorRole") != "reviewer" || str(e, "filingId") != id || str(e, "query") != "filing" ||
		str(e, "reason") != "initial review of the entity" || str(e, "hash") == "" || str(e, "at") == "" ||
		str(e, "subjects", 0) != p.svc.privacy.SubjectID("440305199003071236") || str(e, "fields", 0) != "certificateNumber" {
		t.Errorf("access record: %v", e)
	}
	page = aud.must(accessQ, map[string]any{"after": str(page, "personalDataAccess", "pageInfo", "endCursor")})
	rest := dig(page, "personalDataAccess", "edges").([]any)
	if len(rest) != 2 || dig(page, "personalDataAccess", "pageInfo", "hasNextPage") != false ||
		str(rest[1], "node", "actorRole") != "bureau" || str(rest[1], "node", "query") != "filingAt" {
		t.Fatalf("second page: %v", page)
	}
	for _, e := range append(first, rest...) {
		if strings.Contains(fmt.Sprint(e), "440305199003071236") {
			t.Errorf("the access record holds the ID number: %v", e)
		}
	}
	if _, err := eventstore.VerifyLog(t.Context(), p.svc.log); err != nil {
		t.Errorf("the log with the access record: %v", err)
	}
}
