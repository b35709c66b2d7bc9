package commands

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/beian/beian/domain"
)

// Clock tells the time; tests move it.
type Clock interface {
	Now() time.Time
}

// SystemClock is the machine's clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// ErrUnknown is returned by a lookup port that has no record: an
// unregistered domain, a server that does not exist.
var ErrUnknown = errors.New("no such record")

// DomainRegistry answers from WHOIS and the real-name system: registrar,
// expiry, real-name status and registrant of a registered domain (ASCII
// form). It also knows, from MIIT's public filing system, whether the domain
// is filed or in another order.
type DomainRegistry interface {
	LookupDomain(ctx context.Context, name string) (domain.DomainFacts, error)
}

// FilingRegistry is MIIT's public filing system seen from the provider:
// whether an entity (by certificate number) is filed already, or has an
// order under a bureau's review with any provider.
type FilingRegistry interface {
	LookupEntity(ctx context.Context, certificateNumber string) (EntityStatus, error)
}

// EntityStatus is what MIIT knows about an entity.
type EntityStatus struct {
	Filed          bool
	InBureauReview bool
	ICPNumber      string
}

// CloudInventory is the provider's own inventory: servers of an account and
// filing authorization codes.
type CloudInventory interface {
	LookupInstance(ctx context.Context, account, instanceID string) (domain.InstanceFacts, error)
	LookupAuthorizationCode(ctx context.Context, code string) (domain.AuthorizationCodeFacts, error)
}

// NumberAttribution tells the province a mobile number is registered in
// ("" when unknown).
type NumberAttribution interface {
	MobileProvince(ctx context.Context, mobile string) (string, error)
}

// FilingIndex answers questions across filings from the log.
type FilingIndex interface {
	// OpenFiling returns the account's filing in progress, "" if none.
	OpenFiling(ctx context.Context, account string) (string, error)
}

// CertificateOCR reads a certificate image for the mini-program's autofill.
type CertificateOCR interface {
	Recognize(ctx context.Context, image io.Reader) (OCRResult, error)
}

// OCRResult is what OCR read, each field with its confidence in [0, 1].
type OCRResult struct {
	Name       OCRField
	Number     OCRField
	Address    OCRField
	ValidUntil OCRField
}

// OCRField is one recognised field.
type OCRField struct {
	Value      string
	Confidence float64
}

// LivenessVerifier opens video verification sessions with the liveness
// provider; the verdict comes back as PassLiveness or FailLiveness.
type LivenessVerifier interface {
	StartSession(ctx context.Context, req LivenessRequest) (LivenessSession, error)
}

// LivenessRequest identifies whom the provider must verify.
type LivenessRequest struct {
	FilingID  string
	WebsiteID string
	Name      string
	// CertificateNumber is sent to the provider, which compares the face with
	// the certificate holder's.
	CertificateNumber string
}

// LivenessSession is an open session: its id and where the principal goes.
type LivenessSession struct {
	ID  string
	URL string
}

// SMSPlatform is MIIT's SMS verification platform (12381): it sends each
// recipient a code and tells the provider which.
type SMSPlatform interface {
	SendCodes(ctx context.Context, filingID string, mobiles []string) (map[string]string, error)
}

// The refusals of BlobStore.Put.
var (
	ErrBlobTooLarge = errors.New("file too large")
	ErrBlobType     = errors.New("only JPEG, PNG and PDF files are accepted")
	ErrBlobEmpty    = errors.New("empty file")
)

// BlobStore keeps uploaded materials, content-addressed by SHA-256.
type BlobStore interface {
	// Put stores the content if it is an accepted type within the size limit.
	Put(ctx context.Context, r io.Reader) (BlobInfo, error)
	Stat(ctx context.Context, sha256 string) (BlobInfo, error)
	Open(ctx context.Context, sha256 string) (io.ReadCloser, error)
}

// BlobInfo describes a stored blob; ContentType is sniffed from the content.
type BlobInfo struct {
	SHA256      string
	Size        int64
	ContentType string
}
