package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Event is a fact about a filing. Its type is a stable, versioned name
// (never the Go type name); its payload is JSON.
type Event interface {
	// EventType is the event's stable name, e.g. "filing.type_verified.v1".
	EventType() string
	// OccurredAt is the time of the command that caused it.
	OccurredAt() time.Time
}

// The event types. A change to an event's payload that old readers cannot
// read gets a new version suffix and an upcaster, never an edit in place.
const (
	TypeTypeVerified              = "filing.type_verified.v1"
	TypeEntitySubmitted           = "filing.entity_submitted.v1"
	TypeWebsiteSubmitted          = "filing.website_submitted.v1"
	TypeWebsiteRemoved            = "filing.website_removed.v1"
	TypeWebsitePrincipalSubmitted = "filing.website_principal_submitted.v1"
	TypeLivenessStarted           = "filing.liveness_started.v1"
	TypeLivenessPassed            = "filing.liveness_passed.v1"
	TypeLivenessFailed            = "filing.liveness_failed.v1"
	TypeMaterialUploaded          = "filing.material_uploaded.v1"
	TypeMaterialRemoved           = "filing.material_removed.v1"
	TypeSubmittedForReview        = "filing.submitted_for_review.v1"
	TypeWithdrawn                 = "filing.withdrawn.v1"
	TypeAbandoned                 = "filing.abandoned.v1"
	TypeInitialReviewApproved     = "filing.initial_review_approved.v1"
	TypeInitialReviewRejected     = "filing.initial_review_rejected.v1"
	TypeSentToBureau              = "filing.sent_to_bureau.v1"
	TypeSMSVerificationRequested  = "filing.sms_verification_requested.v1"
	TypeSMSCodeVerified           = "filing.sms_code_verified.v1"
	TypeSMSCodeRejected           = "filing.sms_code_rejected.v1"
	TypeSMSVerificationCompleted  = "filing.sms_verification_completed.v1"
	TypeSMSVerificationFailed     = "filing.sms_verification_failed.v1"
	TypeBureauApproved            = "filing.bureau_approved.v1"
	TypeBureauRejected            = "filing.bureau_rejected.v1"
	TypeIdleReminded              = "filing.idle_reminded.v1"
	TypeExpired                   = "filing.expired.v1"
	TypeReviewOverdue             = "filing.review_overdue.v1"
	TypeDeadlineApproaching       = "filing.deadline_approaching.v1"
)

// EventTypes lists every event type, in lifecycle order.
func EventTypes() []string {
	return []string{TypeTypeVerified, TypeEntitySubmitted, TypeWebsiteSubmitted, TypeWebsiteRemoved,
		TypeWebsitePrincipalSubmitted, TypeLivenessStarted, TypeLivenessPassed, TypeLivenessFailed,
		TypeMaterialUploaded, TypeMaterialRemoved, TypeSubmittedForReview, TypeWithdrawn, TypeAbandoned,
		TypeInitialReviewApproved, TypeInitialReviewRejected, TypeSentToBureau, TypeSMSVerificationRequested,
		TypeSMSCodeVerified, TypeSMSCodeRejected, TypeSMSVerificationCompleted, TypeSMSVerificationFailed,
		TypeBureauApproved, TypeBureauRejected, TypeIdleReminded, TypeExpired, TypeReviewOverdue, TypeDeadlineApproaching}
}

// TypeVerified starts a filing: the facts of step 1 as checked.
type TypeVerified struct {
	FilingID          string        `json:"filingId"`
	Account           string        `json:"account"`
	Province          string        `json:"province"`
	City              string        `json:"city"`
	District          string        `json:"district,omitempty"`
	Nature            string        `json:"nature"`
	CertificateType   string        `json:"certificateType"`
	CertificateNumber string        `json:"certificateNumber"`
	Domains           []Domain      `json:"domains"`
	Resource          CloudResource `json:"resource"`
	RulesVersion      string        `json:"rulesVersion"`
	At                time.Time     `json:"at"`
}

// EntitySubmitted records the entity and its principal as submitted.
type EntitySubmitted struct {
	Entity Entity    `json:"entity"`
	At     time.Time `json:"at"`
}

// WebsiteSubmitted records a website as added or amended.
type WebsiteSubmitted struct {
	Website Website   `json:"website"`
	At      time.Time `json:"at"`
}

