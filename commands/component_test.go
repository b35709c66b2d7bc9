package commands_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/beian/beian/commands"
	"github.com/beian/beian/commands/commandstest"
	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/blobstore"
	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/infra/eventstore/sqlite"
	"github.com/beian/beian/infra/filingindex"
	"github.com/beian/beian/infra/providers/sim"
	"github.com/google/uuid"
)

// These component tests run every command through its handler against the
// SQLite event store, the filesystem blob store and the simulated providers.

type env struct {
	t     *testing.T
	dir   string
	app   *commands.Application
	store *sqlite.Store
	sim   *sim.Providers
	blobs *blobstore.Store
	clock *commandstest.Clock
	seed  sim.Seed // the simulated providers' data
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWithSeed(t, sim.DefaultSeed())
}

// newEnvWithSeed runs the simulated providers on seed instead of the
// built-in data, as --sim-data does.
func newEnvWithSeed(t *testing.T, seed sim.Seed) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), seed: seed, clock: commandstest.NewClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("CST", 8*3600)))}
	e.open()
	return e
}

// open (re)opens the stores and wires a fresh application over them, as a
// restarted server would.
func (e *env) open() {
	t := e.t
	store, err := sqlite.Open(sqlite.Config{Path: filepath.Join(e.dir, "events.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	rules, err := domain.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blobstore.New(filepath.Join(e.dir, "blobs"), rules.Channel.MaxMaterialBytes)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	index := filingindex.Start(ctx, store, logger)
	// Before the store closes (cleanups run last first): the index must
	// have stopped reading it, or it races the removal of the directory.
	t.Cleanup(func() {
		cancel()
		<-index.Done()
	})
	providers := sim.New(e.seed, e.clock)
	app, err := commands.NewApplication(commands.NewExecutor(store, rules, e.clock), commands.Ports{
		Domains: providers, Filings: providers, Inventory: providers, Attribution: providers,
		Index: index, OCR: providers, Liveness: providers, SMS: providers, Blobs: blobs,
	}, logger, commands.NopMetrics{})
	if err != nil {
		t.Fatal(err)
	}
	e.app, e.store, e.sim, e.blobs = app, store, providers, blobs
}

// meta returns a fresh idempotency key per call unless one is given.
func meta(account, role string, key ...string) commands.Meta {
	k := uuid.NewString()
	if len(key) > 0 {
		k = key[0]
	}
	return commands.Meta{Actor: commands.Actor{Account: account, Role: role}, IdempotencyKey: k, CorrelationID: "corr-1"}
}

func applicant(key ...string) commands.Meta { return meta("acct-1", commands.RoleApplicant, key...) }
func reviewer() commands.Meta               { return meta("rev-1", commands.RoleReviewer) }
func bureau() commands.Meta                 { return meta("gd-bureau", commands.RoleBureau) }
func system() commands.Meta                 { return meta("liveness-provider", commands.RoleSystem) }

// ok fails the test on an error and returns the result.
func (e *env) ok(r commands.Result, err error) commands.Result {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func verifyCmd() commands.VerifyType {
	return commands.VerifyType{Province: "44", City: "深圳市", District: "南山区", Nature: "enterprise",
		CertificateType: "business_licence", CertificateNumber: "91440300MA5F12342Q",
		Domains: []string{"example.com"}, Resource: commands.ResourceRef{Kind: domain.ResourceInstance, InstanceID: "ins-demo"}}
}

func zhangSan() domain.Person {
	return domain.Person{Name: "张三", CertificateType: "resident_id", CertificateNumber: "440305199003071236",
		OfficePhone: "0755-86013388", Mobile: "13800138000", Email: "zhangsan@example.com"}
}

func entity() domain.Entity {
	return domain.Entity{Name: "深圳市示例科技有限公司", CertificateAddress: "广东省深圳市南山区科技园路1号",
		MailingAddress: "广东省深圳市南山区科技园路1号", LegalRepresentative: "张三", Principal: zhangSan(), PrincipalIsLegalRep: true}
}

func website(filingID string) commands.SubmitWebsite {
	return commands.SubmitWebsite{FilingID: filingID, Name: "示例科技", Domains: []string{"example.com"},
		HomepageURLs: []string{"https://www.example.com/"}, ServiceContent: []string{"portal_entity"}}
}

// upload stores a small PNG and returns its digest; each call differs.
func (e *env) upload() string {
	e.t.Helper()
	content := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), fmt.Sprint(time.Now().UnixNano())...)
	info, err := e.blobs.Put(context.Background(), bytes.NewReader(content))
	if err != nil {
		e.t.Fatal(err)
	}
	return info.SHA256
}

// filledFiling walks the applicant's steps up to a filing ready to submit.
func (e *env) filledFiling() string {
	t, ctx, app := e.t, context.Background(), e.app
	t.Helper()
	id := e.ok(app.VerifyType.Handle(ctx, applicant(), verifyCmd())).FilingID
	e.ok(app.SubmitEntity.Handle(ctx, applicant(), commands.SubmitEntity{FilingID: id, Entity: entity()}))
	e.ok(app.SubmitWebsite.Handle(ctx, applicant(), website(id)))
	e.ok(app.SubmitWebsitePrincipal.Handle(ctx, applicant(), commands.SubmitWebsitePrincipal{FilingID: id, WebsiteID: "w1", Principal: zhangSan(), IsLegalRep: true}))
	e.ok(app.StartLiveness.Handle(ctx, applicant(), commands.StartLiveness{FilingID: id, WebsiteID: "w1"}))
	f, _, _ := app.Executor.Load(ctx, id)
	session := f.Website("w1").Liveness.SessionID
	e.ok(app.PassLiveness.Handle(ctx, system(), commands.PassLiveness{FilingID: id, WebsiteID: "w1", SessionID: session}))
	for _, m := range []struct{ kind, scope string }{
		{domain.MaterialEntityCertificate, "entity"}, {domain.MaterialPrincipalID, "entity"}, {domain.MaterialCommitmentLetter, "website:w1"},
	} {
		e.ok(app.UploadMaterial.Handle(ctx, applicant(), commands.UploadMaterial{FilingID: id, Kind: m.kind, Scope: m.scope, SHA256: e.upload()}))
	}
	return id
}

func (e *env) status(id string) domain.Status {
	e.t.Helper()
	f, _, err := e.app.Executor.Load(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return f.Status
}

func TestFullLifeThroughHandlers(t *testing.T) {
	e := newEnv(t)
	ctx, app := context.Background(), e.app
	id := e.filledFiling()
	e.ok(app.SubmitForReview.Handle(ctx, applicant(), commands.SubmitForReview{FilingID: id, TermsVersion: "2026-01"}))
	e.clock.Add(time.Hour)
	e.ok(app.ApproveInitialReview.Handle(ctx, reviewer(), commands.ApproveInitialReview{FilingID: id, Note: "ok"}))
	e.ok(app.SendToBureau.Handle(ctx, reviewer(), commands.SendToBureau{FilingID: id}))
	e.clock.Add(5 * time.Minute)
	e.ok(app.RequestSmsVerification.Handle(ctx, bureau(), commands.RequestSmsVerification{FilingID: id}))
	code, ok := e.sim.SentCode(id, "13800138000")
	if !ok {
		t.Fatal("no SMS code sent")
	}
	e.ok(app.VerifySmsCode.Handle(ctx, applicant(), commands.VerifySmsCode{FilingID: id, Mobile: "13800138000", CertSuffix: "071236", Code: code}))
	e.clock.Add(72 * time.Hour)
	res := e.ok(app.ApproveByBureau.Handle(ctx, bureau(), commands.ApproveByBureau{FilingID: id, Serial: "2026012345"}))
	f, recorded, err := app.Executor.Load(ctx, id)
	if err != nil || f.Status != domain.StatusApproved || f.Numbers.Entity != "粤ICP备2026012345号" {
		t.Fatalf("final: %s %+v %v", f.Status, f.Numbers, err)
	}
	if res.Position != recorded[len(recorded)-1].Position || res.Revision != uint64(len(recorded)-1) {
		t.Fatalf("result %+v does not point at the last event", res)
	}
	for _, r := range recorded {
		md := r.Metadata
		if md.CommandID == "" || md.ActorAccount == "" || md.ActorRole == "" || md.CorrelationID != "corr-1" || md.SchemaVersion != 1 || md.OccurredAt.IsZero() {
			t.Fatalf("event %s lacks metadata: %+v", r.Type, md)
		}
	}
	if _, err := eventstore.VerifyChain(recorded); err != nil {
		t.Fatalf("the filing's hash chain: %v", err)
	}
}

func TestRepeatedCommandsReturnTheFirstResult(t *testing.T) {
	e := newEnv(t)
	ctx, app := context.Background(), e.app
	first := e.ok(app.VerifyType.Handle(ctx, applicant("start-1"), verifyCmd()))
	again := e.ok(app.VerifyType.Handle(ctx, applicant("start-1"), verifyCmd()))
	if !again.Repeated || again.FilingID != first.FilingID || again.Position != first.Position || len(again.Events) != 1 {
		t.Fatalf("repeat of VerifyType: %+v, first %+v", again, first)
	}
	id := first.FilingID
	submit := commands.SubmitEntity{FilingID: id, Entity: entity()}
	one := e.ok(app.SubmitEntity.Handle(ctx, applicant("entity-1"), submit))
	two := e.ok(app.SubmitEntity.Handle(ctx, applicant("entity-1"), submit))
	if !two.Repeated || two.Revision != one.Revision || two.Events[0].ID != one.Events[0].ID {
		t.Fatalf("repeat of SubmitEntity appended: %+v vs %+v", two, one)
	}
	changed := submit
	changed.Entity.Remarks = "不同的输入"
	_, err := app.SubmitEntity.Handle(ctx, applicant("entity-1"), changed)
	var reused *commands.IdempotencyKeyReusedError
	if !errors.As(err, &reused) {
		t.Fatalf("same key, other input: %v", err)
	}
	// After a restart the repeat still finds the first result in the log.
	e.store.Close()
	e.open()
	three := e.ok(e.app.SubmitEntity.Handle(ctx, applicant("entity-1"), submit))
	if !three.Repeated || three.Revision != one.Revision {
		t.Fatalf("repeat after restart: %+v", three)
	}
	_, recorded, _ := e.app.Executor.Load(ctx, id)
	if len(recorded) != 2 {
		t.Fatalf("%d events; repeats must append nothing", len(recorded))
	}
}

func TestConcurrentReviewersOneWins(t *testing.T) {
	e := newEnv(t)
	ctx, app := context.Background(), e.app
	id := e.filledFiling()
	e.ok(app.SubmitForReview.Handle(ctx, applicant(), commands.SubmitForReview{FilingID: id, TermsVersion: "v1"}))
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[string]int{}
	for i := range 16 {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				_, err = app.ApproveInitialReview.Handle(ctx, reviewer(), commands.ApproveInitialReview{FilingID: id})
			} else {
				_, err = app.RejectInitialReview.Handle(ctx, reviewer(), commands.RejectInitialReview{FilingID: id,
					Reasons: []domain.Reason{{Path: "entity", Code: "other"}}})
			}
			mu.Lock()
			outcomes[commands.Outcome(commands.Result{}, err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if outcomes["ok"] != 1 || outcomes["invalid_state"] != 15 {
		t.Fatalf("outcomes %v: exactly one reviewer should win", outcomes)
	}
}

func TestConcurrentCommandsThatStillApplyAllSucceed(t *testing.T) {
	e := newEnv(t)
	ctx, app := context.Background(), e.app
	id := e.ok(app.VerifyType.Handle(ctx, applicant(), verifyCmd())).FilingID
	e.ok(app.SubmitEntity.Handle(ctx, applicant(), commands.SubmitEntity{FilingID: id, Entity: entity()}))
	digests := make([]string, 8)
	for i := range digests {
		digests[i] = e.upload()
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i, d := range digests {
		wg.Go(func() {
			kind := []string{domain.MaterialEntityCertificate, domain.MaterialPrincipalID, domain.MaterialOther, domain.MaterialAuthorisationLetter}[i%4]
			_, err := app.UploadMaterial.Handle(ctx, applicant(), commands.UploadMaterial{FilingID: id, Kind: kind, Scope: "entity", SHA256: d})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a racing upload failed instead of retrying: %v", err)
		}
	}
	_, recorded, _ := app.Executor.Load(ctx, id)
	if len(recorded) != 2+8 {
		t.Fatalf("%d events, want 10", len(recorded))
	}
}

func TestAuthorisation(t *testing.T) {
	e := newEnv(t)
	ctx, app := context.Background(), e.app
	id := e.ok(app.VerifyType.Handle(ctx, applicant(), verifyCmd())).FilingID
	_, err := app.SubmitEntity.Handle(ctx, meta("acct-2", commands.RoleApplicant), commands.SubmitEntity{FilingID: id, Entity: entity()})
	if !errors.Is(err, commands.ErrNotFound) {
		t.Fatalf("another applicant's filing: %v", err)
	}
	var forbidden *commands.ForbiddenError
	if _, err := app.SubmitEntity.Handle(ctx, reviewer(), commands.SubmitEntity{FilingID: id, Entity: entity()}); !errors.As(err, &forbidden) {
		t.Fatalf("reviewer filling in: %v", err)
	}
	if _, err := app.ApproveByBureau.Handle(ctx, applicant(), commands.ApproveByBureau{FilingID: id, Serial: "2026012345"}); !errors.As(err, &forbidden) {
		t.Fatalf("applicant approving: %v", err)
	}
	if _, err := app.SubmitEntity.Handle(ctx, applicant(), commands.SubmitEntity{FilingID: "no-such-filing", Entity: entity()}); !errors.Is(err, commands.ErrNotFound) {
		t.Fatalf("missing filing: %v", err)
	}
	if _, err := app.SubmitEntity.Handle(ctx, commands.Meta{Actor: commands.Actor{Account: "acct-1", Role: commands.RoleApplicant}}, commands.SubmitEntity{FilingID: id}); err == nil {
		t.Fatal("a command without an idempotency key ran")
	}
}

func TestOneOpenFilingPerAccount(t *testing.T) {
	e := newEnv(t)
	ctx, app := context.Background(), e.app
	first := e.ok(app.VerifyType.Handle(ctx, applicant(), verifyCmd()))
	c := verifyCmd()
	c.Domains = []string{"example.net"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := app.VerifyType.Handle(ctx, applicant(), c)
		var ve *domain.ValidationError
		if errors.As(err, &ve) && ve.Has("account", domain.CodeAccountOpenFiling) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("second filing of the account: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // the index follows the log
	}
	e.ok(app.AbandonFiling.Handle(ctx, applicant(), commands.AbandonFiling{FilingID: first.FilingID}))
	for {
		if _, err := app.VerifyType.Handle(ctx, applicant("after-abandon"), c); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("a new filing after abandoning: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestEachProviderCheck runs step 1 against each simulated record that a
// real provider would refuse, and expects the matching code at the path.
func TestEachProviderCheck(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cases := []struct {
		name string
		edit func(*commands.VerifyType)
		path string
		code string
	}{
		{"overseas registrar", func(c *commands.VerifyType) { c.Domains = []string{"overseas-registrar.com"} }, "domains[0]", domain.CodeDomainRegistrar},
		{"expired domain", func(c *commands.VerifyType) { c.Domains = []string{"expired-domain.cn"} }, "domains[0]", domain.CodeDomainExpired},
		{"unverified real name", func(c *commands.VerifyType) { c.Domains = []string{"unverified-name.cn"} }, "domains[0]", domain.CodeDomainRealName},
		{"domain already filed", func(c *commands.VerifyType) { c.Domains = []string{"already-filed.com"} }, "domains[0]", domain.CodeDomainAlreadyFiled},
		{"domain in another order", func(c *commands.VerifyType) { c.Domains = []string{"in-another-order.com"} }, "domains[0]", domain.CodeDomainInFlight},
		{"unregistered domain", func(c *commands.VerifyType) { c.Domains = []string{"never-registered.com"} }, "domains[0]", commands.CodeDomainNotRegistered},
		{"pay-as-you-go server", func(c *commands.VerifyType) { c.Resource.InstanceID = "ins-postpaid" }, "resource", domain.CodeResourceBilling},
		{"server bought for one month", func(c *commands.VerifyType) { c.Resource.InstanceID = "ins-one-month" }, "resource", domain.CodeResourceDuration},
		{"server full", func(c *commands.VerifyType) { c.Resource.InstanceID = "ins-full" }, "resource", domain.CodeResourceFull},
		{"overseas server", func(c *commands.VerifyType) { c.Resource.InstanceID = "ins-overseas" }, "resource", domain.CodeResourceRegion},
		{"no public ip", func(c *commands.VerifyType) { c.Resource.InstanceID = "ins-no-public-ip" }, "resource", domain.CodeResourcePublicIP},
		{"unknown server", func(c *commands.VerifyType) { c.Resource.InstanceID = "ins-404" }, "resource.instanceId", domain.CodeResourceNotFound},
		{"used authorization code", func(c *commands.VerifyType) {
			c.Resource = commands.ResourceRef{Kind: domain.ResourceAuthorizationCode, AuthorizationCode: "AUTH-USED-0001"}
		}, "resource.authorizationCode", domain.CodeAuthCodeUsed},
		{"authorization code of an expiring server", func(c *commands.VerifyType) {
			c.Resource = commands.ResourceRef{Kind: domain.ResourceAuthorizationCode, AuthorizationCode: "AUTH-EXPIRING-1"}
		}, "resource.authorizationCode", domain.CodeAuthCodeServerExpiry},
		{"unknown authorization code", func(c *commands.VerifyType) {
			c.Resource = commands.ResourceRef{Kind: domain.ResourceAuthorizationCode, AuthorizationCode: "NOPE"}
		}, "resource.authorizationCode", domain.CodeAuthCodeInvalid},
		{"entity already filed", func(c *commands.VerifyType) { c.CertificateNumber = "91440300MA5F1LED0C" }, "certificateNumber", domain.CodeNotFirstFiling},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := verifyCmd()
			tc.edit(&c)
			_, err := e.app.VerifyType.Handle(ctx, meta(fmt.Sprint("acct-check-", i), commands.RoleApplicant), c)
			var ve *domain.ValidationError
			if !errors.As(err, &ve) || !ve.Has(tc.path, tc.code) {
				t.Fatalf("want %s=%s, got %v", tc.path, tc.code, err)
			}
		})
	}
	all, _ := e.store.ReadAll(ctx, 0, 100)
	if len(all) != 0 {
		t.Fatalf("refused commands wrote %d events", len(all))
	}
}

func TestProviderChecksLaterInTheFiling(t *testing.T) {
	e := newEnv(t)
	ctx, app := context.Background(), e.app
	id := e.ok(app.VerifyType.Handle(ctx, applicant(), verifyCmd())).FilingID
	e.ok(app.SubmitEntity.Handle(ctx, applicant(), commands.SubmitEntity{FilingID: id, Entity: entity()}))
	w := website(id)
	w.Domains = []string{"someone-else.com"}
	w.HomepageURLs = []string{"https://someone-else.com"}
	e.ok(app.SubmitWebsite.Handle(ctx, applicant(), w))
	_, err := app.SubmitForReview.Handle(ctx, applicant(), commands.SubmitForReview{FilingID: id, TermsVersion: "v1"})
	var ve *domain.ValidationError
	if !errors.As(err, &ve) || !ve.Has("websites[w1].domains[0]", domain.CodeDomainRegistrant) {
		t.Fatalf("registrant mismatch: %v", err)
	}
	_, err = app.UploadMaterial.Handle(ctx, applicant(), commands.UploadMaterial{FilingID: id, Kind: domain.MaterialOther, Scope: "entity",
		SHA256: "0000000000000000000000000000000000000000000000000000000000000000"})
	if !errors.As(err, &ve) || !ve.Has("sha256", commands.CodeBlobNotFound) {
		t.Fatalf("blob never uploaded: %v", err)
	}
	_, err = app.PassLiveness.Handle(ctx, system(), commands.PassLiveness{FilingID: id, WebsiteID: "w1", SessionID: "forged"})
	if !errors.As(err, &ve) || !ve.Has("sessionId", domain.CodeLivenessSession) {
		t.Fatalf("forged liveness verdict: %v", err)
	}
}

func TestMobileAttributionInJiangsu(t *testing.T) {
	e := newEnv(t)
	ctx, app := context.Background(), e.app
	c := verifyCmd()
	c.Province, c.City, c.CertificateNumber = "32", "南京市", "91320100MA1AAAAA01"
	res := e.ok(app.VerifyType.Handle(ctx, applicant(), c))
	var ve *domain.ValidationError
	js := entity()
	js.CertificateAddress, js.MailingAddress = "江苏省南京市玄武区中山路18号", "江苏省南京市玄武区中山路18号"
	js.Principal.OfficePhone = "025-84561234"
	js.Principal.EmergencyContact = &domain.EmergencyContact{Name: "李四", Mobile: "13900139000"}
	_, err := app.SubmitEntity.Handle(ctx, applicant(), commands.SubmitEntity{FilingID: res.FilingID, Entity: js})
	if !errors.As(err, &ve) || !ve.Has("principal.mobile", domain.CodeMobileOutOfProvince) {
		t.Fatalf("a Guangdong mobile in a Jiangsu filing: %v", err)
	}
	js.Principal.Mobile = "13600136000"
	e.ok(app.SubmitEntity.Handle(ctx, applicant(), commands.SubmitEntity{FilingID: res.FilingID, Entity: js}))
}

func TestRecognizeCertificate(t *testing.T) {
	e := newEnv(t)
	digest := e.upload()
	r, err := e.app.RecognizeCertificate.Recognize(context.Background(), commands.Actor{Account: "acct-1", Role: commands.RoleApplicant}, digest)
	if err != nil || r.Name.Confidence != 0 {
		t.Fatalf("unknown image: %+v %v", r, err)
	}
	var forbidden *commands.ForbiddenError
	if _, err := e.app.RecognizeCertificate.Recognize(context.Background(), commands.Actor{Account: "x", Role: commands.RoleBureau}, digest); !errors.As(err, &forbidden) {
		t.Fatalf("bureau running OCR: %v", err)
	}
}

var _ eventstore.Store = (*sqlite.Store)(nil)
