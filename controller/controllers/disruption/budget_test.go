package disruption

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/controllers/internal/testutil"
)

// emptyPool is a pool whose empty nodes may go at once, within budget.
func emptyPool(name, budget string) *v1.NodePool {
	np := testutil.NodePool(name)
	np.Spec.Disruption = v1.Disruption{ConsolidationPolicy: v1.ConsolidationPolicyWhenEmpty, ConsolidateAfter: "30s",
		Budgets: []v1.Budget{{Nodes: budget}}}
	return np
}

// TestBudgetZeroBlocksEmptiness runs the real engine through the loop: a
// budget of 0 keeps two empty nodes for ten minutes; raised to 1, exactly
// one goes.
func TestBudgetZeroBlocksEmptiness(t *testing.T) {
	f := newFixture(t, emptyPool("budget-zero", "0"), nil)
	f.node("budget-zero-a")
	f.node("budget-zero-b")
	for range 60 {
		f.clk.Step(10 * time.Second)
		if r := f.pass(); len(r.Proposed)+len(r.Started) != 0 {
			t.Fatalf("budget 0, yet a decision: %+v", r)
		}
	}
	for name, nc := range f.claims() {
		if !nc.DeletionTimestamp.IsZero() || tainted(f.getNode(name)) {
			t.Fatalf("%s disrupted under a budget of 0", name)
		}
	}

	patch := []byte(`{"spec":{"disruption":{"budgets":[{"nodes":"1"}]}}}`)
	f.must(env.Client.Patch(f.ctx, f.pool, client.RawPatch(types.MergePatchType, patch)))
	r := f.pass()
	if len(r.Proposed) != 1 || len(r.Proposed[0].Candidates) != 1 {
		t.Fatalf("budget 1: want one decision of one node, got %+v", r)
	}
	f.clk.Step(delay)
	if r := f.pass(); r.Completed != 1 {
		t.Fatalf("budget 1: want the decision carried out, got %+v", r)
	}
	deleted := 0
	for _, nc := range f.claims() {
		if !nc.DeletionTimestamp.IsZero() {
			deleted++
		}
	}
	if deleted != 1 {
		t.Fatalf("budget 1: want exactly one claim deleted, got %d", deleted)
	}
	// The deleting node counts against the budget: nothing more.
	f.clk.Step(10 * time.Second)
	if r := f.pass(); len(r.Proposed) != 0 {
		t.Fatalf("budget 1 is used up, yet %+v", r)
	}
}

// nextWeekday is the first time after now that falls on day at hh:mm UTC.
func nextWeekday(now time.Time, day time.Weekday, hh, mm int) time.Time {
	t := time.Date(now.Year(), now.Month(), now.Day(), hh, mm, 0, 0, time.UTC)
	for !t.After(now) || t.Weekday() != day {
		t = t.AddDate(0, 0, 1)
	}
	return t
}

// TestBudgetDayNamesWindow: a zero budget open "0 9 * * mon-fri" for 8 h
// holds empty nodes on a Wednesday morning and lets them go once the
// window has closed. Before schedules took day names, every pass failed.
func TestBudgetDayNamesWindow(t *testing.T) {
	np := emptyPool("budget-weekdays", "100%")
	np.Spec.Disruption.Budgets = []v1.Budget{
		{Nodes: "0", Schedule: ptr.To("0 9 * * mon-fri"), Duration: &metav1.Duration{Duration: 8 * time.Hour}},
		{Nodes: "100%"},
	}
	f := newFixture(t, np, nil)
	f.node("budget-weekdays-a")
	f.node("budget-weekdays-b")

	wednesday := nextWeekday(f.clk.Now(), time.Wednesday, 10, 0)
	f.clk.SetTime(wednesday)
	for range 30 {
		f.clk.Step(10 * time.Second)
		if r := f.pass(); len(r.Proposed)+len(r.Started) != 0 {
			t.Fatalf("inside the mon-fri window at %s, yet a decision: %+v", f.clk.Now(), r)
		}
	}
	f.clk.SetTime(wednesday.Add(7 * time.Hour)) // 17:00, the window has closed
	r := f.pass()
	if len(r.Proposed) != 1 || len(r.Proposed[0].Candidates) != 2 {
		t.Fatalf("after the window closed at %s: want one decision for both empty nodes, got %+v", f.clk.Now(), r)
	}
}
