// Package bus publishes the filing event stream: a forwarder follows the
// event log from its checkpoint and publishes every filing event, as a
// CloudEvents 1.0 JSON envelope with personal data masked, to the topic
// beian.filing.events.v1 through watermill (GoChannel in process; Kafka in
// infra/bus/kafka). Delivery is at least once, in order per filing.
package bus

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beian/beian/domain"
	"github.com/beian/beian/infra/eventstore"
)

// Topic is the published filing stream. Its version changes only with an
// incompatible envelope; event types carry their own versions.
const Topic = "beian.filing.events.v1"

// Source names beian as the producer in every CloudEvent.
const Source = "urn:beian:filing"

// CloudEvent is a CloudEvents 1.0 structured-mode JSON envelope.
type CloudEvent struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`      // the event id: consumers deduplicate by it
	Type            string          `json:"type"`    // e.g. filing.submitted_for_review.v1
	Source          string          `json:"source"`  // urn:beian:filing
	Subject         string          `json:"subject"` // the filing id; also the partition key
	Time            time.Time       `json:"time"`    // when the event occurred
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
	// Extensions (lower-case letters and digits only, per the spec).
	Account  string `json:"beianaccount"`  // the filing's applicant account, to address notices
	Revision uint64 `json:"beianrevision"` // the event's place in its filing
	Position uint64 `json:"beianposition"` // its place in the log
}

// Envelope wraps a stored filing event for publication, masking personal
// data in its payload. account is the filing's applicant account.
func Envelope(e eventstore.RecordedEvent, account string) (CloudEvent, error) {
	filing, ok := strings.CutPrefix(e.Stream, "filing-")
	if !ok {
		return CloudEvent{}, fmt.Errorf("event %s of stream %s is not a filing event", e.ID, e.Stream)
	}
	data, err := Redact(e.Data)
	if err != nil {
		return CloudEvent{}, fmt.Errorf("event %s: %w", e.ID, err)
	}
	return CloudEvent{
		SpecVersion: "1.0", ID: e.ID, Type: e.Type, Source: Source, Subject: filing,
		Time: e.Metadata.OccurredAt.UTC(), DataContentType: "application/json", Data: data,
		Account: account, Revision: e.Revision, Position: e.Position,
	}, nil
}

// Redact masks the personal data of an event payload: certificate numbers,
// phones, e-mail addresses, postal addresses and people's names. What is
// left is the filing's facts and references; the masked values say enough
// to recognise one's own (138****8000) and nothing to a third party.
func Redact(payload []byte) (json.RawMessage, error) {
	var v any
	if err := json.Unmarshal(payload, &v); err != nil {
		return nil, err
	}
	return json.Marshal(redact(v, ""))
}

func redact(v any, key string) any {
	switch t := v.(type) {
	case map[string]any:
		person := isPersonKey(key)
		for k, x := range t {
			if name, ok := x.(string); ok && person && k == "name" {
				t[k] = maskName(name)
				continue
			}
			t[k] = redact(x, k) // a "name" that is not a string may hold personal fields
		}
		return t
	case []any:
		for i := range t {
			t[i] = redact(t[i], key)
		}
		return t
	case string:
		return maskField(key, t)
	}
	return v
}

// isPersonKey: objects under these keys may be named after a person: a
// principal, an emergency contact, and the entity (an individual's entity
// is the person). Organisations' names are masked with them, harmlessly.
func isPersonKey(key string) bool {
	return key == "principal" || key == "emergencyContact" || key == "entity"
}

func maskField(key, s string) string {
	if s == domain.Erased {
		return s // nothing left to mask
	}
	switch key {
	case "certificateNumber", "registrantCertificateNumber":
		return keep(s, 6, 4)
	case "certSuffix":
		return keep(s, 0, 2) // the last six of a certificate number, which verify the SMS
	case "mobile", "officePhone":
		return keep(s, 3, 4)
	case "email":
		local, domain, ok := strings.Cut(s, "@")
		if !ok || local == "" {
			return "***"
		}
		r, _ := utf8.DecodeRuneInString(local)
		return string(r) + "***@" + domain
	case "certificateAddress", "mailingAddress":
		runes := []rune(s)
		return string(runes[:min(len(runes), 6)]) + "****"
	case "registrantName", "legalRepresentative":
		return maskName(s)
	case "codeHash":
		return "" // useless to anyone, and no business of a consumer
	}
	return s
}

// keep shows the first and last characters of s and stars between.
func keep(s string, first, last int) string {
	if len(s) <= first+last {
		return strings.Repeat("*", len(s))
	}
	return s[:first] + strings.Repeat("*", len(s)-first-last) + s[len(s)-last:]
}

// maskName keeps a name's first character: 张三 → 张*.
func maskName(s string) string {
	if s == "" || s == domain.Erased { // an erased name has nothing left to mask
		return s
	}
	r, size := utf8.DecodeRuneInString(s)
	return string(r) + strings.Repeat("*", max(utf8.RuneCountInString(s[size:]), 1))
}
