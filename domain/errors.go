package domain

import (
	"fmt"
	"strings"
)

// Message is a human-readable text in Chinese and English. Clients show the
// language of their user; logs carry both.
type Message struct {
	Zh string `json:"zh"`
	En string `json:"en"`
}

// msg builds a Message from two format strings given the same arguments.
// Each language uses the arguments it needs (the English text names a
// province in English, the Chinese one in Chinese), so the unused ones that
// fmt reports at the end are cut off.
func msg(zh, en string, args ...any) Message {
	return Message{Zh: format(zh, args), En: format(en, args)}
}

func format(f string, args []any) string {
	s := fmt.Sprintf(f, args...)
	if i := strings.LastIndex(s, "%!(EXTRA "); i >= 0 && !strings.Contains(f, "%!(EXTRA ") {
		s = s[:i]
	}
	return s
}

// Problem is one broken rule: a stable code that clients branch on and a
// message for people. Validators return a *Problem; the aggregate places it at
// a field path.
type Problem struct {
	Code    string  `json:"code"`
	Message Message `json:"message"`
}

func (p *Problem) Error() string { return p.Code + ": " + p.Message.En }

func problem(code, zh, en string, args ...any) *Problem {
	return &Problem{Code: code, Message: msg(zh, en, args...)}
}

// FieldError is a Problem at a field path such as "entity.principal.mobile"
// or "websites[0].domains[1]".
type FieldError struct {
	Path    string  `json:"path"`
	Code    string  `json:"code"`
	Message Message `json:"message"`
}

// ValidationError lists every failing field of a command at once.
type ValidationError struct {
	Fields []FieldError `json:"fields"`
}

func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		parts = append(parts, f.Path+": "+f.Code)
	}
	return "validation failed: " + strings.Join(parts, "; ")
}

// Has reports whether the error lists code at path; tests and callers use it
// instead of matching messages.
func (e *ValidationError) Has(path, code string) bool {
	for _, f := range e.Fields {
		if f.Path == path && f.Code == code {
			return true
		}
	}
	return false
}

// InvalidStateError says a command does not apply to the filing in its
// current status. Status is StatusNone when the filing does not exist.
type InvalidStateError struct {
	Command string
	Status  Status
	Reason  Message
}

func (e *InvalidStateError) Error() string {
	return fmt.Sprintf("%s is not allowed when the filing is %s: %s", e.Command, e.Status, e.Reason.En)
}

// problems collects field errors while a command is checked, so that one
// response names every failing field.
type problems struct {
	fields []FieldError
}

// add records p at path; a nil p is ignored so that validators can be called
// inline.
func (ps *problems) add(path string, p *Problem) {
	if p == nil {
		return
	}
	ps.fields = append(ps.fields, FieldError{Path: path, Code: p.Code, Message: p.Message})
}

// addf records a problem built in place.
func (ps *problems) addf(path, code, zh, en string, args ...any) {
	ps.add(path, problem(code, zh, en, args...))
}

// err returns nil when nothing failed, otherwise a *ValidationError.
func (ps *problems) err() error {
	if len(ps.fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: ps.fields}
}
