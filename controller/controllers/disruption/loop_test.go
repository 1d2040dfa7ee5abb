package disruption

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/nodewright/nodewright/controller/engine/disruptionplan"
	"github.com/nodewright/nodewright/controller/test/expectations"
)

// TestLoopRunsOnTheIntervalAndOnTrigger: Start runs a pass every Interval
// of clock time, and a trigger brings the next one forward.
func TestLoopRunsOnTheIntervalAndOnTrigger(t *testing.T) {
	var passes atomic.Int32
	f := newFixture(t, nil, func(*disruptionplan.Snapshot) (*disruptionplan.Result, error) {
		passes.Add(1)
		return &disruptionplan.Result{}, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = f.c.Start(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	waitTimer := func() {
		expectations.Eventually(t, 30*time.Second, "the loop to wait on its timer", f.clk.HasWaiters)
	}
	waitTimer()
	armed := f.clk.Waiters()
	// Step fires every due timer before it returns, and a fired timer
	// leaves the clock's waiters; a pass only ever follows the timer.
	f.clk.Step(f.c.opts.Interval - time.Second)
	if n, w := passes.Load(), f.clk.Waiters(); n != 0 || w != armed {
		t.Fatalf("a pass before the interval: %d passes, %d of %d timers still armed", n, w, armed)
	}
	f.clk.Step(time.Second)
	expectations.Eventually(t, 30*time.Second, "the first pass", func() bool { return passes.Load() == 1 })

	// A change: the next pass comes after minGap, not a whole Interval.
	waitTimer()
	f.c.Trigger()
	stepped := time.Duration(0)
	expectations.Eventually(t, 20*time.Second, "a triggered pass", func() bool {
		if passes.Load() == 2 {
			return true
		}
		// Time moves only while the loop waits on its timer: a pass slowed
		// down by a loaded apiserver must not look like a late one.
		if f.clk.HasWaiters() {
			f.clk.Step(250 * time.Millisecond)
			stepped += 250 * time.Millisecond
		}
		return false
	})
	if stepped >= f.c.opts.Interval {
		t.Fatalf("the triggered pass came only after %s", stepped)
	}
}

// TestPodEventsRestartConsolidateAfter: a pod arriving on or leaving a node
// is written to its claim's lastPodEventTime on the next pass; the initial
// list and daemonset pods are not.
func TestPodEventsRestartConsolidateAfter(t *testing.T) {
	f := newFixture(t, nil, func(*disruptionplan.Snapshot) (*disruptionplan.Result, error) { return &disruptionplan.Result{}, nil })
	name := f.pool.Name + "-a"
	f.node(name)
	h := f.c.podHandler()
	bound := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"}, Spec: corev1.PodSpec{NodeName: name}}
	ds := bound.DeepCopy()
	ds.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "d", UID: "u", Controller: ptr.To(true)}}

	h.OnAdd(bound, true)
	h.OnAdd(ds, false)
	f.pass()
	if got := f.claims()[name].Status.LastPodEventTime; !got.IsZero() {
		t.Fatalf("initial list or a daemonset pod counted as a pod event: %v", got)
	}
	f.clk.Step(time.Minute)
	h.OnAdd(bound, false)
	f.pass()
	if got := f.claims()[name].Status.LastPodEventTime.Time; !got.Equal(f.clk.Now()) {
		t.Fatalf("arrival: want lastPodEventTime %v, got %v", f.clk.Now(), got)
	}
	f.clk.Step(time.Minute)
	h.OnUpdate(bound, bound.DeepCopy()) // status churn only
	f.pass()
	if got := f.claims()[name].Status.LastPodEventTime.Time; got.Equal(f.clk.Now()) {
		t.Fatal("status churn counted as a pod event")
	}
	h.OnDelete(bound)
	f.pass()
	if got := f.claims()[name].Status.LastPodEventTime.Time; !got.Equal(f.clk.Now()) {
		t.Fatalf("departure: want lastPodEventTime %v, got %v", f.clk.Now(), got)
	}
}
