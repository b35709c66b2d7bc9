package api

import (
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/beian/beian/domain"
)

// checkText refuses, field by field, text no filing field may hold: NUL
// bytes and malformed UTF-8. encoding/json turns malformed bytes and lone
// surrogate escapes into U+FFFD on the way in, so the replacement character
// is refused too: it only ever stands for text the client did not send
// intact. The domain checks the fields it knows more strictly; this is the
// boundary's check of every string a command carries, ids and keys included.
func checkText(path string, v any) []domain.FieldError {
	var fields []domain.FieldError
	walkStrings(path, reflect.ValueOf(v), func(path, s string) {
		switch {
		case strings.ContainsRune(s, 0):
			fields = append(fields, domain.FieldError{Path: path, Code: domain.CodeInvalidText,
				Message: domain.Message{Zh: "不能包含 NUL 字符", En: "must not contain NUL characters"}})
		case !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError):
			fields = append(fields, domain.FieldError{Path: path, Code: domain.CodeInvalidText,
				Message: domain.Message{Zh: "不是有效的 UTF-8 文本", En: "is not valid UTF-8 text"}})
		}
	})
	return fields
}

// walkStrings calls visit with every string reachable from v and its path.
func walkStrings(path string, v reflect.Value, visit func(path, s string)) {
	switch v.Kind() {
	case reflect.String:
		visit(path, v.String())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkStrings(path, v.Elem(), visit)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walkStrings(path+"["+strconv.Itoa(i)+"]", v.Index(i), visit)
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			walkStrings(path+"."+iter.Key().String(), iter.Key(), visit)
			walkStrings(path+"."+iter.Key().String(), iter.Value(), visit)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() {
				walkStrings(join(path, fieldName(f)), v.Field(i), visit)
			}
		}
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// fieldName is a struct field's name as clients write it: its JSON name,
// or the Go name in lower camel case (FilingID → filingId).
func fieldName(f reflect.StructField) string {
	if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag != "" && tag != "-" {
		return tag
	}
	name := strings.NewReplacer("ID", "Id", "URL", "Url", "SHA", "Sha").Replace(f.Name)
	return strings.ToLower(name[:1]) + name[1:]
}
