package domain

import "time"

// Command is a request to change a filing. Every command carries the time
// it happens at (At); the domain never reads a clock.
type Command interface {
	// CommandName is the command's stable name, e.g. "VerifyType".
	CommandName() string
}

// DomainInput is a domain name as the applicant typed it, with the registry
// facts the command side looked up for it.
type DomainInput struct {
	Name  string
	Facts DomainFacts
}

// PreparationFacts are the lookups across filings that VerifyType needs:
// they come from indexes the command side keeps, not from this filing.
type PreparationFacts struct {
	EntityAlreadyFiled      bool   // the certificate already has an ICP entity number
	EntityInBureauElsewhere bool   // another order of this entity is at a bureau (主办者冲突)
	AccountOpenFiling       string // id of the account's other in-flight filing, if any
}

// VerifyType starts a filing (step 1, 验证备案类型): the region, the entity's
// nature and certificate, the domains and the cloud resource.
type VerifyType struct {
	FilingID          string
	Account           string
	Province          string // GB/T 2260 code, e.g. "44"
	City              string
	District          string
	Nature            string
	CertificateType   string
	CertificateNumber string
	Domains           []DomainInput
	Resource          CloudResource
	Facts             PreparationFacts
	At                time.Time
}

// SubmitEntity fills in or amends the entity and its principal (step 2).
type SubmitEntity struct {
	Entity Entity
	// MobileProvince is the province the principal's mobile is registered in
	// (from a number-attribution lookup); empty when unknown.
	MobileProvince string
	At             time.Time
}

// SubmitWebsite adds a website (empty WebsiteID) or amends one (step 3).
type SubmitWebsite struct {
	WebsiteID      string
	Name           string
	Domains        []DomainInput
	HomepageURLs   []string
	ServiceContent []string
	PreApprovals   []PreApproval
	Remarks        string
	At             time.Time
}

// RemoveWebsite takes a website out of the filing before submission.
type RemoveWebsite struct {
	WebsiteID string
	At        time.Time
}

// SubmitWebsitePrincipal fills in or amends a website's principal (step 4);
// organisations only: an individual's website principal is the entity's.
type SubmitWebsitePrincipal struct {
	WebsiteID      string
	Principal      Person
	IsLegalRep     bool
	MobileProvince string
	At             time.Time
}

// StartLiveness records a liveness session opened with the provider (step 5).
type StartLiveness struct {
	WebsiteID string
	SessionID string
	At        time.Time
}

// PassLiveness is the liveness provider's verdict that the website principal
// is who the filing says.
type PassLiveness struct {
	WebsiteID string
	SessionID string
	At        time.Time
}

// FailLiveness is the liveness provider's verdict against, with its reasons.
type FailLiveness struct {
	WebsiteID string
	SessionID string
	Reasons   []string
	At        time.Time
}

// UploadMaterial attaches or replaces a material (step 6).
type UploadMaterial struct {
	Material Material
	At       time.Time
}

// RemoveMaterial detaches a material.
type RemoveMaterial struct {
	Kind  string
	Scope string
	At    time.Time
}

// SubmitForReview agrees to the terms and submits the filing to the
// provider's initial review (steps 7-8). Resource, when set, carries fresh
// cloud-inventory facts that are checked again.
type SubmitForReview struct {
	TermsVersion string
	Resource     *CloudResource
	At           time.Time
}

// WithdrawFiling takes a submitted filing back to draft before the initial
// review is decided (撤销).
type WithdrawFiling struct {
	Reason string
	At     time.Time
}

// AbandonFiling ends the filing for good (放弃备案), until the bureau has it.
type AbandonFiling struct {
	Reason string
	At     time.Time
}

// ApproveInitialReview is the provider reviewer's approval.
type ApproveInitialReview struct {
	Note string
	At   time.Time
}

// RejectInitialReview sends the filing back with field-level reasons.
type RejectInitialReview struct {
	Reasons []Reason
	At      time.Time
}

