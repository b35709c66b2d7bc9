package eventstore

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// FuzzMetadataDecodesAsEncodingJSON: Metadata's own decoding gives what
// encoding/json gives, value or error, for any input and any value decoded
// into; the inputs it decodes itself are the common case.
func FuzzMetadataDecodesAsEncodingJSON(f *testing.F) {
	written, err := json.Marshal(Metadata{SchemaVersion: 2, ActorAccount: "acct-1", ActorRole: "applicant", CommandID: "c1",
		CommandHash: "ab12", CorrelationID: "r1", CausationID: "k1", OccurredAt: time.Date(2026, 3, 2, 10, 0, 2, 5, time.UTC), PrevHash: "00", Hash: "ff"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(written, false)
	f.Add([]byte(`{"schemaVersion":1,"actorAccount":"acct","occurredAt":"2026-03-02T10:00:02+08:00"}`), true)
	f.Add([]byte(`{}`), true)
	f.Add([]byte(`{"schemaVersion":01}`), false)
	f.Add([]byte(`{"schemaVersion":1e2}`), false)
	f.Add([]byte(`{"schemaVersion":12345678901}`), false)
	f.Add([]byte(`{"actorAccount":"a\"b","hash":null}`), true)
	f.Add([]byte(`{"ActorAccount":"case","actorRole":"王"}`), false)
	f.Add([]byte(`{"occurredAt":""}`), false)
	f.Add([]byte(`{"hash":"x",}`), false)
	f.Add([]byte(` {"hash":"x"}`), false)
	f.Fuzz(func(t *testing.T, input []byte, filled bool) {
		var before Metadata
		if filled { // decoding into a value keeps the fields the input lacks
			before = Metadata{SchemaVersion: 7, ActorAccount: "kept", OccurredAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), Hash: "h"}
		}
		type standard Metadata // encoding/json's reflection, without the method
		want, got := standard(before), before
		wantErr := json.Unmarshal(input, &want)
		gotErr := got.UnmarshalJSON(input)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("%q: encoding/json says %v, Metadata says %v", input, wantErr, gotErr)
		}
		if wantErr == nil && !reflect.DeepEqual(Metadata(want), got) {
			t.Fatalf("%q:\nencoding/json %+v\nMetadata      %+v", input, want, got)
		}
		var viaJSON Metadata = before // through json.Unmarshal, as the stores call it
		if err := json.Unmarshal(input, &viaJSON); (err == nil) != (wantErr == nil) || (err == nil && !reflect.DeepEqual(viaJSON, got)) {
			t.Fatalf("%q: json.Unmarshal into Metadata gives %+v, %v", input, viaJSON, err)
		}
	})
}

// TestMetadataDecodesWhatItWrites: what the stores write is decoded by the
// plain scanner, not by the fallback.
func TestMetadataDecodesWhatItWrites(t *testing.T) {
	m := Metadata{SchemaVersion: 2, ActorAccount: "bench-6cae65d9e527385b-313", ActorRole: "applicant", CommandID: "b4d436fe-41f8-584d-a245-0207aaf3bd5f",
		CommandHash: "8295bace", CorrelationID: "dfe90c87", CausationID: "c", OccurredAt: time.Date(2026, 11, 28, 13, 39, 20, 191751064, time.UTC), PrevHash: "1e25", Hash: "26db"}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var got Metadata
	if !got.decodePlain(b) || !reflect.DeepEqual(got, m) {
		t.Fatalf("%s decoded plainly as %+v", b, got)
	}
}
