package api

import (
	"context"
	"errors"
	"slices"

	"github.com/beian/beian/commands"
	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/eventstore"
	"github.com/graph-gophers/graphql-go"
	qerrors "github.com/graph-gophers/graphql-go/errors"
)

// FilingUpdated sends the filing's progress now and after every later
// event, in order: it folds the stream from the log on each wake-up, so no
// change is skipped however slow the reader. A reader too slow for the
// socket is disconnected by the transport, never silently skipped.
func (r *resolver) FilingUpdated(ctx context.Context, args struct{ ID graphql.ID }) (<-chan *filingView, error) {
	out, err := r.filingUpdated(ctx, args.ID)
	if err != nil {
		return nil, subscriptionError(err, "filingUpdated")
	}
	return out, nil
}

// subscriptionError gives a refused subscription the error a query's
// resolver error becomes: graphql-go keeps only the message of a plain
// error a subscription resolver returns, which would drop extensions.code
// (NOT_FOUND, FORBIDDEN). With the field's path it goes out as a next
// message followed by complete, as a query's would.
func subscriptionError(err error, field string) error {
	var ext interface{ Extensions() map[string]any }
	if !errors.As(err, &ext) {
		return err
	}
	return &qerrors.QueryError{Err: err, Message: err.Error(), Path: []any{field}, ResolverError: err, Extensions: ext.Extensions()}
}

func (r *resolver) filingUpdated(ctx context.Context, gid graphql.ID) (<-chan *filingView, error) {
	who, err := identity(ctx)
	if err != nil {
		return nil, err
	}
	if who.Role != commands.RoleApplicant && !slices.Contains(staffRoles, who.Role) {
		return nil, errForbidden()
	}
	id := string(gid)
	wake, stop := r.hub.watch(id) // before reading, so no event falls between
	f, recorded, err := r.app.Executor.Load(ctx, id)
	if err != nil {
		stop()
		return nil, r.fail(ctx, err)
	}
	if len(recorded) == 0 || who.Role == commands.RoleApplicant && f.Account != who.Account {
		stop()
		return nil, errNotFound()
	}
	out := make(chan *filingView)
	last := recorded[len(recorded)-1]
	go func() {
		defer close(out)
		defer stop()
		if !r.send(ctx, out, f, last, who) {
			return
		}
		for {
			select {
			case <-wake:
			case <-ctx.Done():
				return
			}
			if !r.sendNew(ctx, out, id, &f, &last, who) {
				return
			}
		}
	}()
	return out, nil
}

func (r *resolver) send(ctx context.Context, out chan<- *filingView, f domain.Filing, e eventstore.RecordedEvent, who Identity) bool {
	select {
	case out <- viewFiling(r.rules, f, e.Revision, e.Position, maskerFor(who.Role), r.now()):
		return true
	case <-ctx.Done():
		return false
	}
}

// sendNew sends the filing after each event past last, reading the log in
// pages; false when the subscription should end.
func (r *resolver) sendNew(ctx context.Context, out chan<- *filingView, id string, f *domain.Filing, last *eventstore.RecordedEvent, who Identity) bool {
	const page = 1000
	for {
		more, err := r.events.ReadStream(ctx, commands.Stream(id), last.Revision+1, page)
		if err != nil && !errors.Is(err, eventstore.ErrNotFound) {
			r.logger.WarnContext(ctx, "filingUpdated: read stream", "filing", id, "err", err)
			return false
		}
		for _, e := range more {
			de, err := domain.DecodeEvent(e.Type, e.Data)
			if err != nil {
				r.logger.ErrorContext(ctx, "filingUpdated: decode", "filing", id, "err", err)
				return false
			}
			*f, *last = domain.Evolve(*f, de), e
			if !r.send(ctx, out, *f, *last, who) {
				return false
			}
		}
		if len(more) < page {
			return true
		}
	}
}
