package interruption

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

func TestDrainer(t *testing.T) {
	h := newHarness(t, RebalanceReplace, "10%", "a", "b")
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakeClock(now)
	d := NewDrainer(h.kube, clk, events.NewFakeRecorder(10), newTracker(h.kube, clk))
	repl := &v1.NodeClaim{ObjectMeta: metav1.ObjectMeta{Name: "repl"}}
	if err := h.kube.Create(ctx, repl); err != nil {
		t.Fatal(err)
	}
	annotate := func(name string, replacements string) *v1.NodeClaim {
		nc := h.claim(name)
		nc.Annotations = map[string]string{KindAnnotationKey: "spot_interruption", MessageTimeAnnotationKey: now.Format(time.RFC3339),
			DeleteByAnnotationKey: now.Add(time.Minute).Format(time.RFC3339), ReplacementsAnnotationKey: replacements}
		if err := h.kube.Update(ctx, nc); err != nil {
			t.Fatal(err)
		}
		return nc
	}

	// 1. Replacement not launched, deadline ahead: wait.
	a := annotate("a", "repl")
	res, err := d.Reconcile(ctx, a)
	if err != nil || res.RequeueAfter != DrainPoll || !h.claim("a").DeletionTimestamp.IsZero() {
		t.Fatalf("before launch: %+v, %v, deleted %v", res, err, !h.claim("a").DeletionTimestamp.IsZero())
	}
	// 2. Replacement launched but its node not up yet: still wait.
	repl.SetCondition(v1.ConditionTypeLaunched, metav1.ConditionTrue, "Launched", "")
	if err := h.kube.Update(ctx, repl); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Reconcile(ctx, h.claim("a")); err != nil || !h.claim("a").DeletionTimestamp.IsZero() {
		t.Fatalf("launched, not initialized: %v, deleted %v", err, !h.claim("a").DeletionTimestamp.IsZero())
	}
	// 3. Replacement Initialized: deleted.
	repl.SetCondition(v1.ConditionTypeInitialized, metav1.ConditionTrue, "Initialized", "")
	if err := h.kube.Update(ctx, repl); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Reconcile(ctx, h.claim("a")); err != nil || h.claim("a").DeletionTimestamp.IsZero() {
		t.Fatalf("after initialization: %v, not deleted", err)
	}
	// 4. A replacement that never comes up: deleted at the deadline.
	b := annotate("b", "missing")
	if _, err := d.Reconcile(ctx, b); err != nil || !h.claim("b").DeletionTimestamp.IsZero() {
		t.Fatalf("missing replacement before deadline: %v", err)
	}
	clk.Step(time.Minute)
	if _, err := d.Reconcile(ctx, h.claim("b")); err != nil || h.claim("b").DeletionTimestamp.IsZero() {
		t.Fatalf("at the deadline: %v, not deleted", err)
	}
}
