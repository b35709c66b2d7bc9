package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/beian/beian/api"
)

// ack is one acknowledged command, a line of the acknowledgement log.
type ack struct {
	Account  string   `json:"account"`
	Command  string   `json:"command"`
	Key      string   `json:"key"` // the idempotency key, the same on every attempt
	Filing   string   `json:"filing"`
	Revision uint64   `json:"revision"`
	Position string   `json:"position"` // for reading one's own write
	Events   []string `json:"events"`   // ids of the events the command appended
	Repeated bool     `json:"repeated"`
	Attempts int      `json:"attempts"`
}

// ackLog is the load client's own record of what the server acknowledged.
// A command counts as acknowledged only once its line is fsynced.
type ackLog struct {
	path string
	mu   sync.Mutex
	f    *os.File
	n    int
}

func openAckLog(path string) (*ackLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("crashtest: acknowledgement log: %w", err)
	}
	return &ackLog{path: path, f: f}, nil
}

func (l *ackLog) record(a ack) error {
	line, err := json.Marshal(a)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("crashtest: acknowledgement log: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("crashtest: acknowledgement log: %w", err)
	}
	l.n++
	return nil
}

func (l *ackLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

func (l *ackLog) close() { l.f.Close() }

// readAcks reads the acknowledgement log back from the disk.
func readAcks(path string) ([]ack, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("crashtest: %w", err)
	}
	defer f.Close()
	var out []ack
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var a ack
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			return nil, fmt.Errorf("crashtest: acknowledgement log line %d: %w", len(out)+1, err)
		}
		out = append(out, a)
	}
	return out, sc.Err()
}

// loader walks filings through the applicant's steps, one command at a
// time, each with its own idempotency key; a command the server did not
// answer is sent again, with the same key and input, until it is answered.
type loader struct {
	worker int
	tokens *api.Tokens
	at     *endpoint
	acks   *ackLog
	http   *http.Client
}

// step is one command of a filing's life.
type step struct {
	mutation, inputType string
	input               map[string]any
}

// entityEdits is how many times each filing's entity is edited again after
// its website principal: cheap appends that keep the log moving.
const entityEdits = 6

func principal() map[string]any {
	return map[string]any{"name": "张三", "certificateType": "resident_id", "certificateNumber": "440305199003071236",
		"officePhone": "0755-86013388", "mobile": "13800138000", "email": "zhangsan@example.com"}
}

func entity(filing, remarks string) map[string]any {
	return map[string]any{"filingId": filing, "name": "深圳市示例科技有限公司", "certificateAddress": "广东省深圳市南山区科技园路1号",
		"mailingAddress": "广东省深圳市南山区科技园路1号", "legalRepresentative": "张三", "principalIsLegalRep": true,
		"remarks": remarks, "principal": principal()}
}

// draftSteps are the commands after verifyType started the filing, up to
// the liveness check.
func draftSteps(filing string) []step {
	steps := []step{
		{"submitEntity", "SubmitEntityInput", entity(filing, "")},
		{"submitWebsite", "SubmitWebsiteInput", map[string]any{"filingId": filing, "name": "示例科技", "domains": []string{"example.com"},
			"homepageUrls": []string{"https://www.example.com/"}, "serviceContent": []string{"portal_entity"}}},
		{"submitWebsitePrincipal", "SubmitWebsitePrincipalInput", map[string]any{"filingId": filing, "websiteId": "w1",
			"isLegalRep": true, "principal": principal()}},
	}
	for i := range entityEdits {
		steps = append(steps, step{"submitEntity", "SubmitEntityInput", entity(filing, fmt.Sprint("第", i+1, "次修改"))})
	}
	return steps
}

// pngHeader starts every uploaded file, so the blob store takes it as PNG.
const pngHeader = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"

// errFinished: the run asked for no new command.
var errFinished = errors.New("finished")

