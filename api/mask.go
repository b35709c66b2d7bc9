package api

import (
	"strings"
	"unicode/utf8"

	"github.com/beian/beian/commands"
	"github.com/beian/beian/domain"
)

// seesPersonalData says whether a role reads personal data unmasked
// without asking: only the applicant, on their own filing. Staff see it
// masked; reviewers, the bureau and admins may reveal it with a reason,
// and every such read is recorded (see resolver.reveal).
func seesPersonalData(role string) bool {
	return role == commands.RoleApplicant
}

// masker masks personal data for roles that do not need it, and passes it
// through for those that do. "[erased]" is not personal data: it stays.
type masker struct{ on bool }

func (m masker) off(s string) bool { return !m.on || s == "" || s == domain.Erased }

func maskerFor(role string) masker { return masker{on: !seesPersonalData(role)} }

// id keeps the first six and last four characters of an ID number.
func (m masker) id(s string) string {
	if m.off(s) {
		return s
	}
	if len(s) <= 10 {
		return strings.Repeat("*", len(s))
	}
	return s[:6] + strings.Repeat("*", len(s)-10) + s[len(s)-4:]
}

// phone keeps the first three and last four digits.
func (m masker) phone(s string) string {
	if m.off(s) {
		return s
	}
	if len(s) <= 7 {
		return strings.Repeat("*", len(s))
	}
	return s[:3] + strings.Repeat("*", len(s)-7) + s[len(s)-4:]
}

// email keeps the first character of the local part and the domain.
func (m masker) email(s string) string {
	if m.off(s) {
		return s
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" {
		return "***"
	}
	r, _ := utf8.DecodeRuneInString(local)
	return string(r) + "***@" + domain
}

// address keeps the first six characters (province and city).
func (m masker) address(s string) string {
	if m.off(s) {
		return s
	}
	runes := []rune(s)
	if len(runes) <= 6 {
		return "****"
	}
	return string(runes[:6]) + "****"
}
