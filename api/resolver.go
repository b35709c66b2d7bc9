package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/beian/beian/commands"
	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/projections"
	"github.com/graph-gophers/graphql-go"
)

// resolver is the root of the GraphQL schema.
type resolver struct {
	app     *commands.Application
	rules   *domain.Rules
	reader  *projections.Reader
	waiter  Waiter
	events  eventstore.Store
	log     eventstore.Store
	hub     *hub
	logger  *slog.Logger
	now     func() time.Time
	maxWait time.Duration
	// devLiveness lets applicants give the simulated liveness verdict (dev mode).
	devLiveness bool
}

// Waiter lets a query wait until the read model has reached a position.
type Waiter interface {
	WaitFor(ctx context.Context, projection string, position uint64) error
}

// identity returns the caller, or UNAUTHENTICATED.
func identity(ctx context.Context) (Identity, error) {
	id, ok := IdentityFrom(ctx)
	if !ok {
		return Identity{}, errUnauthenticated()
	}
	return id, nil
}

// requireRole lets only the listed roles through.
func requireRole(ctx context.Context, roles ...string) (Identity, error) {
	id, err := identity(ctx)
	if err != nil {
		return id, err
	}
	if !slices.Contains(roles, id.Role) {
		return id, errForbidden()
	}
	return id, nil
}

// readers of any filing; applicants read their own.
var staffRoles = []string{commands.RoleReviewer, commands.RoleBureau, commands.RoleAuditor, commands.RoleAdmin}

func (r *resolver) fail(ctx context.Context, err error) error { return mapError(ctx, r.logger, err) }

func (r *resolver) Me(ctx context.Context) (*meView, error) {
	id, err := identity(ctx)
	if err != nil {
		return nil, err
	}
	return &meView{Account: id.Account, Role: id.Role}, nil
}

// loadFiling reads a filing the caller may see: their own for applicants,
// any for staff. Another's filing is NOT_FOUND, not FORBIDDEN, so its
// existence does not leak.
func (r *resolver) loadFiling(ctx context.Context, id string, minPosition *string) (projections.FilingRow, Identity, error) {
	who, err := identity(ctx)
	if err != nil {
		return projections.FilingRow{}, who, err
	}
	if who.Role != commands.RoleApplicant && !slices.Contains(staffRoles, who.Role) {
		return projections.FilingRow{}, who, errForbidden()
	}
	if err := r.waitFor(ctx, projections.Filings{}, minPosition); err != nil {
		return projections.FilingRow{}, who, err
	}
	row, err := r.reader.Filing(ctx, id)
	if err != nil {
		return row, who, r.fail(ctx, err)
	}
	if who.Role == commands.RoleApplicant && row.Filing.Account != who.Account {
		return projections.FilingRow{}, who, errNotFound()
	}
	return row, who, nil
}

// waitFor waits (bounded) until the projection has applied the log up to
// the position a mutation returned: a client reads its own writes.
func (r *resolver) waitFor(ctx context.Context, p projections.Projection, minPosition *string) error {
	if minPosition == nil {
		return nil
	}
	pos, err := strconv.ParseUint(*minPosition, 10, 64)
	if err != nil {
		return errValidation(domain.FieldError{Path: "minPosition", Code: "position.invalid",
			Message: domain.Message{Zh: "位置无效", En: "not a position this server returned"}})
	}
	wait, cancel := context.WithTimeout(ctx, r.maxWait)
	defer cancel()
	if err := r.waiter.WaitFor(wait, p.Name(), pos); err != nil && ctx.Err() == nil {
		return newError(CodeInternal, "读模型暂未更新到该位置，请稍后重试",
			fmt.Sprintf("the read model has not reached position %d yet; retry shortly", pos))
	}
	return nil
}

func (r *resolver) Filing(ctx context.Context, args struct {
	ID          graphql.ID
	MinPosition *string
	Reveal      *revealInput
}) (*filingView, error) {
	row, _, err := r.loadFiling(ctx, string(args.ID), args.MinPosition)
	if err != nil {
		return nil, err
	}
	m, err := r.reveal(ctx, row.Filing, "filing", args.Reveal)
	if err != nil {
		return nil, err
	}
	return viewFiling(r.rules, row.Filing, row.Revision, row.Position, m, r.now()), nil
}

