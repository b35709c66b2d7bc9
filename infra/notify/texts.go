package notify

import (
	"fmt"
	"strings"

	"github.com/beian/beian/domain"
)

// The wording of each notice. Each says what happened, what the recipient
// has to do and by when, in Chinese and in English; times are in China
// Standard Time because that is the clock of the reviews and the bureaus.

func submitted(f string, e domain.SubmittedForReview) []draft {
	due := at(e.DueAt)
	title := Message{Zh: "备案申请已提交", En: "Your ICP filing was submitted"}
	if e.Submission > 1 {
		title = Message{
			Zh: fmt.Sprintf("备案申请已重新提交（第 %d 次）", e.Submission),
			En: fmt.Sprintf("Your ICP filing was resubmitted (submission %d)", e.Submission),
		}
	}
	applicant := draft{role: RoleApplicant, kind: KindSubmitted, title: title, body: Message{
		Zh: fmt.Sprintf("我们已收到您的备案申请（备案 %s），初审将于 %s前完成。"+
			"初审期间审核人员可能致电核实信息，请保持电话畅通。", f, due.Zh),
		En: fmt.Sprintf("We received your ICP filing %s. The initial review is due by %s. "+
			"A reviewer may call you to check details; please keep your phone reachable.", f, due.En),
	}}
	reviewer := draft{role: RoleReviewer, kind: KindReviewQueued,
		title: Message{Zh: "新的备案待初审", En: "A new filing awaits the initial review"},
		body: Message{
			Zh: fmt.Sprintf("备案 %s（第 %d 次提交）已进入初审队列，请于 %s前完成初审。", f, e.Submission, due.Zh),
			En: fmt.Sprintf("Filing %s (submission %d) is in the initial review queue; it is due by %s.", f, e.Submission, due.En),
		}}
	return []draft{applicant, reviewer}
}

func initialApproved(f string, e domain.InitialReviewApproved) draft {
	body := Message{
		Zh: fmt.Sprintf("您的备案 %s 已通过服务商初审，我们将把它提交至通信管理局。"+
			"提交后工信部会通过 12381 向负责人手机发送短信验证码，请留意。", f),
		En: fmt.Sprintf("Your ICP filing %s passed the provider's initial review; we will send it to the "+
			"communications administration (the bureau). MIIT will then text a verification code from 12381 "+
			"to the principals' mobiles: watch for it.", f),
	}
	if e.Note != "" {
		body.Zh += "\n审核备注：" + e.Note
		body.En += "\nReviewer's note: " + e.Note
	}
	return draft{role: RoleApplicant, kind: KindInitialReviewApproved,
		title: Message{Zh: "备案初审已通过", En: "Initial review passed"}, body: body}
}

// rejected is the notice of a rejection at either stage: the reasons, then
// the way back, which is the same (correct and resubmit to initial review).
func rejected(f, kind, stage string, reasons []domain.Reason) draft {
	title := Message{Zh: "备案初审未通过", En: "Initial review: your filing needs changes"}
	by := Message{Zh: "服务商初审", En: "the provider's initial review"}
	if stage == domain.StageBureau {
		title = Message{Zh: "管局审核未通过", En: "Bureau review: your filing was rejected"}
		by = Message{Zh: "通信管理局审核", En: "the bureau's review"}
	}
	list := reasonList(reasons)
	return draft{role: RoleApplicant, kind: kind, title: title, body: Message{
		Zh: fmt.Sprintf("您的备案 %s 未通过%s，原因如下：%s\n请按上述原因修改后重新提交，重新提交后将再次进入初审。",
			f, by.Zh, list.Zh),
		En: fmt.Sprintf("Your ICP filing %s did not pass %s, for these reasons:%s\n"+
			"Please correct them and resubmit; the filing then returns to the initial review.", f, by.En, list.En),
	}}
}

func sentToBureau(f string, e domain.SentToBureau) draft {
	due := at(e.DueAt)
	arrival := smsArrival()
	how := smsConfirm(Message{
		Zh: fmt.Sprintf("收到短信后 %d 小时内", smsValidHours),
		En: fmt.Sprintf("within %d hours of receiving it", smsValidHours),
	})
	return draft{role: RoleApplicant, kind: KindSentToBureau,
		title: Message{Zh: "备案已提交管局，请完成短信核验", En: "Filing sent to the bureau: complete the SMS verification"},
		body: Message{
			Zh: fmt.Sprintf("您的备案 %s 已提交至通信管理局，管局审核预计于 %s前完成。\n%s%s", f, due.Zh, arrival.Zh, how.Zh),
			En: fmt.Sprintf("Your ICP filing %s was sent to the bureau; its review is due by %s.\n%s %s",
				f, due.En, arrival.En, how.En),
		}}
}

