package domain

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Filing is the state of one filing, folded from its events by Evolve.
// The zero value is a filing that does not exist yet (StatusNone).
type Filing struct {
	ID      string
	Account string
	Status  Status
	Version int // events applied; the stream's next expected revision

	Province          string
	City              string
	District          string
	Nature            string
	CertificateType   string
	CertificateNumber string
	Domains           []Domain // checked at step 1
	Resource          CloudResource
	RulesVersion      string

	Entity    *Entity
	Websites  []WebsiteState
	Materials []Material

	Submission   int // submissions to initial review so far
	TermsVersion string
	ReviewDueAt  time.Time
	BureauDueAt  time.Time
	Overdue      []string // review stages flagged overdue since the last submission
	Warned       []WarnedDeadline
	Rejection    *Rejection
	SMS          *SMSState
	Numbers      *Numbers

	CreatedAt     time.Time
	UpdatedAt     time.Time
	IdleSince     time.Time // when the filing last waited on, or heard from, the applicant
	RemindersSent []int     // idle reminders sent since IdleSince

	NextWebsite int // number of the next website's id; ids are never reused
}

// WebsiteState is a website with its principal and liveness check.
type WebsiteState struct {
	Website
	Principal           *Person // organisations; individuals use the entity principal
	PrincipalIsLegalRep bool
	Liveness            Liveness
}

// Liveness states.
const (
	LivenessStatePending = "pending"
	LivenessStateStarted = "started"
	LivenessStatePassed  = "passed"
	LivenessStateFailed  = "failed"
)

// Liveness is a website principal's video verification.
type Liveness struct {
	State     string
	SessionID string
	Reasons   []string
	At        time.Time
}

// WarnedDeadline is a deadline already announced as near.
type WarnedDeadline struct {
	Kind  string
	DueAt time.Time
}

// Rejection is the latest rejection, kept until the next submission.
type Rejection struct {
	Stage   string
	Reasons []Reason
	At      time.Time
}

// SMSState is the MIIT SMS verification in progress.
type SMSState struct {
	Recipients []SMSRecipientState
	ExpiresAt  time.Time
	Failed     string // failure reason once failed
}

// SMSRecipientState is one recipient's progress.
type SMSRecipientState struct {
	SMSRecipient
	WrongCodes int
	Verified   bool
}

// Numbers are the ICP numbers issued.
type Numbers struct {
	Entity   string
	Websites []WebsiteNumber
}

// Kind is "individual" or "organisation", from the entity nature.
func (f *Filing) Kind() string {
	if f.Nature == "individual" {
		return KindIndividual
	}
	return KindOrganisation
}

// Website returns the website with the id, or nil.
func (f *Filing) Website(id string) *WebsiteState {
	for i := range f.Websites {
		if f.Websites[i].ID == id {
			return &f.Websites[i]
		}
	}
	return nil
}

// WebsitePrincipal returns who answers for a website: its own principal for
// organisations, the entity principal for individuals; nil if not known yet.
func (f *Filing) WebsitePrincipal(w *WebsiteState) *Person {
	if f.Kind() == KindIndividual {
		if f.Entity == nil {
			return nil
		}
		return &f.Entity.Principal
	}
	return w.Principal
}

// Material returns the material of the kind and scope, or nil.
func (f *Filing) Material(kind, scope string) *Material {
	for i := range f.Materials {
		if f.Materials[i].Kind == kind && f.Materials[i].Scope == scope {
			return &f.Materials[i]
		}
	}
	return nil
}

// Replay folds events into a filing from nothing.
func Replay(events []Event) Filing {
	var f Filing
	for _, e := range events {
		f.apply(e)
	}
	return f
}

// Evolve returns the filing after the event. It never changes f: state
// shared with f is copied before it is changed.
func Evolve(f Filing, e Event) Filing {
	g := f.clone()
	g.apply(e)
	return g
}

// clone copies everything apply changes in place.
func (f Filing) clone() Filing {
	f.Domains = slices.Clone(f.Domains)
	f.Websites = slices.Clone(f.Websites)
	f.Materials = slices.Clone(f.Materials)
	f.Overdue = slices.Clone(f.Overdue)
	f.Warned = slices.Clone(f.Warned)
	f.RemindersSent = slices.Clone(f.RemindersSent)
	if f.SMS != nil {
		sms := *f.SMS
		sms.Recipients = slices.Clone(sms.Recipients)
		f.SMS = &sms
	}
	return f
}

