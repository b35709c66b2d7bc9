package commands

import (
	"fmt"
	"unicode/utf8"

	"github.com/beian/beian/domain"
)

// maxReason bounds the reason of an audited act, in characters.
const maxReason = 500

// reasonProblem checks the reason an audited act gives (an erasure, a
// reveal of personal data): required, at most maxReason characters. zhName
// names it in the Chinese message.
func reasonProblem(path, reason string, required domain.Message, zhName string) (domain.FieldError, bool) {
	switch {
	case reason == "":
		return domain.FieldError{Path: path, Code: domain.CodeRequired, Message: required}, true
	case utf8.RuneCountInString(reason) > maxReason:
		return domain.FieldError{Path: path, Code: domain.CodeTooLong, Message: domain.Message{
			Zh: fmt.Sprintf("%s不能超过 %d 个字", zhName, maxReason), En: fmt.Sprintf("the reason may have at most %d characters", maxReason)}}, true
	}
	return domain.FieldError{}, false
}
