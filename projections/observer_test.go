package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/beian/beian/projections"
)

// TestObserverFollowsTheRunner: a replica without a runner sees, through
// the read store alone, no projection before one is built, then each
// position the runner reaches, and can wait for it (read-your-writes).
func TestObserverFollowsTheRunner(t *testing.T) {
	eachReadStore(t, testObserverFollowsTheRunner)
}

func testObserverFollowsTheRunner(t *testing.T, b backend) {
	s := newStores(t, b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ps := []projections.Projection{projections.Filings{}, projections.Audit{}}
	o := projections.NewObserver(s.read, ps, 5*time.Millisecond)
	go o.Run(ctx)
	pos := s.file(t, "f1", lifeCommands("f1", "wangwu.cn")...)
	short, stop := context.WithTimeout(ctx, 100*time.Millisecond)
	if err := o.WaitFor(short, "filings", pos); err == nil {
		t.Fatal("waited for a position no runner applied")
	}
	stop()
	if err := o.Ready(); err == nil {
		t.Fatal("ready before any projection was built")
	}

	r := s.runner(t, ctx, ps...)
	for _, p := range ps {
		if err := o.WaitFor(ctx, p.Name(), pos); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.Ready(); err != nil {
		t.Fatalf("not ready once built: %v", err)
	}
	more := s.file(t, "f2", lifeCommands("f2", "zhangsan.cn")...)
	wait, stop := context.WithTimeout(ctx, 30*time.Second)
	defer stop()
	for _, p := range ps {
		if err := o.WaitFor(wait, p.Name(), more); err != nil {
			t.Fatal(err)
		}
	}
	want := r.Status()
	for i, got := range o.Status() {
		if got.Name != want[i].Name || got.Generation != want[i].Generation || got.Position < more {
			t.Fatalf("observer %+v, runner %+v", got, want[i])
		}
	}
}
