package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/beian/beian/api"
	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// The authorisation matrix of the filingUpdated subscription, over a real
// WebSocket (graphql-transport-ws) to the wired service: every caller of
// TestAuthorisationMatrix, plus a token the service did not sign.
// Allowed callers get the filing's progress as the first next message;
// applicants may watch only their own filings (another's is NOT_FOUND, so
// its existence does not leak); a connection_init without a valid token is
// refused with close code 4403.

func TestSubscriptionAuthorisationMatrix(t *testing.T) {
	p := startInProcess(t, t.TempDir())
	started := p.as("applicant", "owner-sub").must(`mutation { verifyType(input: {province: "44", city: "深圳市", nature: "enterprise",
		certificateType: "business_licence", certificateNumber: "91440300MA5F12342Q", domains: ["example.com"],
		resource: {kind: "instance", instanceId: "ins-demo"}}) { filingId } }`, nil)
	id := str(started, "verifyType", "filingId")
	token := func(role, account string) string {
		if role == "" {
			return ""
		}
		tok, err := p.svc.tokens.Mint(account, role, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	forged, err := api.NewTokens(bytes.Repeat([]byte{7}, 32), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	forgedToken, err := forged.Mint("owner-sub", "applicant", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		caller string
		header string // connection_init's Authorization; "" sends none
		want   string // "ok", an error code, or "close NNNN"
	}{
		{"owner applicant", "Bearer " + token("applicant", "owner-sub"), "ok"},
		{"other applicant", "Bearer " + token("applicant", "other-sub"), api.CodeNotFound},
		{"reviewer", "Bearer " + token("reviewer", "rev-1"), "ok"},
		{"bureau", "Bearer " + token("bureau", "bur-1"), "ok"},
		{"auditor", "Bearer " + token("auditor", "aud-1"), "ok"},
		{"admin", "Bearer " + token("admin", "adm-1"), "ok"},
		{"no token", "", "close 4403"},
		{"malformed token", "Bearer not-a-token", "close 4403"},
		{"token signed by another secret", "Bearer " + forgedToken, "close 4403"},
	}
	for _, c := range cases {
		t.Run(c.caller, func(t *testing.T) {
			if got := watchFiling(t, p.url, c.header, id); got != c.want {
				t.Errorf("filingUpdated as %s: got %s, want %s", c.caller, got, c.want)
			}
		})
	}
}

// watchFiling subscribes to filingUpdated(id) and returns "ok" once the
// first next message carries the filing, the error code of a refusal, or
// the close code of a refused connection.
func watchFiling(t *testing.T, url, header, id string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a hung test, not a timing assertion
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	payload := map[string]any{}
	if header != "" {
		payload["Authorization"] = header
	}
	if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": payload}); err != nil {
		t.Fatal(err)
	}
	read := func() (map[string]any, string) {
		var msg map[string]any
		err := wsjson.Read(ctx, conn, &msg)
		var ce websocket.CloseError
		switch {
		case errors.As(err, &ce):
			return nil, fmt.Sprintf("close %d", ce.Code)
		case err != nil:
			t.Fatalf("read: %v", err)
		}
		return msg, ""
	}
	ack, closed := read()
	if closed != "" {
		return closed
	}
	if ack["type"] != "connection_ack" {
		t.Fatalf("after connection_init: %v", ack)
	}
	if err := wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query":     `subscription($id: ID!) { filingUpdated(id: $id) { id status revision } }`,
		"variables": map[string]any{"id": id}}}); err != nil {
		t.Fatal(err)
	}
	msg, closed := read()
	if closed != "" {
		return closed
	}
	var errs []any
	switch msg["type"] {
	case "next":
		if got := str(msg, "payload", "data", "filingUpdated", "id"); got == id && dig(msg, "payload", "errors") == nil {
			if str(msg, "payload", "data", "filingUpdated", "status") == "" {
				t.Fatalf("progress without a status: %v", msg)
			}
			return "ok"
		}
		errs, _ = dig(msg, "payload", "errors").([]any)
		// A refusal ends the operation: nothing follows but complete.
		if end, closed := read(); closed != "" || end["type"] != "complete" || end["id"] != "1" {
			t.Errorf("after the refusal %v: %v %s", msg, end, closed)
		}
	case "error": // ends the operation by itself
		errs, _ = msg["payload"].([]any)
	}
	if len(errs) == 0 {
		t.Fatalf("first message is neither the filing nor an error: %v", msg)
	}
	if leaked := dig(msg, "payload", "data", "filingUpdated"); leaked != nil {
		t.Fatalf("a refusal carries data: %v", msg)
	}
	code := str(errs[0], "extensions", "code")
	if code == "" {
		raw, _ := json.Marshal(msg)
		return "error without extensions.code: " + string(raw)
	}
	return code
}
