package notify

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/bus"
	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/infra/readstore/sqlite"
)

const (
	testFiling  = "0193f5c2-7a1e-7000-8000-000000000001"
	testAccount = "acct-applicant-1"
)

// t0 is 2026-03-03 10:10 in Beijing.
var t0 = time.Date(2026, 3, 3, 2, 10, 0, 0, time.UTC)

// envelope builds the CloudEvent the bus publishes for a domain event: the
// payload encoded by the domain, stored as a recorded event of the filing's
// stream, then wrapped (and masked) by bus.Envelope.
func envelope(t testing.TB, revision uint64, e domain.Event) bus.CloudEvent {
	t.Helper()
	typ, data, err := domain.EncodeEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	rec := eventstore.RecordedEvent{
		EventData: eventstore.EventData{
			ID:       fmt.Sprintf("00000000-0000-4000-8000-%012d", revision),
			Type:     typ,
			Data:     data,
			Metadata: eventstore.Metadata{SchemaVersion: 1, OccurredAt: e.OccurredAt()},
		},
		Stream: "filing-" + testFiling, Revision: revision, Position: 100 + revision, RecordedAt: e.OccurredAt(),
	}
	ce, err := bus.Envelope(rec, testAccount)
	if err != nil {
		t.Fatal(err)
	}
	return ce
}

func reasons() []domain.Reason {
	return []domain.Reason{
		{Path: "entity.principal.mobile", Code: "phone_unreachable",
			Message: domain.Message{Zh: "负责人电话无法接通", En: "the principal's phone could not be reached"}},
		{Path: "websites[w1].name", Code: "website_name",
			Message: domain.Message{Zh: "网站名称不符合要求", En: "the website name is not acceptable"}},
	}
}

// lifecycle is one filing's events, in order, from submission to approval.
func lifecycle() []domain.Event {
	return []domain.Event{
		domain.SubmittedForReview{TermsVersion: "2026-01", Submission: 1, DueAt: t0.Add(24 * time.Hour), At: t0},
		domain.InitialReviewApproved{Note: "资料齐全", At: t0.Add(2 * time.Hour)},
		domain.SentToBureau{DueAt: t0.Add(28 * 24 * time.Hour), At: t0.Add(3 * time.Hour)},
		domain.SMSVerificationRequested{
			Recipients: []domain.SMSRecipient{{Roles: []string{"entity", "website:w1"}, Mobile: "13800138000",
				CertSuffix: "01001X", CodeHash: "deadbeef"}},
			ExpiresAt: t0.Add(27 * time.Hour), At: t0.Add(3 * time.Hour),
		},
		domain.SMSCodeVerified{Mobile: "13800138000", At: t0.Add(4 * time.Hour)},
		domain.SMSVerificationCompleted{At: t0.Add(4 * time.Hour)},
		domain.BureauApproved{EntityNumber: "京ICP备2026012345号",
			WebsiteNumbers: []domain.WebsiteNumber{{WebsiteID: "w1", Number: "京ICP备2026012345号-1"}},
			At:             t0.Add(10 * 24 * time.Hour)},
	}
}

// openStore opens a Store on a SQLite read store in a temporary directory.
func openStore(t testing.TB) *Store {
	t.Helper()
	rs, err := sqlite.Open(sqlite.Config{Path: filepath.Join(t.TempDir(), "read.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	s, err := Open(context.Background(), rs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// memDeadLetters is an in-memory DeadLetterStore that can be made to fail.
type memDeadLetters struct {
	mu      sync.Mutex
	letters []DeadLetter
	err     error
}

func (m *memDeadLetters) RecordDeadLetter(_ context.Context, d DeadLetter) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.letters = append(m.letters, d)
	return nil
}

func (m *memDeadLetters) all() []DeadLetter {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]DeadLetter(nil), m.letters...)
}
