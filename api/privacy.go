package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/beian/beian/commands"
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
