package disruption

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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

// TestMalformedBudgetSkipsOnlyItsPool runs the real engine through the
// loop: a pool whose budget schedule cannot be parsed keeps its empty node
// (and gets an event), while another pool's empty node goes as usual.
func TestMalformedBudgetSkipsOnlyItsPool(t *testing.T) {
	f := newFixture(t, emptyPool("iso-good", "100%"), nil)
	broken := emptyPool("iso-broken", "100%")
	// The API schema's pattern lets an out-of-range hour through.
	bad := "0 25 * * *"
	broken.Spec.Disruption.Budgets = append(broken.Spec.Disruption.Budgets,
		v1.Budget{Nodes: "0", Schedule: &bad, Duration: &metav1.Duration{Duration: time.Hour}})
	fb := newFixture(t, broken, nil)
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
		if strings.Contains(ev, ReasonBudgetsInvalid) && strings.Contains(ev, `cron "0 25 * * *"`) {
			found = true
		}
	}
	if !found {
		t.Errorf("no %s event for nodepool iso-broken", ReasonBudgetsInvalid)
	}
}
