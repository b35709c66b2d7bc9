package postgres

import (
	"strconv"
	"strings"
)

// rebind rewrites the port's '?' placeholders to PostgreSQL's $1, $2… in
// order. The port's rules keep '?' out of literals, identifiers and
// comments, but a statement that breaks them should fail on a wrong
// argument count rather than have its text changed, so '?' is left alone
// inside '…' and E'…' strings, "…" identifiers, $tag$…$tag$ strings, and
// -- and /* */ comments (which nest in PostgreSQL).
func rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); {
		c := query[i]
		var end int // the end of a token copied unchanged
		switch {
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			i++
			continue
		case c == '\'':
			escapes := i > 0 && (query[i-1] == 'E' || query[i-1] == 'e') && (i == 1 || !isIdentChar(query[i-2]))
			end = quoted(query, i, '\'', escapes)
		case c == '"':
			end = quoted(query, i, '"', false)
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			end = strings.IndexByte(query[i:], '\n')
			if end < 0 {
				end = len(query)
			} else {
				end += i + 1
			}
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			end = blockComment(query, i)
		case c == '$' && (i == 0 || !isIdentChar(query[i-1])):
			end = dollarQuoted(query, i)
		case isIdentChar(c):
			// A whole word at once, so that a '$' inside an identifier
			// (allowed in PostgreSQL) is not read as a dollar quote.
			end = i + 1
			for end < len(query) && isIdentChar(query[end]) {
				end++
			}
		default:
			end = i + 1
		}
		b.WriteString(query[i:end])
		i = end
	}
	return b.String()
}

// quoted returns the end of a quoted token starting at query[i] == q, where
// a doubled q stands for itself and, with escapes, a backslash escapes the
// next byte. An unterminated token runs to the end.
func quoted(query string, i int, q byte, escapes bool) int {
	for j := i + 1; j < len(query); j++ {
		switch query[j] {
		case '\\':
			if escapes {
				j++
			}
		case q:
			if j+1 < len(query) && query[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(query)
}

// blockComment returns the end of a /* comment */ starting at i, counting
// nested comments as PostgreSQL does.
func blockComment(query string, i int) int {
	depth := 0
	for j := i; j+1 < len(query); j++ {
		switch {
		case query[j] == '/' && query[j+1] == '*':
			depth++
			j++
		case query[j] == '*' && query[j+1] == '/':
			depth--
			j++
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(query)
}

// dollarQuoted returns the end of a $tag$…$tag$ string starting at i, or
// i+1 if the '$' does not open one (a $1 parameter, say).
func dollarQuoted(query string, i int) int {
	j := i + 1
	for j < len(query) && query[j] != '$' {
		c := query[j]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 || j > i+1 && c >= '0' && c <= '9') {
			return i + 1
		}
		j++
	}
	if j >= len(query) {
		return i + 1
	}
	tag := query[i : j+1]
	end := strings.Index(query[j+1:], tag)
	if end < 0 {
		return len(query)
	}
	return j + 1 + end + len(tag)
}

// isIdentChar reports whether b can be part of an identifier or keyword
// (any byte of a multi-byte UTF-8 letter included).
func isIdentChar(b byte) bool {
	return b == '_' || b == '$' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= 0x80
}
