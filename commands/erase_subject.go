package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/eventstore"
)

// Erasures are recorded in a stream of their own, hash-chained like every
// stream, so the erasure itself is in the audit trail. Its events name the
// subject by its keyed hash, never by the certificate number.
const (
	ErasureStream     = "privacy-erasures"
	SubjectErasedType = "privacy.subject_erased.v1"
)

// EraseSubject destroys the personal-data key of a data subject
// (crypto-shredding): their sealed fields read as "[erased]" from then on.
type EraseSubject struct {
	Subject string // a certificate number, or the subject id (its keyed hash)
	Reason  string // why, for the audit trail: the request's reference, the legal ground
}

// SubjectErased is the payload of privacy.subject_erased.v1; the actor and
// the time are in the event's metadata as well.
type SubjectErased struct {
	Subject  string    `json:"subject"`
	Reason   string    `json:"reason"`
	ErasedAt time.Time `json:"erasedAt"`
}

// SubjectKeys is the personal-data key store as erasure needs it
// (privacy.Protector).
type SubjectKeys interface {
	// Subject is the subject id of a certificate number; a subject id is
	// returned as it is.
	Subject(certificateOrSubject string) string
	// Known says whether the subject ever had a key, and whether it was erased.
	Known(ctx context.Context, subject string) (known, erased bool, err error)
	// Erase destroys the subject's key; erasing an erased subject does nothing.
	Erase(ctx context.Context, subject string, at time.Time) (string, bool, error)
}

// NewEraseSubjectHandler returns the EraseSubject handler; only admins run it.
func NewEraseSubjectHandler(exec *Executor, keys SubjectKeys, logger *slog.Logger, metrics Metrics) Handler[EraseSubject] {
	if exec == nil || keys == nil || logger == nil || metrics == nil {
		panic("commands.NewEraseSubjectHandler: nil dependency")
	}
	return decorate[EraseSubject]("EraseSubject", eraseSubjectHandler{exec: exec, keys: keys}, logger, metrics)
}

type eraseSubjectHandler struct {
	exec *Executor
	keys SubjectKeys
}

// Handle records the erasure, then destroys the key. A retry, or a second
// erasure of the same subject, finds the event and only makes sure the key
// is gone: a crash between the two steps is repaired by running it again.
func (h eraseSubjectHandler) Handle(ctx context.Context, m Meta, c EraseSubject) (Result, error) {
	const name = "EraseSubject"
	if err := m.validate(); err != nil {
		return Result{}, fmt.Errorf("%s: %w", name, err)
	}
	if !mayRun(m.Actor.Role, name) {
		return Result{}, &ForbiddenError{Command: name, Role: m.Actor.Role}
	}
	subject, err := h.validate(ctx, c)
	if err != nil {
		return Result{}, err
	}
	// The input as recorded names the subject by its id: the command hash
	// must not be a hash of the certificate number.
	recordedInput := EraseSubject{Subject: subject, Reason: strings.TrimSpace(c.Reason)}
	inputHash, err := hashInput(recordedInput)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", name, err)
	}
	commandID := deriveCommandID(m.Actor.Account, name, subject, m.IdempotencyKey)
	for range maxAttempts {
		recorded, err := eventstore.ReadStreamFrom(ctx, h.exec.store, ErasureStream, 0)
		if err != nil {
			return Result{}, fmt.Errorf("%s: %w", name, err)
		}
		if first, ok := earlierResult(recorded, commandID.String()); ok {
			if first.Events[0].Metadata.CommandHash != inputHash {
				return Result{}, &IdempotencyKeyReusedError{Command: name, Key: m.IdempotencyKey}
			}
			return first, h.erase(ctx, subject)
		}
		if earlier, ok := erasureOf(recorded, subject); ok {
			return earlier, h.erase(ctx, subject)
		}
		now := h.exec.clock.Now()
		data, err := json.Marshal(SubjectErased{Subject: subject, Reason: recordedInput.Reason, ErasedAt: now})
		if err != nil {
			return Result{}, fmt.Errorf("%s: %w", name, err)
		}
		events := []eventstore.EventData{{ID: eventID(commandID, 0), Type: SubjectErasedType, Data: data,
			Metadata: eventstore.Metadata{SchemaVersion: 1, ActorAccount: m.Actor.Account, ActorRole: m.Actor.Role,
				CommandID: commandID.String(), CommandHash: inputHash, CorrelationID: m.CorrelationID, CausationID: m.CausationID, OccurredAt: now}}}
		next, lastHash := chainHead(recorded)
		res, err := appendChained(ctx, h.exec.store, ErasureStream, next, lastHash, events)
		if errors.Is(err, eventstore.ErrConflict) {
			continue // another erasure came first; read again
		}
		if err != nil {
			return Result{}, fmt.Errorf("%s: %w", name, err)
		}
		return appended(ErasureStream, res, events), h.erase(ctx, subject)
	}
	return Result{}, fmt.Errorf("%s: %w", name, ErrConflict)
}

func (h eraseSubjectHandler) erase(ctx context.Context, subject string) error {
	if _, _, err := h.keys.Erase(ctx, subject, h.exec.clock.Now()); err != nil {
		return fmt.Errorf("EraseSubject: %w", err)
	}
	return nil
}

// validate checks the input and returns the subject id.
func (h eraseSubjectHandler) validate(ctx context.Context, c EraseSubject) (string, error) {
	var problems []domain.FieldError
	subject := ""
	switch raw := strings.TrimSpace(c.Subject); {
	case raw == "":
		problems = append(problems, domain.FieldError{Path: "subject", Code: domain.CodeRequired,
			Message: domain.Message{Zh: "请填写数据主体（证件号码或主体标识）", En: "the data subject (certificate number or subject id) is required"}})
	default:
		subject = h.keys.Subject(raw)
		known, _, err := h.keys.Known(ctx, subject)
		if err != nil {
			return "", fmt.Errorf("EraseSubject: %w", err)
		}
		if !known {
			problems = append(problems, domain.FieldError{Path: "subject", Code: "unknown_subject",
				Message: domain.Message{Zh: "没有该数据主体的个人信息", En: "no personal data is kept for this data subject"}})
		}
	}
	if problem, bad := reasonProblem("reason", strings.TrimSpace(c.Reason),
		domain.Message{Zh: "请填写删除原因", En: "the reason for the erasure is required"}, "删除原因"); bad {
		problems = append(problems, problem)
	}
	if len(problems) > 0 {
		return "", &domain.ValidationError{Fields: problems}
	}
	return subject, nil
}

// erasureOf finds an earlier erasure of the subject.
func erasureOf(recorded []eventstore.RecordedEvent, subject string) (Result, bool) {
	for _, e := range recorded {
		var p SubjectErased
		if e.Type == SubjectErasedType && json.Unmarshal(e.Data, &p) == nil && p.Subject == subject {
			return Result{Revision: e.Revision, Position: e.Position, Events: []eventstore.RecordedEvent{e}, Repeated: true}, true
		}
	}
	return Result{}, false
}

// appendChained appends events to a stream at revision next, chaining them
// to the hash of the event before. It fails
// with eventstore.ErrConflict when another writer came first.
func appendChained(ctx context.Context, store eventstore.Store, stream string, next uint64, lastHash string, events []eventstore.EventData) (eventstore.AppendResult, error) {
	expected := eventstore.NoStream()
	if next > 0 {
		expected = eventstore.Exact(next - 1)
	}
	if err := eventstore.Chain(stream, next, lastHash, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	return store.Append(ctx, stream, expected, events)
}
