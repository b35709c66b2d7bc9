// Package blobstore keeps uploaded materials on the filesystem under the
// data directory, content-addressed: a blob's name is its SHA-256, so the
// same file stored twice is one file and a name says nothing about a person.
// Only JPEG, PNG and PDF are accepted, judged by content, not by name.
package blobstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"

	"github.com/beian/beian/commands"
)

// Accepted content types.
var accepted = [...]string{"image/jpeg", "image/png", "application/pdf"}

// Store is a directory of blobs.
type Store struct {
	dir     string
	maxSize int64
}

// New opens (creating) a blob directory; maxSize bounds each blob.
func New(dir string, maxSize int64) (*Store, error) {
	if maxSize <= 0 {
		return nil, errors.New("blobstore: max size must be positive")
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o750); err != nil {
		return nil, fmt.Errorf("blobstore: %w", err)
	}
	return &Store{dir: dir, maxSize: maxSize}, nil
}

func (s *Store) path(sum string) string { return filepath.Join(s.dir, sum[:2], sum) }

// Put streams r to a temporary file while hashing it, checks size and type,
// fsyncs, and moves it to its content address.
func (s *Store) Put(ctx context.Context, r io.Reader) (commands.BlobInfo, error) {
	tmp, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "upload-*")
	if err != nil {
		return commands.BlobInfo{}, fmt.Errorf("blobstore: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	defer tmp.Close()
	h := sha256.New()
	head := &prefix{max: 512}
	n, err := io.Copy(io.MultiWriter(tmp, h, head), io.LimitReader(r, s.maxSize+1))
	switch {
	case err != nil:
		return commands.BlobInfo{}, fmt.Errorf("blobstore: read upload: %w", err)
	case n == 0:
		return commands.BlobInfo{}, commands.ErrBlobEmpty
	case n > s.maxSize:
		return commands.BlobInfo{}, fmt.Errorf("%w: limit %d bytes", commands.ErrBlobTooLarge, s.maxSize)
	case ctx.Err() != nil:
		return commands.BlobInfo{}, ctx.Err()
	}
	contentType := http.DetectContentType(head.b)
	if !slices.Contains(accepted[:], contentType) {
		return commands.BlobInfo{}, fmt.Errorf("%w (got %s)", commands.ErrBlobType, contentType)
	}
	if err := tmp.Sync(); err != nil {
		return commands.BlobInfo{}, fmt.Errorf("blobstore: sync: %w", err)
	}
	info := commands.BlobInfo{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n, ContentType: contentType}
	if err := os.MkdirAll(filepath.Dir(s.path(info.SHA256)), 0o750); err != nil {
		return commands.BlobInfo{}, fmt.Errorf("blobstore: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path(info.SHA256)); err != nil {
		return commands.BlobInfo{}, fmt.Errorf("blobstore: %w", err)
	}
	return info, nil
}

// Stat describes a stored blob; commands.ErrUnknown if there is none.
func (s *Store) Stat(_ context.Context, sum string) (commands.BlobInfo, error) {
	f, err := s.open(sum)
	if err != nil {
		return commands.BlobInfo{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return commands.BlobInfo{}, fmt.Errorf("blobstore: %w", err)
	}
	head := make([]byte, 512)
	k, _ := io.ReadFull(f, head)
	return commands.BlobInfo{SHA256: sum, Size: fi.Size(), ContentType: http.DetectContentType(head[:k])}, nil
}

// Open returns the blob's content; commands.ErrUnknown if there is none.
func (s *Store) Open(_ context.Context, sum string) (io.ReadCloser, error) {
	return s.open(sum)
}

func (s *Store) open(sum string) (*os.File, error) {
	if !isDigest(sum) {
		return nil, fmt.Errorf("blob %q: %w", sum, commands.ErrUnknown)
	}
	f, err := os.Open(s.path(sum))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", sum, commands.ErrUnknown)
	}
	if err != nil {
		return nil, fmt.Errorf("blobstore: %w", err)
	}
	return f, nil
}

// isDigest keeps names to 64 lower-case hex digits: nothing else reaches the
// filesystem as a path.
func isDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// prefix keeps the first bytes written, for content sniffing.
type prefix struct {
	b   []byte
	max int
}

func (p *prefix) Write(b []byte) (int, error) {
	if room := p.max - len(p.b); room > 0 {
		p.b = append(p.b, b[:min(room, len(b))]...)
	}
	return len(b), nil
}
