package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/beian/beian/commands"
	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/projections"
	"github.com/graph-gophers/graphql-go"
)

type erasureResultView struct {
	Subject  string
	Position string
	Events   []eventRefView
	Repeated bool
}

// EraseSubject destroys a data subject's personal-data key; admins only.
func (r *resolver) EraseSubject(ctx context.Context, args struct {
	Input struct {
		IdempotencyKey  *string
		Subject, Reason string
	}
}) (*erasureResultView, error) {
	if _, err := requireRole(ctx, commands.RoleAdmin); err != nil {
		return nil, err
	}
	if r.app.EraseSubject == nil {
		return nil, r.fail(ctx, errors.New("eraseSubject: no personal-data key store"))
	}
	m, err := meta(ctx, args.Input.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	if fields := checkText("", args.Input); len(fields) > 0 {
		return nil, errValidation(fields...)
	}
	res, err := r.app.EraseSubject.Handle(ctx, m, commands.EraseSubject{Subject: args.Input.Subject, Reason: args.Input.Reason})
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	v := &erasureResultView{Position: position(res.Position), Repeated: res.Repeated}
	for _, e := range res.Events {
		var p commands.SubjectErased
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return nil, r.fail(ctx, fmt.Errorf("eraseSubject: %w", err))
		}
		v.Subject = p.Subject
		v.Events = append(v.Events, eventRefView{Id: graphql.ID(e.ID), Type: e.Type, Revision: int32(e.Revision)})
	}
	return v, nil
}

type revealInput struct{ Reason string }

// reveal decides how a filing read is masked: as the caller's role says
// without reveal; unmasked with it, once the read is authorised and
// recorded in the privacy-access stream. A read that cannot be recorded
// fails: no unrecorded access.
func (r *resolver) reveal(ctx context.Context, f domain.Filing, query string, in *revealInput) (masker, error) {
	who, err := identity(ctx)
	if err != nil {
		return masker{}, err
	}
	if in == nil {
		return maskerFor(who.Role), nil
	}
	if fields := checkText("reveal", in); len(fields) > 0 {
		return masker{}, errValidation(fields...)
	}
	if r.app.Access == nil {
		return masker{}, r.fail(ctx, errors.New("reveal: no personal-data key store"))
	}
	m, err := meta(ctx, nil)
	if err != nil {
		return masker{}, err
	}
	if _, err := r.app.Access.Record(ctx, m, commands.RevealPersonalData{FilingID: f.ID, Query: query, Reason: in.Reason,
		Certificates: certificates(f)}); err != nil {
		return masker{}, r.fail(ctx, err)
	}
	return masker{on: false}, nil
}

// certificates are those of the people whose personal data a filing holds.
func certificates(f domain.Filing) []string {
	var out []string
	if f.Kind() == domain.KindIndividual {
		out = append(out, f.CertificateNumber)
	}
	if f.Entity != nil {
		out = append(out, f.Entity.Principal.CertificateNumber)
	}
	for i := range f.Websites {
		if p := f.WebsitePrincipal(&f.Websites[i]); p != nil {
			out = append(out, p.CertificateNumber)
		}
	}
	return out
}

type accessView struct {
	EventId                                graphql.ID
	Revision                               int32
	Position                               string
	ActorAccount, ActorRole, Query, Reason string
	FilingId                               graphql.ID
	Fields, Subjects                       []string
	At                                     graphql.Time
	Hash                                   string
}

type accessEdge struct {
	Cursor string
	Node   accessView
}

type accessConnection struct {
	Edges    []accessEdge
	PageInfo pageInfo
}