// WebsiteRemoved records that a website left the filing.
type WebsiteRemoved struct {
	WebsiteID string    `json:"websiteId"`
	At        time.Time `json:"at"`
}

// WebsitePrincipalSubmitted records a website's principal.
type WebsitePrincipalSubmitted struct {
	WebsiteID  string    `json:"websiteId"`
	Principal  Person    `json:"principal"`
	IsLegalRep bool      `json:"isLegalRep"`
	At         time.Time `json:"at"`
}

// LivenessStarted records an open liveness session.
type LivenessStarted struct {
	WebsiteID string    `json:"websiteId"`
	SessionID string    `json:"sessionId"`
	At        time.Time `json:"at"`
}

// LivenessPassed records a passed liveness check.
type LivenessPassed struct {
	WebsiteID string    `json:"websiteId"`
	SessionID string    `json:"sessionId"`
	At        time.Time `json:"at"`
}

// LivenessFailed records a failed liveness check and why.
type LivenessFailed struct {
	WebsiteID string    `json:"websiteId"`
	SessionID string    `json:"sessionId"`
	Reasons   []string  `json:"reasons"`
	At        time.Time `json:"at"`
}

// MaterialUploaded records an attached material.
type MaterialUploaded struct {
	Material Material  `json:"material"`
	At       time.Time `json:"at"`
}

// MaterialRemoved records a detached material.
type MaterialRemoved struct {
	Kind  string    `json:"kind"`
	Scope string    `json:"scope"`
	At    time.Time `json:"at"`
}

// SubmittedForReview records the submission (AgreedAgreement) and when the
// initial review is due.
type SubmittedForReview struct {
	TermsVersion string    `json:"termsVersion"`
	Submission   int       `json:"submission"` // 1 for the first, 2 after one rejection, …
	DueAt        time.Time `json:"dueAt"`
	At           time.Time `json:"at"`
}

