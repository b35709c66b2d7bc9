package commands

import (
	"errors"
	"fmt"
	"slices"

	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/eventstore"
)

// Roles of the people and systems that run commands.
const (
	RoleApplicant = "applicant"
	RoleReviewer  = "reviewer" // the provider's initial reviewer
	RoleBureau    = "bureau"   // the provincial bureau (管局) and MIIT's systems
	RoleAuditor   = "auditor"
	RoleAdmin     = "admin"
	RoleSystem    = "system" // timers, provider callbacks
)

// Roles lists every role.
func Roles() []string {
	return []string{RoleApplicant, RoleReviewer, RoleBureau, RoleAuditor, RoleAdmin, RoleSystem}
}

// Actor is who runs a command.
type Actor struct {
	Account string
	Role    string
}

// Meta is what every command carries besides its input.
type Meta struct {
	Actor Actor
	// IdempotencyKey makes the command safe to retry: the same key with the
	// same input returns the first result and appends nothing.
	IdempotencyKey string
	CorrelationID  string
	CausationID    string
}

func (m Meta) validate() error {
	var errs []error
	if m.IdempotencyKey == "" || len(m.IdempotencyKey) > 200 {
		errs = append(errs, errors.New("the idempotency key must be 1 to 200 bytes"))
	}
	if m.Actor.Account == "" {
		errs = append(errs, errors.New("the actor's account is missing"))
	}
	if !slices.Contains(Roles(), m.Actor.Role) {
		errs = append(errs, fmt.Errorf("unknown role %q", m.Actor.Role))
	}
	return errors.Join(errs...)
}

// Result is what a command did.
type Result struct {
	FilingID string
	Revision uint64 // of the filing's last event
	Position uint64 // commit position in $all; queries can wait for it
	Events   []eventstore.RecordedEvent
	// Repeated is true when the command had taken effect before: nothing was
	// appended and Events are those of the first time.
	Repeated bool
}

// Domain returns the result's events as domain events.
func (r Result) Domain() ([]domain.Event, error) {
	out := make([]domain.Event, 0, len(r.Events))
	for _, e := range r.Events {
		de, err := domain.DecodeEvent(e.Type, e.Data)
		if err != nil {
			return nil, err
		}
		out = append(out, de)
	}
	return out, nil
}

// Stream is the event stream of a filing.
func Stream(filingID string) string { return "filing-" + filingID }

// The errors a caller branches on, besides domain.ValidationError and
// domain.InvalidStateError.
var (
	ErrNotFound = errors.New("filing not found")
	ErrConflict = errors.New("the filing kept changing; try again")
)

// ForbiddenError: the actor's role may not run the command, or the filing
// is not the actor's.
type ForbiddenError struct {
	Command string
	Role    string
}

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("%s may not run %s", e.Role, e.Command)
}

// IdempotencyKeyReusedError: the key was used before for different input.
type IdempotencyKeyReusedError struct {
	Command string
	Key     string
}

func (e *IdempotencyKeyReusedError) Error() string {
	return fmt.Sprintf("%s: idempotency key %q was used for other input", e.Command, e.Key)
}

// mayRun is the role policy: who runs which command. Applicants are further
// limited to their own filings.
func mayRun(role, command string) bool {
	switch role {
	case RoleAdmin:
		return true
	case RoleApplicant:
		return slices.Contains([]string{"VerifyType", "SubmitEntity", "SubmitWebsite", "RemoveWebsite", "SubmitWebsitePrincipal",
			"StartLiveness", "UploadMaterial", "RemoveMaterial", "SubmitForReview", "WithdrawFiling", "AbandonFiling", "VerifySmsCode"}, command)
	case RoleReviewer:
		return slices.Contains([]string{"ApproveInitialReview", "RejectInitialReview", "SendToBureau", "RevealPersonalData"}, command)
	case RoleBureau:
		return slices.Contains([]string{"RequestSmsVerification", "ApproveByBureau", "RejectByBureau", "RevealPersonalData"}, command)
	case RoleSystem:
		return slices.Contains([]string{"PassLiveness", "FailLiveness", "RequestSmsVerification", "ExpireSmsVerification",
			"RemindIdle", "Expire", "FlagOverdue", "WarnDeadline"}, command)
	}
	return false
}
