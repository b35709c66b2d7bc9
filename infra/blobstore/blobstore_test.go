package blobstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"

	"github.com/beian/beian/commands"
)

var (
	pngHeader = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	pdfHeader = []byte("%PDF-1.7\n")
	jpgHeader = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00")
)

func TestPutStatOpen(t *testing.T) {
	s, err := New(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		content []byte
		typ     string
	}{{append(pngHeader, "rest"...), "image/png"}, {append(pdfHeader, "body"...), "application/pdf"}, {append(jpgHeader, "x"...), "image/jpeg"}} {
		info, err := s.Put(ctx, bytes.NewReader(tc.content))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(tc.content)
		if info.SHA256 != hex.EncodeToString(sum[:]) || info.Size != int64(len(tc.content)) || info.ContentType != tc.typ {
			t.Fatalf("put: %+v", info)
		}
		stat, err := s.Stat(ctx, info.SHA256)
		if err != nil || stat != info {
			t.Fatalf("stat: %+v %v", stat, err)
		}
		r, err := s.Open(ctx, info.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(r)
		r.Close()
		if !bytes.Equal(got, tc.content) {
			t.Fatal("content changed")
		}
	}
}

func TestPutRefuses(t *testing.T) {
	s, _ := New(t.TempDir(), 64)
	ctx := context.Background()
	if _, err := s.Put(ctx, bytes.NewReader([]byte("GIF89a......"))); !errors.Is(err, commands.ErrBlobType) {
		t.Fatalf("gif: %v", err)
	}
	if _, err := s.Put(ctx, bytes.NewReader([]byte("<html><script>alert(1)</script>"))); !errors.Is(err, commands.ErrBlobType) {
		t.Fatalf("html named .png would pass by name: %v", err)
	}
	if _, err := s.Put(ctx, bytes.NewReader(append(pngHeader, make([]byte, 100)...))); !errors.Is(err, commands.ErrBlobTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	if _, err := s.Put(ctx, bytes.NewReader(nil)); !errors.Is(err, commands.ErrBlobEmpty) {
		t.Fatalf("empty: %v", err)
	}
	for _, bad := range []string{"../../etc/passwd", "ABC", ""} {
		if _, err := s.Stat(ctx, bad); !errors.Is(err, commands.ErrUnknown) {
			t.Fatalf("stat %q: %v", bad, err)
		}
	}
}
