package domain

import "time"

// Status is where a filing stands in its lifecycle.
type Status string

// The statuses of a first filing (icp-domain.md §7.4).
const (
	StatusNone               Status = "none"                 // no such filing
	StatusDraft              Status = "draft"                // the applicant is filling it in
	StatusSubmitted          Status = "submitted"            // waiting for the provider's initial review
	StatusProviderRejected   Status = "provider_rejected"    // back with the applicant to fix
	StatusProviderApproved   Status = "provider_approved"    // waiting to be sent to the bureau
	StatusSentToBureau       Status = "sent_to_bureau"       // the bureau has it; MIIT SMS not sent yet
	StatusSMSPending         Status = "sms_pending"          // principals must confirm the MIIT SMS codes
	StatusReturnedToProvider Status = "returned_to_provider" // SMS failed or expired
	StatusBureauReview       Status = "bureau_review"        // the bureau is deciding
	StatusBureauRejected     Status = "bureau_rejected"      // back with the applicant to fix
	StatusApproved           Status = "approved"             // ICP numbers issued
	StatusAbandoned          Status = "abandoned"
	StatusExpired            Status = "expired"
)

// AllStatuses lists the statuses a filing can be in, StatusNone first.
func AllStatuses() []Status {
	return []Status{StatusNone, StatusDraft, StatusSubmitted, StatusProviderRejected, StatusProviderApproved,
		StatusSentToBureau, StatusSMSPending, StatusReturnedToProvider, StatusBureauReview, StatusBureauRejected,
		StatusApproved, StatusAbandoned, StatusExpired}
}

// Terminal reports whether nothing more can happen to the filing.
func (s Status) Terminal() bool {
	return s == StatusApproved || s == StatusAbandoned || s == StatusExpired
}

// Person is a principal (负责人): the entity's or a website's.
type Person struct {
	Name              string            `json:"name"`
	CertificateType   string            `json:"certificateType"`
	CertificateNumber string            `json:"certificateNumber"`
	CertificateExpiry *time.Time        `json:"certificateExpiry,omitempty"` // nil: long-term (长期)
	OfficePhone       string            `json:"officePhone"`                 // landline; individuals may give a mobile
	Mobile            string            `json:"mobile"`
	Email             string            `json:"email"`
	EmergencyContact  *EmergencyContact `json:"emergencyContact,omitempty"`
}

// EmergencyContact is the second contact some bureaus require (应急联系人).
type EmergencyContact struct {
	Name   string `json:"name"`
	Mobile string `json:"mobile"`
}

// samePerson reports whether two principals are one person (same certificate).
func samePerson(a, b Person) bool {
	return a.CertificateType == b.CertificateType && a.CertificateNumber == b.CertificateNumber
}

// Entity is the filing's entity (主办单位) and its principal.
type Entity struct {
	Name                string `json:"name"`
	CertificateAddress  string `json:"certificateAddress"`
	MailingAddress      string `json:"mailingAddress"`
	LegalRepresentative string `json:"legalRepresentative,omitempty"` // organisations
	Principal           Person `json:"principal"`
	PrincipalIsLegalRep bool   `json:"principalIsLegalRep"`
	Remarks             string `json:"remarks,omitempty"`
}

// DomainFacts is what the domain registry (WHOIS and real-name system) says
// about a domain; the command side fetches it and the domain applies rules.
type DomainFacts struct {
	Registrar                   string    `json:"registrar"`
	RegistrarApproved           bool      `json:"registrarApproved"`
	ExpiresAt                   time.Time `json:"expiresAt"`
	RealNameVerified            bool      `json:"realNameVerified"`
	RegistrantName              string    `json:"registrantName"`
	RegistrantCertificateNumber string    `json:"registrantCertificateNumber,omitempty"`
	AlreadyFiled                bool      `json:"alreadyFiled"` // has an ICP filing (with any provider)
	InFlight                    bool      `json:"inFlight"`     // in another order being filed (域名冲突)
}

// Domain is a checked domain name with the registry facts it was checked on.
type Domain struct {
	Name    string      `json:"name"`    // ASCII (punycode) form
	Unicode string      `json:"unicode"` // as people read it
	Facts   DomainFacts `json:"facts"`
}

// Cloud resource kinds.
const (
	ResourceInstance          = "instance"           // a server of this provider
	ResourceAuthorizationCode = "authorization_code" // 备案授权码 for another account's server
)

// Billing modes.
const (
	BillingPrepaid  = "prepaid"  // 包年包月
	BillingPostpaid = "postpaid" // 按量计费
)

