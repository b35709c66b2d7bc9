package commands

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/eventstore"
	"github.com/google/uuid"
)

// namespace roots the UUIDv5 ids derived from idempotency keys.
var namespace = uuid.MustParse("6f1c1f4e-2b1a-5c4e-9a55-6265069616e0")

// maxAttempts bounds the load-decide-append loop under contention: each
// round one writer wins, so it covers a burst of that many writers on one
// filing, more than one applicant and a few reviewers produce.
const maxAttempts = 10

// Executor runs the load → decide → append cycle every handler shares.
type Executor struct {
	store  eventstore.Store
	rules  *domain.Rules
	clock  Clock
	sealer Sealer
}

// Sealer encrypts the personal data of events before they are chained and
// appended; f is the filing as the events leave it.
type Sealer interface {
	Seal(ctx context.Context, f domain.Filing, events []eventstore.EventData) error
}

// WithSealer returns the executor sealing personal data with s.
func (x *Executor) WithSealer(s Sealer) *Executor {
	x.sealer = s
	return x
}

// NewExecutor returns an Executor; it refuses nil dependencies.
func NewExecutor(store eventstore.Store, rules *domain.Rules, clock Clock) *Executor {
	if store == nil || rules == nil || clock == nil {
		panic("commands.NewExecutor: nil dependency")
	}
	return &Executor{store: store, rules: rules, clock: clock}
}

// Rules returns the rules the executor decides with.
func (x *Executor) Rules() *domain.Rules { return x.rules }

// NewFilingID derives the id of the filing an account starts with an
// idempotency key, so a retried VerifyType finds the same filing.
func NewFilingID(account, key string) string {
	return uuid.NewSHA1(namespace, []byte("filing\n"+account+"\n"+key)).String()
}

// Load folds a filing from its stream; ErrNotFound if it has no events.
func (x *Executor) Load(ctx context.Context, filingID string) (domain.Filing, []eventstore.RecordedEvent, error) {
	recorded, err := eventstore.ReadStreamFrom(ctx, x.store, Stream(filingID), 0)
	if err != nil {
		return domain.Filing{}, nil, err
	}
	var f domain.Filing
	for _, r := range recorded {
		e, err := domain.DecodeEvent(r.Type, r.Data)
		if err != nil {
			return domain.Filing{}, nil, fmt.Errorf("filing %s event %d: %w", filingID, r.Revision, err)
		}
		f = domain.Evolve(f, e)
	}
	return f, recorded, nil
}

// decideFunc builds the domain command from the filing as it stands and the
// time. It may ask ports, and return the problems their answers show (an
// unregistered domain); it runs again if the append has to be retried.
type decideFunc func(ctx context.Context, f domain.Filing, now time.Time) (domain.Command, []domain.FieldError, error)

// run executes one command on a filing. input is the command's input without
// its Meta: its hash tells a retry from a reused key.
func (x *Executor) run(ctx context.Context, filingID string, m Meta, name string, input any, build decideFunc) (Result, error) {
	if err := m.validate(); err != nil {
		return Result{}, fmt.Errorf("%s: %w", name, err)
	}
	if !mayRun(m.Actor.Role, name) {
		return Result{}, &ForbiddenError{Command: name, Role: m.Actor.Role}
	}
	commandID := deriveCommandID(m.Actor.Account, name, filingID, m.IdempotencyKey)
	inputHash, err := hashInput(input)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", name, err)
	}
	for range maxAttempts {
		f, recorded, err := x.Load(ctx, filingID)
		if err != nil {
			return Result{}, err
		}
		if first, ok := earlierResult(recorded, commandID.String()); ok {
			if first.Events[0].Metadata.CommandHash != inputHash {
				return Result{}, &IdempotencyKeyReusedError{Command: name, Key: m.IdempotencyKey}
			}
			first.FilingID = filingID
			return first, nil
		}
		if len(recorded) > 0 && m.Actor.Role == RoleApplicant && f.Account != m.Actor.Account {
			return Result{}, fmt.Errorf("%s %s: %w", name, filingID, ErrNotFound) // another's filing does not exist for them
		}
		if len(recorded) == 0 && name != "VerifyType" {
			return Result{}, fmt.Errorf("%s %s: %w", name, filingID, ErrNotFound)
		}
		cmd, problems, err := build(ctx, f, x.clock.Now())
		if err != nil {
			return Result{}, err
		}
		events, err := x.rules.Decide(f, cmd)
		if err = mergeProblems(err, problems); err != nil {
			return Result{}, err
		}
		data, err := x.eventData(events, commandID, inputHash, m)
		if err != nil {
			return Result{}, err
		}
		if x.sealer != nil {
			after := f
			for _, e := range events {
				after = domain.Evolve(after, e)
			}
			if err := x.sealer.Seal(ctx, after, data); err != nil {
				return Result{}, fmt.Errorf("%s: seal personal data: %w", name, err)
			}
		}
		next, lastHash := chainHead(recorded)
		res, err := appendChained(ctx, x.store, Stream(filingID), next, lastHash, data)
		switch {
		case errors.Is(err, eventstore.ErrConflict):
			// Someone else wrote first, or a copy of this very command did:
			// look again after a short random pause, so racers do not
			// collide in step.
			time.Sleep(time.Duration(rand.Int64N(int64(time.Millisecond))))
			continue
		case err != nil:
			return Result{}, err
		}
		out := appended(Stream(filingID), res, data)
		out.FilingID = filingID
		return out, nil
	}
	return Result{}, fmt.Errorf("%s %s after %d attempts: %w", name, filingID, maxAttempts, ErrConflict)
}

