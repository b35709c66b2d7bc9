package commands_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/beian/beian/commands"
	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/eventstore"
	"github.com/google/uuid"
)

// Helpers that bring a filing to each status through the handlers, and check
// what a command left in the log.

// traced returns a Meta with its own key, correlation and causation ids, so
// the metadata checks tell one command's events from another's.
func traced(account, role string, key ...string) commands.Meta {
	m := meta(account, role, key...)
	m.CorrelationID = "corr-" + m.IdempotencyKey
	m.CausationID = "cause-" + m.IdempotencyKey
	return m
}

// livenessStarted fills steps 1 to 4 and opens a liveness session with the
// simulated provider; it returns the filing and the session.
func (e *env) livenessStarted() (string, string) {
	t, ctx, app := e.t, context.Background(), e.app
	t.Helper()
	id := e.ok(app.VerifyType.Handle(ctx, applicant(), verifyCmd())).FilingID
	e.ok(app.SubmitEntity.Handle(ctx, applicant(), commands.SubmitEntity{FilingID: id, Entity: entity()}))
	e.ok(app.SubmitWebsite.Handle(ctx, applicant(), website(id)))
	e.ok(app.SubmitWebsitePrincipal.Handle(ctx, applicant(), commands.SubmitWebsitePrincipal{FilingID: id, WebsiteID: "w1", Principal: zhangSan(), IsLegalRep: true}))
	e.ok(app.StartLiveness.Handle(ctx, applicant(), commands.StartLiveness{FilingID: id, WebsiteID: "w1"}))
	return id, e.session(id, "w1")
}

// session returns the liveness session open for a website.
func (e *env) session(id, websiteID string) string {
	e.t.Helper()
	f, _, err := e.app.Executor.Load(context.Background(), id)
	if err != nil || f.Website(websiteID) == nil {
		e.t.Fatalf("filing %s website %s: %v", id, websiteID, err)
	}
	return f.Website(websiteID).Liveness.SessionID
}

func (e *env) submitted() string {
	e.t.Helper()
	id := e.filledFiling()
	e.ok(e.app.SubmitForReview.Handle(context.Background(), applicant(), commands.SubmitForReview{FilingID: id, TermsVersion: "2026-01"}))
	return id
}

func (e *env) providerApproved() string {
	e.t.Helper()
	id := e.submitted()
	e.ok(e.app.ApproveInitialReview.Handle(context.Background(), reviewer(), commands.ApproveInitialReview{FilingID: id}))
	return id
}

func (e *env) sentToBureau() string {
	e.t.Helper()
	id := e.providerApproved()
	e.ok(e.app.SendToBureau.Handle(context.Background(), reviewer(), commands.SendToBureau{FilingID: id}))
	return id
}

func (e *env) smsPending() string {
	e.t.Helper()
	id := e.sentToBureau()
	e.ok(e.app.RequestSmsVerification.Handle(context.Background(), bureau(), commands.RequestSmsVerification{FilingID: id}))
	return id
}

// sentCode is the code the simulated SMS platform sent to 张三.
func (e *env) sentCode(id string) string {
	e.t.Helper()
	code, ok := e.sim.SentCode(id, "13800138000")
	if !ok {
		e.t.Fatalf("no SMS code sent for filing %s", id)
	}
	return code
}

func (e *env) bureauReview() string {
	e.t.Helper()
	id := e.smsPending()
	e.ok(e.app.VerifySmsCode.Handle(context.Background(), applicant(), commands.VerifySmsCode{
		FilingID: id, Mobile: "13800138000", CertSuffix: "071236", Code: e.sentCode(id)}))
	if s := e.status(id); s != domain.StatusBureauReview {
		e.t.Fatalf("after the SMS code: %s, want %s", s, domain.StatusBureauReview)
	}
	return id
}

// log returns the whole event log, $all.
func (e *env) log() []eventstore.RecordedEvent {
	e.t.Helper()
	var all []eventstore.RecordedEvent
	for {
		page, err := e.store.ReadAll(context.Background(), uint64(len(all))+1, 1000)
		if err != nil {
			e.t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < 1000 {
			return all
		}
	}
}

func eventIDs(events []eventstore.RecordedEvent) []string {
	ids := make([]string, len(events))
	for i, ev := range events {
		ids[i] = ev.ID
	}
	return ids
}

// unchanged fails the test if the log is not what it was.
func (e *env) unchanged(t *testing.T, before []eventstore.RecordedEvent) {
	t.Helper()
	if after := e.log(); !slices.Equal(eventIDs(after), eventIDs(before)) {
		t.Fatalf("the log changed: %d events before, %d after", len(before), len(after))
	}
}

// appended checks that the command run with m on filing id appended exactly
// events of the given types at the end of the log, with the command's
// metadata, and that res describes them; it returns them.
func (e *env) appended(t *testing.T, before []eventstore.RecordedEvent, res commands.Result, m commands.Meta,
	command, id string, types ...string) []eventstore.RecordedEvent {
	t.Helper()
	after := e.log()
	if len(after) != len(before)+len(types) || !slices.Equal(eventIDs(after[:len(before)]), eventIDs(before)) {
		t.Fatalf("%s: %d events before, %d after; want %d more at the end", command, len(before), len(after), len(types))
	}
	fresh := after[len(before):]
	commandID := commands.CommandID(m.Actor.Account, command, id, m.IdempotencyKey)
	for i, ev := range fresh {
		md := ev.Metadata
		switch {
		case ev.Type != types[i]:
			t.Fatalf("%s: event %d is %s, want %s", command, i, ev.Type, types[i])
		case ev.Stream != commands.Stream(id):
			t.Fatalf("%s: event in stream %s, want %s", command, ev.Stream, commands.Stream(id))
		case ev.ID != uuid.NewSHA1(uuid.MustParse(commandID), []byte(fmt.Sprint(i))).String():
			t.Fatalf("%s: event id %s is not derived from the command id %s", command, ev.ID, commandID)
		case md.CommandID != commandID || md.CommandHash == "":
			t.Fatalf("%s: command id %q hash %q, want id %s", command, md.CommandID, md.CommandHash, commandID)
		case md.ActorAccount != m.Actor.Account || md.ActorRole != m.Actor.Role:
			t.Fatalf("%s: actor %s/%s, want %s/%s", command, md.ActorAccount, md.ActorRole, m.Actor.Account, m.Actor.Role)
		case md.CorrelationID != m.CorrelationID || md.CausationID != m.CausationID:
			t.Fatalf("%s: correlation %q causation %q, want %q %q", command, md.CorrelationID, md.CausationID, m.CorrelationID, m.CausationID)
		case md.SchemaVersion != 1 || !md.OccurredAt.Equal(e.clock.Now()):
			t.Fatalf("%s: schema version %d, occurred at %s, want 1 and %s", command, md.SchemaVersion, md.OccurredAt, e.clock.Now())
		}
	}
	last := fresh[len(fresh)-1]
	if res.Repeated || res.FilingID != id || res.Revision != last.Revision || res.Position != last.Position || len(res.Events) != len(fresh) {
		t.Fatalf("%s: result %+v does not describe the appended events (last revision %d position %d)", command, res, last.Revision, last.Position)
	}
	return fresh
}
