package sim

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/beian/beian/commands"
)

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

func TestDefaultSeedHasPassingAndFailingRecords(t *testing.T) {
	p := New(DefaultSeed(), fixedClock(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)))
	ctx := context.Background()
	good, err := p.LookupDomain(ctx, "example.com")
	if err != nil || !good.RegistrarApproved || !good.ExpiresAt.After(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("example.com: %+v %v", good, err)
	}
	expired, _ := p.LookupDomain(ctx, "expired-domain.cn")
	if !expired.ExpiresAt.Before(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("expired-domain.cn expires %v", expired.ExpiresAt)
	}
	if _, err := p.LookupDomain(ctx, "nowhere.example"); !errors.Is(err, commands.ErrUnknown) {
		t.Fatalf("unknown domain: %v", err)
	}
	if f, err := p.LookupInstance(ctx, "anyone", "ins-postpaid"); err != nil || f.Billing != "postpaid" {
		t.Fatalf("ins-postpaid: %+v %v", f, err)
	}
	codes, err := p.SendCodes(ctx, "f1", []string{"13800138000"})
	if c, ok := p.SentCode("f1", "13800138000"); err != nil || !ok || c != codes["13800138000"] || len(c) != 6 {
		t.Fatalf("sms: %v %v", codes, err)
	}
}

func TestLoadSeedRefusesUnknownFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(path, []byte(`{"domains": [{"name": "a.cn", "registar": "typo"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSeed(path); err == nil {
		t.Fatal("a seed with a misspelt field was accepted")
	}
}