// Withdrawn records that the applicant took the submission back to draft.
type Withdrawn struct {
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// Abandoned records that the filing ended at the applicant's request.
type Abandoned struct {
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// InitialReviewApproved records the provider's approval.
type InitialReviewApproved struct {
	Note string    `json:"note,omitempty"`
	At   time.Time `json:"at"`
}

// InitialReviewRejected records the provider's rejection and its reasons.
type InitialReviewRejected struct {
	Reasons []Reason  `json:"reasons"`
	At      time.Time `json:"at"`
}

// SentToBureau records that the bureau received the filing and when its
// review is due.
type SentToBureau struct {
	DueAt time.Time `json:"dueAt"`
	At    time.Time `json:"at"`
}

// SMSVerificationRequested records the MIIT codes sent (as hashes).
type SMSVerificationRequested struct {
	Recipients []SMSRecipient `json:"recipients"`
	ExpiresAt  time.Time      `json:"expiresAt"`
	At         time.Time      `json:"at"`
}

// SMSCodeVerified records one recipient's confirmed code.
type SMSCodeVerified struct {
	Mobile string    `json:"mobile"`
	At     time.Time `json:"at"`
}

// SMSCodeRejected records a wrong code and how many tries are left.
type SMSCodeRejected struct {
	Mobile       string    `json:"mobile"`
	WrongCodes   int       `json:"wrongCodes"`
	AttemptsLeft int       `json:"attemptsLeft"`
	At           time.Time `json:"at"`
}

// SMSVerificationCompleted records that every recipient confirmed: the bureau
// starts its review.
type SMSVerificationCompleted struct {
	At time.Time `json:"at"`
}

// SMS failure reasons.
const (
	SMSFailedTooManyWrongCodes = "too_many_wrong_codes"
	SMSFailedExpired           = "expired"
)

// SMSVerificationFailed records that the filing went back to the provider.
type SMSVerificationFailed struct {
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// BureauApproved records the issued ICP numbers.
type BureauApproved struct {
	EntityNumber   string          `json:"entityNumber"`
	WebsiteNumbers []WebsiteNumber `json:"websiteNumbers"`
	At             time.Time       `json:"at"`
}

// BureauRejected records the bureau's rejection and its reasons.
type BureauRejected struct {
	Reasons []Reason  `json:"reasons"`
	At      time.Time `json:"at"`
}

// IdleReminded records a reminder sent to an idle applicant.
type IdleReminded struct {
	Day       int       `json:"day"`
	IdleSince time.Time `json:"idleSince"`
	At        time.Time `json:"at"`
}

// Expired records that the filing closed after 45 idle days.
type Expired struct {
	IdleSince time.Time `json:"idleSince"`
	At        time.Time `json:"at"`
}

// ReviewOverdue records that a review passed its due time.
type ReviewOverdue struct {
	Stage string    `json:"stage"`
	DueAt time.Time `json:"dueAt"`
	At    time.Time `json:"at"`
}

// DeadlineApproaching records that a deadline is near.
type DeadlineApproaching struct {
	Kind  string    `json:"kind"`
	DueAt time.Time `json:"dueAt"`
	At    time.Time `json:"at"`
}

func (DeadlineApproaching) EventType() string       { return TypeDeadlineApproaching }
func (e DeadlineApproaching) OccurredAt() time.Time { return e.At }

func (TypeVerified) EventType() string              { return TypeTypeVerified }
func (EntitySubmitted) EventType() string           { return TypeEntitySubmitted }
func (WebsiteSubmitted) EventType() string          { return TypeWebsiteSubmitted }
func (WebsiteRemoved) EventType() string            { return TypeWebsiteRemoved }
func (WebsitePrincipalSubmitted) EventType() string { return TypeWebsitePrincipalSubmitted }
func (LivenessStarted) EventType() string           { return TypeLivenessStarted }
func (LivenessPassed) EventType() string            { return TypeLivenessPassed }
func (LivenessFailed) EventType() string            { return TypeLivenessFailed }
func (MaterialUploaded) EventType() string          { return TypeMaterialUploaded }
func (MaterialRemoved) EventType() string           { return TypeMaterialRemoved }
func (SubmittedForReview) EventType() string        { return TypeSubmittedForReview }
func (Withdrawn) EventType() string                 { return TypeWithdrawn }
func (Abandoned) EventType() string                 { return TypeAbandoned }
func (InitialReviewApproved) EventType() string     { return TypeInitialReviewApproved }
func (InitialReviewRejected) EventType() string     { return TypeInitialReviewRejected }
func (SentToBureau) EventType() string              { return TypeSentToBureau }
func (SMSVerificationRequested) EventType() string  { return TypeSMSVerificationRequested }
func (SMSCodeVerified) EventType() string           { return TypeSMSCodeVerified }
func (SMSCodeRejected) EventType() string           { return TypeSMSCodeRejected }
func (SMSVerificationCompleted) EventType() string  { return TypeSMSVerificationCompleted }
func (SMSVerificationFailed) EventType() string     { return TypeSMSVerificationFailed }
func (BureauApproved) EventType() string            { return TypeBureauApproved }
func (BureauRejected) EventType() string            { return TypeBureauRejected }
func (IdleReminded) EventType() string              { return TypeIdleReminded }
func (Expired) EventType() string                   { return TypeExpired }
func (ReviewOverdue) EventType() string             { return TypeReviewOverdue }

func (e TypeVerified) OccurredAt() time.Time              { return e.At }
func (e EntitySubmitted) OccurredAt() time.Time           { return e.At }
func (e WebsiteSubmitted) OccurredAt() time.Time          { return e.At }
func (e WebsiteRemoved) OccurredAt() time.Time            { return e.At }
func (e WebsitePrincipalSubmitted) OccurredAt() time.Time { return e.At }
func (e LivenessStarted) OccurredAt() time.Time           { return e.At }
func (e LivenessPassed) OccurredAt() time.Time            { return e.At }
func (e LivenessFailed) OccurredAt() time.Time            { return e.At }
func (e MaterialUploaded) OccurredAt() time.Time          { return e.At }
func (e MaterialRemoved) OccurredAt() time.Time           { return e.At }
func (e SubmittedForReview) OccurredAt() time.Time        { return e.At }
func (e Withdrawn) OccurredAt() time.Time                 { return e.At }
func (e Abandoned) OccurredAt() time.Time                 { return e.At }
func (e InitialReviewApproved) OccurredAt() time.Time     { return e.At }
func (e InitialReviewRejected) OccurredAt() time.Time     { return e.At }
func (e SentToBureau) OccurredAt() time.Time              { return e.At }
func (e SMSVerificationRequested) OccurredAt() time.Time  { return e.At }
func (e SMSCodeVerified) OccurredAt() time.Time           { return e.At }
func (e SMSCodeRejected) OccurredAt() time.Time           { return e.At }
func (e SMSVerificationCompleted) OccurredAt() time.Time  { return e.At }
func (e SMSVerificationFailed) OccurredAt() time.Time     { return e.At }
func (e BureauApproved) OccurredAt() time.Time            { return e.At }
func (e BureauRejected) OccurredAt() time.Time            { return e.At }
func (e IdleReminded) OccurredAt() time.Time              { return e.At }
func (e Expired) OccurredAt() time.Time                   { return e.At }
func (e ReviewOverdue) OccurredAt() time.Time             { return e.At }

// decoderFor returns the decoder of an event type, or nil for a type this
// version of beian does not know.
func decoderFor(eventType string) func([]byte) (Event, error) {
	switch eventType {
	case TypeTypeVerified:
		return decodeAs[TypeVerified]
	case TypeEntitySubmitted:
		return decodeAs[EntitySubmitted]
	case TypeWebsiteSubmitted:
		return decodeAs[WebsiteSubmitted]
	case TypeWebsiteRemoved:
		return decodeAs[WebsiteRemoved]
	case TypeWebsitePrincipalSubmitted:
		return decodeAs[WebsitePrincipalSubmitted]
	case TypeLivenessStarted:
		return decodeAs[LivenessStarted]
	case TypeLivenessPassed:
		return decodeAs[LivenessPassed]
	case TypeLivenessFailed:
		return decodeAs[LivenessFailed]
	case TypeMaterialUploaded:
		return decodeAs[MaterialUploaded]
	case TypeMaterialRemoved:
		return decodeAs[MaterialRemoved]
	case TypeSubmittedForReview:
		return decodeAs[SubmittedForReview]
	case TypeWithdrawn:
		return decodeAs[Withdrawn]
	case TypeAbandoned:
		return decodeAs[Abandoned]
	case TypeInitialReviewApproved:
		return decodeAs[InitialReviewApproved]
	case TypeInitialReviewRejected:
		return decodeAs[InitialReviewRejected]
	case TypeSentToBureau:
		return decodeAs[SentToBureau]
	case TypeSMSVerificationRequested:
		return decodeAs[SMSVerificationRequested]
	case TypeSMSCodeVerified:
		return decodeAs[SMSCodeVerified]
	case TypeSMSCodeRejected:
		return decodeAs[SMSCodeRejected]
	case TypeSMSVerificationCompleted:
		return decodeAs[SMSVerificationCompleted]
	case TypeSMSVerificationFailed:
		return decodeAs[SMSVerificationFailed]
	case TypeBureauApproved:
		return decodeAs[BureauApproved]
	case TypeBureauRejected:
		return decodeAs[BureauRejected]
	case TypeIdleReminded:
		return decodeAs[IdleReminded]
	case TypeExpired:
		return decodeAs[Expired]
	case TypeReviewOverdue:
		return decodeAs[ReviewOverdue]
	case TypeDeadlineApproaching:
		return decodeAs[DeadlineApproaching]
	}
	return nil
}

// EncodeEvent returns the event's type and JSON payload.
func EncodeEvent(e Event) (string, []byte, error) {
	data, err := json.Marshal(e)
	if err != nil {
		return "", nil, fmt.Errorf("encode %s: %w", e.EventType(), err)
	}
	return e.EventType(), data, nil
}

// UnknownEventTypeError is returned for an event type this version of beian
// does not know.
type UnknownEventTypeError struct{ Type string }

func (e *UnknownEventTypeError) Error() string { return "unknown event type " + e.Type }

// DecodeEvent reads an event from its type and JSON payload.
func DecodeEvent(eventType string, data []byte) (Event, error) {
	decode := decoderFor(eventType)
	if decode == nil {
		return nil, &UnknownEventTypeError{Type: eventType}
	}
	e, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", eventType, err)
	}
	return e, nil
}

// decodeAs decodes a payload into the value type that Decide emits, so that
// decoded and freshly decided events compare equal. Unknown fields are refused
// so that a payload of a newer schema is noticed, not silently half-read.
func decodeAs[T Event](data []byte) (Event, error) {
	var v T
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the payload")
	}
	return v, nil
}
