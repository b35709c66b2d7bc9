package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/beian/beian/infra/eventstore/esdb/esdbtest"
	"github.com/beian/beian/infra/readstore/postgres/pgtest"
	"github.com/google/uuid"
)

// replicaSet is the shared parts of several `beian serve` replicas: one
// event store (an EventStoreDB protocol peer in this process), one
// PostgreSQL schema, one token secret, one master key, one blob directory.
type replicaSet struct {
	t         *testing.T
	esdb      string
	pg        string
	schema    string
	tokens    string // a directory whose jwt-secret every replica uses
	blobs     string
	liveness  string
	masterKey string
}

func newReplicaSet(t *testing.T) *replicaSet {
	peer, err := esdbtest.Start(esdbtest.MaxAppendSize(4 << 20))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(peer.Stop)
	url := pgtest.URL(t)
	key := make([]byte, 32)
	rand.Read(key)
	rs := &replicaSet{t: t, esdb: peer.URL(), pg: url, schema: pgtest.Schema(t, url), tokens: t.TempDir(), blobs: t.TempDir(),
		masterKey: hex.EncodeToString(key)}
	rs.liveness = filepath.Join(rs.tokens, "liveness-secret")
	return rs
}

// start runs one replica on a data directory of its own.
func (rs *replicaSet) start() *server {
	rs.t.Helper()
	return startServerWith(rs.t, rs.t.TempDir(), []string{"BEIAN_MASTER_KEY=" + rs.masterKey},
		"--event-store", rs.esdb, "--read-store", rs.pg, "--read-store-schema", rs.schema, "--blobs", rs.blobs,
		"--jwt-secret-file", filepath.Join(rs.tokens, devSecretFile), "--liveness-secret-file", rs.liveness)
}

// actors are clients of one replica with tokens every replica accepts.
func (rs *replicaSet) actors(t *testing.T, s *server, applicantAccount string) actors {
	c := func(role, account string) *client {
		return &client{t: t, url: s.url, token: mintToken(t, rs.tokens, role, account)}
	}
	return actors{applicant: c("applicant", applicantAccount), reviewer: c("reviewer", "reviewer-1"),
		bureau: c("bureau", "gd-bureau"), auditor: c("auditor", "auditor-1")}
}

var leaderGauge = regexp.MustCompile(`(?m)^beian_leader ([01])$`)

// leads reports whether the replica says it does the leader's work.
func leads(t *testing.T, s *server) bool {
	t.Helper()
	body, err := httpGet(s.url + "/metrics")
	if err != nil {
		t.Fatalf("metrics of %s: %v", s.url, err)
	}
	m := leaderGauge.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no beian_leader gauge in the metrics of %s", s.url)
	}
	return m[1] == "1"
}

