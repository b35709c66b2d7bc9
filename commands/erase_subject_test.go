package commands_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/beian/beian/commands"
	"github.com/beian/beian/commands/commandstest"
	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/infra/eventstore/sqlite"
	"github.com/beian/beian/infra/privacy"
	readsqlite "github.com/beian/beian/infra/readstore/sqlite"
	"github.com/google/uuid"
)

// failingOnce is the key store failing its first erasure, as a process
// stopping between recording the erasure and destroying the key would.
type failingOnce struct {
	*privacy.Protector
	mu     sync.Mutex
	failed bool
}

func (f *failingOnce) Erase(ctx context.Context, subject string, at time.Time) (string, bool, error) {
	f.mu.Lock()
	fail := !f.failed
	f.failed = true
	f.mu.Unlock()
	if fail {
		return "", false, errors.New("the process stopped")
	}
	return f.Protector.Erase(ctx, subject, at)
}

type privacyEnv struct {
	log      *sqlite.Store
	keys     *privacy.Protector
	keyStore *privacy.KeyStore // the protector's
	exec     *commands.Executor
	clock    *commandstest.Clock
}

func newPrivacyEnv(t *testing.T) *privacyEnv {
	t.Helper()
	dir := t.TempDir()
	log, err := sqlite.Open(sqlite.Config{Path: filepath.Join(dir, "events.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	keyStore, err := readsqlite.Open(readsqlite.Config{Path: filepath.Join(dir, "keys.db"), Durable: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keyStore.Close() })
	master := bytes.Repeat([]byte{3}, 32)
	keys, err := privacy.NewKeyStore(context.Background(), privacy.KeyStoreConfig{Store: keyStore, MasterKey: master})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := domain.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	c := commandstest.NewClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	return &privacyEnv{log: log, keys: privacy.NewProtector(keys, master), keyStore: keys, exec: commands.NewExecutor(log, rules, c), clock: c}
}

// subject gives a person a key, as sealing their first event does.
func (e *privacyEnv) subject(t *testing.T, certificate string) string {
	t.Helper()
	sealed, err := e.keys.Seal(context.Background(), []byte(`{"principal":{"certificateType":"resident_id","certificateNumber":"`+certificate+`"}}`),
		privacy.SealContext{})
	if err != nil || bytes.Contains(sealed, []byte(certificate)) {
		t.Fatalf("seal: %s %v", sealed, err)
	}
	return e.keys.SubjectID(certificate)
}

func adminMeta(key string) commands.Meta {
	return commands.Meta{Actor: commands.Actor{Account: "dpo-1", Role: commands.RoleAdmin}, IdempotencyKey: key}
}

func erasures(t *testing.T, log eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	events, err := log.ReadStream(context.Background(), commands.ErasureStream, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eventstore.VerifyChain(events); err != nil {
		t.Fatalf("the erasures' chain: %v", err)
	}
	return events
}

// TestEraseSubjectRepairsAnInterruptedErasure: the erasure is recorded
// first; if the key survives (the process stopped), running the command
// again destroys it without recording the erasure twice.
func TestEraseSubjectRepairsAnInterruptedErasure(t *testing.T) {
	ctx := context.Background()
	e := newPrivacyEnv(t)
	subject := e.subject(t, "110101200001010010")
	keys := &failingOnce{Protector: e.keys}
	h := commands.NewEraseSubjectHandler(e.exec, keys, slog.New(slog.NewTextHandler(io.Discard, nil)), commands.NopMetrics{})

	in := commands.EraseSubject{Subject: "110101200001010010", Reason: "PIPL Art. 47"}
	if _, err := h.Handle(ctx, adminMeta("k1"), in); err == nil {
		t.Fatal("the interrupted erasure reported success")
	}
	if _, erased, _ := e.keys.Known(ctx, subject); erased {
		t.Fatal("the key is gone although its destruction failed")
	}
	first := erasures(t, e.log)
	if len(first) != 1 || !bytes.Contains(first[0].Data, []byte(subject)) || bytes.Contains(first[0].Data, []byte("110101200001010010")) {
		t.Fatalf("recorded erasure: %s", first[0].Data)
	}
	res, err := h.Handle(ctx, adminMeta("k1"), in)
	if err != nil || !res.Repeated || res.Position != first[0].Position {
		t.Fatalf("retry: %+v %v", res, err)
	}
	if _, erased, _ := e.keys.Known(ctx, subject); !erased {
		t.Fatal("the retry left the key")
	}
	if _, err := h.Handle(ctx, adminMeta("k1"), commands.EraseSubject{Subject: subject, Reason: "another reason"}); !errors.As(err, new(*commands.IdempotencyKeyReusedError)) {
		t.Fatalf("the key reused for other input: %v", err)
	}
	if _, err := h.Handle(ctx, commands.Meta{Actor: commands.Actor{Account: "aud-1", Role: commands.RoleAuditor}, IdempotencyKey: "k2"}, in); !errors.As(err, new(*commands.ForbiddenError)) {
		t.Fatalf("an auditor erasing: %v", err)
	}
	if n := len(erasures(t, e.log)); n != 1 {
		t.Fatalf("%d erasures recorded for one subject", n)
	}
	if st, err := e.keyStore.Status(ctx); err != nil || st.Pending != 1 {
		t.Fatalf("the purge is not pending: %+v %v", st, err)
	}
}

// TestErasuresAndAccessesChainUnderConcurrency: erasures of different
// subjects at once, and access records from two recorders (two replicas)
// on one log, all land, each stream chained without a gap.
func TestErasuresAndAccessesChainUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	e := newPrivacyEnv(t)
	h := commands.NewEraseSubjectHandler(e.exec, e.keys, slog.New(slog.NewTextHandler(io.Discard, nil)), commands.NopMetrics{})
	const n = 6
	certs := make([]string, n)
	for i := range certs {
		certs[i] = fmt.Sprintf("CERT-%02d", i)
		e.subject(t, certs[i])
	}
	recorders := []*commands.AccessRecorder{commands.NewAccessRecorder(e.log, e.keys, e.clock), commands.NewAccessRecorder(e.log, e.keys, e.clock)}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			_, err := h.Handle(ctx, adminMeta(uuid.NewString()), commands.EraseSubject{Subject: certs[i], Reason: "bulk request"})
			errs <- err
		})
		wg.Go(func() {
			m := commands.Meta{Actor: commands.Actor{Account: "rev-1", Role: commands.RoleReviewer}, IdempotencyKey: uuid.NewString()}
			_, err := recorders[i%2].Record(ctx, m, commands.RevealPersonalData{FilingID: "f1", Query: "filing", Reason: "review",
				Certificates: []string{certs[i], certs[i]}})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := len(erasures(t, e.log)); got != n {
		t.Fatalf("%d erasures recorded, want %d", got, n)
	}
	accesses, err := e.log.ReadStream(ctx, commands.AccessStream, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eventstore.VerifyChain(accesses); err != nil || len(accesses) != n {
		t.Fatalf("%d accesses recorded: %v", len(accesses), err)
	}
	for _, a := range accesses {
		var p commands.PersonalDataAccess
		if err := json.Unmarshal(a.Data, &p); err != nil || len(p.Subjects) != 1 || len(p.Subjects[0]) != 32 || bytes.Contains(a.Data, []byte("CERT-")) {
			t.Fatalf("an access names its one subject by id: %s %v", a.Data, err)
		}
	}
	if _, err := eventstore.VerifyLog(ctx, e.log); err != nil {
		t.Fatal(err)
	}

	m := commands.Meta{Actor: commands.Actor{Account: "aud-1", Role: commands.RoleAuditor}, IdempotencyKey: "k"}
	if _, err := recorders[0].Record(ctx, m, commands.RevealPersonalData{FilingID: "f1", Reason: "x"}); !errors.As(err, new(*commands.ForbiddenError)) {
		t.Fatalf("an auditor revealing: %v", err)
	}
	m.Actor.Role = commands.RoleBureau
	var ve *domain.ValidationError
	if _, err := recorders[0].Record(ctx, m, commands.RevealPersonalData{FilingID: "f1", Reason: "  "}); !errors.As(err, &ve) ||
		ve.Fields[0].Path != "reveal.reason" || ve.Fields[0].Message.Zh == "" {
		t.Fatalf("a reveal without a reason: %v", err)
	}
}
