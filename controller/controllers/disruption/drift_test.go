package disruption

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/disruptionplan"
	"github.com/nodewright/nodewright/controller/test"
	"github.com/nodewright/nodewright/test/kubetest"
)

// TestDriftedNodeIsReplaced runs the real engine through the loop: a
// drifted node with a pod is tainted and gets a replacement, and goes only
// once the replacement is Initialized; the metrics count it.
func TestDriftedNodeIsReplaced(t *testing.T) {
	np := test.NodePool(test.NodePoolOptions{Name: "drift"})
	np.Spec.Disruption = v1.Disruption{ConsolidationPolicy: v1.ConsolidationPolicyWhenEmpty, ConsolidateAfter: "Never"}
	f := newFixture(t, np, nil)
	f.kwok = true
	f.node("drift-a")
	ns := f.deployment(1)
	nc := f.claims()["drift-a"]
	f.must(kubetest.UpdateStatus(f.ctx, env.Client, nc, func(nc *v1.NodeClaim) {
		nc.SetCondition(v1.ConditionTypeDrifted, metav1.ConditionTrue, "NodePoolDrifted", "nodepool template changed")
	}))
	completed := value(t, decisionsTotal.WithLabelValues(string(disruptionplan.MethodDrift), string(v1.DisruptionReasonDrifted), OutcomeCompleted))
	nodes := value(t, nodesDisruptedTotal.WithLabelValues(string(disruptionplan.MethodDrift), "drift"))

	r := f.pass()
	if len(r.Proposed) != 1 || r.Proposed[0].Method != disruptionplan.MethodDrift || len(r.Proposed[0].Replacements) != 1 {
		t.Fatalf("want one drift decision with a replacement, got %+v", r)
	}
	f.clk.Step(delay)
	if r := f.pass(); len(r.Started) != 1 {
		t.Fatalf("want the drift decision started, got %+v", r)
	}
	reps := f.replacements()
	if len(reps) != 1 || !tainted(f.getNode("drift-a")) || !f.claims()["drift-a"].DeletionTimestamp.IsZero() {
		t.Fatalf("want one replacement and the drifted node tainted, not deleted, got %d replacements", len(reps))
	}
	f.clk.Step(time.Second)
	if r := f.pass(); r.Completed != 0 {
		t.Fatalf("completed before the replacement is initialized: %+v", r)
	}
	f.register(reps[0])
	f.clk.Step(time.Second)
	if r := f.pass(); r.Completed != 1 {
		t.Fatalf("want the drift completed, got %+v", r)
	}
	if !tainted(f.getNode("drift-a")) || f.claims()["drift-a"].DeletionTimestamp.IsZero() {
		t.Fatal("drifted node not tainted and deleted")
	}
	f.settle(ns, 1)
	if got := f.podNodes(ns); got[reps[0].Name] != 1 {
		t.Fatalf("pod did not move to the replacement: %v", got)
	}
	if got := value(t, decisionsTotal.WithLabelValues(string(disruptionplan.MethodDrift), string(v1.DisruptionReasonDrifted), OutcomeCompleted)); got != completed+1 {
		t.Fatalf("decisions_total{completed}: want %v, got %v", completed+1, got)
	}
	if got := value(t, nodesDisruptedTotal.WithLabelValues(string(disruptionplan.MethodDrift), "drift")); got != nodes+1 {
		t.Fatalf("nodes_disrupted_total: want %v, got %v", nodes+1, got)
	}
	if ev := f.events(); !contains(ev, "Normal Drifted", "nodepool template changed") {
		t.Fatalf("want a Drifted event, got %q", ev)
	}
}

// value reads a counter.
func value(t *testing.T, c prometheus.Counter) float64 {
	m := &dto.Metric{}
	if err := c.Write(m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
