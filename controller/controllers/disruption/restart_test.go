package disruption

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider/fake"
	"github.com/nodewright/nodewright/controller/engine/disruptionplan"
	"github.com/nodewright/nodewright/controller/test"
	"github.com/nodewright/nodewright/test/kubetest"
)

// restart is a new Controller over the same apiserver and clock, with an
// engine that decides nothing: what it does comes from the records alone.
func (f *fixture) restart() *Controller {
	c := NewController(env.Client, fake.New(test.InstanceTypes()), f.clk, f.rec, Options{ValidationDelay: delay,
		Evaluator: func(*disruptionplan.Snapshot) (*disruptionplan.Result, error) { return &disruptionplan.Result{}, nil }})
	c.newSnapshot = joinOnly
	return c
}

func (f *fixture) passOf(c *Controller) Report {
	f.t.Helper()
	r, err := c.Pass(f.ctx)
	if err != nil {
		f.t.Fatalf("pass: %v", err)
	}
	return r
}

// A restart while the replacement launches: the new run waits for it, then
// deletes the candidate once; neither it, a third run, nor the old run's
// command still in memory deletes or counts the candidate again.
func TestRestartResumesAndFinishes(t *testing.T) {
	f, cand, rep := launch(t)
	counted := value(t, nodesDisruptedTotal.WithLabelValues(string(disruptionplan.MethodSingleNodeConsolidation), f.pool.Name))
	c2 := f.restart()
	if r := f.passOf(c2); r.Resumed != 1 || r.Completed+r.Failed != 0 {
		t.Fatalf("want the command resumed and waiting, got %+v", r)
	}
	if !tainted(f.getNode(cand)) || !f.claims()[cand].DeletionTimestamp.IsZero() {
		t.Fatal("a resumed command must keep its candidate tainted and not deleted")
	}
	f.initialize(rep)
	f.clk.Step(time.Second)
	if r := f.passOf(c2); r.Completed != 1 {
		t.Fatalf("want the resumed command completed, got %+v", r)
	}
	if f.claims()[cand].DeletionTimestamp.IsZero() {
		t.Fatal("candidate not deleted")
	}
	if got := f.claims()[rep.Name]; got == nil || !got.DeletionTimestamp.IsZero() || commandOf(got) != "" {
		t.Fatalf("replacement should stay, as an ordinary node: %+v", got)
	}
	// Another restart, and the first run (its command still in memory).
	c3 := f.restart()
	if r := f.passOf(c3); r.Resumed+r.Completed+r.Failed != 0 {
		t.Fatalf("third run took the finished command up again: %+v", r)
	}
	f.pass()
	if got := value(t, nodesDisruptedTotal.WithLabelValues(string(disruptionplan.MethodSingleNodeConsolidation), f.pool.Name)); got != counted+1 {
		t.Fatalf("candidate disrupted %v times, want once", got-counted)
	}
}

// A restart after the replacement's claim is gone rolls back: the
// candidate is untainted and its record dropped.
func TestRestartRollsBackWhenReplacementGone(t *testing.T) {
	f, cand, rep := launch(t)
	f.must(kubetest.Purge(f.ctx, env.Client, rep))
	c2 := f.restart()
	if r := f.passOf(c2); r.Failed != 1 {
		t.Fatalf("want the recorded command rolled back, got %+v", r)
	}
	nc := f.claims()[cand]
	if tainted(f.getNode(cand)) || !nc.DeletionTimestamp.IsZero() {
		t.Fatal("candidate left tainted or deleted after the rollback")
	}
	for _, k := range candidateRecord {
		if _, ok := nc.Annotations[k]; ok {
			t.Fatalf("record %s left on the candidate: %v", k, nc.Annotations)
		}
	}
	if r := f.passOf(c2); r.Failed+r.Completed+r.Resumed != 0 {
		t.Fatalf("rolled back twice: %+v", r)
	}
}

// The timeout of a resumed command counts from the recorded start, not
// from the restart.
func TestRestartTimeoutCountsFromRecordedStart(t *testing.T) {
	f, cand, rep := launch(t)
	f.clk.Step(f.c.opts.ReplacementTimeout - time.Second)
	c2 := f.restart()
	if r := f.passOf(c2); r.Resumed != 1 {
		t.Fatalf("want the command resumed, got %+v", r)
	}
	f.clk.Step(time.Second)
	if r := f.passOf(c2); r.Failed != 1 {
		t.Fatalf("want the resumed command timed out, got %+v", r)
	}
	if got := f.claims()[rep.Name]; got != nil && got.DeletionTimestamp.IsZero() {
		t.Fatal("replacement not deleted at the timeout")
	}
	if tainted(f.getNode(cand)) {
		t.Fatal("candidate left tainted")
	}
}

// A tainted node without a record is released by the first pass of a new
// run; a recorded candidate's taint is left to its command.
func TestRestartReleasesOnlyUnrecordedTaints(t *testing.T) {
	f, cand, _ := launch(t)
	orphan := f.pool.Name + "-orphan"
	f.node(orphan)
	f.updateNode(orphan, func(n *corev1.Node) error {
		n.Spec.Taints = append(n.Spec.Taints, v1.DisruptedNoScheduleTaint)
		return env.Client.Update(f.ctx, n)
	})
	f.passOf(f.restart())
	if tainted(f.getNode(orphan)) {
		t.Fatal("orphaned taint not released")
	}
	if !tainted(f.getNode(cand)) {
		t.Fatal("taint of a recorded candidate released")
	}
}

// With the real engine, a drift whose replacement would take the pool past
// its cpu limit is not taken: nothing is tainted or launched, and the
// pool gets an event saying why.
func TestLimitsBlockReplacement(t *testing.T) {
	np := test.NodePool(test.NodePoolOptions{Name: "limited", Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("3")}})
	np.Spec.Disruption = v1.Disruption{ConsolidationPolicy: v1.ConsolidationPolicyWhenEmpty, ConsolidateAfter: "Never"}
	f := newFixture(t, np, nil)
	f.kwok = true
	f.node("limited-a")
	f.deployment(1)
	f.must(kubetest.UpdateStatus(f.ctx, env.Client, f.claims()["limited-a"], func(nc *v1.NodeClaim) {
		nc.SetCondition(v1.ConditionTypeDrifted, metav1.ConditionTrue, "NodePoolDrifted", "nodepool template changed")
	}))
	r := f.pass()
	if len(r.Proposed) != 0 || len(r.OverLimit) == 0 || r.OverLimit[0].NodePool != "limited" || !strings.Contains(r.OverLimit[0].Reason, "cpu") {
		t.Fatalf("want the drift blocked by the cpu limit, got %+v", r)
	}
	if len(f.replacements()) != 0 || tainted(f.getNode("limited-a")) {
		t.Fatal("a decision over the limit touched the cluster")
	}
	if ev := f.events(); !contains(ev, "Warning "+ReasonOverLimit, "exceed nodepool limited limits") {
		t.Fatalf("want a %s event, got %q", ReasonOverLimit, ev)
	}
}
