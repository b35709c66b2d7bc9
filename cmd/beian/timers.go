package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/beian/beian/commands"
	"github.com/beian/beian/domain"
	"github.com/beian/beian/projections"
)

// timerDispatcher fires deadline timers as commands of the system actor.
// The idempotency key is the timer itself (filing, kind, due time), so a
// timer fired twice appends once.
type timerDispatcher struct {
	app *commands.Application
}

func (d timerDispatcher) Fire(ctx context.Context, t projections.DueTimer, _ time.Time) error {
	m := commands.Meta{Actor: commands.Actor{Account: "deadline-timer", Role: commands.RoleSystem},
		IdempotencyKey: fmt.Sprintf("timer:%s:%s:%d", t.FilingID, t.Kind, t.DueAt.UnixMilli()), CorrelationID: "timer:" + t.Kind}
	id := t.FilingID
	var err error
	switch t.Kind {
	case domain.TimerReviewDueSoon:
		_, err = d.app.WarnDeadline.Handle(ctx, m, commands.WarnDeadline{FilingID: id, Kind: domain.DeadlineReviewDueSoon})
	case domain.TimerSMSDueSoon:
		_, err = d.app.WarnDeadline.Handle(ctx, m, commands.WarnDeadline{FilingID: id, Kind: domain.DeadlineSMSDueSoon})
	case domain.TimerReviewOverdue:
		_, err = d.app.FlagOverdue.Handle(ctx, m, commands.FlagOverdue{FilingID: id, Stage: domain.StageInitial})
	case domain.TimerBureauOverdue:
		_, err = d.app.FlagOverdue.Handle(ctx, m, commands.FlagOverdue{FilingID: id, Stage: domain.StageBureau})
	case domain.TimerSMSExpired:
		_, err = d.app.ExpireSmsVerification.Handle(ctx, m, commands.ExpireSmsVerification{FilingID: id})
	case domain.TimerRemind7, domain.TimerRemind15, domain.TimerRemind30:
		day := map[string]int{domain.TimerRemind7: 7, domain.TimerRemind15: 15, domain.TimerRemind30: 30}[t.Kind]
		_, err = d.app.RemindIdle.Handle(ctx, m, commands.RemindIdle{FilingID: id, Day: day})
	case domain.TimerExpire:
		_, err = d.app.Expire.Handle(ctx, m, commands.Expire{FilingID: id})
	default:
		return fmt.Errorf("unknown timer kind %q: %w", t.Kind, projections.ErrObsolete)
	}
	var ve *domain.ValidationError
	var ise *domain.InvalidStateError
	if errors.As(err, &ve) || errors.As(err, &ise) {
		return fmt.Errorf("%w: %v", projections.ErrObsolete, err)
	}
	return err
}
