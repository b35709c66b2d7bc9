package readstore_test

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/beian/beian/infra/readstore"
)

type status string

type valuer struct{ v any }

func (v valuer) Value() (driver.Value, error) { return v.v, nil }

func TestCheckArgs(t *testing.T) {
	ok := []any{nil, int64(1), 1, int8(1), uint32(1), uint64(1), 1.5, float32(1.5), "s", []byte("b"),
		json.RawMessage(`{}`), status("draft"), valuer{"text"}, valuer{int64(1)}, valuer{nil}}
	for _, a := range ok {
		if err := readstore.CheckArgs([]any{a}); err != nil {
			t.Errorf("%T refused: %v", a, err)
		}
	}
	refused := []any{true, time.Now(), &struct{}{}, []int{1}, map[string]int{}, valuer{true}, valuer{time.Now()}, new(int64)}
	for _, a := range refused {
		err := readstore.CheckArgs([]any{"fine", a})
		if !errors.Is(err, readstore.ErrNotPortable) {
			t.Errorf("%T: %v; want ErrNotPortable", a, err)
			continue
		}
		if !strings.Contains(err.Error(), "argument 2") {
			t.Errorf("%T: %q does not say which argument", a, err)
		}
	}
	if err := readstore.CheckArgs([]any{true}); !strings.Contains(err.Error(), "0 or 1") {
		t.Errorf("the bool error does not say what to use instead: %v", err)
	}
}

func TestWrap(t *testing.T) {
	if readstore.Wrap("exec", "SELECT 1", nil) != nil {
		t.Fatal("Wrap(nil) is not nil")
	}
	cause := errors.New("disk I/O error")
	err := readstore.Wrap("exec", "INSERT INTO t\n\t\t(a, b)   VALUES (?, ?)", cause)
	var e *readstore.Error
	if !errors.As(err, &e) || !errors.Is(err, cause) {
		t.Fatalf("Wrap does not unwrap to its cause: %v", err)
	}
	if want := `exec "INSERT INTO t (a, b) VALUES (?, ?)": disk I/O error`; err.Error() != want {
		t.Fatalf("message %q, want %q", err, want)
	}
	if got := readstore.Wrap("commit", "", cause).Error(); got != "commit: disk I/O error" {
		t.Fatalf("message without a statement: %q", got)
	}
	for n := range 8 { // a multi-byte rune at every offset around the cut
		long := strings.Repeat("x", n) + strings.Repeat("备案", 200)
		q := readstore.Wrap("exec", long, cause).(*readstore.Error).Query
		if !utf8.ValidString(q) || len(q) > 170 || !strings.HasSuffix(q, "…") {
			t.Fatalf("shortened statement %q (%d bytes)", q, len(q))
		}
	}
}

func ExampleCheckArgs() {
	err := readstore.CheckArgs([]any{"filing-1", true})
	fmt.Println(err)
	// Output: argument 2: readstore: argument type is not portable: bool (store 0 or 1 in a BIGINT column)
}
