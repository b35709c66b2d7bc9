package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/beian/beian/commands"
	"github.com/beian/beian/infra/bus"
	"github.com/beian/beian/infra/bus/kafka"
	"github.com/beian/beian/infra/privacy"
	readsqlite "github.com/beian/beian/infra/readstore/sqlite"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kfake"
)

// The data subject of the erasure tests: the demo data's Beijing
// individual, here the principal of the Guangdong enterprise's filing.
const (
	wangWuID      = "110101200001010010"
	wangWuMobile  = "13800138000"
	wangWuMobile2 = "13900139000"
)

func wangWu(mobile string) map[string]any {
	return map[string]any{"name": "王五", "certificateType": "resident_id", "certificateNumber": wangWuID,
		"officePhone": "0755-86013388", "mobile": mobile, "email": "wangwu@example.com"}
}

// fillWangWu walks a filing whose principals are 王五 (two mobiles) to the
// bureau's approval, and returns its id and the last command's position.
func fillWangWu(t *testing.T, p *inProcess, a actors) (string, string) {
	t.Helper()
	app := a.applicant
	res := mutate(app, "verifyType", "VerifyTypeInput", map[string]any{"idempotencyKey": uuid.NewString(),
		"province": "44", "city": "深圳市", "district": "南山区", "nature": "enterprise", "certificateType": "business_licence",
		"certificateNumber": "91440300MA5F12342Q", "domains": []string{"example.com"},
		"resource": map[string]any{"kind": "instance", "instanceId": "ins-demo"}})
	id := res["filingId"].(string)
	mutate(app, "submitEntity", "SubmitEntityInput", map[string]any{"filingId": id, "name": "深圳市示例科技有限公司",
		"certificateAddress": "广东省深圳市南山区科技园路1号", "mailingAddress": "广东省深圳市南山区科技园路1号",
		"legalRepresentative": "王五", "principalIsLegalRep": true, "principal": wangWu(wangWuMobile)})
	mutate(app, "submitWebsite", "SubmitWebsiteInput", map[string]any{"filingId": id, "name": "示例科技",
		"domains": []string{"example.com"}, "homepageUrls": []string{"https://www.example.com/"}, "serviceContent": []string{"portal_entity"}})
	mutate(app, "submitWebsitePrincipal", "SubmitWebsitePrincipalInput", map[string]any{"filingId": id, "websiteId": "w1",
		"isLegalRep": false, "principal": wangWu(wangWuMobile2)})
	res = mutate(app, "startLiveness", "StartLivenessInput", map[string]any{"filingId": id, "websiteId": "w1"})
	session := str(progress(app, id, res["position"].(string)), "websites", 0, "liveness", "sessionId")
	mutate(app, "passLiveness", "LivenessVerdictInput", map[string]any{"filingId": id, "websiteId": "w1", "sessionId": session})
	for i, m := range [][2]string{{"entity_certificate", "entity"}, {"principal_id", "entity"}, {"commitment_letter", "website:w1"}} {
		digest := app.upload(append(pngBytes, byte(i)))
		mutate(app, "uploadMaterial", "UploadMaterialInput", map[string]any{"filingId": id, "kind": m[0], "scope": m[1], "sha256": digest})
	}
	mutate(app, "submitForReview", "SubmitForReviewInput", map[string]any{"filingId": id, "termsVersion": "2026-01"})
	mutate(a.reviewer, "approveInitialReview", "ApproveInitialReviewInput", map[string]any{"filingId": id})
	mutate(a.reviewer, "sendToBureau", "FilingInput", map[string]any{"filingId": id})
	mutate(a.bureau, "requestSmsVerification", "FilingInput", map[string]any{"filingId": id})
	// One code per person: 王五 confirms on the entity principal's mobile.
	code, ok := p.svc.sim.SentCode(id, wangWuMobile)
	if !ok {
		t.Fatalf("no SMS code sent to %s", wangWuMobile)
	}
	mutate(app, "verifySmsCode", "VerifySmsCodeInput", map[string]any{"filingId": id, "mobile": wangWuMobile,
		"certSuffix": wangWuID[len(wangWuID)-6:], "code": code})
	res = mutate(a.bureau, "approveByBureau", "ApproveByBureauInput", map[string]any{"filingId": id, "serial": "2026012345"})
	if got := str(progress(app, id, res["position"].(string)), "status"); got != "approved" {
		t.Fatalf("the filing ends %s, want approved", got)
	}
	return id, res["position"].(string)
}

