package api

import "strings"

// countAliases counts the aliases of a GraphQL document: a name followed by
// a colon outside parentheses (inside them colons separate arguments and
// variable types). Strings, block strings and comments are skipped. It is a
// lexer, not a parser: it only has to be right about documents that parse.
func countAliases(doc string) int {
	n, parens := 0, 0
	lastWasName := false
	for i := 0; i < len(doc); {
		c := doc[i]
		switch {
		case c == '#':
			for i < len(doc) && doc[i] != '\n' {
				i++
			}
			continue
		case c == '"' && i+2 < len(doc) && doc[i+1] == '"' && doc[i+2] == '"':
			i += 3
			for i+2 < len(doc) && !(doc[i] == '"' && doc[i+1] == '"' && doc[i+2] == '"') {
				i++
			}
			i += 3
			lastWasName = false
			continue
		case c == '"':
			i++
			for i < len(doc) && doc[i] != '"' {
				if doc[i] == '\\' {
					i++
				}
				i++
			}
			i++
			lastWasName = false
			continue
		case c == '(':
			parens++
		case c == ')':
			parens--
		case c == ':' && parens == 0 && lastWasName:
			n++
		case isNameStart(c):
			for i < len(doc) && isNameChar(doc[i]) {
				i++
			}
			lastWasName = true
			continue
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			i++
			continue
		}
		lastWasName = false
		i++
	}
	return n
}

func isNameStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isNameChar(c byte) bool  { return isNameStart(c) || c >= '0' && c <= '9' }

// introspects reports whether a document asks for __schema or __type
// (__typename is fine). graphql-go answers a disabled introspection with
// null; a refusal says why.
func introspects(doc string) bool {
	for _, name := range []string{"__schema", "__type"} {
		for i := 0; ; {
			j := strings.Index(doc[i:], name)
			if j < 0 {
				break
			}
			end := i + j + len(name)
			if end >= len(doc) || !isNameChar(doc[end]) {
				return true
			}
			i = end
		}
	}
	return false
}
