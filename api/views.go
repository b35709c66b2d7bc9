package api

import (
	"strconv"
	"time"

	"github.com/beian/beian/domain"
	"github.com/beian/beian/projections"
	"github.com/graph-gophers/graphql-go"
)

// The view types mirror the schema; graphql-go resolves their fields by
// name. They are built once per filing with personal data masked for the
// reader's role.

type messageView struct{ Zh, En string }

func message(m domain.Message) messageView { return messageView{Zh: m.Zh, En: m.En} }

type fieldErrorView struct {
	Path, Code string
	Message    messageView
}

func fieldErrors(fs []domain.FieldError) []fieldErrorView {
	out := make([]fieldErrorView, len(fs))
	for i, f := range fs {
		out[i] = fieldErrorView{Path: f.Path, Code: f.Code, Message: message(f.Message)}
	}
	return out
}

type stepView struct {
	Name, State string
	Title       messageView
}

type deadlinesView struct {
	InitialReviewDue, BureauReviewDue, SmsExpires, IdleExpires *graphql.Time
}

type domainView struct {
	Name, Unicode, Registrar string
	ExpiresAt                graphql.Time
}

type resourceView struct {
	Kind                          string
	InstanceId, AuthorizationCode *string
}

type emergencyView struct{ Name, Mobile string }

type personView struct {
	Name, CertificateType, CertificateNumber, OfficePhone, Mobile, Email string
	EmergencyContact                                                     *emergencyView
}

type entityView struct {
	Name, CertificateAddress, MailingAddress, LegalRepresentative string
	Principal                                                     personView
	PrincipalIsLegalRep                                           bool
	Remarks                                                       string
}

type preApprovalView struct{ Category, Number string }

type livenessView struct {
	State, SessionId string
	Reasons          []string
}

type websiteView struct {
	Id                                    graphql.ID
	Name                                  string
	Domains, HomepageUrls, ServiceContent []string
	PreApprovals                          []preApprovalView
	Remarks                               string
	Principal                             *personView
	PrincipalIsLegalRep                   bool
	Liveness                              livenessView
	IcpNumber                             *string
}

type materialView struct {
	Kind, Scope, Sha256, ContentType string
	Size                             int32
}

type requirementView struct {
	Kind, Scope string
	Reason      messageView
	Provided    bool
}

type rejectionView struct {
	Stage   string
	At      graphql.Time
	Reasons []fieldErrorView
}

type smsRecipientView struct {
	Roles      []string
	Mobile     string
	Verified   bool
	WrongCodes int32
}

type smsView struct {
	ExpiresAt  graphql.Time
	Failed     *string
	Recipients []smsRecipientView
}

type websiteNumberView struct {
	WebsiteId graphql.ID
	Number    string
}

type icpView struct {
	Entity   string
	Websites []websiteNumberView
}

type filingView struct {
	Id                                                                   graphql.ID
	Account, Status                                                      string
	StatusName                                                           messageView
	Revision                                                             int32
	Position                                                             string
	CurrentStep                                                          *string
	Steps                                                                []stepView
	Deadlines                                                            deadlinesView
	Province, City, District, Nature, CertificateType, CertificateNumber string
	Domains                                                              []domainView
	Resource                                                             resourceView
	Entity                                                               *entityView
	Websites                                                             []websiteView
	Materials                                                            []materialView
	RequiredMaterials                                                    []requirementView
	Readiness                                                            []fieldErrorView
	Rejection                                                            *rejectionView
	Sms                                                                  *smsView
	IcpNumbers                                                           *icpView
	Submission                                                           int32
	CreatedAt, UpdatedAt                                                 graphql.Time
}

