package projections_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beian/beian/commands"
	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/eventstore"
	eventsqlite "github.com/beian/beian/infra/eventstore/sqlite"
	"github.com/beian/beian/infra/readstore"
	"github.com/beian/beian/projections"
	"github.com/google/uuid"
)

var cst = time.FixedZone("CST", 8*3600)

type stores struct {
	dir     string
	backend backend // where the read store lives
	events  *eventsqlite.Store
	read    readstore.Store
	rules   *domain.Rules
	batch   int              // events per transaction of the runners it starts
	log     eventstore.Store // what the runners read, if not events
}

func newStores(t *testing.T, b backend) *stores {
	t.Helper()
	s := &stores{dir: t.TempDir(), backend: b, batch: 7}
	s.open(t)
	rules, err := domain.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	s.rules = rules
	return s
}

func (s *stores) open(t *testing.T) {
	t.Helper()
	var err error
	if s.events, err = eventsqlite.Open(eventsqlite.Config{Path: filepath.Join(s.dir, "events.db")}); err != nil {
		t.Fatal(err)
	}
	if s.read, err = s.backend.open(t, s.dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.read.Close(); s.events.Close() })
}

func (s *stores) runner(t *testing.T, ctx context.Context, ps ...projections.Projection) *projections.Runner {
	t.Helper()
	if len(ps) == 0 {
		ps = []projections.Projection{projections.Filings{}, projections.Audit{}, projections.ReviewQueue{}, projections.Statistics{}}
	}
	var events eventstore.Store = s.events
	if s.log != nil {
		events = s.log
	}
	r, err := projections.NewRunner(projections.Config{Events: events, Read: s.read, Projections: ps,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), BatchSize: s.batch})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return r
}

// everyProjection is the service's five projections, Deadlines included
// (s.runner's default leaves it out).
func (s *stores) everyProjection() []projections.Projection {
	return []projections.Projection{projections.Filings{}, projections.Audit{}, projections.ReviewQueue{}, projections.Statistics{}, projections.Deadlines{Rules: s.rules}}
}

// file appends the events of a filing's commands, deciding each on the
// state so far, as the command side would.
func (s *stores) file(t *testing.T, id string, cmds ...domain.Command) uint64 {
	t.Helper()
	ctx := context.Background()
	var f domain.Filing
	var rev int64 = -1
	recorded, err := s.events.ReadStream(ctx, commands.Stream(id), 0, 1000)
	if err == nil {
		for _, r := range recorded {
			e, _ := domain.DecodeEvent(r.Type, r.Data)
			f, rev = domain.Evolve(f, e), int64(r.Revision)
		}
	}
	var last uint64
	for _, c := range cmds {
		events, err := s.rules.Decide(f, c)
		if err != nil {
			t.Fatalf("%s: %v", c.CommandName(), err)
		}
		var data []eventstore.EventData
		for _, e := range events {
			typ, payload, _ := domain.EncodeEvent(e)
			data = append(data, eventstore.EventData{ID: uuid.NewString(), Type: typ, Data: payload,
				Metadata: eventstore.Metadata{SchemaVersion: 1, ActorAccount: "acct", ActorRole: "applicant", CommandID: uuid.NewString(), OccurredAt: e.OccurredAt()}})
			f = domain.Evolve(f, e)
		}
		exp := eventstore.NoStream()
		if rev >= 0 {
			exp = eventstore.Exact(uint64(rev))
		}
		res, err := s.events.Append(ctx, commands.Stream(id), exp, data)
		if err != nil {
			t.Fatal(err)
		}
		rev, last = int64(res.Revision), res.Position
	}
	return last
}

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, cst)

func at(d time.Duration) time.Time { return t0.Add(d) }

func facts(registrant string) domain.DomainFacts {
	return domain.DomainFacts{Registrar: "r", RegistrarApproved: true, ExpiresAt: t0.AddDate(2, 0, 0), RealNameVerified: true, RegistrantName: registrant}
}

// fileLives files n filings f00, f01, … one after the other, each with the
// first steps(i) commands of its life, and returns the last position.
func (s *stores) fileLives(t *testing.T, n int, steps func(i int) int) uint64 {
	t.Helper()
	var last uint64
	for i := range n {
		id := fmt.Sprintf("f%02d", i)
		last = s.file(t, id, lifeCommands(id, fmt.Sprintf("site%02d.cn", i))[:steps(i)]...)
	}
	return last
}