// run walks one filing after another, each of a new account, until finish
// is closed; the command in progress then still completes.
func (l *loader) run(ctx context.Context, finish <-chan struct{}) error {
	reviewer, err := l.tokens.Mint(fmt.Sprintf("crash-reviewer-%d", l.worker), "reviewer", 24*time.Hour)
	if err != nil {
		return err
	}
	for n := 0; ; n++ {
		err := l.life(ctx, fmt.Sprintf("crash-w%d-f%d", l.worker, n), reviewer, finish)
		if errors.Is(err, errFinished) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("worker %d: %w", l.worker, err)
		}
	}
}

// life takes one filing from verifyType to the bureau: the applicant's
// steps with entity edits, the liveness check, three uploaded materials,
// the submission, and the reviewer's approval.
func (l *loader) life(ctx context.Context, account, reviewer string, finish <-chan struct{}) error {
	app, err := l.tokens.Mint(account, "applicant", 24*time.Hour)
	if err != nil {
		return err
	}
	key := 0
	do := func(token string, s step) (ack, error) {
		select {
		case <-finish:
			return ack{}, errFinished
		default:
		}
		key++
		a, err := l.do(ctx, account, token, fmt.Sprint("k", key), s)
		if err != nil {
			return ack{}, fmt.Errorf("%s %s: %w", account, s.mutation, err)
		}
		return a, nil
	}
	a, err := do(app, step{"verifyType", "VerifyTypeInput", map[string]any{"province": "44", "city": "深圳市", "district": "南山区",
		"nature": "enterprise", "certificateType": "business_licence", "certificateNumber": "91440300MA5F12342Q",
		"domains": []string{"example.com"}, "resource": map[string]any{"kind": "instance", "instanceId": "ins-demo"}}})
	if err != nil {
		return err
	}
	filing := a.Filing
	for _, s := range draftSteps(filing) {
		if _, err := do(app, s); err != nil {
			return err
		}
	}
	if a, err = do(app, step{"startLiveness", "StartLivenessInput", map[string]any{"filingId": filing, "websiteId": "w1"}}); err != nil {
		return err
	}
	var session struct {
		Websites []struct {
			Liveness struct {
				SessionID string `json:"sessionId"`
			} `json:"liveness"`
		} `json:"websites"`
	}
	if err := l.query(ctx, app, `query($id: ID!, $p: String) { filing(id: $id, minPosition: $p) { websites { liveness { sessionId } } } }`,
		map[string]any{"id": filing, "p": a.Position}, "filing", &session); err != nil || len(session.Websites) == 0 {
		return fmt.Errorf("%s: the liveness session: %w", account, err)
	}
	if _, err := do(app, step{"passLiveness", "LivenessVerdictInput", map[string]any{"filingId": filing, "websiteId": "w1",
		"sessionId": session.Websites[0].Liveness.SessionID}}); err != nil {
		return err
	}
	// The demo filing's required materials: kind and scope.
	for i, m := range [][2]string{{"entity_certificate", "entity"}, {"principal_id", "entity"}, {"commitment_letter", "website:w1"}} {
		digest, err := l.upload(ctx, app, []byte(pngHeader+filing+fmt.Sprint(i)))
		if err != nil {
			return fmt.Errorf("%s: upload: %w", account, err)
		}
		if _, err := do(app, step{"uploadMaterial", "UploadMaterialInput", map[string]any{"filingId": filing, "kind": m[0],
			"scope": m[1], "sha256": digest}}); err != nil {
			return err
		}
	}
	if _, err := do(app, step{"submitForReview", "SubmitForReviewInput", map[string]any{"filingId": filing, "termsVersion": "2026-01"}}); err != nil {
		return err
	}
	if _, err := do(reviewer, step{"approveInitialReview", "ApproveInitialReviewInput", map[string]any{"filingId": filing, "note": "资料齐全"}}); err != nil {
		return err
	}
	_, err = do(reviewer, step{"sendToBureau", "FilingInput", map[string]any{"filingId": filing}})
	return err
}