// SendToBureau submits an approved filing to the provincial bureau.
type SendToBureau struct {
	At time.Time
}

// RequestSmsVerification records that MIIT sent verification codes: one per
// distinct principal mobile (see SMSRecipients), keyed by mobile.
type RequestSmsVerification struct {
	Codes map[string]string
	At    time.Time
}

// VerifySmsCode is a principal confirming the MIIT code with the mobile and
// the last six characters of the certificate number, as beian.miit.gov.cn asks.
type VerifySmsCode struct {
	Mobile     string
	CertSuffix string
	Code       string
	At         time.Time
}

// ExpireSmsVerification returns a filing whose codes were not all confirmed
// within 24 hours to the provider.
type ExpireSmsVerification struct {
	At time.Time
}

// ApproveByBureau issues the ICP numbers: the entity serial the bureau
// assigned; website numbers follow in website order.
type ApproveByBureau struct {
	Serial string
	At     time.Time
}

// RejectByBureau sends the filing back with the bureau's reasons.
type RejectByBureau struct {
	Reasons []Reason
	At      time.Time
}

// RemindIdle records a reminder to an applicant who left the filing idle
// for Day days (7, 15 or 30).
type RemindIdle struct {
	Day int
	At  time.Time
}

// Expire closes a filing idle for 45 days.
type Expire struct {
	At time.Time
}

// Review stages, for overdue flags and rejections.
const (
	StageInitial = "initial"
	StageBureau  = "bureau"
)

// Deadline kinds that are announced before they pass.
const (
	DeadlineReviewDueSoon = "review_due_soon" // the initial review is due within hours
	DeadlineSMSDueSoon    = "sms_due_soon"    // the MIIT SMS codes expire within hours
)

// WarnDeadline records that a deadline is near, so notices go out in time.
type WarnDeadline struct {
	Kind string
	At   time.Time
}

// FlagOverdue records that a review passed its due time.
type FlagOverdue struct {
	Stage string
	At    time.Time
}

func (VerifyType) CommandName() string             { return "VerifyType" }
func (SubmitEntity) CommandName() string           { return "SubmitEntity" }
func (SubmitWebsite) CommandName() string          { return "SubmitWebsite" }
func (RemoveWebsite) CommandName() string          { return "RemoveWebsite" }
func (SubmitWebsitePrincipal) CommandName() string { return "SubmitWebsitePrincipal" }
func (StartLiveness) CommandName() string          { return "StartLiveness" }
func (PassLiveness) CommandName() string           { return "PassLiveness" }
func (FailLiveness) CommandName() string           { return "FailLiveness" }
func (UploadMaterial) CommandName() string         { return "UploadMaterial" }
func (RemoveMaterial) CommandName() string         { return "RemoveMaterial" }
func (SubmitForReview) CommandName() string        { return "SubmitForReview" }
func (WithdrawFiling) CommandName() string         { return "WithdrawFiling" }
func (AbandonFiling) CommandName() string          { return "AbandonFiling" }
func (ApproveInitialReview) CommandName() string   { return "ApproveInitialReview" }
func (RejectInitialReview) CommandName() string    { return "RejectInitialReview" }
func (SendToBureau) CommandName() string           { return "SendToBureau" }
func (RequestSmsVerification) CommandName() string { return "RequestSmsVerification" }
func (VerifySmsCode) CommandName() string          { return "VerifySmsCode" }
func (ExpireSmsVerification) CommandName() string  { return "ExpireSmsVerification" }
func (ApproveByBureau) CommandName() string        { return "ApproveByBureau" }
func (RejectByBureau) CommandName() string         { return "RejectByBureau" }
func (RemindIdle) CommandName() string             { return "RemindIdle" }
func (Expire) CommandName() string                 { return "Expire" }
func (FlagOverdue) CommandName() string            { return "FlagOverdue" }
func (WarnDeadline) CommandName() string           { return "WarnDeadline" }