func optTime(t time.Time) *graphql.Time {
	if t.IsZero() {
		return nil
	}
	return &graphql.Time{Time: t}
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func position(p uint64) string { return strconv.FormatUint(p, 10) }

// viewFiling builds a filing's view, masked as m says.
func viewFiling(rules *domain.Rules, f domain.Filing, revision, pos uint64, m masker, now time.Time) *filingView {
	p := rules.Progress(f)
	v := &filingView{
		Id: graphql.ID(f.ID), Account: f.Account, Status: string(f.Status), StatusName: message(domain.StatusName(f.Status)),
		Revision: int32(revision), Position: position(pos), CurrentStep: optString(p.CurrentStep),
		Deadlines: deadlinesView{
			InitialReviewDue: optTime(p.Deadlines.InitialReviewDue), BureauReviewDue: optTime(p.Deadlines.BureauReviewDue),
			SmsExpires: optTime(p.Deadlines.SMSExpires), IdleExpires: optTime(p.Deadlines.IdleExpires),
		},
		Province: f.Province, City: f.City, District: f.District, Nature: f.Nature,
		CertificateType: f.CertificateType, CertificateNumber: f.CertificateNumber,
		Resource:   resourceView{Kind: f.Resource.Kind, InstanceId: optString(f.Resource.InstanceID), AuthorizationCode: optString(f.Resource.AuthorizationCode)},
		Submission: int32(f.Submission), CreatedAt: graphql.Time{Time: f.CreatedAt}, UpdatedAt: graphql.Time{Time: f.UpdatedAt},
	}
	if f.Kind() == domain.KindIndividual {
		v.CertificateNumber = m.id(f.CertificateNumber) // an individual's certificate is a resident ID
	}
	for _, s := range p.Steps {
		v.Steps = append(v.Steps, stepView{Name: s.Name, State: s.State, Title: message(s.Title)})
	}
	for _, d := range f.Domains {
		v.Domains = append(v.Domains, domainView{Name: d.Name, Unicode: d.Unicode, Registrar: d.Facts.Registrar, ExpiresAt: graphql.Time{Time: d.Facts.ExpiresAt}})
	}
	if e := f.Entity; e != nil {
		v.Entity = &entityView{
			Name: e.Name, CertificateAddress: m.address(e.CertificateAddress), MailingAddress: m.address(e.MailingAddress),
			LegalRepresentative: e.LegalRepresentative, Principal: viewPerson(e.Principal, m),
			PrincipalIsLegalRep: e.PrincipalIsLegalRep, Remarks: e.Remarks,
		}
	}
	numbers := map[string]string{}
	if f.Numbers != nil {
		v.IcpNumbers = &icpView{Entity: f.Numbers.Entity}
		for _, n := range f.Numbers.Websites {
			numbers[n.WebsiteID] = n.Number
			v.IcpNumbers.Websites = append(v.IcpNumbers.Websites, websiteNumberView{WebsiteId: graphql.ID(n.WebsiteID), Number: n.Number})
		}
	}
	for i := range f.Websites {
		v.Websites = append(v.Websites, viewWebsite(&f, &f.Websites[i], m, numbers[f.Websites[i].ID]))
	}
	for _, mat := range f.Materials {
		v.Materials = append(v.Materials, materialView{Kind: mat.Kind, Scope: mat.Scope, Sha256: mat.SHA256, Size: int32(mat.Size), ContentType: mat.ContentType})
	}
	for _, req := range rules.RequiredMaterials(f) {
		v.RequiredMaterials = append(v.RequiredMaterials, requirementView{Kind: req.Kind, Scope: req.Scope, Reason: message(req.Reason),
			Provided: f.Material(req.Kind, req.Scope) != nil})
	}
	v.Readiness = []fieldErrorView{}
	if p.Status == domain.StatusDraft || p.Status == domain.StatusProviderRejected || p.Status == domain.StatusBureauRejected {
		v.Readiness = fieldErrors(rules.Readiness(f, now))
	}
	if r := f.Rejection; r != nil {
		rv := &rejectionView{Stage: r.Stage, At: graphql.Time{Time: r.At}}
		for _, reason := range r.Reasons {
			rv.Reasons = append(rv.Reasons, fieldErrorView{Path: reason.Path, Code: reason.Code, Message: message(reason.Message)})
		}
		v.Rejection = rv
	}
	if s := f.SMS; s != nil {
		sv := &smsView{ExpiresAt: graphql.Time{Time: s.ExpiresAt}, Failed: optString(s.Failed)}
		for _, r := range s.Recipients {
			sv.Recipients = append(sv.Recipients, smsRecipientView{Roles: r.Roles, Mobile: m.phone(r.Mobile), Verified: r.Verified, WrongCodes: int32(r.WrongCodes)})
		}
		v.Sms = sv
	}
	return v
}

func viewPerson(p domain.Person, m masker) personView {
	v := personView{
		Name: p.Name, CertificateType: p.CertificateType, CertificateNumber: m.id(p.CertificateNumber),
		OfficePhone: m.phone(p.OfficePhone), Mobile: m.phone(p.Mobile), Email: m.email(p.Email),
	}
	if ec := p.EmergencyContact; ec != nil {
		v.EmergencyContact = &emergencyView{Name: ec.Name, Mobile: m.phone(ec.Mobile)}
	}
	return v
}

func viewWebsite(f *domain.Filing, w *domain.WebsiteState, m masker, number string) websiteView {
	v := websiteView{
		Id: graphql.ID(w.ID), Name: w.Name, HomepageUrls: w.HomepageURLs, ServiceContent: w.ServiceContent, Remarks: w.Remarks,
		PrincipalIsLegalRep: w.PrincipalIsLegalRep, IcpNumber: optString(number),
		Liveness: livenessView{State: w.Liveness.State, SessionId: w.Liveness.SessionID, Reasons: w.Liveness.Reasons},
	}
	if v.Liveness.Reasons == nil {
		v.Liveness.Reasons = []string{}
	}
	for _, d := range w.Domains {
		v.Domains = append(v.Domains, d.Unicode)
	}
	for _, a := range w.PreApprovals {
		v.PreApprovals = append(v.PreApprovals, preApprovalView{Category: a.Category, Number: a.Number})
	}
	if p := f.WebsitePrincipal(w); p != nil {
		pv := viewPerson(*p, m)
		v.Principal = &pv
	}
	return v
}

type filingSummaryView struct {
	Id                                            graphql.ID
	Account, Status, Province, Nature, EntityName string
	CreatedAt, UpdatedAt                          graphql.Time
}

type pageInfo struct {
	HasNextPage bool
	EndCursor   *string
}

type filingEdge struct {
	Cursor string
	Node   filingSummaryView
}

type filingConnection struct {
	Edges    []filingEdge
	PageInfo pageInfo
}

func viewFilings(p projections.Page[projections.FilingSummary]) *filingConnection {
	c := &filingConnection{Edges: []filingEdge{}, PageInfo: pageInfo{HasNextPage: p.HasNext, EndCursor: optString(p.EndCursor)}}
	for i, s := range p.Items {
		c.Edges = append(c.Edges, filingEdge{Cursor: p.Cursors[i], Node: filingSummaryView{
			Id: graphql.ID(s.ID), Account: s.Account, Status: string(s.Status), Province: s.Province, Nature: s.Nature,
			EntityName: s.EntityName, CreatedAt: graphql.Time{Time: s.CreatedAt}, UpdatedAt: graphql.Time{Time: s.UpdatedAt},
		}})
	}
	return c
}

type auditEntryView struct {
	Position                                                string
	Revision                                                int32
	EventId                                                 graphql.ID
	Type, ActorAccount, ActorRole, CommandId, CorrelationId string
	OccurredAt, RecordedAt                                  graphql.Time
	Summary                                                 messageView
	Hash, PrevHash                                          string
}

type auditEdge struct {
	Cursor string
	Node   auditEntryView
}

type auditConnection struct {
	Edges    []auditEdge
	PageInfo pageInfo
	Chain    chainView
}

type chainView struct {
	Verified     bool
	Events       int32
	Head, Reason *string
	BrokenAt     *int32
}

func viewAudit(a projections.AuditEntry) auditEntryView {
	return auditEntryView{
		Position: position(a.Position), Revision: int32(a.Revision), EventId: graphql.ID(a.EventID), Type: a.Type,
		ActorAccount: a.ActorAccount, ActorRole: a.ActorRole, CommandId: a.CommandID, CorrelationId: a.CorrelationID,
		OccurredAt: graphql.Time{Time: a.OccurredAt}, RecordedAt: graphql.Time{Time: a.RecordedAt}, Summary: message(a.Summary),
		Hash: a.Hash, PrevHash: a.PrevHash,
	}
}

type queueItemView struct {
	FilingId             graphql.ID
	Province, EntityName string
	Submission           int32
	SubmittedAt, DueAt   graphql.Time
	Overdue              bool
}

type queueEdge struct {
	Cursor string
	Node   queueItemView
}

type queueConnection struct {
	Edges    []queueEdge
	PageInfo pageInfo
}

type provinceView struct {
	Code, Name, NameEn, Abbreviation string
	Supported                        bool
	BureauReviewWorkingDays          int32
}

type statusCountView struct {
	Status, Province string
	Count            int32
}

type statsView struct {
	Counts                                                                               []statusCountView
	InitialReviews, MedianInitialReviewSeconds, BureauReviews, MedianBureauReviewSeconds int32
}

type eventRefView struct {
	Id       graphql.ID
	Type     string
	Revision int32
}

type commandResultView struct {
	FilingId graphql.ID
	Revision int32
	Position string
	Events   []eventRefView
	Repeated bool
}

type ocrFieldView struct {
	Value      string
	Confidence float64
}

type ocrView struct {
	Name, Number, Address, ValidUntil ocrFieldView
}

type snapshotView struct {
	Revision int32
	At       graphql.Time
	Filing   *filingView
	Events   []auditEntryView
}

type meView struct{ Account, Role string }