// awaitLeader waits until exactly one of the replicas leads and returns it.
func awaitLeader(t *testing.T, replicas ...*server) *server {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var leaders []*server
		for _, s := range replicas {
			if leads(t, s) {
				leaders = append(leaders, s)
			}
		}
		if len(leaders) > 1 {
			t.Fatalf("%d replicas lead at once", len(leaders))
		}
		if len(leaders) == 1 {
			return leaders[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no replica leads after 30s")
	return nil
}

// acked is a command a replica acknowledged.
type acked struct {
	filing   string
	revision int
	position string
}

// TestLeaderFailover: two replicas on one event store and one PostgreSQL
// read store. One leads (projections, timers, publishing); commands and
// read-your-writes queries go to both. The leader is killed with SIGKILL
// under load: the other takes over, every command either replica
// acknowledged is in the log and in the read models, and the read models
// equal a rebuild from the log (nothing applied twice, nothing skipped).
func TestLeaderFailover(t *testing.T) {
	rs := newReplicaSet(t)
	first, second := rs.start(), rs.start()
	leader := awaitLeader(t, first, second)
	follower := first
	if leader == first {
		follower = second
	}

	var mu sync.Mutex
	var acks []acked
	record := func(res map[string]any) {
		rev, _ := strconv.Atoi(fmt.Sprint(res["revision"]))
		mu.Lock()
		acks = append(acks, acked{filing: res["filingId"].(string), revision: rev, position: res["position"].(string)})
		mu.Unlock()
	}
	var killed atomic.Bool
	stop := make(chan struct{})
	halt := sync.OnceFunc(func() { close(stop) })
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	// The workers are subtests run from goroutines, not parallel subtests:
	// -parallel (GOMAXPROCS, 2 here) would hold all but two of them back.
	var load sync.WaitGroup
	// Complete applicant journeys on the follower, each step read back at
	// its position: the follower waits for the leader's projections, and
	// during the takeover for the new leader's.
	for w := range 3 {
		load.Go(func() {
			t.Run(fmt.Sprint("journeys-", w), func(t *testing.T) {
				defer func() {
					if t.Failed() {
						halt()
					}
				}()
				for n := 0; !stopped(); n++ {
					a := rs.actors(t, follower, fmt.Sprintf("acct-failover-%d-%d", w, n))
					fillFilingWatched(t, a, func(_ string, res map[string]any) { record(res) })
				}
			})
		})
	}
	// Filings started on the leader until it dies: what it acknowledged
	// must survive it.
	load.Go(func() {
		t.Run("on-the-leader", func(t *testing.T) {
			for n := 0; !stopped(); n++ {
				c := &client{t: t, url: leader.url, token: mintToken(t, rs.tokens, "applicant", fmt.Sprint("acct-leader-", n))}
				data, errs, err := c.try(`mutation($in: VerifyTypeInput!) { verifyType(input: $in) { filingId revision position } }`,
					map[string]any{"in": map[string]any{"idempotencyKey": uuid.NewString(), "province": "44", "city": "深圳市", "district": "南山区",
						"nature": "enterprise", "certificateType": "business_licence", "certificateNumber": "91440300MA5F12342Q",
						"domains": []string{"example.com"}, "resource": map[string]any{"kind": "instance", "instanceId": "ins-demo"}}})
				if err != nil || len(errs) > 0 {
					if !killed.Load() {
						t.Errorf("the leader refused a command while alive: %v %v", err, errs)
					}
					return
				}
				record(data["verifyType"].(map[string]any))
			}
		})
	})
	load.Go(func() {
		t.Run("kill", func(t *testing.T) {
			defer halt()
			time.Sleep(3 * time.Second) // load on the first leader
			killed.Store(true)
			if err := leader.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			leader.cmd.Wait()
			if now := awaitLeader(t, follower); now != follower {
				t.Fatal("the follower did not take over")
			}
			time.Sleep(3 * time.Second) // load on the new leader
		})
	})
	load.Wait()
	if t.Failed() {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	if len(acks) < 20 {
		t.Fatalf("only %d commands acknowledged: too little load to prove anything", len(acks))
	}

	// The killed replica comes back as a follower and serves what the new
	// leader applied.
	back := rs.start()
	if leads(t, back) {
		t.Fatal("the restarted replica leads beside the new one")
	}
	reader := rs.actors(t, back, "acct-reader").auditor
	latest := map[string]acked{}
	for _, a := range acks {
		if a.revision >= latest[a.filing].revision {
			latest[a.filing] = a
		}
	}
	for id, a := range latest {
		f := progress(reader, id, a.position)
		if got := int(f["revision"].(float64)); got != a.revision {
			t.Fatalf("filing %s at revision %d on a replica, %d acknowledged", id, got, a.revision)
		}
	}
	back.stop(os.Interrupt)
	follower.stop(os.Interrupt)

	// Alone on the stores, catch up, then rebuild every read model from the
	// log: equal contents mean each event was applied exactly once.
	t.Setenv("BEIAN_MASTER_KEY", rs.masterKey)
	p := startWith(t, config{Data: t.TempDir(), Dev: true, EventStore: rs.esdb, ReadStore: rs.pg, ReadStoreSchema: rs.schema})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var l *leading
	for l = p.svc.leader(); l == nil; l = p.svc.leader() {
		time.Sleep(20 * time.Millisecond)
	}
	head, err := p.svc.events.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range projectionSet(p.svc.rules) {
		if err := l.runner.WaitFor(ctx, pr.Name(), head); err != nil {
			t.Fatal(err)
		}
		incremental, err := p.svc.reader.ContentHash(ctx, pr)
		if err != nil {
			t.Fatal(err)
		}
		generation := generationOf(l, pr.Name())
		if err := l.runner.Rebuild(ctx, pr.Name()); err != nil {
			t.Fatal(err)
		}
		for generationOf(l, pr.Name()) == generation {
			time.Sleep(20 * time.Millisecond)
		}
		rebuilt, err := p.svc.reader.ContentHash(ctx, pr)
		if err != nil {
			t.Fatal(err)
		}
		if rebuilt != incremental {
			t.Errorf("%s after the failover differs from its rebuild from the log", pr.Name())
		}
	}
	t.Logf("%d commands acknowledged on %d filings; log head %d", len(acks), len(latest), head)
}

// generationOf is the live generation of a projection.
func generationOf(l *leading, name string) int {
	for _, st := range l.runner.Status() {
		if st.Name == name {
			return st.Generation
		}
	}
	return 0
}

// httpGet fetches a text document.
func httpGet(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	return string(b), err
}