// pageSize checks first against the page limit.
func pageSize(first *int32) (int, error) {
	if first == nil {
		return 20, nil
	}
	if *first < 1 || *first > projections.MaxPage {
		return 0, errValidation(domain.FieldError{Path: "first", Code: "page.size", Message: domain.Message{
			Zh: fmt.Sprintf("每页 1 到 %d 条", projections.MaxPage), En: fmt.Sprintf("first must be between 1 and %d", projections.MaxPage)}})
	}
	return int(*first), nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (r *resolver) Filings(ctx context.Context, args struct {
	Filter      *struct{ Status, Province, Account *string }
	First       *int32
	After       *string
	MinPosition *string
}) (*filingConnection, error) {
	who, err := identity(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.waitFor(ctx, projections.Filings{}, args.MinPosition); err != nil {
		return nil, err
	}
	first, err := pageSize(args.First)
	if err != nil {
		return nil, err
	}
	if fields := checkText("filter", args.Filter); len(fields) > 0 {
		return nil, errValidation(fields...)
	}
	var f projections.FilingFilter
	if args.Filter != nil {
		f = projections.FilingFilter{Status: deref(args.Filter.Status), Province: deref(args.Filter.Province), Account: deref(args.Filter.Account)}
	}
	switch {
	case who.Role == commands.RoleApplicant:
		f.Account = who.Account // applicants list their own filings only
	case !slices.Contains(staffRoles, who.Role):
		return nil, errForbidden()
	}
	page, err := r.reader.Filings(ctx, f, first, deref(args.After))
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	return viewFilings(page), nil
}

func (r *resolver) AuditTrail(ctx context.Context, args struct {
	FilingID    graphql.ID
	First       *int32
	After       *string
	MinPosition *string
}) (*auditConnection, error) {
	if err := r.waitFor(ctx, projections.Audit{}, args.MinPosition); err != nil {
		return nil, err
	}
	if _, _, err := r.loadFiling(ctx, string(args.FilingID), args.MinPosition); err != nil {
		return nil, err
	}
	first, err := pageSize(args.First)
	if err != nil {
		return nil, err
	}
	page, err := r.reader.AuditTrail(ctx, string(args.FilingID), first, deref(args.After))
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	c := &auditConnection{Edges: []auditEdge{}, PageInfo: pageInfo{HasNextPage: page.HasNext, EndCursor: optString(page.EndCursor)}}
	for i, a := range page.Items {
		c.Edges = append(c.Edges, auditEdge{Cursor: page.Cursors[i], Node: viewAudit(a)})
	}
	if c.Chain, err = r.chain(ctx, string(args.FilingID)); err != nil {
		return nil, r.fail(ctx, err)
	}
	return c, nil
}

// chain verifies the filing's hash chain against the event log itself: the
// read model could be altered too.
func (r *resolver) chain(ctx context.Context, filingID string) (chainView, error) {
	recorded, err := eventstore.ReadStreamFrom(ctx, r.log, commands.Stream(filingID), 0)
	if err != nil {
		return chainView{}, err
	}
	head, err := eventstore.VerifyChain(recorded)
	var broken *eventstore.BrokenLinkError
	switch {
	case errors.As(err, &broken):
		rev := int32(broken.Revision)
		return chainView{Events: int32(len(recorded)), BrokenAt: &rev, Reason: &broken.Reason}, nil
	case err != nil:
		return chainView{}, err
	}
	return chainView{Verified: true, Events: int32(len(recorded)), Head: optString(head)}, nil
}

func (r *resolver) ReviewQueue(ctx context.Context, args struct {
	Province    *string
	First       *int32
	After       *string
	MinPosition *string
}) (*queueConnection, error) {
	if _, err := requireRole(ctx, commands.RoleReviewer, commands.RoleAuditor, commands.RoleAdmin); err != nil {
		return nil, err
	}
	if err := r.waitFor(ctx, projections.ReviewQueue{}, args.MinPosition); err != nil {
		return nil, err
	}
	first, err := pageSize(args.First)
	if err != nil {
		return nil, err
	}
	page, err := r.reader.ReviewQueue(ctx, deref(args.Province), r.now(), first, deref(args.After))
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	c := &queueConnection{Edges: []queueEdge{}, PageInfo: pageInfo{HasNextPage: page.HasNext, EndCursor: optString(page.EndCursor)}}
	for i, it := range page.Items {
		c.Edges = append(c.Edges, queueEdge{Cursor: page.Cursors[i], Node: queueItemView{
			FilingId: graphql.ID(it.FilingID), Province: it.Province, EntityName: it.EntityName, Submission: int32(it.Submission),
			SubmittedAt: graphql.Time{Time: it.SubmittedAt}, DueAt: graphql.Time{Time: it.DueAt}, Overdue: it.Overdue,
		}})
	}
	return c, nil
}

func (r *resolver) Provinces(ctx context.Context) ([]provinceView, error) {
	if _, err := identity(ctx); err != nil {
		return nil, err
	}
	var out []provinceView
	for _, p := range r.rules.Provinces() {
		days := p.BureauReviewWorkingDays
		if days == 0 {
			days = r.rules.Channel.BureauReviewWorkingDays
		}
		out = append(out, provinceView{Code: p.Code, Name: p.Name, NameEn: p.NameEn, Abbreviation: p.Abbr, Supported: p.Supported,
			BureauReviewWorkingDays: int32(days)})
	}
	return out, nil
}

func (r *resolver) Stats(ctx context.Context) (*statsView, error) {
	if _, err := requireRole(ctx, staffRoles...); err != nil {
		return nil, err
	}
	s, err := r.reader.Stats(ctx)
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	v := &statsView{Counts: []statusCountView{}, InitialReviews: int32(s.InitialReviews), BureauReviews: int32(s.BureauReviews),
		MedianInitialReviewSeconds: int32(s.MedianInitialReview.Seconds()), MedianBureauReviewSeconds: int32(s.MedianBureauReview.Seconds())}
	for _, c := range s.Counts {
		v.Counts = append(v.Counts, statusCountView{Status: string(c.Status), Province: c.Province, Count: int32(c.Count)})
	}
	return v, nil
}

// FilingAt folds the filing's stream from the event store up to a revision
// or a time: the log is the evidence, not a read model.
func (r *resolver) FilingAt(ctx context.Context, args struct {
	ID       graphql.ID
	Revision *int32
	AsOf     *graphql.Time
	Reveal   *revealInput
}) (*snapshotView, error) {
	who, err := identity(ctx)
	if err != nil {
		return nil, err
	}
	if who.Role != commands.RoleApplicant && !slices.Contains(staffRoles, who.Role) {
		return nil, errForbidden()
	}
	_, recorded, err := r.app.Executor.Load(ctx, string(args.ID))
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	if len(recorded) == 0 {
		return nil, errNotFound()
	}
	var f domain.Filing
	snap := &snapshotView{Events: []auditEntryView{}}
	for _, e := range recorded {
		if args.Revision != nil && e.Revision > uint64(*args.Revision) || args.AsOf != nil && e.RecordedAt.After(args.AsOf.Time) {
			break
		}
		de, err := domain.DecodeEvent(e.Type, e.Data)
		if err != nil {
			return nil, r.fail(ctx, err)
		}
		f = domain.Evolve(f, de)
		snap.Revision, snap.At = int32(e.Revision), graphql.Time{Time: e.RecordedAt}
		snap.Events = append(snap.Events, viewAudit(projections.AuditEntry{
			Position: e.Position, Revision: e.Revision, EventID: e.ID, Type: e.Type, ActorAccount: e.Metadata.ActorAccount,
			ActorRole: e.Metadata.ActorRole, OccurredAt: e.Metadata.OccurredAt, RecordedAt: e.RecordedAt,
			CommandID: e.Metadata.CommandID, CorrelationID: e.Metadata.CorrelationID, Summary: projections.Summarize(de),
		}))
	}
	if who.Role == commands.RoleApplicant {
		start, err := domain.DecodeEvent(recorded[0].Type, recorded[0].Data)
		if v, ok := start.(domain.TypeVerified); err != nil || !ok || v.Account != who.Account {
			return nil, errNotFound()
		}
	}
	if len(snap.Events) == 0 {
		return nil, nil // before the filing began
	}
	last := recorded[len(snap.Events)-1]
	m, err := r.reveal(ctx, f, "filingAt", args.Reveal)
	if err != nil {
		return nil, err
	}
	snap.Filing = viewFiling(r.rules, f, last.Revision, last.Position, m, r.now())
	return snap, nil
}
