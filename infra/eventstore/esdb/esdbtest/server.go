package esdbtest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// streams implements the Streams service's Append and Read on a memLog.
// Delete, Tombstone and BatchAppend answer Unimplemented.
type streams struct {
	api.UnimplementedStreamsServer
	log           *memLog
	maxAppendSize int
}

// Append reads the options, then every proposed message, then answers
// once: a wrong expected revision is an ordinary response, not a status,
// exactly as the server answers it.
func (s *streams) Append(stream api.Streams_AppendServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	opts := first.GetOptions()
	if opts == nil {
		return status.Error(codes.InvalidArgument, "the first append message must carry the options")
	}
	name := string(opts.GetStreamIdentifier().GetStreamName())
	if name == "" {
		return status.Error(codes.InvalidArgument, "stream name is empty")
	}
	var exp expectation
	switch o := opts.GetExpectedStreamRevision().(type) {
	case *api.AppendReq_Options_Any:
		exp.kind = expectAny
	case *api.AppendReq_Options_NoStream:
		exp.kind = expectNoStream
	case *api.AppendReq_Options_StreamExists:
		exp.kind = expectStreamExists
	case *api.AppendReq_Options_Revision:
		exp = expectation{kind: expectRevision, revision: o.Revision}
	default:
		return status.Error(codes.InvalidArgument, "no expected stream revision")
	}
	var events []*record
	size := 0
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		m := req.GetProposedMessage()
		if m == nil {
			return status.Error(codes.InvalidArgument, "expected a proposed message")
		}
		id, err := uuidFromProto(m.GetId())
		if err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		typ, ok := m.GetMetadata()["type"]
		if !ok {
			return requiredMetadata("type")
		}
		contentType, ok := m.GetMetadata()["content-type"]
		if !ok {
			return requiredMetadata("content-type")
		}
		size += len(m.GetData()) + len(m.GetCustomMetadata())
		if size > s.maxAppendSize {
			stream.SetTrailer(metadata.Pairs("exception", "maximum-append-size-exceeded", "maximum-append-size", strconv.Itoa(s.maxAppendSize)))
			return status.Errorf(codes.InvalidArgument, "Maximum Append Size of %d Exceeded.", s.maxAppendSize)
		}
		events = append(events, &record{id: id, typ: typ, contentType: contentType, data: m.GetData(), metadata: m.GetCustomMetadata()})
	}
	if len(events) == 0 {
		// The server accepts an empty append as a no-op; the adapter never
		// sends one, so the peer keeps it simple and refuses.
		return status.Error(codes.InvalidArgument, "no events")
	}
	out := s.log.append(name, exp, events)
	return stream.SendAndClose(appendResponse(exp, out))
}

func requiredMetadata(key string) error {
	return status.Errorf(codes.InvalidArgument, "required metadata property is missing: %s", key)
}

func appendResponse(exp expectation, out outcome) *api.AppendResp {
	if out.wrong {
		w := &api.AppendResp_WrongExpectedVersion{}
		if out.current < 0 {
			w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
			w.CurrentRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_NoStream_20_6_0{NoStream_20_6_0: &shared.Empty{}}
		} else {
			w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(out.current)}
			w.CurrentRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_CurrentRevision_20_6_0{CurrentRevision_20_6_0: uint64(out.current)}
		}
		switch exp.kind {
		case expectAny:
			w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
		case expectNoStream:
			w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
		case expectStreamExists:
			w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
		default:
			w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: exp.revision}
		}
		return &api.AppendResp{Result: &api.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}}
	}
	ok := &api.AppendResp_Success{
		CurrentRevisionOption: &api.AppendResp_Success_CurrentRevision{CurrentRevision: uint64(out.current)},
	}
	if out.retry {
		// A retry writes nothing; the peer reports no position for it, which
		// the protocol allows, so clients must not count on one.
		ok.PositionOption = &api.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}}
	} else {
		ok.PositionOption = &api.AppendResp_Success_Position{Position: &api.AppendResp_Position{
			CommitPosition: out.position, PreparePosition: out.position,
		}}
	}
	return &api.AppendResp{Result: &api.AppendResp_Success_{Success: ok}}
}

