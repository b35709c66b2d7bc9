// Package esdbtest is an in-process EventStoreDB protocol peer for tests:
// a gRPC server on the generated Streams service of the client module,
// backed by memory. It answers Streams/Append and Streams/Read (stream and
// $all reads in both directions, catch-up subscriptions to $all) the way a
// server does where the client can tell, and refuses what a server refuses
// (a wrong expected revision, a partial retry, an append over the size
// limit, a $all position inside a record), so tests against it can fail.
//
// It is for tests only: production code must not import it. It has no
// server features, gossip, users, deletes, filters or persistent
// subscriptions; ServerFeatures answers Unimplemented, which the client
// takes for an older server.
package esdbtest

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// DefaultMaxAppendSize is the server's default limit on the bytes of one
// append (data and metadata of all its events): 1 MiB.
const DefaultMaxAppendSize = 1 << 20

type options struct {
	maxAppendSize int
	now           func() time.Time
}

// Option configures a Peer.
type Option func(*options)

// MaxAppendSize sets the append limit; a real server's is set with
// MaxAppendSize in its configuration.
func MaxAppendSize(n int) Option { return func(o *options) { o.maxAppendSize = n } }

// Clock sets where the peer's "created" times come from.
func Clock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// Peer is a running protocol peer. Its log outlives Stop and Restart, so a
// test can take the server away from a client and bring it back.
type Peer struct {
	log  *memLog
	opts options
	addr string

	mu      sync.Mutex
	srv     *grpc.Server
	serving chan struct{} // closed when the current Serve returns
}

// Start listens on a free loopback port and serves.
func Start(opts ...Option) (*Peer, error) {
	o := options{maxAppendSize: DefaultMaxAppendSize, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("esdb peer: listen: %w", err)
	}
	p := &Peer{log: newLog(o.now), opts: o, addr: lis.Addr().String()}
	// What a fresh server has written before anyone appends: the adapter
	// must skip system events in $all.
	p.AppendSystemEvent("$settings", "$settings")
	p.AppendSystemEvent("$user-admin", "$UserCreated")
	p.serve(lis)
	return p, nil
}

func (p *Peer) serve(lis net.Listener) {
	srv := grpc.NewServer(
		// The client pings every 10 s; grpc-go's default policy (one ping
		// per 5 min) would answer with GOAWAY and drop idle subscriptions.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.MaxRecvMsgSize(64<<20),
	)
	api.RegisterStreamsServer(srv, &streams{log: p.log, maxAppendSize: p.opts.maxAppendSize})
	done := make(chan struct{})
	p.srv, p.serving = srv, done
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
}

// Addr is host:port.
func (p *Peer) Addr() string { return p.addr }

// URL is the connection string for the client: plain text, as the peer
// has no TLS.
func (p *Peer) URL() string { return "esdb://" + p.addr + "?tls=false" }

// Stop closes the listener and every connection, ending reads and
// subscriptions in flight as a crashed server would. The log stays.
func (p *Peer) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv == nil {
		return
	}
	p.srv.Stop()
	<-p.serving
	p.srv = nil
}

// Restart serves the same log on the same address again.
func (p *Peer) Restart() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != nil {
		return errors.New("esdb peer: already serving")
	}
	var lis net.Listener
	var err error
	// The port was ours a moment ago; give the kernel a few tries.
	for range 50 {
		if lis, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("esdb peer: listen again on %s: %w", p.addr, err)
	}
	p.serve(lis)
	return nil
}

// Close stops the peer for good.
func (p *Peer) Close() { p.Stop() }

// AppendSystemEvent writes an event to a system stream ("$…") as the
// server itself does (settings, users, statistics), so tests can check
// that a client leaves them out.
func (p *Peer) AppendSystemEvent(stream, typ string) {
	p.log.append(stream, expectation{kind: expectAny}, []*record{{
		id: uuid.New(), typ: typ, contentType: "application/json", data: []byte("{}"),
	}})
}

// Event is an event as the peer stored it.
type Event struct {
	ID          uuid.UUID
	Stream      string
	Revision    uint64
	Position    uint64 // commit = prepare position
	Type        string
	ContentType string
	Data        []byte
	Metadata    []byte // the custom metadata, as sent
	Created     time.Time
}

// Events returns every stored event in log order, system events included.
func (p *Peer) Events() []Event { return p.log.snapshot() }
