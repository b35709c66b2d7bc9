package projections

import (
	"fmt"
	"strings"
	"time"

	"github.com/beian/beian/domain"
)

// Summarize describes an event for people in Chinese and English. It names
// no person and quotes no personal data: the trail is read by auditors who
// are not entitled to it.
func Summarize(e domain.Event) domain.Message {
	m := func(zh, en string, args ...any) domain.Message {
		return domain.Message{Zh: fmt.Sprintf(zh, args...), En: fmt.Sprintf(en, args...)}
	}
	switch e := e.(type) {
	case domain.TypeVerified:
		return m("验证备案类型：%s，%s，%d 个域名", "filing type verified: province %s, %s, %d domain(s)", e.Province, e.Nature, len(e.Domains))
	case domain.EntitySubmitted:
		return m("提交主体信息", "entity submitted")
	case domain.WebsiteSubmitted:
		return m("提交网站 %s：%s", "website %s submitted: %s", e.Website.ID, domainNames(e.Website.Domains))
	case domain.WebsiteRemoved:
		return m("删除网站 %s", "website %s removed", e.WebsiteID)
	case domain.WebsitePrincipalSubmitted:
		return m("提交网站 %s 的负责人", "principal of website %s submitted", e.WebsiteID)
	case domain.LivenessStarted:
		return m("网站 %s 开始视频核身", "video verification started for website %s", e.WebsiteID)
	case domain.LivenessPassed:
		return m("网站 %s 视频核身通过", "video verification passed for website %s", e.WebsiteID)
	case domain.LivenessFailed:
		return m("网站 %s 视频核身未通过：%s", "video verification failed for website %s: %s", e.WebsiteID, strings.Join(e.Reasons, ", "))
	case domain.MaterialUploaded:
		return m("上传材料 %s（%s）", "material %s uploaded (%s)", e.Material.Kind, e.Material.Scope)
	case domain.MaterialRemoved:
		return m("删除材料 %s（%s）", "material %s removed (%s)", e.Kind, e.Scope)
	case domain.SubmittedForReview:
		return m("第 %d 次提交初审，同意条款 %s", "submission %d to the initial review, terms %s agreed", e.Submission, e.TermsVersion)
	case domain.Withdrawn:
		return m("撤销提交", "submission withdrawn")
	case domain.Abandoned:
		return m("放弃备案", "filing abandoned")
	case domain.InitialReviewApproved:
		return m("初审通过", "initial review approved")
	case domain.InitialReviewRejected:
		return m("初审驳回：%s", "initial review rejected: %s", reasonCodes(e.Reasons))
	case domain.SentToBureau:
		return m("提交管局", "sent to the bureau")
	case domain.SMSVerificationRequested:
		return m("工信部发送短信验证码（%d 人）", "MIIT sent SMS codes to %d principal(s)", len(e.Recipients))
	case domain.SMSCodeVerified:
		return m("短信核验通过", "an SMS code was confirmed")
	case domain.SMSCodeRejected:
		return m("短信验证码错误（剩余 %d 次）", "wrong SMS code (%d tries left)", e.AttemptsLeft)
	case domain.SMSVerificationCompleted:
		return m("短信核验完成，管局审核中", "SMS verification complete; the bureau reviews")
	case domain.SMSVerificationFailed:
		return m("短信核验失败（%s），退回接入商", "SMS verification failed (%s); back with the provider", e.Reason)
	case domain.BureauApproved:
		return m("管局审核通过，备案号 %s", "approved by the bureau: %s", e.EntityNumber)
	case domain.BureauRejected:
		return m("管局驳回：%s", "rejected by the bureau: %s", reasonCodes(e.Reasons))
	case domain.IdleReminded:
		return m("闲置 %d 天提醒", "reminder after %d idle days", e.Day)
	case domain.Expired:
		return m("闲置超过 45 天，备案过期", "expired after 45 idle days")
	case domain.DeadlineApproaching:
		return m("期限将至：%s（%s）", "deadline approaching: %s (%s)", e.Kind, e.DueAt.Format(time.RFC3339))
	case domain.ReviewOverdue:
		return m("%s审核超期", "%s review overdue", e.Stage)
	}
	return m("%s", "%s", e.EventType())
}

func domainNames(ds []domain.Domain) string {
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = d.Unicode
	}
	return strings.Join(names, ", ")
}

func reasonCodes(rs []domain.Reason) string {
	codes := make([]string, len(rs))
	for i, r := range rs {
		codes[i] = r.Path + "=" + r.Code
	}
	return strings.Join(codes, "; ")
}