// retry runs f until it is answered: a failure marked errFatal ends it,
// any other (no server, a cut connection, INTERNAL) is tried again.
func retry(ctx context.Context, f func() error) (int, error) {
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || errors.Is(err, errFatal) {
			return attempt, err
		}
		select {
		case <-ctx.Done():
			return attempt, fmt.Errorf("%w (last attempt: %v)", ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// do sends one command until the server answers it, the same key and input
// each time, and records the answer in the acknowledgement log before
// returning it.
func (l *loader) do(ctx context.Context, account, token, key string, s step) (ack, error) {
	input := map[string]any{"idempotencyKey": key}
	for k, v := range s.input {
		input[k] = v
	}
	query := fmt.Sprintf(`mutation($in: %s!) { %s(input: $in) { filingId revision position repeated events { id } } }`, s.inputType, s.mutation)
	var res struct {
		FilingID string `json:"filingId"`
		Revision uint64 `json:"revision"`
		Position string `json:"position"`
		Repeated bool   `json:"repeated"`
		Events   []struct {
			ID string `json:"id"`
		} `json:"events"`
	}
	attempts, err := retry(ctx, func() error {
		return l.send(ctx, token, query, map[string]any{"in": input}, s.mutation, &res)
	})
	if err != nil {
		return ack{}, err
	}
	a := ack{Account: account, Command: s.mutation, Key: key, Filing: res.FilingID, Revision: res.Revision,
		Position: res.Position, Repeated: res.Repeated, Attempts: attempts}
	for _, e := range res.Events {
		a.Events = append(a.Events, e.ID)
	}
	if len(a.Events) == 0 || a.Filing == "" {
		return ack{}, fmt.Errorf("answer without events or filing: %+v: %w", res, errFatal)
	}
	return a, l.acks.record(a)
}

// query reads until the server answers.
func (l *loader) query(ctx context.Context, token, query string, vars map[string]any, field string, into any) error {
	_, err := retry(ctx, func() error { return l.send(ctx, token, query, vars, field, into) })
	return err
}

// upload posts a file to /uploads until it is stored, and returns its digest.
func (l *loader) upload(ctx context.Context, token string, content []byte) (string, error) {
	var digest string
	_, err := retry(ctx, func() error {
		url := l.at.get()
		if url == "" {
			return errors.New("no server")
		}
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		part, err := w.CreateFormFile("file", "material.png")
		if err != nil {
			return err
		}
		if _, err := part.Write(content); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/uploads", &body)
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", w.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := l.http.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var out struct {
			SHA256 string `json:"sha256"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return fmt.Errorf("upload: HTTP %d: %w", resp.StatusCode, err)
		}
		switch {
		case resp.StatusCode == http.StatusCreated && out.SHA256 != "":
			digest = out.SHA256
			return nil
		case resp.StatusCode >= 500:
			return fmt.Errorf("upload: HTTP %d", resp.StatusCode)
		}
		return fmt.Errorf("upload: HTTP %d: %w", resp.StatusCode, errFatal)
	})
	return digest, err
}

// send posts a GraphQL operation. A GraphQL error other than INTERNAL is
// fatal: the load is valid, so the server refusing it is a finding.
// Transport errors and INTERNAL are answers not given.
func (l *loader) send(ctx context.Context, token, query string, vars map[string]any, field string, into any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return fmt.Errorf("%w: %w", err, errFatal)
	}
	url := l.at.get()
	if url == "" {
		return errors.New("no server")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := l.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct {
		Data   map[string]json.RawMessage `json:"data"`
		Errors []struct {
			Message    string `json:"message"`
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return fmt.Errorf("HTTP %d: %w", resp.StatusCode, err) // cut off by the kill
	}
	if len(out.Errors) > 0 {
		e := out.Errors[0]
		if e.Extensions.Code == "INTERNAL" {
			return fmt.Errorf("%s: %s", e.Extensions.Code, e.Message)
		}
		return fmt.Errorf("%s: %s: %w", e.Extensions.Code, e.Message, errFatal)
	}
	if err := json.Unmarshal(out.Data[field], into); err != nil {
		return fmt.Errorf("answer %s: %w: %w", out.Data[field], err, errFatal)
	}
	return nil
}
