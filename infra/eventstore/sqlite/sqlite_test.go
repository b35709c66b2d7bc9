package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/beian/beian/infra/eventstore"
	"github.com/beian/beian/infra/eventstore/eventstoretest"
	"github.com/beian/beian/infra/eventstore/sqlite"
)

func open(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	eventstoretest.Run(t, eventstoretest.Features{
		New: func(t *testing.T) eventstore.Store {
			return open(t, filepath.Join(t.TempDir(), "events.db"))
		},
		Reopen: func(t *testing.T, s eventstore.Store) eventstore.Store {
			path := s.(*sqlite.Store).Path()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return open(t, path)
		},
	})
}
