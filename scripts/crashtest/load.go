package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	Events   []string `json:"events"` // ids of the events the command appended
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

// laterSteps are the commands after verifyType started the filing.
func laterSteps(filing string) []step {
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

// run walks one filing after another, each of a new account, until finish
// is closed; the command in progress then still completes.
func (l *loader) run(ctx context.Context, finish <-chan struct{}) error {
	for n := 0; ; n++ {
		account := fmt.Sprintf("crash-w%d-f%d", l.worker, n)
		token, err := l.tokens.Mint(account, "applicant", 24*time.Hour)
		if err != nil {
			return err
		}
		start := step{"verifyType", "VerifyTypeInput", map[string]any{"province": "44", "city": "深圳市", "district": "南山区",
			"nature": "enterprise", "certificateType": "business_licence", "certificateNumber": "91440300MA5F12342Q",
			"domains": []string{"example.com"}, "resource": map[string]any{"kind": "instance", "instanceId": "ins-demo"}}}
		steps := []step{start}
		for i := 0; i < len(steps); i++ {
			select {
			case <-finish:
				return nil
			default:
			}
			a, err := l.do(ctx, account, token, fmt.Sprint("k", i), steps[i])
			if err != nil {
				return fmt.Errorf("worker %d, %s %s: %w", l.worker, account, steps[i].mutation, err)
			}
			if i == 0 {
				steps = append(steps, laterSteps(a.Filing)...)
			}
		}
	}
}

// do sends one command until the server answers it, and records the answer
// in the acknowledgement log before returning it.
func (l *loader) do(ctx context.Context, account, token, key string, s step) (ack, error) {
	input := map[string]any{"idempotencyKey": key}
	for k, v := range s.input {
		input[k] = v
	}
	query := fmt.Sprintf(`mutation($in: %s!) { %s(input: $in) { filingId revision repeated events { id } } }`, s.inputType, s.mutation)
	body, err := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"in": input}})
	if err != nil {
		return ack{}, err
	}
	for attempt := 1; ; attempt++ {
		var res struct {
			FilingID string `json:"filingId"`
			Revision uint64 `json:"revision"`
			Repeated bool   `json:"repeated"`
			Events   []struct {
				ID string `json:"id"`
			} `json:"events"`
		}
		err := l.send(ctx, token, body, s.mutation, &res)
		switch {
		case errors.Is(err, errFatal):
			return ack{}, err
		case err != nil:
			// No answer: the server is gone, or not yet back. The same key
			// goes again, to this server or the next.
			select {
			case <-ctx.Done():
				return ack{}, fmt.Errorf("%w (last attempt: %v)", ctx.Err(), err)
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		a := ack{Account: account, Command: s.mutation, Key: key, Filing: res.FilingID, Revision: res.Revision,
			Repeated: res.Repeated, Attempts: attempt}
		for _, e := range res.Events {
			a.Events = append(a.Events, e.ID)
		}
		if len(a.Events) == 0 || a.Filing == "" {
			return ack{}, fmt.Errorf("answer without events or filing: %+v: %w", res, errFatal)
		}
		return a, l.acks.record(a)
	}
}

// send posts the mutation. A GraphQL error other than INTERNAL is fatal: the
// load is valid, so the server refusing it is a finding. Transport errors
// and INTERNAL are answers not given.
func (l *loader) send(ctx context.Context, token string, body []byte, field string, into any) error {
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