func smsRequested(f string, e domain.SMSVerificationRequested) draft {
	zh := make([]string, 0, len(e.Recipients))
	en := make([]string, 0, len(e.Recipients))
	for _, r := range e.Recipients {
		roles := smsRoles(r.Roles)
		zh = append(zh, fmt.Sprintf("%s（%s）", r.Mobile, roles.Zh))
		en = append(en, fmt.Sprintf("%s (%s)", r.Mobile, roles.En))
	}
	expires := at(e.ExpiresAt)
	how := smsConfirm(Message{Zh: " " + expires.Zh + "前", En: "before " + expires.En})
	return draft{role: RoleApplicant, kind: KindSMSRequested,
		title: Message{Zh: "工信部短信验证码已发送", En: "MIIT SMS verification codes sent"},
		body: Message{
			Zh: fmt.Sprintf("工信部已通过 12381 向以下手机发送备案 %s 的短信验证码：%s。短信通常在几分钟内送达，"+
				"验证码 %d 小时内有效，有效期至 %s。\n%s", f, strings.Join(zh, "、"), smsValidHours, expires.Zh, how.Zh),
			En: fmt.Sprintf("MIIT texted the verification codes of filing %s from 12381 to: %s. They arrive within minutes "+
				"and are valid for %d hours, until %s.\n%s", f, strings.Join(en, "; "), smsValidHours, expires.En, how.En),
		}}
}

func smsDueSoon(f string, e domain.DeadlineApproaching) draft {
	due := at(e.DueAt)
	how := smsConfirm(Message{Zh: " " + due.Zh + "前", En: "before " + due.En})
	return draft{role: RoleApplicant, kind: KindSMSDueSoon,
		title: Message{Zh: "短信核验即将过期", En: "The SMS verification expires soon"},
		body: Message{
			Zh: fmt.Sprintf("备案 %s 的工信部短信验证码（来自 12381）将于 %s过期，尚有负责人未完成核验。\n%s", f, due.Zh, how.Zh),
			En: fmt.Sprintf("The MIIT SMS codes (from 12381) of filing %s expire at %s and not every principal has confirmed.\n%s",
				f, due.En, how.En),
		}}
}

func smsFailed(f string, e domain.SMSVerificationFailed) draft {
	var why Message
	switch e.Reason {
	case domain.SMSFailedExpired:
		why = Message{Zh: fmt.Sprintf("%d 小时内未完成短信核验，验证码已过期", smsValidHours),
			En: fmt.Sprintf("the SMS codes expired before every principal confirmed them (they are valid for %d hours)", smsValidHours)}
	case domain.SMSFailedTooManyWrongCodes:
		why = Message{Zh: fmt.Sprintf("短信验证码输错次数过多（%d 次）", smsMaxWrongCodes),
			En: fmt.Sprintf("a wrong code was entered too many times (%d)", smsMaxWrongCodes)}
	default:
		why = Message{Zh: "短信核验未完成（" + e.Reason + "）", En: "the SMS verification failed (" + e.Reason + ")"}
	}
	return draft{role: RoleApplicant, kind: KindSMSFailed,
		title: Message{Zh: "短信核验失败，备案已退回服务商", En: "SMS verification failed: the filing went back to the provider"},
		body: Message{
			Zh: fmt.Sprintf("您的备案 %s 短信核验未通过（%s），已由管局退回服务商。服务商将重新提交或与您联系修改，"+
				"重新提交后工信部会再次通过 12381 发送验证码。", f, why.Zh),
			En: fmt.Sprintf("Your ICP filing %s was returned to the provider because %s. The provider will resubmit it "+
				"or contact you about changes; on resubmission MIIT texts new codes from 12381.", f, why.En),
		}}
}

