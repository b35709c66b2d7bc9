package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/eventstore"
	"github.com/google/uuid"
)

// Reads of unmasked personal data are recorded in a stream of their own,
// hash-chained like every stream, so auditors can trust the record.
const (
	AccessStream             = "privacy-access"
	PersonalDataAccessedType = "privacy.personal_data_accessed.v1"
)

// RevealedFields are the kinds of personal data that are masked unless a
// read reveals them: what an access record says was shown.
func RevealedFields() []string {
	return []string{"certificateNumber", "officePhone", "mobile", "email", "certificateAddress", "mailingAddress"}
}

// PersonalDataAccess is one read of a filing's personal data unmasked, the
// payload of privacy.personal_data_accessed.v1. Who read it is the event's
// actor; the people are named by subject id, never by certificate number.
type PersonalDataAccess struct {
	FilingID string    `json:"filingId"`
	Query    string    `json:"query"` // the GraphQL field read: filing, filingAt
	Fields   []string  `json:"fields"`
	Subjects []string  `json:"subjects"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
}

// RevealPersonalData asks to read a filing's personal data unmasked.
type RevealPersonalData struct {
	FilingID     string
	Query        string
	Reason       string
	Certificates []string // of the people whose data the filing holds; recorded as subject ids
}

// AccessRecorder records every read of unmasked personal data before the
// data is shown: a read it cannot record does not happen. Every read is an
// access of its own, so a repeated read is recorded again.
type AccessRecorder struct {
	store eventstore.Store
	keys  SubjectKeys
	clock Clock

	mu       sync.Mutex // one append at a time from this process
	next     uint64     // the stream's next revision, as far as this process knows
	lastHash string     // the hash of the event before it
}

// NewAccessRecorder returns the recorder.
func NewAccessRecorder(store eventstore.Store, keys SubjectKeys, clock Clock) *AccessRecorder {
	if store == nil || keys == nil || clock == nil {
		panic("commands.NewAccessRecorder: nil dependency")
	}
	return &AccessRecorder{store: store, keys: keys, clock: clock}
}

// Record authorises and records one read. Reviewers, the bureau and
// admins may reveal; an empty reason is a validation error.
func (a *AccessRecorder) Record(ctx context.Context, m Meta, c RevealPersonalData) (Result, error) {
	const name = "RevealPersonalData"
	if err := m.validate(); err != nil {
		return Result{}, fmt.Errorf("%s: %w", name, err)
	}
	if !mayRun(m.Actor.Role, name) {
		return Result{}, &ForbiddenError{Command: name, Role: m.Actor.Role}
	}
	reason := strings.TrimSpace(c.Reason)
	if problem, bad := reasonProblem("reveal.reason", reason,
		domain.Message{Zh: "查看完整个人信息须填写原因", En: "a reason is required to see personal data unmasked"}, "原因"); bad {
		return Result{}, &domain.ValidationError{Fields: []domain.FieldError{problem}}
	}
	var subjects []string
	for _, cert := range c.Certificates {
		if cert == "" {
			continue
		}
		if s := a.keys.Subject(cert); !slices.Contains(subjects, s) {
			subjects = append(subjects, s)
		}
	}
	now := a.clock.Now()
	data, err := json.Marshal(PersonalDataAccess{FilingID: c.FilingID, Query: c.Query, Fields: RevealedFields(), Subjects: subjects, Reason: reason, At: now})
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", name, err)
	}
	events := []eventstore.EventData{{ID: uuid.NewString(), Type: PersonalDataAccessedType, Data: data,
		Metadata: eventstore.Metadata{SchemaVersion: 1, ActorAccount: m.Actor.Account, ActorRole: m.Actor.Role,
			CorrelationID: m.CorrelationID, CausationID: m.CausationID, OccurredAt: now}}}
	a.mu.Lock()
	defer a.mu.Unlock()
	for range maxAttempts {
		// Catch up with what other replicas appended since.
		newer, err := eventstore.ReadStreamFrom(ctx, a.store, AccessStream, a.next)
		if err != nil {
			return Result{}, fmt.Errorf("%s: %w", name, err)
		}
		if len(newer) > 0 {
			last := newer[len(newer)-1]
			a.next, a.lastHash = last.Revision+1, last.Metadata.Hash
		}
		res, err := appendChained(ctx, a.store, AccessStream, a.next, a.lastHash, events)
		if errors.Is(err, eventstore.ErrConflict) {
			continue
		}
		if err != nil {
			return Result{}, fmt.Errorf("%s: %w", name, err)
		}
		a.next, a.lastHash = res.Revision+1, events[0].Metadata.Hash
		out := appended(AccessStream, res, events)
		out.FilingID = c.FilingID
		return out, nil
	}
	return Result{}, fmt.Errorf("%s: %w", name, ErrConflict)
}
