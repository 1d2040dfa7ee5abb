package disruption

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodewright/nodewright/controller/controllers/internal/testutil"
	"github.com/nodewright/nodewright/controller/disruption"
)

// TestLoopRunsOnTheIntervalAndOnTrigger: Start runs a pass every Interval
// of clock time, and a trigger brings the next one forward.
func TestLoopRunsOnTheIntervalAndOnTrigger(t *testing.T) {
	var passes atomic.Int32
	f := newFixture(t, nil, func(*disruption.Snapshot) (*disruption.Result, error) {
		passes.Add(1)
		return &disruption.Result{}, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = f.c.Start(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	waitTimer := func() {
		testutil.Eventually(t, 10*time.Second, "the loop to wait on its timer", f.clk.HasWaiters)
	}
	waitTimer()
	f.clk.Step(f.c.opts.Interval - time.Second)
	time.Sleep(200 * time.Millisecond)
	if n := passes.Load(); n != 0 {
		t.Fatalf("a pass before the interval: %d", n)
	}
	f.clk.Step(time.Second)
	testutil.Eventually(t, 10*time.Second, "the first pass", func() bool { return passes.Load() == 1 })

	// A change: the next pass comes after minGap, not a whole Interval.
	waitTimer()
	f.c.Trigger()
	stepped := time.Duration(0)
	testutil.Eventually(t, 20*time.Second, "a triggered pass", func() bool {
		if passes.Load() == 2 {
			return true
		}
		f.clk.Step(250 * time.Millisecond)
		stepped += 250 * time.Millisecond
		return false
	})
	if stepped >= f.c.opts.Interval {
		t.Fatalf("the triggered pass came only after %s", stepped)
	}
}