// PersonalDataAccess lists the recorded reads of unmasked personal data,
// oldest first, from the log itself; auditors and admins only.
func (r *resolver) PersonalDataAccess(ctx context.Context, args struct {
	First *int32
	After *string
}) (*accessConnection, error) {
	if _, err := requireRole(ctx, commands.RoleAuditor, commands.RoleAdmin); err != nil {
		return nil, err
	}
	page, info, err := r.streamPage(ctx, commands.AccessStream, args.First, args.After)
	if err != nil {
		return nil, err
	}
	c := &accessConnection{Edges: []accessEdge{}, PageInfo: info}
	for _, e := range page {
		var a commands.PersonalDataAccess
		if err := json.Unmarshal(e.Data, &a); err != nil {
			return nil, r.fail(ctx, fmt.Errorf("%s@%d: %w", e.Stream, e.Revision, err))
		}
		cursor := strconv.FormatUint(e.Revision, 10)
		c.Edges = append(c.Edges, accessEdge{Cursor: cursor, Node: accessView{EventId: graphql.ID(e.ID), Revision: int32(e.Revision),
			Position: position(e.Position), ActorAccount: e.Metadata.ActorAccount, ActorRole: e.Metadata.ActorRole, Query: a.Query,
			Reason: a.Reason, FilingId: graphql.ID(a.FilingID), Fields: a.Fields, Subjects: a.Subjects, At: graphql.Time{Time: a.At},
			Hash: e.Metadata.Hash}})
	}
	return c, nil
}

// streamPage reads a page of a stream that is not a filing's from the log,
// oldest first; cursors are revisions.
func (r *resolver) streamPage(ctx context.Context, stream string, first *int32, after *string) ([]eventstore.RecordedEvent, pageInfo, error) {
	n, err := pageSize(first)
	if err != nil {
		return nil, pageInfo{}, err
	}
	var from uint64
	if a := deref(after); a != "" {
		rev, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			return nil, pageInfo{}, r.fail(ctx, projections.ErrBadCursor)
		}
		from = rev + 1
	}
	page, err := r.log.ReadStream(ctx, stream, from, n+1)
	if err != nil && !errors.Is(err, eventstore.ErrNotFound) {
		return nil, pageInfo{}, r.fail(ctx, err)
	}
	info := pageInfo{HasNextPage: len(page) > n}
	page = page[:min(len(page), n)]
	if len(page) > 0 {
		info.EndCursor = optString(strconv.FormatUint(page[len(page)-1].Revision, 10))
	}
	return page, info, nil
}

type erasureView struct {
	EventId                 graphql.ID
	Revision                int32
	Position                string
	ActorAccount, ActorRole string
	Subject, Reason, Hash   string
	ErasedAt                graphql.Time
}

type erasureEdge struct {
	Cursor string
	Node   erasureView
}

type erasureConnection struct {
	Edges    []erasureEdge
	PageInfo pageInfo
}

// SubjectErasures lists the erasures, oldest first, from the log itself;
// auditors and admins only.
func (r *resolver) SubjectErasures(ctx context.Context, args struct {
	First *int32
	After *string
}) (*erasureConnection, error) {
	if _, err := requireRole(ctx, commands.RoleAuditor, commands.RoleAdmin); err != nil {
		return nil, err
	}
	page, info, err := r.streamPage(ctx, commands.ErasureStream, args.First, args.After)
	if err != nil {
		return nil, err
	}
	c := &erasureConnection{Edges: []erasureEdge{}, PageInfo: info}
	for _, e := range page {
		var p commands.SubjectErased
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return nil, r.fail(ctx, fmt.Errorf("%s@%d: %w", e.Stream, e.Revision, err))
		}
		c.Edges = append(c.Edges, erasureEdge{Cursor: strconv.FormatUint(e.Revision, 10), Node: erasureView{EventId: graphql.ID(e.ID),
			Revision: int32(e.Revision), Position: position(e.Position), ActorAccount: e.Metadata.ActorAccount, ActorRole: e.Metadata.ActorRole,
			Subject: p.Subject, Reason: p.Reason, Hash: e.Metadata.Hash, ErasedAt: graphql.Time{Time: p.ErasedAt}}})
	}
	return c, nil
}
