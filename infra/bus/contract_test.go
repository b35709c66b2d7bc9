package bus_test

import (
	"os"
	"strings"
	"testing"

	"github.com/beian/beian/domain"
)

// TestEveryEventTypeIsDocumented: docs/events.md is the published
// contract; an event type missing from it is an undocumented change.
func TestEveryEventTypeIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range domain.EventTypes() {
		if !strings.Contains(string(doc), "### `"+typ+"`") {
			t.Errorf("docs/events.md does not document %s", typ)
		}
	}
}
