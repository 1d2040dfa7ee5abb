package disruption

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/disruptionplan"
	"github.com/nodewright/nodewright/controller/test"
)

// emptyPool is a pool whose empty nodes may go at once, within budget.
func emptyPool(name, budget string) *v1.NodePool {
	np := test.NodePool(test.NodePoolOptions{Name: name})
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

// TestMalformedBudgetSkipsOnlyItsPool runs the real engine through the
// loop: a pool whose budget schedule cannot be parsed keeps its empty node
// (and gets an event), while another pool's empty node goes as usual.
func TestMalformedBudgetSkipsOnlyItsPool(t *testing.T) {
	f := newFixture(t, emptyPool("iso-good", "100%"), nil)
	broken := emptyPool("iso-broken", "100%")
	broken.Spec.Disruption.Budgets = append(broken.Spec.Disruption.Budgets,
		v1.Budget{Nodes: "0", Schedule: ptr.To("0 9 * * *"), Duration: &metav1.Duration{Duration: time.Hour}})
	fb := newFixture(t, broken, nil)
	// The API server now admits only schedules the controller parses, but a
	// pool stored under an older, looser CRD keeps its value (validation
	// ratchets): the pass sees such a pool as the API server serves it.
	bad := "0 25 * * *"
	f.c.newSnapshot = func(o disruptionplan.Objects) (*disruptionplan.Snapshot, error) {
		for _, np := range o.NodePools {
			if np.Name == broken.Name {
				np.Spec.Disruption.Budgets[1].Schedule = &bad
			}
		}
		return disruptionplan.NewSnapshot(o)
	}
	f.node("iso-good-a")
	fb.node("iso-broken-a")

	f.clk.Step(time.Minute)
	r := f.pass()
	if len(r.Proposed) != 1 || len(r.Proposed[0].Candidates) != 1 || r.Proposed[0].Candidates[0].NodeClaim != "iso-good-a" {
		t.Fatalf("want one decision on iso-good-a, got %+v", r)
	}
	f.clk.Step(delay)
	if r := f.pass(); r.Completed != 1 {
		t.Fatalf("want the decision carried out, got %+v", r)
	}
	if nc := f.claims()["iso-good-a"]; nc == nil || nc.DeletionTimestamp.IsZero() {
		t.Errorf("iso-good-a not deleted")
	}
	if nc := fb.claims()["iso-broken-a"]; nc == nil || !nc.DeletionTimestamp.IsZero() || tainted(fb.getNode("iso-broken-a")) {
		t.Errorf("iso-broken-a disrupted despite budgets that cannot be evaluated")
	}
	found := false
	for _, ev := range f.events() {
		if strings.Contains(ev, ReasonBudgetsInvalid) && strings.Contains(ev, `schedule "0 25 * * *"`) {
			found = true
		}
	}
	if !found {
		t.Errorf("no %s event for nodepool iso-broken", ReasonBudgetsInvalid)
	}
}