// published collects every message of the published stream, in a consumer
// group of its own.
type published struct {
	mu   sync.Mutex
	msgs [][]byte
}

func (p *published) collect(t *testing.T, ctx context.Context, busURL string) {
	t.Helper()
	cfg, err := kafka.ParseURL(busURL + "?group=erasure-scan")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := kafka.NewSubscriber(cfg, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := sub.Subscribe(ctx, bus.Topic)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer sub.Close()
		for m := range msgs {
			meta, _ := json.Marshal(m.Metadata)
			p.mu.Lock()
			p.msgs = append(p.msgs, append(append([]byte(nil), m.Payload...), meta...))
			p.mu.Unlock()
			m.Ack()
		}
	}()
}

func (p *published) has(s string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.msgs {
		if bytes.Contains(m, []byte(s)) {
			return true
		}
	}
	return false
}

// encodings are the forms a value may take in a file: as it is (UTF-8, and
// the same inside JSON), JSON's \u escapes, UTF-16, base64 and hex.
func encodings(v string) map[string][]byte {
	var escaped strings.Builder
	var u16 []byte
	for _, r := range v {
		fmt.Fprintf(&escaped, `\u%04x`, r)
	}
	for _, c := range utf16.Encode([]rune(v)) {
		u16 = append(u16, byte(c), byte(c>>8))
	}
	return map[string][]byte{
		"utf-8": []byte(v), "json \\u escapes": []byte(escaped.String()), "utf-16le": u16,
		"base64": []byte(base64.StdEncoding.EncodeToString([]byte(v))), "base64url": []byte(base64.RawURLEncoding.EncodeToString([]byte(v))),
		"hex": []byte(hex.EncodeToString([]byte(v))),
	}
}

