package bench

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

const opSubscribe = "subscribe filingUpdated"

// watcher is a subscriber to one filing's filingUpdated over
// graphql-transport-ws. It measures how long after a command's
// acknowledgement the update with its revision arrives.
type watcher struct {
	r        *runner
	approved chan struct{} // closed when an update says approved
	done     <-chan struct{}

	mu     sync.Mutex
	acks   map[int]time.Time // revision → acknowledged, not yet pushed
	pushed int               // highest revision pushed
}

// watch subscribes to the filing; a failure is counted and the life goes on.
func (r *runner) watch(ctx context.Context, token, filingID string) *watcher {
	w := &watcher{r: r, approved: make(chan struct{}), done: ctx.Done(), acks: map[int]time.Time{}, pushed: -1}
	start := time.Now()
	conn, err := w.subscribe(ctx, token, filingID)
	r.done(opSubscribe, start, err)
	if err != nil {
		return nil
	}
	r.watched.Add(1)
	go w.read(ctx, conn)
	return w
}

func (w *watcher) subscribe(ctx context.Context, token, filingID string) (*websocket.Conn, error) {
	url := "ws" + strings.TrimPrefix(w.r.cfg.URL, "http") + "/graphql"
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: w.r.client.http, Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, &opError{Op: opSubscribe, Code: "TRANSPORT", Err: err}
	}
	fail := func(code string, err error) (*websocket.Conn, error) {
		conn.CloseNow()
		return nil, &opError{Op: opSubscribe, Code: code, Err: err}
	}
	if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}}); err != nil {
		return fail("TRANSPORT", err)
	}
	var ack struct {
		Type string `json:"type"`
	}
	if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
		return fail("NO_ACK", err)
	}
	err = wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query":     `subscription($id: ID!) { filingUpdated(id: $id) { status revision } }`,
		"variables": map[string]any{"id": filingID}}})
	if err != nil {
		return fail("TRANSPORT", err)
	}
	return conn, nil
}

// read takes updates until the run ends or the server closes the socket.
func (w *watcher) read(ctx context.Context, conn *websocket.Conn) {
	defer conn.CloseNow()
	for {
		var msg struct {
			Type    string `json:"type"`
			Payload struct {
				Data struct {
					FilingUpdated struct {
						Status   string `json:"status"`
						Revision int    `json:"revision"`
					} `json:"filingUpdated"`
				} `json:"data"`
			} `json:"payload"`
		}
		if err := wsjson.Read(ctx, conn, &msg); err != nil {
			if ctx.Err() == nil {
				w.r.done(opSubscribe, time.Now(), &opError{Op: opSubscribe, Code: "CLOSED", Err: err})
			}
			return
		}
		if msg.Type != "next" {
			w.r.done(opSubscribe, time.Now(), &opError{Op: opSubscribe, Code: "UNEXPECTED_" + strings.ToUpper(msg.Type)})
			return
		}
		w.r.updates.Add(1)
		u := msg.Payload.Data.FilingUpdated
		w.push(u.Revision, time.Now())
		if u.Status == "approved" {
			close(w.approved)
			return
		}
	}
}

// acked notes a command's acknowledgement; its update may be here already.
func (w *watcher) acked(revision int, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if revision <= w.pushed {
		w.r.pushLag.Record(0)
		return
	}
	w.acks[revision] = at
}

func (w *watcher) push(revision int, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pushed = max(w.pushed, revision)
	for rev, t := range w.acks {
		if rev <= revision {
			w.r.pushLag.Record(at.Sub(t))
			delete(w.acks, rev)
		}
	}
}

// expectApproved: the life is over, so the watcher must see approved
// before the run ends.
func (r *runner) expectApproved(w *watcher) {
	r.approvedW.Go(func() {
		select {
		case <-w.approved:
			r.sawApprove.Add(1)
		case <-w.done:
		}
	})
}
