package bench

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The operations of a filing's life, in order, as the README walks them:
// the applicant through every step, the reviewer approving, the bureau
// asking for SMS verification and approving. Every one is a command.
const (
	opVerifyType       = "verifyType"
	opSubmitEntity     = "submitEntity"
	opSubmitWebsite    = "submitWebsite"
	opSubmitPrincipal  = "submitWebsitePrincipal"
	opStartLiveness    = "startLiveness"
	opPassLiveness     = "passLiveness"
	opUploadMaterial   = "uploadMaterial"
	opSubmitForReview  = "submitForReview"
	opApproveInitial   = "approveInitialReview"
	opSendToBureau     = "sendToBureau"
	opRequestSms       = "requestSmsVerification"
	opVerifySmsCode    = "verifySmsCode"
	opApproveByBureau  = "approveByBureau"
	opQueryFiling      = "filing (query)"
	opUpload           = "POST /uploads"
	opDevSms           = "GET /dev/sms"
	commandsPerLife    = 15
	applicantMobile    = "13800138000"
	principalCertified = "440305199003071236"
)

// pngHeader starts every uploaded material: the upload endpoint checks the type.
const pngHeader = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"

func principal() map[string]any {
	return map[string]any{"name": "张三", "certificateType": "resident_id", "certificateNumber": principalCertified,
		"officePhone": "0755-86013388", "mobile": applicantMobile, "email": "zhangsan@example.com"}
}

// life is one filing walked from verifyType to its ICP numbers. Lives
// start on a fixed schedule (the open model); step k of a life is due at
// start + k·gap, or when the life's previous request was answered if that
// is later: a step cannot be sent before the answer it depends on, and the
// lateness of that answer is already counted in its own latency.
type life struct {
	r         *runner
	n         int
	account   string
	applicant string // tokens
	reviewer  string
	bureau    string
	start     time.Time
	id        string
	step      int
	answered  time.Time // the life's last request answered
	watch     *watcher
}

// run walks the whole life; an error ends it.
func (l *life) run(ctx context.Context) error {
	res, err := l.command(ctx, opVerifyType, "VerifyTypeInput", l.applicant, map[string]any{
		"idempotencyKey": fmt.Sprintf("bench-%s-%d", l.r.cfg.RunID, l.n),
		"province":       "44", "city": "深圳市", "district": "南山区", "nature": "enterprise", "certificateType": "business_licence",
		"certificateNumber": "91440300MA5F12342Q", "domains": []string{"example.com"},
		"resource": map[string]any{"kind": "instance", "instanceId": "ins-demo"}})
	if err != nil {
		return err
	}
	l.id = res.FilingID
	if l.r.watchThis(l.n) {
		l.watch = l.r.watch(ctx, l.applicant, l.id)
	}
	in := func(m map[string]any) map[string]any { m["filingId"] = l.id; return m }
	app := []struct {
		op, typ string
		input   map[string]any
	}{
		{opSubmitEntity, "SubmitEntityInput", in(map[string]any{"name": "深圳市示例科技有限公司",
			"certificateAddress": "广东省深圳市南山区科技园路1号", "mailingAddress": "广东省深圳市南山区科技园路1号",
			"legalRepresentative": "张三", "principalIsLegalRep": true, "principal": principal()})},
		{opSubmitWebsite, "SubmitWebsiteInput", in(map[string]any{"name": "示例科技", "domains": []string{"example.com"},
			"homepageUrls": []string{"https://www.example.com/"}, "serviceContent": []string{"portal_entity"}})},
		{opSubmitPrincipal, "SubmitWebsitePrincipalInput", in(map[string]any{"websiteId": "w1", "isLegalRep": true, "principal": principal()})},
	}
	for _, s := range app {
		if _, err := l.command(ctx, s.op, s.typ, l.applicant, s.input); err != nil {
			return err
		}
	}
	res, err = l.command(ctx, opStartLiveness, "StartLivenessInput", l.applicant, in(map[string]any{"websiteId": "w1"}))
	if err != nil {
		return err
	}
	var view struct {
		Filing struct {
			Websites []struct {
				Liveness struct {
					SessionID string `json:"sessionId"`
				} `json:"liveness"`
			} `json:"websites"`
		} `json:"filing"`
	}
	if err := l.read(ctx, res, `query($id: ID!, $pos: String) { filing(id: $id, minPosition: $pos) { websites { liveness { sessionId } } } }`, &view); err != nil {
		return err
	}
	if len(view.Filing.Websites) == 0 || view.Filing.Websites[0].Liveness.SessionID == "" {
		return &opError{Op: opQueryFiling, Code: "NO_SESSION", Msg: "filing shows no liveness session"}
	}
	if _, err := l.command(ctx, opPassLiveness, "LivenessVerdictInput", l.applicant,
		in(map[string]any{"websiteId": "w1", "sessionId": view.Filing.Websites[0].Liveness.SessionID})); err != nil {
		return err
	}
	for i, m := range [][2]string{{"entity_certificate", "entity"}, {"principal_id", "entity"}, {"commitment_letter", "website:w1"}} {
		digest, err := l.upload(ctx, append([]byte(pngHeader), fmt.Sprintf("%s-%d-%d", l.r.cfg.RunID, l.n, i)...))
		if err != nil {
			return err
		}
		if _, err := l.command(ctx, opUploadMaterial, "UploadMaterialInput", l.applicant,
			in(map[string]any{"kind": m[0], "scope": m[1], "sha256": digest})); err != nil {
			return err
		}
	}
	steps := []struct {
		op, typ, token string
		input          map[string]any
	}{
		{opSubmitForReview, "SubmitForReviewInput", l.applicant, in(map[string]any{"termsVersion": "2026-01"})},
		{opApproveInitial, "ApproveInitialReviewInput", l.reviewer, in(map[string]any{"note": "资料齐全"})},
		{opSendToBureau, "FilingInput", l.reviewer, in(map[string]any{})},
		{opRequestSms, "FilingInput", l.bureau, in(map[string]any{})},
	}
	for _, s := range steps {
		if _, err := l.command(ctx, s.op, s.typ, s.token, s.input); err != nil {
			return err
		}
	}
	var inbox struct {
		Code string `json:"code"`
	}
	start := time.Now()
	err = l.r.do(ctx, func(ctx context.Context) error {
		return l.r.client.get(ctx, opDevSms, "GET", "/dev/sms?filingId="+l.id+"&mobile="+applicantMobile, l.applicant, "", nil, &inbox, 200)
	})
	l.answered = time.Now()
	l.r.done(opDevSms, start, err)
	if err != nil {
		return err
	}
	if _, err := l.command(ctx, opVerifySmsCode, "VerifySmsCodeInput", l.applicant, in(map[string]any{"mobile": applicantMobile,
		"certSuffix": principalCertified[len(principalCertified)-6:], "code": inbox.Code})); err != nil {
		return err
	}
	// Serials are the bureau's: unique per filing of the run.
	if _, err := l.command(ctx, opApproveByBureau, "ApproveByBureauInput", l.bureau,
		in(map[string]any{"serial": fmt.Sprintf("%010d", l.r.serialBase+l.n)})); err != nil {
		return err
	}
	if l.watch != nil {
		l.r.expectApproved(l.watch)
	}
	return nil
}