func bureauApproved(f string, e domain.BureauApproved) draft {
	var zh, en strings.Builder
	for _, w := range e.WebsiteNumbers {
		fmt.Fprintf(&zh, "\n网站 %s：%s", w.WebsiteID, w.Number)
		fmt.Fprintf(&en, "\nwebsite %s: %s", w.WebsiteID, w.Number)
	}
	return draft{role: RoleApplicant, kind: KindBureauApproved,
		title: Message{Zh: "备案成功，备案号已下发：" + e.EntityNumber, En: "ICP filing approved: " + e.EntityNumber},
		body: Message{
			Zh: fmt.Sprintf("您的备案 %s 已通过通信管理局审核。\n主体备案号：%s\n网站备案号：%s\n"+
				"请在每个网站首页底部中间位置展示其网站备案号，并链接至 %s。", f, e.EntityNumber, zh.String(), MIITPortal),
			En: fmt.Sprintf("The bureau approved your ICP filing %s.\nEntity ICP number: %s\nWebsite ICP numbers:%s\n"+
				"Show each website's number at the bottom of its homepage (centred), linked to %s.",
				f, e.EntityNumber, en.String(), MIITPortal),
		}}
}

func idleReminder(f string, e domain.IdleReminded) draft {
	since, expires := at(e.IdleSince), at(e.IdleSince.AddDate(0, 0, idleExpiryDays))
	return draft{role: RoleApplicant, kind: KindIdleReminder,
		title: Message{
			Zh: fmt.Sprintf("您的备案待处理（已 %d 天）", e.Day),
			En: fmt.Sprintf("Your ICP filing is waiting for you (%d days)", e.Day),
		},
		body: Message{
			Zh: fmt.Sprintf("您的备案 %s 自 %s起等待您处理，已 %d 天。若在 %s前仍未处理，备案将于闲置第 %d 天过期关闭。",
				f, since.Zh, e.Day, expires.Zh, idleExpiryDays),
			En: fmt.Sprintf("Your ICP filing %s has been waiting for you for %d days, since %s. If nothing happens by %s, "+
				"it expires and closes (day %d).", f, e.Day, since.En, expires.En, idleExpiryDays),
		}}
}

func expired(f string) draft {
	return draft{role: RoleApplicant, kind: KindExpired,
		title: Message{Zh: "备案已过期关闭", En: "Your ICP filing expired"},
		body: Message{
			Zh: fmt.Sprintf("您的备案 %s 闲置超过 %d 天，已过期关闭。已填写的信息仍可查看；如需备案，请重新发起备案申请。",
				f, idleExpiryDays),
			En: fmt.Sprintf("Your ICP filing %s was idle for %d days and has closed. What you entered can still be viewed; "+
				"to file, start a new filing.", f, idleExpiryDays),
		}}
}

func reviewDueSoon(f string, e domain.DeadlineApproaching) draft {
	due := at(e.DueAt)
	return draft{role: RoleReviewer, kind: KindReviewDueSoon,
		title: Message{Zh: "初审即将到期", En: "Initial review due soon"},
		body: Message{
			Zh: fmt.Sprintf("备案 %s 的初审将于 %s到期，请尽快完成。", f, due.Zh),
			En: fmt.Sprintf("The initial review of filing %s is due at %s; please complete it.", f, due.En),
		}}
}

func reviewOverdue(f string, e domain.ReviewOverdue) draft {
	due := at(e.DueAt)
	if e.Stage == domain.StageBureau {
		return draft{role: RoleReviewer, kind: KindReviewOverdue,
			title: Message{Zh: "管局审核已超期", En: "Bureau review overdue"},
			body: Message{
				Zh: fmt.Sprintf("备案 %s 的管局审核（含短信核验）应于 %s前完成，目前仍无结果，请跟进。", f, due.Zh),
				En: fmt.Sprintf("The bureau's review of filing %s (SMS verification included) was due by %s "+
					"and has no result yet; please follow up.", f, due.En),
			}}
	}
	return draft{role: RoleReviewer, kind: KindReviewOverdue,
		title: Message{Zh: "初审已超期", En: "Initial review overdue"},
		body: Message{
			Zh: fmt.Sprintf("备案 %s 的初审已于 %s到期，尚未完成，请立即处理。", f, due.Zh),
			En: fmt.Sprintf("The initial review of filing %s was due at %s and is not done; please handle it now.", f, due.En),
		}}
}
