package api

import (
	"context"

	"github.com/beian/beian/commands"
	"github.com/beian/beian/domain"
	"github.com/google/uuid"
	"github.com/graph-gophers/graphql-go"
)

type correlationKey struct{}

// withCorrelation carries the request id into command metadata.
func withCorrelation(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

// meta builds the command metadata of the caller. Without a key from the
// client every call is a new command; with one, a retry is recognised.
func meta(ctx context.Context, key *string) (commands.Meta, error) {
	who, err := identity(ctx)
	if err != nil {
		return commands.Meta{}, err
	}
	k := uuid.NewString()
	if key != nil && *key != "" {
		k = *key
	}
	correlation, _ := ctx.Value(correlationKey{}).(string)
	return commands.Meta{Actor: commands.Actor{Account: who.Account, Role: who.Role}, IdempotencyKey: k, CorrelationID: correlation}, nil
}

// execute runs a command handler for the caller and maps its result.
func execute[C any](r *resolver, ctx context.Context, key *string, h commands.Handler[C], c C) (*commandResultView, error) {
	m, err := meta(ctx, key)
	if err != nil {
		return nil, err
	}
	if fields := append(checkText("idempotencyKey", key), checkText("", c)...); len(fields) > 0 {
		return nil, errValidation(fields...)
	}
	res, err := h.Handle(ctx, m, c)
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	v := &commandResultView{FilingId: graphql.ID(res.FilingID), Revision: int32(res.Revision), Position: position(res.Position), Repeated: res.Repeated}
	for _, e := range res.Events {
		v.Events = append(v.Events, eventRefView{Id: graphql.ID(e.ID), Type: e.Type, Revision: int32(e.Revision)})
	}
	return v, nil
}

type personInput struct {
	Name, CertificateType, CertificateNumber string
	CertificateExpiry                        *graphql.Time
	OfficePhone, Mobile, Email               string
	EmergencyContact                         *struct{ Name, Mobile string }
}

func (p personInput) domain() domain.Person {
	out := domain.Person{Name: p.Name, CertificateType: p.CertificateType, CertificateNumber: p.CertificateNumber,
		OfficePhone: p.OfficePhone, Mobile: p.Mobile, Email: p.Email}
	if p.CertificateExpiry != nil {
		t := p.CertificateExpiry.Time
		out.CertificateExpiry = &t
	}
	if ec := p.EmergencyContact; ec != nil {
		out.EmergencyContact = &domain.EmergencyContact{Name: ec.Name, Mobile: ec.Mobile}
	}
	return out
}

func boolOf(b *bool) bool { return b != nil && *b }

func (r *resolver) VerifyType(ctx context.Context, args struct {
	Input struct {
		IdempotencyKey                             *string
		Province, City                             string
		District                                   *string
		Nature, CertificateType, CertificateNumber string
		Domains                                    []string
		Resource                                   struct {
			Kind                          string
			InstanceId, AuthorizationCode *string
		}
	}
}) (*commandResultView, error) {
	in := args.Input
	return execute(r, ctx, in.IdempotencyKey, r.app.VerifyType, commands.VerifyType{
		Province: in.Province, City: in.City, District: deref(in.District), Nature: in.Nature,
		CertificateType: in.CertificateType, CertificateNumber: in.CertificateNumber, Domains: in.Domains,
		Resource: commands.ResourceRef{Kind: in.Resource.Kind, InstanceID: deref(in.Resource.InstanceId), AuthorizationCode: deref(in.Resource.AuthorizationCode)},
	})
}

func (r *resolver) SubmitEntity(ctx context.Context, args struct {
	Input struct {
		IdempotencyKey                           *string
		FilingID                                 graphql.ID
		Name, CertificateAddress, MailingAddress string
		LegalRepresentative                      *string
		Principal                                personInput
		PrincipalIsLegalRep                      *bool
		Remarks                                  *string
	}
}) (*commandResultView, error) {
	in := args.Input
	return execute(r, ctx, in.IdempotencyKey, r.app.SubmitEntity, commands.SubmitEntity{FilingID: string(in.FilingID), Entity: domain.Entity{
		Name: in.Name, CertificateAddress: in.CertificateAddress, MailingAddress: in.MailingAddress,
		LegalRepresentative: deref(in.LegalRepresentative), Principal: in.Principal.domain(),
		PrincipalIsLegalRep: boolOf(in.PrincipalIsLegalRep), Remarks: deref(in.Remarks),
	}})
}

func (r *resolver) SubmitWebsite(ctx context.Context, args struct {
	Input struct {
		IdempotencyKey                        *string
		FilingID                              graphql.ID
		WebsiteID                             *graphql.ID
		Name                                  string
		Domains, HomepageUrls, ServiceContent []string
		PreApprovals                          *[]struct{ Category, Number string }
		Remarks                               *string
	}
}) (*commandResultView, error) {
	in := args.Input
	c := commands.SubmitWebsite{FilingID: string(in.FilingID), Name: in.Name, Domains: in.Domains, HomepageURLs: in.HomepageUrls,
		ServiceContent: in.ServiceContent, Remarks: deref(in.Remarks)}
	if in.WebsiteID != nil {
		c.WebsiteID = string(*in.WebsiteID)
	}
	if in.PreApprovals != nil {
		for _, a := range *in.PreApprovals {
			c.PreApprovals = append(c.PreApprovals, domain.PreApproval{Category: a.Category, Number: a.Number})
		}
	}
	return execute(r, ctx, in.IdempotencyKey, r.app.SubmitWebsite, c)
}

type websiteInput struct {
	IdempotencyKey *string
	FilingID       graphql.ID
	WebsiteID      graphql.ID
}

func (r *resolver) RemoveWebsite(ctx context.Context, args struct{ Input websiteInput }) (*commandResultView, error) {
	in := args.Input
	return execute(r, ctx, in.IdempotencyKey, r.app.RemoveWebsite, commands.RemoveWebsite{FilingID: string(in.FilingID), WebsiteID: string(in.WebsiteID)})
}

func (r *resolver) SubmitWebsitePrincipal(ctx context.Context, args struct {
	Input struct {
		IdempotencyKey *string
		FilingID       graphql.ID
		WebsiteID      graphql.ID
		Principal      personInput
		IsLegalRep     *bool
	}
}) (*commandResultView, error) {
	in := args.Input
	return execute(r, ctx, in.IdempotencyKey, r.app.SubmitWebsitePrincipal, commands.SubmitWebsitePrincipal{
		FilingID: string(in.FilingID), WebsiteID: string(in.WebsiteID), Principal: in.Principal.domain(), IsLegalRep: boolOf(in.IsLegalRep),
	})
}

func (r *resolver) RecognizeCertificate(ctx context.Context, args struct{ Input struct{ Sha256 string } }) (*ocrView, error) {
	who, err := identity(ctx)
	if err != nil {
		return nil, err
	}
	if fields := checkText("sha256", args.Input.Sha256); len(fields) > 0 {
		return nil, errValidation(fields...)
	}
	res, err := r.app.RecognizeCertificate.Recognize(ctx, commands.Actor{Account: who.Account, Role: who.Role}, args.Input.Sha256)
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	f := func(o commands.OCRField) ocrFieldView { return ocrFieldView{Value: o.Value, Confidence: o.Confidence} }
	return &ocrView{Name: f(res.Name), Number: f(res.Number), Address: f(res.Address), ValidUntil: f(res.ValidUntil)}, nil
}

func (r *resolver) StartLiveness(ctx context.Context, args struct{ Input websiteInput }) (*commandResultView, error) {
	in := args.Input
	return execute(r, ctx, in.IdempotencyKey, r.app.StartLiveness, commands.StartLiveness{FilingID: string(in.FilingID), WebsiteID: string(in.WebsiteID)})
}

type verdictInput struct {
	IdempotencyKey *string
	FilingID       graphql.ID
	WebsiteID      graphql.ID
	SessionID      string
	Reasons        *[]string
}

// PassLiveness and FailLiveness are the liveness provider's verdicts. The
// provider calls the webhook; this mutation is for admins, and for the
// simulated provider in dev mode.
func (r *resolver) PassLiveness(ctx context.Context, args struct{ Input verdictInput }) (*commandResultView, error) {
	in := args.Input
	if fields := checkText("reasons", in.Reasons); len(fields) > 0 { // a pass has no reasons to record; still refused
		return nil, errValidation(fields...)
	}
	return execute(r, r.asProvider(ctx, in.FilingID), in.IdempotencyKey, r.app.PassLiveness, commands.PassLiveness{
		FilingID: string(in.FilingID), WebsiteID: string(in.WebsiteID), SessionID: in.SessionID})
}

func (r *resolver) FailLiveness(ctx context.Context, args struct{ Input verdictInput }) (*commandResultView, error) {
	in := args.Input
	var reasons []string
	if in.Reasons != nil {
		reasons = *in.Reasons
	}
	return execute(r, r.asProvider(ctx, in.FilingID), in.IdempotencyKey, r.app.FailLiveness, commands.FailLiveness{
		FilingID: string(in.FilingID), WebsiteID: string(in.WebsiteID), SessionID: in.SessionID, Reasons: reasons})
}

// asProvider lets the simulated liveness provider act in dev mode: an
// applicant's verdict on their own filing runs as the provider would. On
// anyone else's filing the applicant stays an applicant, and is refused.
func (r *resolver) asProvider(ctx context.Context, filingID graphql.ID) context.Context {
	who, ok := IdentityFrom(ctx)
	if !r.devLiveness || !ok || who.Role != commands.RoleApplicant {
		return ctx
	}
	f, _, err := r.app.Executor.Load(ctx, string(filingID))
	if err != nil || f.Account != who.Account {
		return ctx
	}
	return WithIdentity(ctx, Identity{Account: "liveness-simulator:" + who.Account, Role: commands.RoleSystem})
}

func (r *resolver) UploadMaterial(ctx context.Context, args struct {
	Input struct {
		IdempotencyKey      *string
		FilingID            graphql.ID
		Kind, Scope, Sha256 string
	}
}) (*commandResultView, error) {
	in := args.Input
	return execute(r, ctx, in.IdempotencyKey, r.app.UploadMaterial, commands.UploadMaterial{FilingID: string(in.FilingID), Kind: in.Kind, Scope: in.Scope, SHA256: in.Sha256})
}

func (r *resolver) RemoveMaterial(ctx context.Context, args struct {
	Input struct {
		IdempotencyKey *string
		FilingID       graphql.ID
		Kind, Scope    string
	}
}) (*commandResultView, error) {
	in := args.Input
	return execute(r, ctx, in.IdempotencyKey, r.app.RemoveMaterial, commands.RemoveMaterial{FilingID: string(in.FilingID), Kind: in.Kind, Scope: in.Scope})
}

func (r *resolver) SubmitForReview(ctx context.Context, args struct {
	Input struct {
		IdempotencyKey *string
		FilingID       graphql.ID
		TermsVersion   string
	}
}) (*commandResultView, error) {
	in := args.Input
	return execute(r, ctx, in.IdempotencyKey, r.app.SubmitForReview, commands.SubmitForReview{FilingID: string(in.FilingID), TermsVersion: in.TermsVersion})
}

type reasonedInput struct {
	IdempotencyKey *string
	FilingID       graphql.ID
	Reason         *string
}

func (r *resolver) WithdrawFiling(ctx context.Context, args struct{ Input reasonedInput }) (*commandResultView, error) {
	in := args.Input
	return execute(r, ctx, in.IdempotencyKey, r.app.WithdrawFiling, commands.WithdrawFiling{FilingID: string(in.FilingID), Reason: deref(in.Reason)})
}

func (r *resolver) AbandonFiling(ctx context.Context, args struct{ Input reasonedInput }) (*commandResultView, error) {
	in := args.Input
	return execute(r, ctx, in.IdempotencyKey, r.app.AbandonFiling, commands.AbandonFiling{FilingID: string(in.FilingID), Reason: deref(in.Reason)})
}

func (r *resolver) ApproveInitialReview(ctx context.Context, args struct {
	Input struct {
		IdempotencyKey *string
		FilingID       graphql.ID
		Note           *string
	}
}) (*commandResultView, error) {
	in := args.Input
	return execute(r, ctx, in.IdempotencyKey, r.app.ApproveInitialReview, commands.ApproveInitialReview{FilingID: string(in.FilingID), Note: deref(in.Note)})
}

type rejectInput struct {
	IdempotencyKey *string
	FilingID       graphql.ID
	Reasons        []struct {
		Path, Code           string
		MessageZh, MessageEn *string
	}
}

func (in rejectInput) reasons() []domain.Reason {
	out := make([]domain.Reason, len(in.Reasons))
	for i, r := range in.Reasons {
		out[i] = domain.Reason{Path: r.Path, Code: r.Code, Message: domain.Message{Zh: deref(r.MessageZh), En: deref(r.MessageEn)}}
	}
	return out
}

func (r *resolver) RejectInitialReview(ctx context.Context, args struct{ Input rejectInput }) (*commandResultView, error) {
	in := args.Input
	return execute(r, ctx, in.IdempotencyKey, r.app.RejectInitialReview, commands.RejectInitialReview{FilingID: string(in.FilingID), Reasons: in.reasons()})
}

func (r *resolver) RejectByBureau(ctx context.Context, args struct{ Input rejectInput }) (*commandResultView, error) {
	in := args.Input
	return execute(r, ctx, in.IdempotencyKey, r.app.RejectByBureau, commands.RejectByBureau{FilingID: string(in.FilingID), Reasons: in.reasons()})
}

type filingInput struct {
	IdempotencyKey *string
	FilingID       graphql.ID
}

func (r *resolver) SendToBureau(ctx context.Context, args struct{ Input filingInput }) (*commandResultView, error) {
	in := args.Input
	return execute(r, ctx, in.IdempotencyKey, r.app.SendToBureau, commands.SendToBureau{FilingID: string(in.FilingID)})
}

func (r *resolver) RequestSmsVerification(ctx context.Context, args struct{ Input filingInput }) (*commandResultView, error) {
	in := args.Input
	return execute(r, ctx, in.IdempotencyKey, r.app.RequestSmsVerification, commands.RequestSmsVerification{FilingID: string(in.FilingID)})
}

func (r *resolver) VerifySmsCode(ctx context.Context, args struct {
	Input struct {
		IdempotencyKey           *string
		FilingID                 graphql.ID
		Mobile, CertSuffix, Code string
	}
}) (*commandResultView, error) {
	in := args.Input
	return execute(r, ctx, in.IdempotencyKey, r.app.VerifySmsCode, commands.VerifySmsCode{FilingID: string(in.FilingID), Mobile: in.Mobile, CertSuffix: in.CertSuffix, Code: in.Code})
}

func (r *resolver) ApproveByBureau(ctx context.Context, args struct {
	Input struct {
		IdempotencyKey *string
		FilingID       graphql.ID
		Serial         string
	}
}) (*commandResultView, error) {
	in := args.Input
	return execute(r, ctx, in.IdempotencyKey, r.app.ApproveByBureau, commands.ApproveByBureau{FilingID: string(in.FilingID), Serial: in.Serial})
}
