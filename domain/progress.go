package domain

import (
	"strings"
	"time"
)

// The steps of the filing mini-program, in order, as progress shows them.
const (
	StepVerifyType       = "verify_type"
	StepEntity           = "entity"
	StepWebsite          = "website"
	StepWebsitePrincipal = "website_principal"
	StepLiveness         = "liveness"
	StepMaterials        = "materials"
	StepPreview          = "preview"
	StepSubmitted        = "submitted"
	StepInitialReview    = "initial_review"
	StepBureau           = "bureau"
	StepResult           = "result"
)

// Step states.
const (
	StepDone     = "done"
	StepCurrent  = "current"
	StepPending  = "pending"
	StepNeedsFix = "needs_fix"
)

// Step is one step of the mini-program and where the filing stands on it.
type Step struct {
	Name  string  `json:"name"`
	State string  `json:"state"`
	Title Message `json:"title"`
}

// Deadlines are the times that matter next; zero when they do not apply.
type Deadlines struct {
	InitialReviewDue time.Time `json:"initialReviewDue,omitzero"`
	BureauReviewDue  time.Time `json:"bureauReviewDue,omitzero"`
	SMSExpires       time.Time `json:"smsExpires,omitzero"`
	IdleExpires      time.Time `json:"idleExpires,omitzero"` // when an idle filing expires (45 days)
}

// Progress is what the applicant sees: every step with its state, the
// current one, and the deadlines.
type Progress struct {
	Status      Status    `json:"status"`
	CurrentStep string    `json:"currentStep,omitempty"`
	Steps       []Step    `json:"steps"`
	Deadlines   Deadlines `json:"deadlines"`
}

func stepTitle(name string) Message {
	switch name {
	case StepVerifyType:
		return Message{"验证备案类型", "verify the filing type"}
	case StepEntity:
		return Message{"主体信息", "entity"}
	case StepWebsite:
		return Message{"网站信息", "websites"}
	case StepWebsitePrincipal:
		return Message{"网站负责人", "website principals"}
	case StepLiveness:
		return Message{"视频核身", "video verification"}
	case StepMaterials:
		return Message{"上传材料", "materials"}
	case StepPreview:
		return Message{"预览", "preview"}
	case StepSubmitted:
		return Message{"提交", "submitted"}
	case StepInitialReview:
		return Message{"初审", "initial review"}
	case StepBureau:
		return Message{"管局审核", "bureau review"}
	}
	return Message{"备案结果", "result"}
}

// Progress computes the filing's progress.
func (r *Rules) Progress(f Filing) Progress {
	p := Progress{Status: f.Status}
	if f.Status == StatusNone || f.Status == "" {
		p.Status = StatusNone
		return p
	}
	fix := map[string]bool{}
	if f.Rejection != nil && f.Status.awaitsApplicant() {
		for _, reason := range f.Rejection.Reasons {
			fix[stepOfPath(reason.Path)] = true
		}
	}
	done := r.stepsDone(f)
	order := []string{StepVerifyType, StepEntity, StepWebsite, StepWebsitePrincipal, StepLiveness, StepMaterials,
		StepPreview, StepSubmitted, StepInitialReview, StepBureau, StepResult}
	for _, name := range order {
		state := StepPending
		switch {
		case fix[name]:
			state = StepNeedsFix
		case done[name]:
			state = StepDone
		}
		p.Steps = append(p.Steps, Step{Name: name, State: state, Title: stepTitle(name)})
	}
	// The current step is the first to fix, else the first not done.
	if !f.Status.Terminal() {
		for _, want := range []string{StepNeedsFix, StepPending} {
			for i := range p.Steps {
				if p.CurrentStep == "" && p.Steps[i].State == want {
					p.CurrentStep = p.Steps[i].Name
					if want == StepPending {
						p.Steps[i].State = StepCurrent
					}
				}
			}
		}
	}
	switch f.Status {
	case StatusSubmitted:
		p.Deadlines.InitialReviewDue = f.ReviewDueAt
	case StatusSentToBureau, StatusBureauReview:
		p.Deadlines.BureauReviewDue = f.BureauDueAt
	case StatusSMSPending:
		p.Deadlines.BureauReviewDue = f.BureauDueAt
		if f.SMS != nil {
			p.Deadlines.SMSExpires = f.SMS.ExpiresAt
		}
	}
	if f.Status.awaitsApplicant() {
		p.Deadlines.IdleExpires = f.IdleSince.AddDate(0, 0, r.Channel.IdleExpiryDays)
	}
	return p
}

// awaitsApplicant: the statuses in which only the applicant can move on.
func (s Status) awaitsApplicant() bool {
	return s == StatusDraft || s == StatusProviderRejected || s == StatusBureauRejected
}

// stepsDone says which steps are complete as the filing stands.
func (r *Rules) stepsDone(f Filing) map[string]bool {
	done := map[string]bool{StepVerifyType: true, StepEntity: f.Entity != nil, StepWebsite: len(f.Websites) > 0}
	principals, liveness := len(f.Websites) > 0, len(f.Websites) > 0
	for i := range f.Websites {
		principals = principals && f.WebsitePrincipal(&f.Websites[i]) != nil
		liveness = liveness && f.Websites[i].Liveness.State == LivenessStatePassed
	}
	done[StepWebsitePrincipal], done[StepLiveness] = principals, liveness
	materials := true
	for _, m := range r.RequiredMaterials(f) {
		materials = materials && f.Material(m.Kind, m.Scope) != nil
	}
	done[StepMaterials] = materials
	past := func(statuses ...Status) bool {
		for _, s := range statuses {
			if f.Status == s {
				return true
			}
		}
		return false
	}
	submitted := f.Submission > 0 && !f.Status.awaitsApplicant()
	done[StepPreview], done[StepSubmitted] = submitted, submitted
	done[StepInitialReview] = past(StatusProviderApproved, StatusSentToBureau, StatusSMSPending, StatusReturnedToProvider,
		StatusBureauReview, StatusApproved) || f.Status == StatusBureauRejected
	done[StepBureau] = f.Status == StatusApproved
	done[StepResult] = f.Status == StatusApproved
	return done
}

// stepOfPath maps a rejection reason's field path to the step that fixes it.
func stepOfPath(path string) string {
	switch {
	case strings.HasPrefix(path, "entity"):
		return StepEntity
	case strings.HasPrefix(path, "materials"):
		return StepMaterials
	case strings.HasPrefix(path, "websites[") && strings.Contains(path, "].principal"):
		return StepWebsitePrincipal
	case strings.HasPrefix(path, "websites[") && strings.Contains(path, "].liveness"):
		return StepLiveness
	case strings.HasPrefix(path, "websites") || strings.HasPrefix(path, "domains"):
		return StepWebsite
	case strings.HasPrefix(path, "type") || strings.HasPrefix(path, "resource"):
		return StepVerifyType
	}
	return StepPreview
}