// scan reports every place where a secret shows: the files under dir (the
// stores, their WAL and journal files, blobs, keys) and the named captures
// (logs, published messages, notices).
func scan(t *testing.T, dir string, captures map[string][]byte, secrets ...string) []string {
	t.Helper()
	var found []string
	look := func(where string, b []byte) {
		for _, s := range secrets {
			for enc, needle := range encodings(s) {
				if bytes.Contains(b, needle) {
					found = append(found, fmt.Sprintf("%s holds %s (%s)", where, s, enc))
				}
			}
		}
	}
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		rel, _ := filepath.Rel(dir, path)
		look(rel, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 5 {
		t.Fatalf("only %d files under %s: the scan looks in the wrong place", files, dir)
	}
	for name, b := range captures {
		look(name, b)
	}
	return found
}

// TestErasureLeavesNoPlainCopy is the acceptance test of crypto-shredding:
// a filing whose principal is 王五 runs to approval with its events
// published to Kafka and notices delivered; the admin erases the subject;
// after the purge no file of the data directory, no log line, no published
// message and no notice holds the ID number or the phones, in any encoding
// checked. The filing, its replay and its audit trail show "[erased]" where
// the personal data was, keep the facts, and the hash chains verify.
func TestErasureLeavesNoPlainCopy(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "serve")
	cluster, err := kfake.NewCluster()
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	busURL := "kafka://" + strings.Join(cluster.ListenAddrs(), ",")
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p := startWith(t, config{Data: data, Dev: true, Bus: busURL, Logger: logger})

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	notifyLogs := &syncBuffer{}
	notified := make(chan error, 1)
	go func() {
		notified <- notifyCmd(ctx, []string{"--bus", busURL + "?group=erasure-notify", "--data", filepath.Join(dir, "notify"),
			"--log-level", "debug"}, notifyLogs, notifyLogs)
	}()
	out := &published{}
	out.collect(t, ctx, busURL)

	a := p.actors("acct-wangwu")
	admin := p.as("admin", "dpo-1")
	id, pos := fillWangWu(t, p, a)
	head, err := p.svc.log.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lastEvent := a.auditor.must(`query($id: ID!, $pos: String) { auditTrail(filingId: $id, first: 100, minPosition: $pos) { edges { node { eventId position } } } }`,
		map[string]any{"id": id, "pos": pos})
	edges := dig(lastEvent, "auditTrail", "edges").([]any)
	lastID := str(edges[len(edges)-1], "node", "eventId")
	for deadline := time.Now().Add(60 * time.Second); !out.has(lastID) || !bytes.Contains(notifyLogs.Bytes(), []byte("bureau_approved")); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the filing's last event (%d) was not published and notified within 60s", head)
		}
	}

	// Before the erasure the read models hold the ID number in plain form:
	// the scan finds what it looks for.
	if found := scan(t, data, nil, wangWuID); len(found) == 0 {
		t.Fatal("before the erasure the scan finds the ID number nowhere: it cannot tell an erasure from no data")
	}
	before := a.applicant.must(`query($id: ID!) { filing(id: $id) { entity { principal { name certificateNumber mobile } } } }`, map[string]any{"id": id})
	if str(before, "filing", "entity", "principal", "certificateNumber") != wangWuID {
		t.Fatalf("before the erasure the applicant sees %v", before)
	}

	// The mutation: admins only, every field checked.
	erase := `mutation($in: EraseSubjectInput!) { eraseSubject(input: $in) { subject position repeated events { type } } }`
	if code := a.auditor.code(erase, map[string]any{"in": map[string]any{"subject": wangWuID, "reason": "x"}}); code != "FORBIDDEN" {
		t.Fatalf("an auditor erasing: %s", code)
	}
	_, errs := admin.query(erase, map[string]any{"in": map[string]any{"subject": "", "reason": " "}})
	assertFields(t, errs, "subject:required", "reason:required")
	_, errs = admin.query(erase, map[string]any{"in": map[string]any{"subject": "110101199001011234", "reason": "PIPL Art. 47"}})
	assertFields(t, errs, "subject:unknown_subject")

	res := admin.must(erase, map[string]any{"in": map[string]any{"subject": wangWuID, "reason": "PIPL Art. 47 request 2026-118"}})
	subject := str(res, "eraseSubject", "subject")
	if subject != p.svc.privacy.SubjectID(wangWuID) || res["eraseSubject"].(map[string]any)["repeated"] != false ||
		str(res, "eraseSubject", "events", 0, "type") != commands.SubjectErasedType {
		t.Fatalf("eraseSubject: %v", res)
	}
	again := admin.must(erase, map[string]any{"in": map[string]any{"subject": subject, "reason": "again"}})
	if again["eraseSubject"].(map[string]any)["repeated"] != true || str(again, "eraseSubject", "position") != str(res, "eraseSubject", "position") {
		t.Fatalf("erasing twice: %v", again)
	}
	if err := p.svc.waitPurged(ctx); err != nil {
		t.Fatal(err)
	}
	// The erasure is in the trail, once, naming the subject by its id.
	trail := a.auditor.must(`{ subjectErasures(first: 10) { edges { node { actorAccount actorRole subject reason hash erasedAt } } pageInfo { hasNextPage } } }`, nil)
	erasures := dig(trail, "subjectErasures", "edges").([]any)
	if len(erasures) != 1 || str(erasures[0], "node", "subject") != subject || str(erasures[0], "node", "actorAccount") != "dpo-1" ||
		str(erasures[0], "node", "actorRole") != "admin" || str(erasures[0], "node", "reason") != "PIPL Art. 47 request 2026-118" ||
		str(erasures[0], "node", "hash") == "" || strings.Contains(fmt.Sprint(trail), wangWuID) {
		t.Fatalf("subjectErasures: %v", trail)
	}

	// The filing keeps its facts; the personal fields read [erased].
	after := a.applicant.must(`query($id: ID!) { filing(id: $id) { status icpNumbers { entity } domains { name } entity { name principal { name certificateNumber mobile email } }
		websites { principal { name mobile } } } }`, map[string]any{"id": id})
	f := after["filing"].(map[string]any)
	if str(f, "status") != "approved" || str(f, "icpNumbers", "entity") != "粤ICP备2026012345号" || str(f, "domains", 0, "name") != "example.com" ||
		str(f, "entity", "name") != "深圳市示例科技有限公司" {
		t.Fatalf("the filing's facts after erasure: %v", f)
	}
	for _, field := range [][]any{{"entity", "principal", "name"}, {"entity", "principal", "certificateNumber"}, {"entity", "principal", "mobile"},
		{"entity", "principal", "email"}, {"websites", 0, "principal", "mobile"}} {
		if got := str(f, field...); got != privacy.Erased {
			t.Errorf("filing %v after erasure: %q, want %s", field, got, privacy.Erased)
		}
	}
	at := a.auditor.must(`query($id: ID!) { filingAt(id: $id, revision: 1) { filing { entity { principal { name mobile certificateNumber } } } } }`, map[string]any{"id": id})
	if got := str(at, "filingAt", "filing", "entity", "principal", "certificateNumber"); got != privacy.Erased {
		t.Errorf("filingAt after erasure: %v", at)
	}

	// Stop everything, so every file is flushed and closed, then scan.
	stop()
	if err := <-notified; err != nil {
		t.Fatalf("beian notify: %v", err)
	}
	p.svc.close()
	captures := map[string][]byte{"the service's log": logs.Bytes(), "beian notify's log (the notices)": notifyLogs.Bytes()}
	out.mu.Lock()
	for i, m := range out.msgs {
		captures[fmt.Sprintf("published message %d", i)] = m
	}
	out.mu.Unlock()
	replayed, code := beian(t, "audit", "replay", id, "--json", "--data", data)
	if code != 0 || !strings.Contains(replayed, privacy.Erased) || !strings.Contains(replayed, `"status": "approved"`) {
		t.Fatalf("audit replay after erasure (exit %d):\n%s", code, replayed)
	}
	captures["audit replay"] = []byte(replayed)
	for _, where := range scan(t, dir, captures, wangWuID, wangWuMobile, wangWuMobile2) {
		t.Error(where)
	}

	if out, code := beian(t, "audit", "verify", "--all", "--data", data); code != 0 || !strings.Contains(out, "verified") {
		t.Fatalf("verify --all after erasure (exit %d): %s", code, out)
	}
	if out, code := beian(t, "audit", "verify", id, "--data", data); code != 0 {
		t.Fatalf("verify the filing after erasure (exit %d): %s", code, out)
	}
}

