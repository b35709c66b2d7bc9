package privacy

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/beian/beian/domain"
)

// Erased replaces a personal value whose subject was erased.
const Erased = domain.Erased

// sealedPrefix marks a sealed value: "enc:v1:<subject>:<base64 nonce+ciphertext>".
const sealedPrefix = "enc:v1:"

// Protector seals and opens the personal fields of event payloads.
type Protector struct {
	keys   *KeyStore
	lookup []byte // the HMAC key of subject ids
}

// NewProtector derives the subject-id key from the master key, so equal
// certificate numbers give equal subject ids without the number being kept.
func NewProtector(keys *KeyStore, masterKey []byte) *Protector {
	mac := hmac.New(sha256.New, masterKey)
	mac.Write([]byte("beian subject id v1"))
	return &Protector{keys: keys, lookup: mac.Sum(nil)}
}

// SubjectID is the keyed hash that names a data subject: the lookups that
// need equality use it, never the certificate number.
func (p *Protector) SubjectID(certificateNumber string) string {
	mac := hmac.New(sha256.New, p.lookup)
	mac.Write([]byte(strings.ToUpper(strings.TrimSpace(certificateNumber))))
	return hex.EncodeToString(mac.Sum(nil))[:32]
}

// Erase destroys the key of the person with the certificate number (or of
// the subject id itself, when given one).
func (p *Protector) Erase(ctx context.Context, subjectOrCertificate string, at time.Time) (string, bool, error) {
	subject := p.Subject(subjectOrCertificate)
	ok, err := p.keys.Erase(ctx, subject, at)
	return subject, ok, err
}

// Subject is the subject id of a certificate number; a subject id is
// returned as it is.
func (p *Protector) Subject(certificateOrSubject string) string {
	if isSubjectID(certificateOrSubject) {
		return certificateOrSubject
	}
	return p.SubjectID(certificateOrSubject)
}

// Known says whether the subject ever had a key, and whether it was erased.
func (p *Protector) Known(ctx context.Context, subject string) (known, erased bool, err error) {
	return p.keys.Known(ctx, subject)
}