// apply changes f by one event. It trusts the event: Decide checked it.
func (f *Filing) apply(e Event) {
	f.Version++
	f.UpdatedAt = e.OccurredAt()
	switch e := e.(type) {
	case TypeVerified:
		*f = Filing{
			ID: e.FilingID, Account: e.Account, Status: StatusDraft, Version: f.Version,
			Province: e.Province, City: e.City, District: e.District, Nature: e.Nature,
			CertificateType: e.CertificateType, CertificateNumber: e.CertificateNumber,
			Domains: e.Domains, Resource: e.Resource, RulesVersion: e.RulesVersion,
			CreatedAt: e.At, UpdatedAt: e.At, NextWebsite: 1,
		}
		f.touch(e.At)
	case EntitySubmitted:
		if f.Kind() == KindIndividual && f.Entity != nil && !samePerson(f.Entity.Principal, e.Entity.Principal) {
			f.resetLiveness()
		}
		entity := e.Entity
		f.Entity = &entity
		f.touch(e.At)
	case WebsiteSubmitted:
		if w := f.Website(e.Website.ID); w != nil {
			w.Website = e.Website
		} else {
			f.Websites = append(f.Websites, WebsiteState{Website: e.Website, Liveness: Liveness{State: LivenessStatePending}})
			if n := websiteNumber(e.Website.ID); n >= f.NextWebsite {
				f.NextWebsite = n + 1
			}
		}
		f.dropOrphanMaterials()
		f.touch(e.At)
	case WebsiteRemoved:
		f.Websites = slices.DeleteFunc(f.Websites, func(w WebsiteState) bool { return w.ID == e.WebsiteID })
		f.dropOrphanMaterials()
		f.touch(e.At)
	case WebsitePrincipalSubmitted:
		if w := f.Website(e.WebsiteID); w != nil {
			if w.Principal != nil && !samePerson(*w.Principal, e.Principal) {
				w.Liveness = Liveness{State: LivenessStatePending}
			}
			p := e.Principal
			w.Principal = &p
			w.PrincipalIsLegalRep = e.IsLegalRep
		}
		f.touch(e.At)
	case LivenessStarted:
		f.setLiveness(e.WebsiteID, Liveness{State: LivenessStateStarted, SessionID: e.SessionID, At: e.At})
		f.touch(e.At)
	case LivenessPassed:
		f.setLiveness(e.WebsiteID, Liveness{State: LivenessStatePassed, SessionID: e.SessionID, At: e.At})
		f.touch(e.At)
	case LivenessFailed:
		f.setLiveness(e.WebsiteID, Liveness{State: LivenessStateFailed, SessionID: e.SessionID, Reasons: e.Reasons, At: e.At})
		f.touch(e.At)
	case MaterialUploaded:
		f.Materials = slices.DeleteFunc(f.Materials, func(m Material) bool {
			return m.Kind == e.Material.Kind && m.Scope == e.Material.Scope
		})
		f.Materials = append(f.Materials, e.Material)
		f.touch(e.At)
	case MaterialRemoved:
		f.Materials = slices.DeleteFunc(f.Materials, func(m Material) bool { return m.Kind == e.Kind && m.Scope == e.Scope })
		f.touch(e.At)
	case SubmittedForReview:
		f.Status = StatusSubmitted
		f.Submission = e.Submission
		f.TermsVersion = e.TermsVersion
		f.ReviewDueAt = e.DueAt
		f.BureauDueAt = time.Time{}
		f.Overdue = nil
		f.SMS = nil
		f.touch(e.At)
	case Withdrawn:
		f.Status = StatusDraft
		f.ReviewDueAt = time.Time{}
		f.touch(e.At)
	case Abandoned:
		f.Status = StatusAbandoned
	case InitialReviewApproved:
		f.Status = StatusProviderApproved
		f.Rejection = nil
	case InitialReviewRejected:
		f.Status = StatusProviderRejected
		f.Rejection = &Rejection{Stage: StageInitial, Reasons: e.Reasons, At: e.At}
		f.touch(e.At)
	case SentToBureau:
		f.Status = StatusSentToBureau
		f.BureauDueAt = e.DueAt
		f.SMS = nil
	case SMSVerificationRequested:
		f.Status = StatusSMSPending
		sms := &SMSState{ExpiresAt: e.ExpiresAt}
		for _, r := range e.Recipients {
			sms.Recipients = append(sms.Recipients, SMSRecipientState{SMSRecipient: r})
		}
		f.SMS = sms
	case SMSCodeVerified:
		if r := f.smsRecipient(e.Mobile); r != nil {
			r.Verified = true
		}
	case SMSCodeRejected:
		if r := f.smsRecipient(e.Mobile); r != nil {
			r.WrongCodes = e.WrongCodes
		}
	case SMSVerificationCompleted:
		f.Status = StatusBureauReview
	case SMSVerificationFailed:
		f.Status = StatusReturnedToProvider
		if f.SMS != nil {
			f.SMS.Failed = e.Reason
		}
	case BureauApproved:
		f.Status = StatusApproved
		f.Numbers = &Numbers{Entity: e.EntityNumber, Websites: e.WebsiteNumbers}
		f.Rejection = nil
	case BureauRejected:
		f.Status = StatusBureauRejected
		f.Rejection = &Rejection{Stage: StageBureau, Reasons: e.Reasons, At: e.At}
		f.touch(e.At)
	case IdleReminded:
		f.RemindersSent = append(f.RemindersSent, e.Day)
	case Expired:
		f.Status = StatusExpired
	case ReviewOverdue:
		f.Overdue = append(f.Overdue, e.Stage)
	case DeadlineApproaching:
		f.Warned = append(f.Warned, WarnedDeadline{Kind: e.Kind, DueAt: e.DueAt})
	}
}