// Read serves plain reads of a stream or $all and subscriptions to $all.
// A plain read answers only events or stream_not_found: the client panics
// on anything else.
func (s *streams) Read(req *api.ReadReq, stream api.Streams_ReadServer) error {
	o := req.GetOptions()
	if o == nil {
		return status.Error(codes.InvalidArgument, "no read options")
	}
	if o.GetFilter() != nil {
		return status.Error(codes.Unimplemented, "the peer has no server-side filters")
	}
	structured := o.GetUuidOption().GetString_() == nil
	backwards := o.GetReadDirection() == api.ReadReq_Options_Backwards
	if o.GetSubscription() != nil {
		all := o.GetAll()
		if all == nil {
			return status.Error(codes.Unimplemented, "the peer subscribes to $all only")
		}
		return s.subscribe(all, structured, stream)
	}
	count := o.GetCount()
	if st := o.GetStream(); st != nil {
		name := string(st.GetStreamIdentifier().GetStreamName())
		recs, ok := s.log.readStream(name, st.GetRevision(), st.GetEnd() != nil, backwards, count)
		if !ok {
			return stream.Send(&api.ReadResp{Content: &api.ReadResp_StreamNotFound_{StreamNotFound: &api.ReadResp_StreamNotFound{
				StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(name)},
			}}})
		}
		return sendAll(stream, recs, structured)
	}
	all := o.GetAll()
	if all == nil {
		return status.Error(codes.InvalidArgument, "neither a stream nor $all")
	}
	recs, err := s.log.readAll(allPosition(all), all.GetEnd() != nil, backwards, count)
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	return sendAll(stream, recs, structured)
}

func allPosition(all *api.ReadReq_Options_AllOptions) *[2]uint64 {
	if p := all.GetPosition(); p != nil {
		return &[2]uint64{p.GetCommitPosition(), p.GetPreparePosition()}
	}
	return nil
}

func sendAll(stream api.Streams_ReadServer, recs []*record, structured bool) error {
	for _, r := range recs {
		if err := stream.Send(r.response(structured)); err != nil {
			return err
		}
	}
	return nil
}

// subscribe confirms first, then sends the stored events after the start,
// then caught_up once, then every new event as it is appended, until the
// client goes away or the peer stops.
func (s *streams) subscribe(all *api.ReadReq_Options_AllOptions, structured bool, stream api.Streams_ReadServer) error {
	next, err := s.log.subscriptionStart(allPosition(all), all.GetEnd() != nil)
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	confirm := &api.ReadResp{Content: &api.ReadResp_Confirmation{Confirmation: &api.ReadResp_SubscriptionConfirmation{
		SubscriptionId: uuid.NewString(),
	}}}
	if err := stream.Send(confirm); err != nil {
		return err
	}
	caughtUp := false
	for {
		batch, changed := s.log.from(next, 64)
		if err := sendAll(stream, batch, structured); err != nil {
			return err
		}
		next += len(batch)
		if len(batch) > 0 {
			continue
		}
		if !caughtUp {
			caughtUp = true
			if err := stream.Send(&api.ReadResp{Content: &api.ReadResp_CaughtUp_{CaughtUp: &api.ReadResp_CaughtUp{}}}); err != nil {
				return err
			}
		}
		select {
		case <-changed:
		case <-stream.Context().Done():
			return status.FromContextError(stream.Context().Err()).Err()
		}
	}
}

// response is the record as the server sends it. created must be there:
// the client calls log.Fatalf on an event without it.
func (r *record) response(structured bool) *api.ReadResp {
	ev := &api.ReadResp_ReadEvent_RecordedEvent{
		Id:               uuidToProto(r.id, structured),
		StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.stream)},
		StreamRevision:   r.revision,
		PreparePosition:  r.position,
		CommitPosition:   r.position,
		Metadata: map[string]string{
			"type":         r.typ,
			"content-type": r.contentType,
			"created":      strconv.FormatInt(r.created, 10),
		},
		CustomMetadata: r.metadata,
		Data:           r.data,
	}
	return &api.ReadResp{Content: &api.ReadResp_Event{Event: &api.ReadResp_ReadEvent{
		Event:    ev,
		Position: &api.ReadResp_ReadEvent_CommitPosition{CommitPosition: r.position},
	}}}
}

// UUIDs travel as two big-endian int64 halves, or as a string when the
// reader asks for strings.
func uuidToProto(id uuid.UUID, structured bool) *shared.UUID {
	if !structured {
		return &shared.UUID{Value: &shared.UUID_String_{String_: id.String()}}
	}
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits:  int64(binary.BigEndian.Uint64(id[:8])),
		LeastSignificantBits: int64(binary.BigEndian.Uint64(id[8:])),
	}}}
}

func uuidFromProto(p *shared.UUID) (uuid.UUID, error) {
	if s := p.GetStructured(); s != nil {
		var id uuid.UUID
		binary.BigEndian.PutUint64(id[:8], uint64(s.GetMostSignificantBits()))
		binary.BigEndian.PutUint64(id[8:], uint64(s.GetLeastSignificantBits()))
		return id, nil
	}
	if str := p.GetString_(); str != "" {
		id, err := uuid.Parse(str)
		if err != nil {
			return uuid.Nil, fmt.Errorf("event id %q: %w", str, err)
		}
		return id, nil
	}
	return uuid.Nil, errors.New("event without an id")
}