// lifeCommands are the commands of an individual's filing in Beijing from
// start to ICP numbers, for filing id.
func lifeCommands(id, domainName string) []domain.Command {
	const cert = "110101200001010010"
	me := domain.Person{Name: "王五", CertificateType: "resident_id", CertificateNumber: cert, OfficePhone: "13800138000",
		Mobile: "13800138000", Email: "w@example.cn", EmergencyContact: &domain.EmergencyContact{Name: "王六", Mobile: "13900139000"}}
	m := func(kind, scope string) domain.Command {
		return domain.UploadMaterial{Material: domain.Material{Kind: kind, Scope: scope, SHA256: strings.Repeat("ab", 32), Size: 10, ContentType: "image/png"}, At: at(time.Minute)}
	}
	return []domain.Command{
		domain.VerifyType{FilingID: id, Account: "acct-" + id, Province: "11", City: "北京市", Nature: "individual", CertificateType: "resident_id",
			CertificateNumber: cert, Domains: []domain.DomainInput{{Name: domainName, Facts: facts("王五")}},
			Resource: domain.CloudResource{Kind: domain.ResourceInstance, InstanceID: "i", Instance: &domain.InstanceFacts{Exists: true, Mainland: true,
				PublicIP: true, Billing: domain.BillingPrepaid, MonthsBought: 12, DaysLeft: 300}}, At: at(0)},
		domain.SubmitEntity{Entity: domain.Entity{Name: "王五", CertificateAddress: "北京市东城区东华门大街5号", MailingAddress: "北京市东城区东华门大街5号", Principal: me}, At: at(time.Minute)},
		domain.SubmitWebsite{Name: "旅行摄影笔记", Domains: []domain.DomainInput{{Name: domainName, Facts: facts("王五")}}, HomepageURLs: []string{"http://" + domainName},
			ServiceContent: []string{"other"}, At: at(time.Minute)},
		domain.StartLiveness{WebsiteID: "w1", SessionID: "s", At: at(time.Minute)},
		domain.PassLiveness{WebsiteID: "w1", SessionID: "s", At: at(time.Minute)},
		m(domain.MaterialPrincipalID, "entity"), m(domain.MaterialCommitmentLetter, "website:w1"),
		domain.SubmitForReview{TermsVersion: "v1", At: at(time.Hour)},
		domain.ApproveInitialReview{At: at(3 * time.Hour)},
		domain.SendToBureau{At: at(4 * time.Hour)},
		domain.RequestSmsVerification{Codes: map[string]string{"13800138000": "123456"}, At: at(5 * time.Hour)},
		domain.VerifySmsCode{Mobile: "13800138000", CertSuffix: "010010", Code: "123456", At: at(6 * time.Hour)},
		domain.ApproveByBureau{Serial: "2026000001", At: at(72 * time.Hour)},
	}
}

func TestReadModelsFollowAFilingsLife(t *testing.T) {
	eachReadStore(t, testReadModelsFollowAFilingsLife)
}

func testReadModelsFollowAFilingsLife(t *testing.T, b backend) {
	s := newStores(t, b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runner := s.runner(t, ctx)
	cmds := lifeCommands("f1", "wangwu.cn")
	pos := s.file(t, "f1", cmds[:8]...)
	if err := runner.WaitFor(ctx, "review_queue", pos); err != nil {
		t.Fatal(err)
	}
	q := projections.NewReader(s.read)
	queue, err := q.ReviewQueue(ctx, "", at(2*time.Hour), 10, "")
	if err != nil || len(queue.Items) != 1 || queue.Items[0].FilingID != "f1" || queue.Items[0].EntityName != "王五" {
		t.Fatalf("queue: %+v %v", queue, err)
	}
	pos = s.file(t, "f1", cmds[8:]...)
	for _, name := range []string{"filings", "audit", "review_queue", "stats"} {
		if err := runner.WaitFor(ctx, name, pos); err != nil {
			t.Fatal(err)
		}
	}
	row, err := q.Filing(ctx, "f1")
	if err != nil || row.Filing.Status != domain.StatusApproved || row.Position != pos || row.Filing.Numbers.Entity != "京ICP备2026000001号" {
		t.Fatalf("filing: %+v %v", row, err)
	}
	trail, err := q.AuditTrail(ctx, "f1", 100, "")
	if err != nil || len(trail.Items) != int(row.Revision)+1 || trail.Items[0].Type != domain.TypeTypeVerified || trail.Items[0].Summary.En == "" {
		t.Fatalf("audit: %d entries, %v", len(trail.Items), err)
	}
	page1, _ := q.AuditTrail(ctx, "f1", 5, "")
	page2, _ := q.AuditTrail(ctx, "f1", 5, page1.EndCursor)
	if !page1.HasNext || page2.Items[0].Revision != 5 {
		t.Fatalf("audit paging: %+v / %+v", page1.HasNext, page2.Items)
	}
	queue, _ = q.ReviewQueue(ctx, "", at(2*time.Hour), 10, "")
	if len(queue.Items) != 0 {
		t.Fatalf("approved filing still queued: %+v", queue.Items)
	}
	stats, err := q.Stats(ctx)
	if err != nil || len(stats.Counts) != 1 || stats.Counts[0].Status != domain.StatusApproved || stats.InitialReviews != 1 ||
		stats.MedianInitialReview != 2*time.Hour || stats.BureauReviews != 1 {
		t.Fatalf("stats: %+v %v", stats, err)
	}
	list, err := q.Filings(ctx, projections.FilingFilter{Account: "acct-f1"}, 10, "")
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("filings: %+v %v", list, err)
	}
}