func isSubjectID(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// SealContext says whose data the fields of one filing's events are: the
// entity's owner when the filing is an individual's, and the person behind
// each mobile number of the filing.
type SealContext struct {
	Individual        bool
	EntityCertificate string            // the filing's certificate number (an individual's ID)
	Mobiles           map[string]string // mobile → that principal's certificate number
}

// Seal encrypts the personal fields of a payload.
func (p *Protector) Seal(ctx context.Context, data []byte, sc SealContext) ([]byte, error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	s := sealer{p: p, ctx: ctx, sc: sc, subjects: map[string]string{}}
	v = s.walk(v, "", "")
	if s.err != nil {
		return nil, s.err
	}
	return json.Marshal(v)
}

type sealer struct {
	p        *Protector
	ctx      context.Context
	sc       SealContext
	err      error
	subjects map[string]string // certificate number → subject id, this call's
}

// personFields are sealed under the subject of the person object they are in.
func personFields() []string {
	return []string{"name", "certificateNumber", "officePhone", "mobile", "email"}
}

func (s *sealer) walk(v any, key, subject string) any {
	switch t := v.(type) {
	case map[string]any:
		return s.object(t, key, subject)
	case []any:
		for i := range t {
			t[i] = s.walk(t[i], key, subject)
		}
	}
	return v
}

func (s *sealer) object(m map[string]any, key, subject string) map[string]any {
	cert, isPerson := m["certificateNumber"].(string)
	_, hasType := m["certificateType"]
	switch {
	case isPerson && hasType && key != "": // a principal
		subject = cert
		s.sealKeys(m, subject, personFields()...)
		if ec, ok := m["emergencyContact"].(map[string]any); ok {
			s.sealKeys(ec, subject, "name", "mobile")
		}
		return m
	case key == "entity":
		principal, _ := m["principal"].(map[string]any)
		owner, _ := principal["certificateNumber"].(string)
		s.sealKeys(m, owner, "legalRepresentative")
		if s.sc.Individual { // an individual's entity is the person
			s.sealKeys(m, owner, "name", "certificateAddress", "mailingAddress")
		}
	case key == "facts" && s.sc.Individual: // an individual's domain registrant is the person
		s.sealKeys(m, s.sc.EntityCertificate, "registrantName", "registrantCertificateNumber")
	case key == "" && s.sc.Individual && hasType: // TypeVerified: the individual's ID
		s.sealKeys(m, s.sc.EntityCertificate, "certificateNumber")
	}
	if mobile, ok := m["mobile"].(string); ok { // SMS recipients and codes
		if owner := s.sc.Mobiles[mobile]; owner != "" {
			s.sealKeys(m, owner, "mobile", "certSuffix")
		}
	}
	for k, x := range m {
		if _, nested := x.(map[string]any); nested || isList(x) {
			m[k] = s.walk(x, k, subject)
		}
	}
	return m
}

func isList(v any) bool { _, ok := v.([]any); return ok }

// sealKeys seals the fields of m that are present.
func (s *sealer) sealKeys(m map[string]any, certificate string, keys ...string) {
	for _, k := range keys {
		if v, ok := m[k]; ok {
			m[k] = s.seal(v, certificate)
		}
	}
}

// seal encrypts one string value under the subject of a certificate number.
func (s *sealer) seal(v any, certificate string) any {
	str, ok := v.(string)
	if !ok || str == "" || certificate == "" || strings.HasPrefix(str, sealedPrefix) || s.err != nil {
		return v
	}
	subject, ok := s.subjects[certificate]
	if !ok {
		subject = s.p.SubjectID(certificate)
		s.subjects[certificate] = subject
	}
	gcm, err := s.p.keys.Cipher(s.ctx, subject, true)
	if err != nil {
		s.err = fmt.Errorf("seal for subject %s: %w", subject, err)
		return v
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		s.err = err
		return v
	}
	ct := gcm.Seal(nonce, nonce, []byte(str), []byte(subject))
	return sealedPrefix + subject + ":" + base64.RawStdEncoding.EncodeToString(ct)
}

// Open decrypts every sealed value of a payload; values of erased subjects
// become "[erased]".
func (p *Protector) Open(ctx context.Context, data []byte) ([]byte, error) {
	if !bytes.Contains(data, []byte(sealedPrefix)) { // on every event read: no copy of the payload
		return data, nil
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	var firstErr error
	v = openAll(v, func(s string) string {
		out, err := p.open(ctx, s)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return out
	})
	if firstErr != nil {
		return nil, firstErr
	}
	return json.Marshal(v)
}

func openAll(v any, open func(string) string) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = openAll(x, open)
		}
	case []any:
		for i := range t {
			t[i] = openAll(t[i], open)
		}
	case string:
		if strings.HasPrefix(t, sealedPrefix) {
			return open(t)
		}
	}
	return v
}

func (p *Protector) open(ctx context.Context, sealed string) (string, error) {
	subject, b64, ok := strings.Cut(strings.TrimPrefix(sealed, sealedPrefix), ":")
	if !ok {
		return "", errors.New("malformed sealed value")
	}
	gcm, err := p.keys.Cipher(ctx, subject, false)
	if errors.Is(err, ErrErased) {
		return Erased, nil
	}
	if err != nil {
		return "", err
	}
	ct, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil {
		return "", fmt.Errorf("sealed value of %s: %w", subject, err)
	}
	if len(ct) < gcm.NonceSize() {
		return "", errors.New("sealed value too short")
	}
	plain, err := gcm.Open(nil, ct[:gcm.NonceSize()], ct[gcm.NonceSize():], []byte(subject))
	if err != nil {
		return "", fmt.Errorf("sealed value of %s does not open: %w", subject, err)
	}
	return string(plain), nil
}
