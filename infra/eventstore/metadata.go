package eventstore

import "encoding/json"

// UnmarshalJSON decodes metadata as json.Marshal writes it (the keys of
// Metadata, plain ASCII strings without escapes, a small number, a time)
// with a scanner of its own, and anything else with encoding/json, so the
// result is always encoding/json's. Every event read decodes its metadata:
// with reflection that was 15 % of the CPU of a projection rebuild
// (docs/performance.md). FuzzMetadataDecodesAsEncodingJSON compares the two.
func (m *Metadata) UnmarshalJSON(b []byte) error {
	v := *m
	if v.decodePlain(b) {
		*m = v
		return nil
	}
	type plain Metadata // without this method
	p := plain(*m)
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*m = Metadata(p)
	return nil
}

// decodePlain decodes b if it is an object of Metadata's keys, exactly
// spelt, without white space, whose values are strings of printable ASCII
// without escapes, and a schema version of at most nine digits. It reports
// false for anything else, leaving m in any state.
func (m *Metadata) decodePlain(b []byte) bool {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return false
	}
	rest := b[1 : len(b)-1]
	for len(rest) > 0 {
		key, after, ok := plainString(rest)
		if !ok || len(after) == 0 || after[0] != ':' {
			return false
		}
		after = after[1:]
		if string(key) == "schemaVersion" {
			n, used := smallInt(after)
			if used == 0 {
				return false
			}
			m.SchemaVersion, after = n, after[used:]
		} else {
			value, next, ok := plainString(after)
			if !ok {
				return false
			}
			switch string(key) {
			case "actorAccount":
				m.ActorAccount = string(value)
			case "actorRole":
				m.ActorRole = string(value)
			case "commandId":
				m.CommandID = string(value)
			case "commandHash":
				m.CommandHash = string(value)
			case "correlationId":
				m.CorrelationID = string(value)
			case "causationId":
				m.CausationID = string(value)
			case "prevHash":
				m.PrevHash = string(value)
			case "hash":
				m.Hash = string(value)
			case "occurredAt":
				// The time's own JSON decoding, quotes included.
				if m.OccurredAt.UnmarshalJSON(after[:len(value)+2]) != nil {
					return false
				}
			default:
				return false
			}
			after = next
		}
		if len(after) > 0 {
			if after[0] != ',' || len(after) == 1 {
				return false
			}
			after = after[1:]
		}
		rest = after
	}
	return true
}

// plainString cuts a leading JSON string of printable ASCII without escapes
// from b: its content and what follows it.
func plainString(b []byte) (value, rest []byte, ok bool) {
	if len(b) == 0 || b[0] != '"' {
		return nil, nil, false
	}
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return b[1:i], b[i+1:], true
		case c < 0x20 || c >= 0x7f || c == '\\':
			return nil, nil, false
		}
	}
	return nil, nil, false
}

// smallInt reads a JSON integer of one to nine digits (no sign, no leading
// zero unless it is 0) from the start of b: its value and length, or 0, 0.
func smallInt(b []byte) (n, used int) {
	for used < len(b) && used < 10 && b[used] >= '0' && b[used] <= '9' {
		n = n*10 + int(b[used]-'0')
		used++
	}
	if used == 0 || used > 9 || (b[0] == '0' && used > 1) {
		return 0, 0
	}
	if used < len(b) && (b[used] == '.' || b[used] == 'e' || b[used] == 'E') {
		return 0, 0
	}
	return n, used
}