// hashes returns the content hash of each projection's live tables: of
// ps, or of the four the runner starts by default.
func hashes(t *testing.T, read readstore.Store, ps ...projections.Projection) map[string]string {
	t.Helper()
	q := projections.NewReader(read)
	out := map[string]string{}
	if len(ps) == 0 {
		ps = []projections.Projection{projections.Filings{}, projections.Audit{}, projections.ReviewQueue{}, projections.Statistics{}}
	}
	for _, p := range ps {
		h, err := q.ContentHash(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		out[p.Name()] = h
	}
	return out
}

func waitAll(t *testing.T, ctx context.Context, r *projections.Runner, pos uint64, names ...string) {
	t.Helper()
	if len(names) == 0 {
		names = []string{"filings", "audit", "review_queue", "stats"}
	}
	for _, name := range names {
		if err := r.WaitFor(ctx, name, pos); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRestartConvergesToARebuild: a runner stopped in the middle of the log
// and started again ends with read models equal to a rebuild from scratch.
func TestRestartConvergesToARebuild(t *testing.T) { eachReadStore(t, testRestartConvergesToARebuild) }

func testRestartConvergesToARebuild(t *testing.T, b backend) {
	s := newStores(t, b)
	last := s.fileLives(t, 12, func(i int) int { return 4 + i%9 })
	ctx, stop := context.WithCancel(context.Background())
	r := s.runner(t, ctx)
	// Stop it as soon as it has applied part of the log.
	if err := r.WaitFor(ctx, "filings", last/3); err != nil {
		t.Fatal(err)
	}
	stop()
	r.Wait()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r = s.runner(t, ctx)
	waitAll(t, ctx, r, last)
	incremental := hashes(t, s.read)
	rebuildAll(t, ctx, r, "filings", "audit", "review_queue", "stats")
	rebuilt := hashes(t, s.read)
	if !reflect.DeepEqual(incremental, rebuilt) {
		t.Fatalf("incremental %v\nrebuilt     %v", incremental, rebuilt)
	}
	for _, st := range r.Status() {
		if st.Generation != 2 {
			t.Fatalf("%s serves generation %d after a rebuild, want 2", st.Name, st.Generation)
		}
	}
}

// rebuildAll rebuilds the projections and waits until every one serves its
// new generation.
func rebuildAll(t *testing.T, ctx context.Context, r *projections.Runner, names ...string) {
	t.Helper()
	if err := r.Rebuild(ctx, names...); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		building := false
		for _, st := range r.Status() {
			building = building || st.Building != nil
		}
		if !building {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("rebuild did not finish")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBatchSizeDoesNotChangeTheReadModels: the projections fold a filing's
// events of one batch together (one read and one write of its state), so
// read models built one event per transaction and in batches of hundreds,
// from a log where filings' commands interleave, must be equal.
func TestBatchSizeDoesNotChangeTheReadModels(t *testing.T) {
	eachReadStore(t, func(t *testing.T, b backend) {
		compareBatchSizes(t, b, func(i int, cmds []domain.Command) []domain.Command {
			return cmds[:4+i%(len(cmds)-3)] // some lives end early, one runs to approval
		})
	})
}

// TestBatchSizeDoesNotChangeTheCounters: every life runs to approval, so no
// filing stays in a status on the way; a batch moves those counters to and
// from, by 0 in all, and they must still be there as one event at a time
// leaves them.
func TestBatchSizeDoesNotChangeTheCounters(t *testing.T) {
	eachReadStore(t, func(t *testing.T, b backend) {
		compareBatchSizes(t, b, func(_ int, cmds []domain.Command) []domain.Command { return cmds })
	})
}

// compareBatchSizes files 12 interleaved lives, cut by life, and compares
// the read models built one event per transaction and in batches of 500.
func compareBatchSizes(t *testing.T, b backend, life func(i int, cmds []domain.Command) []domain.Command) {
	s := newStores(t, b)
	lives := make([][]domain.Command, 12)
	for i := range lives {
		lives[i] = life(i, lifeCommands(fmt.Sprintf("f%02d", i), fmt.Sprintf("site%02d.cn", i)))
	}
	var last uint64
	for step := 0; ; step++ {
		filed := false
		for i, cmds := range lives {
			if step < len(cmds) {
				last, filed = s.file(t, fmt.Sprintf("f%02d", i), cmds[step]), true
			}
		}
		if !filed {
			break
		}
	}
	all := s.everyProjection()
	names := []string{"filings", "audit", "review_queue", "stats", "deadlines"}

	s.batch = 1
	ctx, stop := context.WithCancel(context.Background())
	r := s.runner(t, ctx, all...)
	waitAll(t, ctx, r, last, names...)
	oneByOne := hashes(t, s.read, all...)
	stop()
	r.Wait()

	s.batch = 500
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r = s.runner(t, ctx, all...)
	rebuildAll(t, ctx, r, names...)
	if batched := hashes(t, s.read, all...); !reflect.DeepEqual(oneByOne, batched) {
		t.Fatalf("one event per transaction %v\nbatches of 500           %v", oneByOne, batched)
	}
}

// TestRebuildServesTheOldTablesMeanwhile: during a rebuild queries keep
// answering from the live generation, and afterwards from the new one.
func TestRebuildServesTheOldTablesMeanwhile(t *testing.T) {
	eachReadStore(t, testRebuildServesTheOldTablesMeanwhile)
}

func testRebuildServesTheOldTablesMeanwhile(t *testing.T, b backend) {
	s := newStores(t, b)
	pos := s.file(t, "f1", lifeCommands("f1", "wangwu.cn")...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := s.runner(t, ctx)
	waitAll(t, ctx, r, pos)
	q := projections.NewReader(s.read)
	if err := r.Rebuild(ctx, "filings"); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := q.Filing(ctx, "f1"); err != nil {
			t.Fatalf("query during rebuild: %v", err)
		}
		if st := r.Status()[0]; st.Building == nil && st.Generation == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if row, err := q.Filing(ctx, "f1"); err != nil || row.Filing.Status != domain.StatusApproved {
		t.Fatalf("after rebuild: %+v %v", row.Filing.Status, err)
	}
}

// versioned is Filings with another version: a deploy that changed it.
type versioned struct{ projections.Filings }

func (versioned) Version() int { return 2 }

func TestNewVersionIsBuiltBesideTheOld(t *testing.T) {
	eachReadStore(t, testNewVersionIsBuiltBesideTheOld)
}

func testNewVersionIsBuiltBesideTheOld(t *testing.T, b backend) {
	s := newStores(t, b)
	pos := s.file(t, "f1", lifeCommands("f1", "wangwu.cn")...)
	ctx, stop := context.WithCancel(context.Background())
	r := s.runner(t, ctx, projections.Filings{})
	if err := r.WaitFor(ctx, "filings", pos); err != nil {
		t.Fatal(err)
	}
	stop()
	r.Wait()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r = s.runner(t, ctx, versioned{})
	if err := r.WaitFor(ctx, "filings", pos); err != nil {
		t.Fatal(err)
	}
	st := r.Status()[0]
	if st.Version != 2 || st.Generation != 2 {
		t.Fatalf("after a version change: %+v", st)
	}
	// The old version's tables go once the new one is live.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var live, old int64
		err := s.read.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM projection_generations WHERE name = 'filings' AND state = 'live'`).Scan(&live); err != nil {
				return err
			}
			return tx.QueryRow(ctx, s.backend.countTables, "filings_v1_g1").Scan(&old)
		})
		if err != nil || live != 1 {
			t.Fatalf("%d live generations, %v", live, err)
		}
		if old == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the old version's tables were not dropped")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestIndexesComeWithTheLiveGeneration: a generation is built without its
// secondary indexes, so that a rebuild sorts each once at the end, and has
// every one of them when it starts to serve.
func TestIndexesComeWithTheLiveGeneration(t *testing.T) {
	eachReadStore(t, testIndexesComeWithTheLiveGeneration)
}

func testIndexesComeWithTheLiveGeneration(t *testing.T, b backend) {
	s := newStores(t, b)
	last := s.fileLives(t, 3, func(int) int { return 13 })
	held := &heldLog{Store: s.events, pass: 20, release: make(chan struct{})}
	s.log = held
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	all := s.everyProjection()
	r := s.runner(t, ctx, all...)
	indexes := func() map[string]int64 {
		out := map[string]int64{}
		err := s.read.View(ctx, func(ctx context.Context, tx readstore.Tx) error {
			for _, p := range all {
				for _, name := range indexNames(t, p, 1) {
					var n int64
					if err := tx.QueryRow(ctx, s.backend.countIndexes, name).Scan(&n); err != nil {
						return err
					}
					out[name] = n
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// Every loop has applied part of the log and waits for the rest.
	deadline := time.Now().Add(20 * time.Second)
	for applied := false; !applied; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the loops did not apply the first events: %+v", r.Status())
		}
		applied = true
		for _, st := range r.Status() {
			if st.CaughtUp || st.Err != nil {
				t.Fatalf("%s: %+v before the log was released", st.Name, st)
			}
			applied = applied && st.Position > 0
		}
	}
	for name, n := range indexes() {
		if n != 0 {
			t.Errorf("index %s exists while its generation is built", name)
		}
	}
	close(held.release)
	waitAll(t, ctx, r, last, "filings", "audit", "review_queue", "stats", "deadlines")
	got := indexes()
	for name, n := range got {
		if n != 1 {
			t.Errorf("index %s: %d once the generation is live, want 1", name, n)
		}
	}
	if len(got) != 7 {
		t.Errorf("%d indexes, want the 7 the projections declare: %v", len(got), got)
	}
}

// indexNames are the names of p's indexes in generation g.
func indexNames(t *testing.T, p projections.Projection, g int) []string {
	t.Helper()
	var names []string
	for _, stmt := range p.Indexes() {
		_, rest, ok := strings.Cut(stmt, "IF NOT EXISTS {")
		logical, suffix, ok2 := strings.Cut(rest, "}")
		suffix, _, _ = strings.Cut(suffix, " ")
		if !ok || !ok2 {
			t.Fatalf("%s: cannot name the index of %q", p.Name(), stmt)
		}
		names = append(names, fmt.Sprintf("%s_v%d_g%d%s", logical, p.Version(), g, suffix))
	}
	return names
}

// heldLog delivers the first pass events of each subscription, then holds
// the rest until release is closed.
type heldLog struct {
	*eventsqlite.Store
	pass    int
	release chan struct{}
}

func (h *heldLog) SubscribeAll(ctx context.Context, after uint64) (eventstore.Subscription, error) {
	sub, err := h.Store.SubscribeAll(ctx, after)
	if err != nil {
		return nil, err
	}
	return &heldSubscription{Subscription: sub, log: h, ctx: ctx}, nil
}

type heldSubscription struct {
	eventstore.Subscription
	log       *heldLog
	ctx       context.Context
	delivered int
}

func (s *heldSubscription) Recv() (eventstore.Message, error) {
	if s.delivered >= s.log.pass {
		select {
		case <-s.log.release:
		case <-s.ctx.Done():
			return eventstore.Message{}, s.ctx.Err()
		}
	}
	m, err := s.Subscription.Recv()
	if err == nil && m.Event != nil {
		s.delivered++
	}
	return m, err
}

// countingLog counts the subscriptions open on the log and the events
// they delivered.
type countingLog struct {
	*eventsqlite.Store
	mu        sync.Mutex
	open      int
	delivered int
}

func (c *countingLog) SubscribeAll(ctx context.Context, after uint64) (eventstore.Subscription, error) {
	sub, err := c.Store.SubscribeAll(ctx, after)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.open++
	c.mu.Unlock()
	return &countingSubscription{Subscription: sub, log: c}, nil
}

func (c *countingLog) counts() (open, delivered int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open, c.delivered
}

type countingSubscription struct {
	eventstore.Subscription
	log    *countingLog
	closed sync.Once
}

func (s *countingSubscription) Recv() (eventstore.Message, error) {
	m, err := s.Subscription.Recv()
	if err == nil && m.Event != nil {
		s.log.mu.Lock()
		s.log.delivered++
		s.log.mu.Unlock()
	}
	return m, err
}

func (s *countingSubscription) Close() error {
	s.closed.Do(func() {
		s.log.mu.Lock()
		s.log.open--
		s.log.mu.Unlock()
	})
	return s.Subscription.Close()
}

// TestProjectionsReadTheLogOnce: projections that start or rebuild together
// read the log through one subscription, and a projection that caught up
// from another checkpoint joins the others, so each new event is read once
// however many projections there are.
func TestProjectionsReadTheLogOnce(t *testing.T) { eachReadStore(t, testProjectionsReadTheLogOnce) }

func testProjectionsReadTheLogOnce(t *testing.T, b backend) {
	s := newStores(t, b)
	last := s.fileLives(t, 6, func(int) int { return 5 })
	log := &countingLog{Store: s.events}
	s.log = log
	waitOpen := func(want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			open, _ := log.counts()
			if open == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d subscriptions open, want %d", open, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	// Filings alone, then stopped: its checkpoint is the head.
	ctx, stop := context.WithCancel(context.Background())
	r := s.runner(t, ctx, projections.Filings{})
	waitAll(t, ctx, r, last, "filings")
	stop()
	r.Wait()
	if open, _ := log.counts(); open != 0 {
		t.Fatalf("%d subscriptions open after Wait", open)
	}

	// Filings from the head and three new projections from the start: two
	// subscriptions, one once all have caught up.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	all := []projections.Projection{projections.Filings{}, projections.Audit{}, projections.ReviewQueue{}, projections.Statistics{}}
	r = s.runner(t, ctx, all...)
	waitAll(t, ctx, r, last)
	waitOpen(1)
	_, before := log.counts()
	id := "f99"
	last = s.file(t, id, lifeCommands(id, "site99.cn")[:3]...)
	waitAll(t, ctx, r, last)
	if _, after := log.counts(); after-before != 3 {
		t.Fatalf("3 new events were read %d times by 4 projections, want 3", after-before)
	}

	// A rebuild of all four reads the log once more, beside the live loops.
	_, before = log.counts()
	rebuildAll(t, ctx, r, "filings", "audit", "review_queue", "stats")
	waitOpen(1)
	if _, after := log.counts(); after-before != int(last) {
		t.Fatalf("a rebuild of 4 projections read %d events of a log of %d, want each once", after-before, last)
	}
}

// failsOnce applies like the projection it wraps, then fails the first
// batch that has more than one event: the transaction rolls back after the
// projection wrote (and remembered) its filings' states.
type failsOnce struct {
	projections.Projection
	failed *atomic.Bool
}

func (f failsOnce) Apply(ctx context.Context, tx readstore.Tx, t projections.Tables, batch []projections.Event) error {
	if err := f.Projection.Apply(ctx, tx, t, batch); err != nil {
		return err
	}
	if len(batch) > 1 && f.failed.CompareAndSwap(false, true) {
		return errors.New("injected failure after the writes")
	}
	return nil
}

// TestAFailedBatchIsFoldedAgainFromTheStore: Filings and Deadlines remember
// the states they wrote, so as not to read them again for the next event;
// a batch whose transaction rolled back must be folded again from what is
// stored, not from what it had written.
func TestAFailedBatchIsFoldedAgainFromTheStore(t *testing.T) {
	eachReadStore(t, testAFailedBatchIsFoldedAgainFromTheStore)
}

func testAFailedBatchIsFoldedAgainFromTheStore(t *testing.T, b backend) {
	s := newStores(t, b)
	last := s.fileLives(t, 6, func(int) int { return 6 })
	ps := []projections.Projection{projections.Filings{}, projections.Deadlines{Rules: s.rules}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := s.runner(t, ctx, failsOnce{ps[0], new(atomic.Bool)}, failsOnce{ps[1], new(atomic.Bool)})
	waitAll(t, ctx, r, last, "filings", "deadlines")
	failed := hashes(t, s.read, ps...)
	rebuildAll(t, ctx, r, "filings", "deadlines") // the injected failures are spent
	if rebuilt := hashes(t, s.read, ps...); !reflect.DeepEqual(failed, rebuilt) {
		t.Fatalf("after a failed batch %v\nrebuilt              %v", failed, rebuilt)
	}
}
