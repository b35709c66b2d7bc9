package privacy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beian/beian/commands/commandstest"
	"github.com/beian/beian/infra/eventstore"
	eventsqlite "github.com/beian/beian/infra/eventstore/sqlite"
	"github.com/beian/beian/infra/privacy"
	"github.com/beian/beian/infra/readstore"
	"github.com/beian/beian/infra/readstore/postgres/pgtest"
	readsqlite "github.com/beian/beian/infra/readstore/sqlite"
)

var master = bytes.Repeat([]byte{7}, 32)

const (
	idNumber = "110101200001010010"
	mobile   = "13800138000"
)

// eachStore runs test on the key store's two homes: a SQLite file of its
// own (embedded) and the PostgreSQL schema replicas share. open returns a
// store on the same data each time it is called, as another replica (or a
// restarted process) would see it.
func eachStore(t *testing.T, test func(t *testing.T, open func() readstore.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "keys.db")
		test(t, func() readstore.Store {
			s, err := readsqlite.Open(readsqlite.Config{Path: path, Durable: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.URL(t)
		schema := pgtest.Schema(t, url)
		test(t, func() readstore.Store { return pgtest.Open(t, url, schema) })
	})
}

func newKeys(t *testing.T, store readstore.Store, c *commandstest.Clock) *privacy.KeyStore {
	t.Helper()
	k, err := privacy.NewKeyStore(context.Background(), privacy.KeyStoreConfig{Store: store, MasterKey: master, CacheTTL: 2 * time.Second, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeyStoreValidatesItsConfiguration(t *testing.T) {
	err := privacy.KeyStoreConfig{MasterKey: []byte("short"), CacheTTL: -time.Second}.Validate()
	for _, want := range []string{"no store", "master key of 5 bytes", "negative cache TTL"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v, want it to say %q", err, want)
		}
	}
}

func TestKeyStore(t *testing.T) {
	eachStore(t, func(t *testing.T, open func() readstore.Store) {
		ctx := context.Background()
		c := commandstest.NewClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
		keys := newKeys(t, open(), c)

		if _, err := keys.Key(ctx, "s1", false); err == nil || errors.Is(err, privacy.ErrErased) {
			t.Fatalf("Key of an unknown subject without create: %v, want no key", err)
		}
		k1, err := keys.Key(ctx, "s1", true)
		if err != nil || len(k1) != 32 {
			t.Fatalf("create: %d bytes, %v", len(k1), err)
		}
		k2, _ := keys.Key(ctx, "s2", true)
		if bytes.Equal(k1, k2) {
			t.Fatal("two subjects got the same key")
		}
		// Another replica (a fresh key store on the same data, no cache)
		// opens the same key: it is stored, sealed by the master key.
		other := newKeys(t, open(), c)
		if again, err := other.Key(ctx, "s1", true); err != nil || !bytes.Equal(again, k1) {
			t.Fatalf("the key read back differs (%v)", err)
		}
		if n, err := keys.Status(ctx); err != nil || n.Subjects != 2 || n.Erased != 0 {
			t.Fatalf("status %+v %v", n, err)
		}

		if ok, err := keys.Erase(ctx, "s1", c.Now()); err != nil || !ok {
			t.Fatalf("erase: %v %v", ok, err)
		}
		if ok, err := keys.Erase(ctx, "s1", c.Now()); err != nil || ok {
			t.Fatalf("erase twice: %v %v, want nothing left to erase", ok, err)
		}
		if _, err := keys.Key(ctx, "s1", true); !errors.Is(err, privacy.ErrErased) {
			t.Fatalf("key of an erased subject: %v, want ErrErased and no new key", err)
		}
		if _, err := keys.Key(ctx, "s2", false); err != nil {
			t.Fatalf("the other subject's key: %v", err)
		}
		if known, erased, err := keys.Known(ctx, "s1"); err != nil || !known || !erased {
			t.Fatalf("Known(s1) = %v %v %v", known, erased, err)
		}
		if known, erased, err := keys.Known(ctx, "nobody"); err != nil || known || erased {
			t.Fatalf("Known(nobody) = %v %v %v", known, erased, err)
		}
		// The erasure leaves a purge to do, also for a process that starts
		// afresh, until it is recorded done.
		if pending, err := other.PendingPurges(ctx); err != nil || len(pending) != 1 || pending[0] != "s1" {
			t.Fatalf("pending purges %v %v", pending, err)
		}
		if st, err := keys.Status(ctx); err != nil || st != (privacy.Status{Subjects: 2, Erased: 1, Pending: 1}) {
			t.Fatalf("status after erasure %+v %v", st, err)
		}
		if err := keys.Purged(ctx, []string{"s1"}, c.Now()); err != nil {
			t.Fatal(err)
		}
		if pending, err := keys.PendingPurges(ctx); err != nil || len(pending) != 0 {
			t.Fatalf("pending purges after the purge %v %v", pending, err)
		}

		// The other replica had the key cached: it may use it for the TTL,
		// and not a moment longer.
		c.Add(2*time.Second - time.Millisecond)
		if _, err := other.Key(ctx, "s1", false); err != nil {
			t.Fatalf("within the TTL the cached key serves: %v", err)
		}
		c.Add(time.Millisecond)
		if _, err := other.Key(ctx, "s1", false); !errors.Is(err, privacy.ErrErased) {
			t.Fatalf("after the TTL: %v, want ErrErased", err)
		}
		if keys.CacheTTL() != 2*time.Second {
			t.Fatalf("CacheTTL %s", keys.CacheTTL())
		}
	})
}

func TestKeyStoreRefusesAnotherMasterKey(t *testing.T) {
	ctx := context.Background()
	store, err := readsqlite.Open(readsqlite.Config{Path: filepath.Join(t.TempDir(), "keys.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c := commandstest.NewClock(time.Now())
	if _, err := newKeys(t, store, c).Key(ctx, "s1", true); err != nil {
		t.Fatal(err)
	}
	wrong, err := privacy.NewKeyStore(ctx, privacy.KeyStoreConfig{Store: store, MasterKey: bytes.Repeat([]byte{8}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.Key(ctx, "s1", false); err == nil || !strings.Contains(err.Error(), "master key") {
		t.Fatalf("a key sealed by another master key opened: %v", err)
	}
}

// protector is a protector on a fresh SQLite key store.
func protector(t *testing.T) *privacy.Protector {
	t.Helper()
	store, err := readsqlite.Open(readsqlite.Config{Path: filepath.Join(t.TempDir(), "keys.db"), Durable: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return privacy.NewProtector(newKeys(t, store, commandstest.NewClock(time.Now())), master)
}

// principalEvent is an entity submission of an individual whose principal
// is the person.
const principalEvent = `{"entity":{"name":"王五","certificateAddress":"北京市东城区东华门街道1号","mailingAddress":"北京市东城区东华门街道1号",
"principal":{"name":"王五","certificateType":"resident_id","certificateNumber":"110101200001010010","officePhone":"010-12345678",
"mobile":"13800138000","email":"wangwu@example.com","emergencyContact":{"name":"赵六","mobile":"13900139000"}}},"province":"11"}`

var personal = []string{idNumber, mobile, "13900139000", "王五", "赵六", "wangwu@example.com", "010-12345678", "东华门"}

func sealContext() privacy.SealContext {
	return privacy.SealContext{Individual: true, EntityCertificate: idNumber, Mobiles: map[string]string{mobile: idNumber}}
}

func TestSealAndOpen(t *testing.T) {
	ctx := context.Background()
	p := protector(t)
	sealed, err := p.Seal(ctx, []byte(principalEvent), sealContext())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range personal {
		if bytes.Contains(sealed, []byte(v)) {
			t.Errorf("sealed payload holds %q: %s", v, sealed)
		}
	}
	if !bytes.Contains(sealed, []byte(`"province":"11"`)) || !bytes.Contains(sealed, []byte(`"certificateType":"resident_id"`)) {
		t.Errorf("facts were sealed too: %s", sealed)
	}
	if again, _ := p.Seal(ctx, sealed, sealContext()); !bytes.Equal(again, sealed) {
		t.Error("sealing a sealed payload changed it")
	}
	opened, err := p.Open(ctx, sealed)
	if err != nil {
		t.Fatal(err)
	}
	assertJSONEqual(t, opened, []byte(principalEvent))

	if p.SubjectID(idNumber) != p.SubjectID(" "+strings.ToLower(idNumber)+" ") || p.SubjectID(idNumber) == p.SubjectID("440305199003071236") {
		t.Fatal("subject ids: equal numbers must match, different ones differ")
	}
	if strings.Contains(p.SubjectID(idNumber), idNumber) {
		t.Fatal("the subject id shows the number")
	}

	subject, ok, err := p.Erase(ctx, idNumber, time.Now())
	if err != nil || !ok || subject != p.SubjectID(idNumber) {
		t.Fatalf("erase: %s %v %v", subject, ok, err)
	}
	if _, ok, err := p.Erase(ctx, subject, time.Now()); err != nil || ok {
		t.Fatalf("erase by subject id, again: %v %v", ok, err)
	}
	opened, err = p.Open(ctx, sealed)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Entity struct {
			Name      string
			Principal struct {
				Name, CertificateNumber, CertificateType, Mobile, Email string
				EmergencyContact                                        struct{ Name, Mobile string }
			}
		}
		Province string
	}
	if err := json.Unmarshal(opened, &f); err != nil {
		t.Fatal(err)
	}
	pr := f.Entity.Principal
	for _, v := range []string{f.Entity.Name, pr.Name, pr.CertificateNumber, pr.Mobile, pr.Email, pr.EmergencyContact.Name, pr.EmergencyContact.Mobile} {
		if v != privacy.Erased {
			t.Errorf("after erasure a field shows %q, want %s", v, privacy.Erased)
		}
	}
	if f.Province != "11" || pr.CertificateType != "resident_id" {
		t.Errorf("facts lost on erasure: %s", opened)
	}
}

func assertJSONEqual(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Fatalf("got  %s\nwant %s", gb, wb)
	}
}

// TestUpcastingReadsEveryVersion: a stream with an event written before
// sealing existed (schema 1, plaintext, as the old code wrote it: no
// version at all) and one sealed (schema 2) reads back in the current
// shape through privacy.Store; after erasure the sealed one shows [erased]
// and the plaintext one cannot be shredded. The hash chain, over the
// stored bytes, verifies throughout.
func TestUpcastingReadsEveryVersion(t *testing.T) {
	ctx := context.Background()
	log, err := eventsqlite.Open(eventsqlite.Config{Path: filepath.Join(t.TempDir(), "events.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	p := protector(t)
	sealed, err := p.Seal(ctx, []byte(principalEvent), sealContext())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	events := []eventstore.EventData{
		{ID: "00000000-0000-4000-8000-000000000001", Type: "filing.entity_submitted.v1", Data: []byte(principalEvent),
			Metadata: eventstore.Metadata{OccurredAt: at}}, // schema 1: written before versions were recorded
		{ID: "00000000-0000-4000-8000-000000000002", Type: "filing.entity_submitted.v1", Data: sealed,
			Metadata: eventstore.Metadata{SchemaVersion: privacy.SchemaSealed, OccurredAt: at}},
	}
	const stream = "filing-upcast"
	if err := eventstore.Chain(stream, 0, "", events); err != nil {
		t.Fatal(err)
	}
	if _, err := log.Append(ctx, stream, eventstore.NoStream(), events); err != nil {
		t.Fatal(err)
	}
	store := privacy.NewStore(log, p)

	read := func() []eventstore.RecordedEvent {
		t.Helper()
		got, err := store.ReadStream(ctx, stream, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		all, err := store.ReadAll(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if !bytes.Equal(all[i].Data, got[i].Data) {
				t.Fatalf("ReadAll and ReadStream differ at %d", i)
			}
		}
		return got
	}
	got := read()
	for i, e := range got {
		assertJSONEqual(t, e.Data, []byte(principalEvent))
		if want := []int{0, privacy.SchemaSealed}[i]; e.Metadata.SchemaVersion != want {
			t.Errorf("event %d reads as schema %d, want the version it was written in (%d)", i, e.Metadata.SchemaVersion, want)
		}
	}
	sub, err := store.SubscribeAll(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := sub.Recv()
	sub.Close()
	if err != nil || m.Event == nil {
		t.Fatalf("subscription: %v %+v", err, m)
	}
	assertJSONEqual(t, m.Event.Data, []byte(principalEvent))

	if _, _, err := p.Erase(ctx, idNumber, time.Now()); err != nil {
		t.Fatal(err)
	}
	got = read()
	if !bytes.Contains(got[0].Data, []byte(idNumber)) {
		t.Error("the plaintext (schema 1) event changed: it cannot be shredded and must read as written")
	}
	if bytes.Contains(got[1].Data, []byte(idNumber)) || bytes.Count(got[1].Data, []byte(privacy.Erased)) < 5 {
		t.Errorf("the sealed event after erasure: %s", got[1].Data)
	}
	raw, err := log.ReadStream(ctx, stream, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eventstore.VerifyChain(raw); err != nil {
		t.Fatalf("the chain after erasure: %v", err)
	}
	if _, err := eventstore.VerifyLog(ctx, log); err != nil {
		t.Fatalf("the log after erasure: %v", err)
	}
}

// TestOtherStreamsPassThrough: only filing streams carry sealed personal
// data; other streams read as stored.
func TestOtherStreamsPassThrough(t *testing.T) {
	ctx := context.Background()
	log, err := eventsqlite.Open(eventsqlite.Config{Path: filepath.Join(t.TempDir(), "events.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	data := []byte(`{"note":"enc:v1:not-a-sealed-value"}`)
	events := []eventstore.EventData{{ID: "00000000-0000-4000-8000-000000000003", Type: "other.happened.v1", Data: data}}
	if _, err := log.Append(ctx, "other-1", eventstore.NoStream(), events); err != nil {
		t.Fatal(err)
	}
	got, err := privacy.NewStore(log, protector(t)).ReadStream(ctx, "other-1", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !bytes.Equal(got[0].Data, data) {
		t.Fatalf("read back %v, want the payload as written", got)
	}
}