// InstanceFacts is what the cloud inventory says about a server.
type InstanceFacts struct {
	Exists        bool   `json:"exists"`
	Mainland      bool   `json:"mainland"`
	PublicIP      bool   `json:"publicIp"`
	Billing       string `json:"billing"`
	MonthsBought  int    `json:"monthsBought"` // including renewals
	DaysLeft      int    `json:"daysLeft"`
	WebsitesFiled int    `json:"websitesFiled"` // websites already filed on it
}

// AuthorizationCodeFacts is what the cloud inventory says about a 授权码.
type AuthorizationCodeFacts struct {
	Exists         bool   `json:"exists"`
	Used           bool   `json:"used"`
	ServerDaysLeft int    `json:"serverDaysLeft"`
	Domain         string `json:"domain,omitempty"` // the one domain it is bound to, if bound
}

// CloudResource is the server a filing is for.
type CloudResource struct {
	Kind              string                  `json:"kind"`
	InstanceID        string                  `json:"instanceId,omitempty"`
	AuthorizationCode string                  `json:"authorizationCode,omitempty"`
	Instance          *InstanceFacts          `json:"instance,omitempty"`
	Code              *AuthorizationCodeFacts `json:"code,omitempty"`
}

// PreApproval is a 前置审批 document a website holds.
type PreApproval struct {
	Category string `json:"category"`
	Number   string `json:"number"`
}

// Website is one website of the filing.
type Website struct {
	ID             string        `json:"id"` // "w1", "w2", … in the order they were added
	Name           string        `json:"name"`
	Domains        []Domain      `json:"domains"`
	HomepageURLs   []string      `json:"homepageUrls"`
	ServiceContent []string      `json:"serviceContent"`
	PreApprovals   []PreApproval `json:"preApprovals,omitempty"`
	Remarks        string        `json:"remarks,omitempty"`
}

// Material kinds (上传材料).
const (
	MaterialEntityCertificate   = "entity_certificate"
	MaterialPrincipalID         = "principal_id"         // entity principal's certificate, both sides
	MaterialWebsitePrincipalID  = "website_principal_id" // per website
	MaterialCommitmentLetter    = "commitment_letter"    // 网站备案承诺书, per website
	MaterialAuthorisationLetter = "authorisation_letter" // legal rep's authorisation, entity or website
	MaterialDomainCertificate   = "domain_certificate"   // per domain
	MaterialPreApproval         = "pre_approval"         // per website and category
	MaterialResidencePermit     = "residence_permit"     // individuals filing outside their ID's province
	MaterialPartyBuildingLetter = "party_building_letter"
	MaterialConstructionPlan    = "construction_plan" // 网站建设方案书, where a province asks for it
	MaterialIncomeProof         = "income_proof"      // 劳动就业或收入证明 of a principal under 18, per person
	MaterialOther               = "other"
)

// MaterialKinds lists the kinds of material an applicant can upload.
func MaterialKinds() []string {
	return []string{MaterialEntityCertificate, MaterialPrincipalID, MaterialWebsitePrincipalID, MaterialCommitmentLetter,
		MaterialAuthorisationLetter, MaterialDomainCertificate, MaterialPreApproval, MaterialResidencePermit,
		MaterialPartyBuildingLetter, MaterialConstructionPlan, MaterialIncomeProof, MaterialOther}
}

// Material is an uploaded document. Scope says what it belongs to: "entity",
// "website:w1", "domain:example.com" or "website:w1:news" (a pre-approval).
type Material struct {
	Kind        string `json:"kind"`
	Scope       string `json:"scope"`
	SHA256      string `json:"sha256"` // also the blob reference: storage is content-addressed
	Size        int64  `json:"size"`
	ContentType string `json:"contentType"`
}

// Reason is one field-level reason for a rejection.
type Reason struct {
	Path    string  `json:"path"` // a filing path: "entity.principal.mobile", "websites[w1].name", "materials[commitment_letter@website:w1]"
	Code    string  `json:"code"` // a standard rejection reason code
	Message Message `json:"message"`
}

// SMSRecipient is a principal who must confirm an MIIT SMS code. One person
// principal of several roles receives one code.
type SMSRecipient struct {
	Roles      []string `json:"roles"` // "entity" and/or "website:w1"
	Mobile     string   `json:"mobile"`
	CertSuffix string   `json:"certSuffix"` // last six characters of the certificate number
	CodeHash   string   `json:"codeHash"`
}

// WebsiteNumber is the ICP number issued to a website.
type WebsiteNumber struct {
	WebsiteID string `json:"websiteId"`
	Number    string `json:"number"`
}