// assertFields checks that the first error is a validation error with
// exactly the path:code pairs, each with a Chinese and an English message.
func assertFields(t *testing.T, errs []gqlError, want ...string) {
	t.Helper()
	if len(errs) == 0 || errs[0].Extensions["code"] != "VALIDATION" {
		t.Fatalf("want a validation error, got %+v", errs)
	}
	fields, _ := errs[0].Extensions["fields"].([]any)
	var got []string
	for _, f := range fields {
		if str(f, "message", "zh") == "" || str(f, "message", "en") == "" {
			t.Errorf("field error without both languages: %v", f)
		}
		got = append(got, str(f, "path")+":"+str(f, "code"))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("validation fields %v, want %v", got, want)
	}
}

// TestErasurePurgeSurvivesACrash: a key destroyed by an erasure whose
// process stopped before the read models were rebuilt (here: erased
// straight in the key store, no server running) is purged when the service
// starts.
func TestErasurePurgeSurvivesACrash(t *testing.T) {
	data := t.TempDir()
	p := startInProcess(t, data)
	id, _, _ := fillFiling(t, p.actors("acct-crash"))
	p.svc.close()

	keyStore, err := readsqlite.Open(readsqlite.Config{Path: filepath.Join(data, "keys.db"), Durable: true})
	if err != nil {
		t.Fatal(err)
	}
	master, err := privacy.LoadMasterKey("", filepath.Join(data, masterKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := privacy.NewKeyStore(context.Background(), privacy.KeyStoreConfig{Store: keyStore, MasterKey: master})
	if err != nil {
		t.Fatal(err)
	}
	protector := privacy.NewProtector(keys, master)
	if _, ok, err := protector.Erase(context.Background(), "440305199003071236", time.Now()); err != nil || !ok {
		t.Fatalf("erase: %v %v", ok, err)
	}
	keyStore.Close()
	// The read model still holds the number: the crash came before the purge.
	if found := scan(t, data, nil, "440305199003071236"); len(found) == 0 {
		t.Fatal("the read model lost the number before any purge")
	}

	p = startInProcess(t, data)
	if err := p.svc.waitPurged(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := p.as("applicant", "acct-crash").must(`query($id: ID!) { filing(id: $id) { entity { principal { certificateNumber } } } }`, map[string]any{"id": id})
	if v := str(got, "filing", "entity", "principal", "certificateNumber"); v != privacy.Erased {
		t.Fatalf("after the restart the read model shows %q", v)
	}
	p.svc.close()
	if found := scan(t, data, nil, "440305199003071236"); len(found) != 0 {
		t.Fatalf("after the purge: %v", found)
	}
}

// TestPrivacyEraseCommand: `beian privacy erase` validates, erases, purges,
// and says so; a second run is harmless.
func TestPrivacyEraseCommand(t *testing.T) {
	data := t.TempDir()
	p := startInProcess(t, data)
	id, _, _ := fillFiling(t, p.actors("acct-cli"))
	p.svc.close()

	if out, code := beian(t, "privacy", "erase", "--data", data); code != 1 || !strings.Contains(out, "--subject: the data subject") ||
		!strings.Contains(out, "--reason: the reason") {
		t.Fatalf("erase without subject and reason (exit %d): %s", code, out)
	}
	if out, code := beian(t, "privacy", "erase", "--subject", "110101199001011234", "--reason", "r", "--data", data); code != 1 ||
		!strings.Contains(out, "no personal data is kept") {
		t.Fatalf("erase of an unknown subject (exit %d): %s", code, out)
	}
	out, code := beian(t, "privacy", "erase", "--subject", "440305199003071236", "--reason", "PIPL Art. 47", "--data", data)
	if code != 0 || !strings.Contains(out, " erased") || strings.Contains(out, "440305199003071236") {
		t.Fatalf("erase (exit %d): %s", code, out)
	}
	if out, code := beian(t, "privacy", "erase", "--subject", "440305199003071236", "--reason", "PIPL Art. 47", "--data", data); code != 0 ||
		!strings.Contains(out, "already erased") {
		t.Fatalf("erase again (exit %d): %s", code, out)
	}
	if found := scan(t, data, nil, "440305199003071236", "13800138000"); len(found) != 0 {
		t.Fatalf("after beian privacy erase: %v", found)
	}
	out, code = beian(t, "audit", "replay", id, "--json", "--data", data)
	if code != 0 || !strings.Contains(out, privacy.Erased) {
		t.Fatalf("replay (exit %d): %s", code, out)
	}
	if out, code := beian(t, "audit", "verify", "--all", "--data", data); code != 0 {
		t.Fatalf("verify --all (exit %d): %s", code, out)
	}
}

// TestErasureOnReplicas: two replicas on one event store and one
// PostgreSQL schema. The admin erases on the replica that does not lead;
// the leader waits out the key cache TTL, rebuilds and compacts the shared
// read store: both replicas then show [erased], and no table of the schema
// holds the number or the phone.
func TestErasureOnReplicas(t *testing.T) {
	rs := newReplicaSet(t)
	first := rs.start()
	leader := awaitLeader(t, first)
	follower := rs.start()
	if leads(t, follower) {
		t.Fatal("the second replica leads too")
	}
	id, _, pos := fillFiling(t, rs.actors(t, follower, "acct-replicas"))
	admin := &client{t: t, url: follower.url, token: mintToken(t, rs.tokens, "admin", "dpo-1")}
	res := admin.must(`mutation { eraseSubject(input: {subject: "440305199003071236", reason: "PIPL Art. 47"}) { subject repeated } }`, nil)
	if str(res, "eraseSubject", "subject") == "" {
		t.Fatalf("eraseSubject: %v", res)
	}
	q := `query($id: ID!, $pos: String) { filing(id: $id, minPosition: $pos) { status entity { principal { certificateNumber mobile } } } }`
	for _, s := range []*server{follower, leader} {
		c := &client{t: t, url: s.url, token: mintToken(t, rs.tokens, "applicant", "acct-replicas")}
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			f := c.must(q, map[string]any{"id": id, "pos": pos})
			if str(f, "filing", "entity", "principal", "certificateNumber") == privacy.Erased &&
				str(f, "filing", "entity", "principal", "mobile") == privacy.Erased && str(f, "filing", "status") == "submitted" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s shows %v 60s after the erasure", s.url, f)
			}
		}
	}
	// The purge is done once no erasure is pending in the shared key table.
	conn, err := pgx.Connect(t.Context(), rs.pg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var pending int
		err := conn.QueryRow(t.Context(), `SELECT COUNT(*) FROM `+pgx.Identifier{rs.schema, "privacy_purges"}.Sanitize()+` WHERE purged_at IS NULL`).Scan(&pending)
		if err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the purge is still pending after 60s")
		}
	}
	rows, err := conn.Query(t.Context(), `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, rs.schema)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 5 {
		t.Fatalf("tables of the schema: %v %v", tables, err)
	}
	for _, table := range tables {
		var hits int
		err := conn.QueryRow(t.Context(), `SELECT COUNT(*) FROM `+pgx.Identifier{rs.schema, table}.Sanitize()+
			` t WHERE t::text LIKE '%440305199003071236%' OR t::text LIKE '%13800138000%'`).Scan(&hits)
		if err != nil {
			t.Fatal(err)
		}
		if hits > 0 {
			t.Errorf("table %s holds the ID number or the phone in %d rows after the erasure", table, hits)
		}
	}
}
