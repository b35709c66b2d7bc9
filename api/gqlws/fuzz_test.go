package gqlws

import (
	"testing"
	"unicode/utf8"
)

// FuzzParseMessage: whatever a client sends over the socket is a message
// or a protocol violation whose close reason fits a close frame; decoding
// never panics.
func FuzzParseMessage(f *testing.F) {
	f.Add([]byte(`{"type":"connection_init","payload":{"Authorization":"Bearer x"}}`))
	f.Add([]byte(`{"id":"1","type":"subscribe","payload":{"query":"subscription($id: ID!) { filingUpdated(id: $id) { status } }","variables":{"id":"f1"}}}`))
	f.Add([]byte(`{"id":"1","type":"complete"}`))
	f.Add([]byte(`{"type":"ping","payload":[1]}`))
	f.Add([]byte("{\"type\":\"\xff\xfe" + string(make([]byte, 200)) + "\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, cerr := parseMessage(data)
		if cerr == nil && m.Type == typeSubscribe {
			_, cerr = decodeSubscribe(m.Payload)
		}
		if cerr == nil {
			return
		}
		reason := truncateReason(cerr.reason)
		if cerr.code == 0 || len(reason) > maxReason || !utf8.ValidString(reason) {
			t.Fatalf("close %d with reason %q", cerr.code, reason)
		}
	})
}