// deriveCommandID derives a command's id from who ran it, what, on which filing
// and with which idempotency key.
func deriveCommandID(account, name, filingID, key string) uuid.UUID {
	return uuid.NewSHA1(namespace, []byte(account+"\n"+name+"\n"+filingID+"\n"+key))
}

// earlierResult finds the events a command appended before.
func earlierResult(recorded []eventstore.RecordedEvent, commandID string) (Result, bool) {
	var r Result
	for _, e := range recorded {
		if e.Metadata.CommandID == commandID {
			r.Events = append(r.Events, e)
			r.Revision, r.Position = e.Revision, e.Position
		}
	}
	r.Repeated = len(r.Events) > 0
	return r, r.Repeated
}

func (x *Executor) eventData(events []domain.Event, commandID uuid.UUID, inputHash string, m Meta) ([]eventstore.EventData, error) {
	out := make([]eventstore.EventData, len(events))
	for i, e := range events {
		typ, data, err := domain.EncodeEvent(e)
		if err != nil {
			return nil, err
		}
		out[i] = eventstore.EventData{
			ID:   eventID(commandID, i),
			Type: typ, Data: data,
			Metadata: eventstore.Metadata{
				SchemaVersion: 1, ActorAccount: m.Actor.Account, ActorRole: m.Actor.Role,
				CommandID: commandID.String(), CommandHash: inputHash,
				CorrelationID: m.CorrelationID, CausationID: m.CausationID, OccurredAt: e.OccurredAt(),
			},
		}
	}
	return out, nil
}

// appended describes a fresh append to stream; positions of all but the
// last event follow from the adapter's numbering and are left to readers.
func appended(stream string, res eventstore.AppendResult, data []eventstore.EventData) Result {
	recorded := make([]eventstore.RecordedEvent, len(data))
	first := res.Revision + 1 - uint64(len(data))
	for i, d := range data {
		recorded[i] = eventstore.RecordedEvent{EventData: d, Stream: stream, Revision: first + uint64(i)}
	}
	recorded[len(recorded)-1].Position = res.Position
	return Result{Revision: res.Revision, Position: res.Position, Events: recorded}
}

// eventID derives the id of a command's i-th event, so a retried command
// appends the same ids.
func eventID(commandID uuid.UUID, i int) string {
	return uuid.NewSHA1(commandID, []byte(strconv.Itoa(i))).String()
}

// chainHead is where a stream read whole goes on: its next revision and the
// hash to chain to.
func chainHead(recorded []eventstore.RecordedEvent) (next uint64, lastHash string) {
	if len(recorded) == 0 {
		return 0, ""
	}
	return uint64(len(recorded)), recorded[len(recorded)-1].Metadata.Hash
}

func hashInput(input any) (string, error) {
	b, err := json.Marshal(input)
	if err != nil {
		return "", fmt.Errorf("hash command input: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// mergeProblems joins what the ports found with the domain's verdict into one
// validation error. A port's problem replaces the domain's at the same path:
// "not registered" says more than the rules applied to empty facts.
func mergeProblems(err error, problems []domain.FieldError) error {
	if len(problems) == 0 {
		return err
	}
	var ve *domain.ValidationError
	switch {
	case err == nil:
		return &domain.ValidationError{Fields: problems}
	case !errors.As(err, &ve):
		return err
	}
	fields := slices.DeleteFunc(slices.Clone(ve.Fields), func(f domain.FieldError) bool {
		return slices.ContainsFunc(problems, func(p domain.FieldError) bool { return p.Path == f.Path })
	})
	return &domain.ValidationError{Fields: append(problems, fields...)}
}
