package commands

import (
	"errors"
	"log/slog"
)

// Application holds a handler for every command, wired once and shared by
// the server and the component tests.
type Application struct {
	Executor *Executor

	VerifyType             Handler[VerifyType]
	SubmitEntity           Handler[SubmitEntity]
	SubmitWebsite          Handler[SubmitWebsite]
	RemoveWebsite          Handler[RemoveWebsite]
	SubmitWebsitePrincipal Handler[SubmitWebsitePrincipal]
	StartLiveness          Handler[StartLiveness]
	PassLiveness           Handler[PassLiveness]
	FailLiveness           Handler[FailLiveness]
	UploadMaterial         Handler[UploadMaterial]
	RemoveMaterial         Handler[RemoveMaterial]
	SubmitForReview        Handler[SubmitForReview]
	WithdrawFiling         Handler[WithdrawFiling]
	AbandonFiling          Handler[AbandonFiling]
	ApproveInitialReview   Handler[ApproveInitialReview]
	RejectInitialReview    Handler[RejectInitialReview]
	SendToBureau           Handler[SendToBureau]
	RequestSmsVerification Handler[RequestSmsVerification]
	VerifySmsCode          Handler[VerifySmsCode]
	ExpireSmsVerification  Handler[ExpireSmsVerification]
	ApproveByBureau        Handler[ApproveByBureau]
	RejectByBureau         Handler[RejectByBureau]
	RemindIdle             Handler[RemindIdle]
	Expire                 Handler[Expire]
	FlagOverdue            Handler[FlagOverdue]
	WarnDeadline           Handler[WarnDeadline]
	// EraseSubject and Access are nil when the ports have no key store
	// (Subjects).
	EraseSubject Handler[EraseSubject]
	Access       *AccessRecorder

	RecognizeCertificate *CertificateRecognizer
}

// Ports are the adapters the handlers need.
type Ports struct {
	Domains     DomainRegistry
	Filings     FilingRegistry
	Inventory   CloudInventory
	Attribution NumberAttribution
	Index       FilingIndex
	OCR         CertificateOCR
	Liveness    LivenessVerifier
	SMS         SMSPlatform
	Blobs       BlobStore
	Subjects    SubjectKeys // the personal-data keys; optional, without it there is no EraseSubject
}

func (p Ports) validate() error {
	var errs []error
	for name, port := range map[string]any{
		"domain registry": p.Domains, "filing registry": p.Filings, "cloud inventory": p.Inventory,
		"number attribution": p.Attribution, "filing index": p.Index, "OCR": p.OCR,
		"liveness": p.Liveness, "SMS platform": p.SMS, "blob store": p.Blobs,
	} {
		if port == nil {
			errs = append(errs, errors.New("commands: no "+name))
		}
	}
	return errors.Join(errs...)
}

// NewApplication wires every handler.
func NewApplication(exec *Executor, ports Ports, logger *slog.Logger, metrics Metrics) (*Application, error) {
	if err := ports.validate(); err != nil {
		return nil, err
	}
	if exec == nil || logger == nil || metrics == nil {
		return nil, errors.New("commands: nil executor, logger or metrics")
	}
	app := &Application{
		Executor: exec,
		VerifyType: NewVerifyTypeHandler(exec, VerifyTypeDeps{
			Domains: ports.Domains, Filings: ports.Filings, Inventory: ports.Inventory, Index: ports.Index,
		}, logger, metrics),
		SubmitEntity:           NewSubmitEntityHandler(exec, ports.Attribution, logger, metrics),
		SubmitWebsite:          NewSubmitWebsiteHandler(exec, ports.Domains, logger, metrics),
		RemoveWebsite:          NewRemoveWebsiteHandler(exec, logger, metrics),
		SubmitWebsitePrincipal: NewSubmitWebsitePrincipalHandler(exec, ports.Attribution, logger, metrics),
		StartLiveness:          NewStartLivenessHandler(exec, ports.Liveness, logger, metrics),
		PassLiveness:           NewPassLivenessHandler(exec, logger, metrics),
		FailLiveness:           NewFailLivenessHandler(exec, logger, metrics),
		UploadMaterial:         NewUploadMaterialHandler(exec, ports.Blobs, logger, metrics),
		RemoveMaterial:         NewRemoveMaterialHandler(exec, logger, metrics),
		SubmitForReview:        NewSubmitForReviewHandler(exec, ports.Inventory, logger, metrics),
		WithdrawFiling:         NewWithdrawFilingHandler(exec, logger, metrics),
		AbandonFiling:          NewAbandonFilingHandler(exec, logger, metrics),
		ApproveInitialReview:   NewApproveInitialReviewHandler(exec, logger, metrics),
		RejectInitialReview:    NewRejectInitialReviewHandler(exec, logger, metrics),
		SendToBureau:           NewSendToBureauHandler(exec, logger, metrics),
		RequestSmsVerification: NewRequestSmsVerificationHandler(exec, ports.SMS, logger, metrics),
		VerifySmsCode:          NewVerifySmsCodeHandler(exec, logger, metrics),
		ExpireSmsVerification:  NewExpireSmsVerificationHandler(exec, logger, metrics),
		ApproveByBureau:        NewApproveByBureauHandler(exec, logger, metrics),
		RejectByBureau:         NewRejectByBureauHandler(exec, logger, metrics),
		RemindIdle:             NewRemindIdleHandler(exec, logger, metrics),
		Expire:                 NewExpireHandler(exec, logger, metrics),
		FlagOverdue:            NewFlagOverdueHandler(exec, logger, metrics),
		WarnDeadline:           NewWarnDeadlineHandler(exec, logger, metrics),
		RecognizeCertificate:   NewCertificateRecognizer(ports.Blobs, ports.OCR),
	}
	if ports.Subjects != nil {
		app.EraseSubject = NewEraseSubjectHandler(exec, ports.Subjects, logger, metrics)
		app.Access = NewAccessRecorder(exec.store, ports.Subjects, exec.clock)
	}
	return app, nil
}