// commandResult is what every mutation returns.
type commandResult struct {
	FilingID string `json:"filingId"`
	Revision int    `json:"revision"`
	Position string `json:"position"`
}

// command sends the life's next command at its scheduled time and records
// its latency from that time, so a late answer delays nothing unseen.
func (l *life) command(ctx context.Context, op, inputType, token string, input map[string]any) (commandResult, error) {
	due := l.start.Add(time.Duration(l.step) * l.r.cfg.StepGap)
	if l.answered.After(due) {
		due = l.answered
	}
	l.step++
	if wait := time.Until(due); wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return commandResult{}, &opError{Op: op, Code: "CANCELLED", Err: ctx.Err()}
		}
	}
	q := fmt.Sprintf(`mutation($in: %s!) { %s(input: $in) { filingId revision position } }`, inputType, op)
	var out map[string]commandResult
	err := l.r.do(ctx, func(ctx context.Context) error {
		return l.r.client.graphql(ctx, op, token, q, map[string]any{"in": input}, &out)
	})
	acked := time.Now()
	l.answered = acked
	l.r.done(op, due, err)
	if err != nil {
		return commandResult{}, err
	}
	l.r.acked(acked)
	res := out[op]
	if l.watch != nil {
		l.watch.acked(res.Revision, acked)
	}
	if l.r.sampleLag() {
		if err := l.read(ctx, res, `query($id: ID!, $pos: String) { filing(id: $id, minPosition: $pos) { revision } }`, &struct{}{}); err != nil {
			return res, err
		}
		l.r.lag.Record(time.Since(acked))
	}
	return res, nil
}

// read queries the filing once the read model has applied the command.
func (l *life) read(ctx context.Context, res commandResult, query string, out any) error {
	start := time.Now()
	err := l.r.do(ctx, func(ctx context.Context) error {
		return l.r.client.graphql(ctx, opQueryFiling, l.applicant, query, map[string]any{"id": res.FilingID, "pos": res.Position}, out)
	})
	l.answered = time.Now()
	l.r.done(opQueryFiling, start, err)
	return err
}

func (l *life) upload(ctx context.Context, content []byte) (string, error) {
	var digest string
	start := time.Now()
	err := l.r.do(ctx, func(ctx context.Context) error {
		var err error
		digest, err = l.r.client.upload(ctx, l.applicant, content)
		return err
	})
	l.answered = time.Now()
	l.r.done(opUpload, start, err)
	return digest, err
}

// code is the error code of a failed operation.
func code(err error) string {
	var oe *opError
	if errors.As(err, &oe) {
		return oe.Code
	}
	return "OTHER"
}
