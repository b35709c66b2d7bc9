package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/beian/beian/domain"
)

// CodeBlobNotFound: the material names a blob that was never uploaded.
const CodeBlobNotFound = "material.blob_not_found"

// UploadMaterial attaches an uploaded blob to the filing as a material
// (step 6). Size and content type come from the blob store, not the client.
type UploadMaterial struct {
	FilingID string
	Kind     string
	Scope    string
	SHA256   string
}

type uploadMaterialHandler struct {
	exec  *Executor
	blobs BlobStore
}

// NewUploadMaterialHandler returns the handler, wrapped in logging and metrics.
func NewUploadMaterialHandler(exec *Executor, blobs BlobStore, logger *slog.Logger, metrics Metrics) Handler[UploadMaterial] {
	if exec == nil || blobs == nil || logger == nil || metrics == nil {
		panic("commands.NewUploadMaterialHandler: nil dependency")
	}
	return decorate[UploadMaterial]("UploadMaterial", uploadMaterialHandler{exec: exec, blobs: blobs}, logger, metrics)
}

func (h uploadMaterialHandler) Handle(ctx context.Context, m Meta, c UploadMaterial) (Result, error) {
	return h.exec.run(ctx, c.FilingID, m, "UploadMaterial", c, func(ctx context.Context, _ domain.Filing, now time.Time) (domain.Command, []domain.FieldError, error) {
		material := domain.Material{Kind: c.Kind, Scope: c.Scope, SHA256: c.SHA256}
		var problems []domain.FieldError
		info, err := h.blobs.Stat(ctx, c.SHA256)
		switch {
		case errors.Is(err, ErrUnknown):
			problems = append(problems, blobNotFound())
		case err != nil:
			return nil, nil, fmt.Errorf("stat blob: %w", err)
		default:
			material.Size, material.ContentType = info.Size, info.ContentType
		}
		return domain.UploadMaterial{Material: material, At: now}, problems, nil
	})
}

func blobNotFound() domain.FieldError {
	return domain.FieldError{Path: "sha256", Code: CodeBlobNotFound,
		Message: domain.Message{Zh: "找不到该文件，请先上传", En: "no uploaded file has this digest; upload it first"}}
}
