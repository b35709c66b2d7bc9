package privacy

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/infra/readstore/sqlite"
)

func fuzzProtector(tb testing.TB) *Protector {
	tb.Helper()
	store, err := sqlite.Open(sqlite.Config{Path: filepath.Join(tb.TempDir(), "keys.db")})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	master := bytes.Repeat([]byte{7}, 32)
	keys, err := NewKeyStore(context.Background(), KeyStoreConfig{Store: store, MasterKey: master})
	if err != nil {
		tb.Fatal(err)
	}
	return NewProtector(keys, master)
}

const principalPayload = `{"entity":{"name":"王五","legalRepresentative":"王五","principal":{"name":"王五","certificateType":"resident_id",` +
	`"certificateNumber":"110101200001010010","officePhone":"13800138000","mobile":"13800138000","email":"wangwu@example.cn"}}}`

// FuzzSealOpen: sealing then opening any JSON payload gives it back, and
// opening never panics on what the log holds (sealed or not, well formed
// or not).
func FuzzSealOpen(f *testing.F) {
	p := fuzzProtector(f)
	ctx := context.Background()
	sealed, err := p.Seal(ctx, []byte(principalPayload), SealContext{Individual: true, EntityCertificate: "110101200001010010"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(principalPayload), false)
	f.Add(sealed, true)
	f.Add([]byte(`{"mobile":"enc:v1:00:AAAA"}`), true)
	f.Add([]byte(`{"recipients":[{"mobile":"13800138000","certSuffix":"010010"}]}`), false)
	f.Fuzz(func(t *testing.T, payload []byte, individual bool) {
		_, _ = p.Open(ctx, payload) // stored bytes: must not panic
		var want any
		if json.Unmarshal(payload, &want) != nil || bytes.Contains(payload, []byte(sealedPrefix)) {
			return
		}
		sc := SealContext{Individual: individual, EntityCertificate: "110101200001010010",
			Mobiles: map[string]string{"13800138000": "110101200001010010"}}
		sealed, err := p.Seal(ctx, payload, sc)
		if err != nil {
			t.Fatalf("seal: %v", err)
		}
		opened, err := p.Open(ctx, sealed)
		if err != nil {
			t.Fatalf("open what was sealed: %v", err)
		}
		var got any
		if err := json.Unmarshal(opened, &got); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip: %s → %s (%v)", payload, opened, err)
		}
	})
}

// FuzzUpcast: the upcaster chain reads an event of any schema version and
// payload without panicking, and leaves events of other streams alone.
func FuzzUpcast(f *testing.F) {
	p := fuzzProtector(f)
	s := NewStore(nil, p)
	f.Add("filing-f1", 1, []byte(principalPayload))
	f.Add("filing-f1", 2, []byte(`{"mobile":"enc:v1:zz:!!"}`))
	f.Add("audit-checkpoints", 0, []byte(`x`))
	f.Add("filing-f1", -5, []byte(`{}`))
	f.Fuzz(func(t *testing.T, stream string, version int, data []byte) {
		e := eventstore.RecordedEvent{Stream: stream, EventData: eventstore.EventData{Data: data, Metadata: eventstore.Metadata{SchemaVersion: version}}}
		out, err := s.open(context.Background(), e)
		if err != nil {
			return
		}
		if len(stream) < 7 || stream[:7] != "filing-" {
			if !bytes.Equal(out.Data, data) {
				t.Fatalf("stream %q changed by the upcasters", stream)
			}
		}
	})
}
