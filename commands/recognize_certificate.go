package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/beian/beian/domain"
)

// CertificateRecognizer reads an uploaded certificate image for the
// mini-program's autofill. It is a query: it appends nothing.
type CertificateRecognizer struct {
	blobs BlobStore
	ocr   CertificateOCR
}

// NewCertificateRecognizer refuses nil dependencies.
func NewCertificateRecognizer(blobs BlobStore, ocr CertificateOCR) *CertificateRecognizer {
	if blobs == nil || ocr == nil {
		panic("commands.NewCertificateRecognizer: nil dependency")
	}
	return &CertificateRecognizer{blobs: blobs, ocr: ocr}
}

// Recognize runs OCR on the blob with the digest.
func (r *CertificateRecognizer) Recognize(ctx context.Context, actor Actor, sha256 string) (OCRResult, error) {
	if actor.Role != RoleApplicant && actor.Role != RoleAdmin {
		return OCRResult{}, &ForbiddenError{Command: "RecognizeCertificate", Role: actor.Role}
	}
	blob, err := r.blobs.Open(ctx, sha256)
	if errors.Is(err, ErrUnknown) {
		return OCRResult{}, &domain.ValidationError{Fields: []domain.FieldError{blobNotFound()}}
	}
	if err != nil {
		return OCRResult{}, fmt.Errorf("open blob: %w", err)
	}
	defer blob.Close()
	return r.ocr.Recognize(ctx, blob)
}
