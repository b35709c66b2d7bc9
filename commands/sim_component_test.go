package commands_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/beian/beian/commands"
	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/providers/sim"
)

// Cases of the simulated providers (docs/sim-data.md) beyond the step-1
// checks of TestEachProviderCheck.

// validUSCC completes 17 characters of a unified social credit code with
// their check character.
func validUSCC(t *testing.T, prefix string) string {
	t.Helper()
	for _, c := range "0123456789ABCDEFGHJKLMNPQRTUWXY" {
		if _, p := domain.ParseUSCC(prefix + string(c)); p == nil {
			return prefix + string(c)
		}
	}
	t.Fatalf("no check character completes %s", prefix)
	return ""
}

// TestShortValidityDomain: short-validity.cn expires in 40 days of the
// simulated clock; Zhejiang asks for 3 months left, Guangdong for none.
func TestShortValidityDomain(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	zhejiang := verifyCmd()
	zhejiang.Province, zhejiang.City, zhejiang.District = "33", "杭州市", "西湖区"
	zhejiang.CertificateNumber = validUSCC(t, "91330106MA2AAAAA0")
	zhejiang.Domains = []string{"short-validity.cn"}

	_, err := e.app.VerifyType.Handle(ctx, applicant(), zhejiang)
	var ve *domain.ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Path != "domains[0]" || ve.Fields[0].Code != domain.CodeDomainValidityTooShort {
		t.Fatalf("in Zhejiang: %v, want only domains[0]=%s", err, domain.CodeDomainValidityTooShort)
	}
	e.unchanged(t, nil)

	// The same filing with a domain that has two years left starts: the
	// refusal was the domain's validity.
	renewed := zhejiang
	renewed.Domains = []string{"example.com"}
	e.ok(e.app.VerifyType.Handle(ctx, applicant(), renewed))

	guangdong := verifyCmd()
	guangdong.Domains = []string{"short-validity.cn"}
	res := e.ok(e.app.VerifyType.Handle(ctx, meta("acct-gd", commands.RoleApplicant), guangdong))
	f, _, err := e.app.Executor.Load(ctx, res.FilingID)
	if err != nil || len(f.Domains) != 1 || f.Domains[0].Name != "short-validity.cn" {
		t.Fatalf("in Guangdong, which asks for no minimum: %+v %v", f.Domains, err)
	}
}

// TestLivenessFailureThroughTheProvider: the simulated provider opens a
// session, its verdict fails the principal; the filing cannot be submitted,
// a late verdict on the old session is refused, and a new session can pass.
func TestLivenessFailureThroughTheProvider(t *testing.T) {
	e := newEnv(t)
	ctx, app := context.Background(), e.app
	id, first := e.livenessStarted()
	if first == "" {
		t.Fatal("the provider opened no session")
	}
	for _, m := range []struct{ kind, scope string }{
		{domain.MaterialEntityCertificate, "entity"}, {domain.MaterialPrincipalID, "entity"}, {domain.MaterialCommitmentLetter, "website:w1"},
	} {
		e.ok(app.UploadMaterial.Handle(ctx, applicant(), commands.UploadMaterial{FilingID: id, Kind: m.kind, Scope: m.scope, SHA256: e.upload()}))
	}

	before := e.log()
	verdict := traced("liveness-provider", commands.RoleSystem)
	res := e.ok(app.FailLiveness.Handle(ctx, verdict, commands.FailLiveness{FilingID: id, WebsiteID: "w1", SessionID: first,
		Reasons: []string{"face_mismatch", "not_live"}}))
	e.appended(t, before, res, verdict, "FailLiveness", id, domain.TypeLivenessFailed)

	before = e.log()
	_, err := app.SubmitForReview.Handle(ctx, applicant(), commands.SubmitForReview{FilingID: id, TermsVersion: "2026-01"})
	var ve *domain.ValidationError
	if !errors.As(err, &ve) || !ve.Has("websites[w1].liveness", domain.CodeLivenessMissing) {
		t.Fatalf("submitting after a failed liveness check: %v", err)
	}
	e.unchanged(t, before)

	e.ok(app.StartLiveness.Handle(ctx, applicant(), commands.StartLiveness{FilingID: id, WebsiteID: "w1"}))
	second := e.session(id, "w1")
	if second == "" || second == first {
		t.Fatalf("the retry's session %q, the first %q: the provider should open a new one", second, first)
	}
	before = e.log()
	_, err = app.PassLiveness.Handle(ctx, system(), commands.PassLiveness{FilingID: id, WebsiteID: "w1", SessionID: first})
	if !errors.As(err, &ve) || !ve.Has("sessionId", domain.CodeLivenessSession) {
		t.Fatalf("a late verdict on the failed session: %v", err)
	}
	e.unchanged(t, before)

	e.ok(app.PassLiveness.Handle(ctx, system(), commands.PassLiveness{FilingID: id, WebsiteID: "w1", SessionID: second}))
	e.ok(app.SubmitForReview.Handle(ctx, applicant(), commands.SubmitForReview{FilingID: id, TermsVersion: "2026-01"}))
	if s := e.status(id); s != domain.StatusSubmitted {
		t.Fatalf("status %s after passing on the second session", s)
	}
}

// TestRecognizeKnownCertificate: OCR of an image the seed file has a record
// of returns the recorded fields with their confidence, and writes nothing.
// The built-in data has no OCR record, so the test brings a seed file, as
// --sim-data does.
func TestRecognizeKnownCertificate(t *testing.T) {
	image := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR resident id of 张三, front")
	sum := sha256.Sum256(image)
	digest := hex.EncodeToString(sum[:])
	record := sim.OCRRecord{SHA256: digest, Name: "张三", Number: "440305199003071236",
		Address: "广东省深圳市南山区科技园路1号", ValidUntil: "2035-01-01", Confidence: 0.97}
	seed := sim.DefaultSeed()
	seed.OCR = append(seed.OCR, record)
	b, err := json.Marshal(seed)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sim-data.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	loaded, err := sim.LoadSeed(path)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWithSeed(t, loaded)
	ctx := context.Background()
	info, err := e.blobs.Put(ctx, bytes.NewReader(image))
	if err != nil || info.SHA256 != digest || info.ContentType != "image/png" {
		t.Fatalf("upload: %+v %v", info, err)
	}

	applicantActor := commands.Actor{Account: "acct-1", Role: commands.RoleApplicant}
	got, err := e.app.RecognizeCertificate.Recognize(ctx, applicantActor, digest)
	if err != nil {
		t.Fatal(err)
	}
	field := func(v string) commands.OCRField { return commands.OCRField{Value: v, Confidence: record.Confidence} }
	want := commands.OCRResult{Name: field(record.Name), Number: field(record.Number), Address: field(record.Address), ValidUntil: field(record.ValidUntil)}
	if got != want {
		t.Fatalf("OCR of the known image: %+v, want %+v", got, want)
	}

	unknown, err := e.app.RecognizeCertificate.Recognize(ctx, applicantActor, e.upload())
	if err != nil || unknown != (commands.OCRResult{}) {
		t.Fatalf("OCR of an image the seed does not know: %+v %v, want empty fields with confidence 0", unknown, err)
	}
	var ve *domain.ValidationError
	if _, err := e.app.RecognizeCertificate.Recognize(ctx, applicantActor, "0000000000000000000000000000000000000000000000000000000000000000"); !errors.As(err, &ve) || !ve.Has("sha256", commands.CodeBlobNotFound) {
		t.Fatalf("OCR of a blob never uploaded: %v", err)
	}
	e.unchanged(t, nil)
}
