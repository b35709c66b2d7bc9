package api

import (
	"testing"

	"github.com/beian/beian/commands"
	"github.com/beian/beian/domain"
)

func TestCheckTextNamesEveryBadField(t *testing.T) {
	c := commands.SubmitEntity{FilingID: "f\x00", Entity: domain.Entity{Name: "示例\uFFFD", Principal: domain.Person{Mobile: "138\x00"},
		MailingAddress: "广东省深圳市\xff"}}
	got := map[string]bool{}
	for _, f := range checkText("", c) {
		if f.Code != domain.CodeInvalidText || f.Message.Zh == "" || f.Message.En == "" {
			t.Errorf("incomplete field error %+v", f)
		}
		got[f.Path] = true
	}
	for _, path := range []string{"filingId", "entity.name", "entity.principal.mobile", "entity.mailingAddress"} {
		if !got[path] {
			t.Errorf("%s not refused (got %v)", path, got)
		}
	}
	if len(got) != 4 {
		t.Errorf("refused %v, want 4 fields", got)
	}
	key := "k\x00"
	if f := checkText("idempotencyKey", &key); len(f) != 1 || f[0].Path != "idempotencyKey" {
		t.Errorf("idempotency key: %+v", f)
	}
	if f := checkText("", commands.SubmitEntity{FilingID: "f1", Entity: domain.Entity{Name: "深圳市示例科技有限公司"}}); len(f) != 0 {
		t.Errorf("good text refused: %+v", f)
	}
}

func FuzzCheckText(f *testing.F) {
	f.Add("深圳市示例科技有限公司")
	f.Add("a\x00b")
	f.Add("\xed\xa0\x80")
	f.Fuzz(func(t *testing.T, s string) {
		fields := checkText("", commands.RemoveMaterial{FilingID: s, Kind: s, Scope: "entity"})
		bad := false
		for _, r := range s {
			bad = bad || r == 0 || r == '\uFFFD'
		}
		if bad != (len(fields) == 2) {
			t.Fatalf("%q: %+v", s, fields)
		}
	})
}