// StatusAfter returns the status an event moves a filing to, and false for
// events that leave the status as it is. Read models that track only the
// status use it instead of folding the whole filing.
func StatusAfter(e Event) (Status, bool) {
	switch e.(type) {
	case TypeVerified, Withdrawn:
		return StatusDraft, true
	case SubmittedForReview:
		return StatusSubmitted, true
	case Abandoned:
		return StatusAbandoned, true
	case InitialReviewApproved:
		return StatusProviderApproved, true
	case InitialReviewRejected:
		return StatusProviderRejected, true
	case SentToBureau:
		return StatusSentToBureau, true
	case SMSVerificationRequested:
		return StatusSMSPending, true
	case SMSVerificationCompleted:
		return StatusBureauReview, true
	case SMSVerificationFailed:
		return StatusReturnedToProvider, true
	case BureauApproved:
		return StatusApproved, true
	case BureauRejected:
		return StatusBureauRejected, true
	case Expired:
		return StatusExpired, true
	}
	return "", false
}

// touch restarts the idle clock: the applicant acted, or the filing came
// back to them.
func (f *Filing) touch(at time.Time) {
	f.IdleSince = at
	f.RemindersSent = nil
}

// resetLiveness clears every website's check: the entity principal of an
// individual, who answers for the website, changed.
func (f *Filing) resetLiveness() {
	for i := range f.Websites {
		f.Websites[i].Liveness = Liveness{State: LivenessStatePending}
	}
}

func (f *Filing) setLiveness(websiteID string, l Liveness) {
	if w := f.Website(websiteID); w != nil {
		w.Liveness = l
	}
}

// dropOrphanMaterials removes materials whose website or domain left the
// filing, so that nothing unreviewed is submitted.
func (f *Filing) dropOrphanMaterials() {
	f.Materials = slices.DeleteFunc(f.Materials, func(m Material) bool { return !f.scopeExists(m.Scope) })
}

// scopeExists reports whether a material scope names a part of the filing.
func (f *Filing) scopeExists(scope string) bool {
	switch {
	case scope == "entity":
		return true
	case strings.HasPrefix(scope, "website:"):
		id, category, hasCategory := strings.Cut(strings.TrimPrefix(scope, "website:"), ":")
		w := f.Website(id)
		if w == nil {
			return false
		}
		return !hasCategory || slices.ContainsFunc(w.PreApprovals, func(p PreApproval) bool { return p.Category == category })
	case strings.HasPrefix(scope, "domain:"):
		return f.websiteOfDomain(strings.TrimPrefix(scope, "domain:")) != nil
	}
	return false
}

// websiteOfDomain returns the website that holds the domain, or nil.
func (f *Filing) websiteOfDomain(name string) *WebsiteState {
	for i := range f.Websites {
		for _, d := range f.Websites[i].Domains {
			if d.Name == name {
				return &f.Websites[i]
			}
		}
	}
	return nil
}

func (f *Filing) smsRecipient(mobile string) *SMSRecipientState {
	if f.SMS == nil {
		return nil
	}
	for i := range f.SMS.Recipients {
		if f.SMS.Recipients[i].Mobile == mobile {
			return &f.SMS.Recipients[i]
		}
	}
	return nil
}

// websiteNumber reads the n of a website id "wn"; 0 if it is not one.
func websiteNumber(id string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(id, "w"))
	if err != nil || !strings.HasPrefix(id, "w") {
		return 0
	}
	return n
}
