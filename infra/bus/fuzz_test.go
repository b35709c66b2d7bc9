package bus

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/beian/beian/infra/eventstore"
)

// FuzzEnvelope: any stored payload either cannot be published (not JSON) or
// is published as valid JSON with every personal string masked.
func FuzzEnvelope(f *testing.F) {
	f.Add("filing.entity_submitted.v1", []byte(`{"entity":{"name":"王五","certificateAddress":"北京市东城区东华门大街5号","principal":{"name":"王五","certificateType":"resident_id","certificateNumber":"110101200001010010","officePhone":"010-12345678","mobile":"13800138000","email":"wangwu@example.cn","emergencyContact":{"name":"王六","mobile":"13900139000"}}}}`))
	f.Add("filing.sms_verification_requested.v1", []byte(`{"recipients":[{"mobile":"13800138000","certSuffix":"071236","codeHash":"ab"}]}`))
	f.Add("x", []byte(`{"mobile":"[erased]","email":"@","certificateNumber":"1"}`))
	f.Add("x", []byte(`{"mailingAddress":"\xff\xfe广东","mobile":"1\u00003"}`))
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		rec := eventstore.RecordedEvent{EventData: eventstore.EventData{ID: "e1", Type: typ, Data: data}, Stream: "filing-f1"}
		ce, err := Envelope(rec, "acct-1")
		if err != nil {
			return
		}
		out, err := json.Marshal(ce)
		if err != nil {
			t.Fatalf("envelope does not marshal: %v", err)
		}
		var back CloudEvent
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("published envelope does not decode: %v", err)
		}
		var payload any
		if err := json.Unmarshal(ce.Data, &payload); err != nil {
			t.Fatalf("published data is not JSON: %v", err)
		}
		checkMasked(t, payload, "")
	})
}

// checkMasked: the personal strings Redact masks carry its stars.
func checkMasked(t *testing.T, v any, key string) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			checkMasked(t, y, k)
		}
	case []any:
		for _, y := range x {
			checkMasked(t, y, key)
		}
	case string:
		switch key {
		case "certificateNumber", "registrantCertificateNumber", "certSuffix", "mobile", "officePhone", "email":
			if x != "" && x != "[erased]" && !strings.Contains(x, "*") {
				t.Fatalf("%s published unmasked: %q", key, x)
			}
		}
	}
}
