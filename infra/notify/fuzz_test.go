package notify

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzRenderCloudEvent: a consumer reading whatever arrives on the topic
// never panics; what it renders is the same on a redelivery and names a
// recipient and both languages.
func FuzzRenderCloudEvent(f *testing.F) {
	for i, e := range lifecycle() {
		b, err := json.Marshal(envelope(f, uint64(i), e))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"specversion":"1.0","id":"x","type":"filing.submitted_for_review.v1","data":null}`))
	f.Add([]byte(`{"specversion":"1.0","id":"x","type":"filing.bureau_approved.v1","data":{"numbers":7}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		ce, err := decode(payload)
		if err != nil {
			return
		}
		first, err := Render(ce)
		if err != nil {
			return
		}
		again, err := Render(ce)
		if err != nil || !reflect.DeepEqual(first, again) {
			t.Fatalf("a redelivery renders differently: %v", err)
		}
		for _, n := range first {
			if n.ID == "" || n.Recipient.Account == "" {
				t.Fatalf("notice without id or recipient: %+v", n)
			}
		}
	})
}
