package disruption

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/disruptionplan"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/test/kubetest"
)

// replaceOne decides to replace the named claim while it is a candidate.
func replaceOne(f **fixture, name string) Evaluator {
	return func(s *disruptionplan.Snapshot) (*disruptionplan.Result, error) {
		cands := (*f).candidates(s, name)
		if cands == nil {
			return &disruptionplan.Result{}, nil
		}
		return &disruptionplan.Result{Decisions: []*disruptionplan.Decision{{Method: disruptionplan.MethodSingleNodeConsolidation,
			Reason: v1.DisruptionReasonUnderutilized, Candidates: cands, Replacements: []*scheduling.NodeClaimPlan{(*f).plan()},
			Savings: 0.2, PodsMoved: 3, Message: "Underutilized: replacing " + name + " with m5.large"}}}, nil
	}
}

func tainted(n *corev1.Node) bool { return hasTaint(n, v1.DisruptedNoScheduleTaint) }

func contains(events []string, parts ...string) bool {
	for _, e := range events {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(e, p)
		}
		if ok {
			return true
		}
	}
	return false
}

// launch runs a decision to replace "<pool>-a" up to its replacement being
// created, checking the candidate is tainted and recorded, not deleted.
func launch(t *testing.T) (*fixture, string, *v1.NodeClaim) {
	var f *fixture
	f = newFixture(t, nil, nil)
	f.c.opts.Evaluator = replaceOne(&f, f.pool.Name+"-a")
	f.c.newSnapshot = joinOnly
	cand := f.pool.Name + "-a"
	f.node(cand)

	// 1. Found, not acted on before the validation delay.
	if r := f.pass(); len(r.Proposed) != 1 || r.Next != delay {
		t.Fatalf("first pass: want one proposed decision due in %s, got %+v", delay, r)
	}
	f.clk.Step(delay / 2)
	if r := f.pass(); len(r.Started) != 0 || len(f.claims()) != 1 {
		t.Fatalf("acted before the delay: %+v, claims %d", r, len(f.claims()))
	}
	// 2. Validated: the candidate is tainted at once and the decision
	// recorded on both claims; the candidate is not deleted.
	f.clk.Step(delay / 2)
	if r := f.pass(); len(r.Started) != 1 {
		t.Fatalf("want the decision started after the delay, got %+v", r)
	}
	reps := f.replacements()
	if len(reps) != 1 || reps[0].Annotations[ReplacesAnnotationKey] != cand || reps[0].Labels[v1.NodePoolLabelKey] != f.pool.Name {
		t.Fatalf("want one replacement of %s, got %+v", cand, reps)
	}
	if !tainted(f.getNode(cand)) {
		t.Fatal("candidate not tainted when the decision was taken")
	}
	nc := f.claims()[cand]
	if !nc.DeletionTimestamp.IsZero() {
		t.Fatal("candidate deleted before its replacement is initialized")
	}
	id := nc.Annotations[v1.DisruptionCommandAnnotationKey]
	if id == "" || reps[0].Annotations[v1.DisruptionCommandAnnotationKey] != id || nc.Annotations[v1.DisruptionMethodAnnotationKey] != "SingleNodeConsolidation" ||
		nc.Annotations[v1.DisruptionReasonAnnotationKey] != "Underutilized" || nc.Annotations[v1.DisruptionReplacementsAnnotationKey] != "1" ||
		nc.Annotations[v1.DisruptionStartedAnnotationKey] != f.clk.Now().UTC().Format(time.RFC3339) {
		t.Fatalf("decision not recorded: candidate %v, replacement %v", nc.Annotations, reps[0].Annotations)
	}
	return f, cand, reps[0]
}

func TestReplacementFirstThenTaintAndDelete(t *testing.T) {
	f, cand, rep := launch(t)
	// 3. While the replacement launches: candidate left alone, and not
	// proposed again (it counts as Deleting).
	for range 3 {
		f.clk.Step(5 * time.Second)
		if r := f.pass(); len(r.Proposed)+len(r.Started)+r.Completed+r.Failed != 0 {
			t.Fatalf("pass while launching did something: %+v", r)
		}
	}
	if !f.claims()[cand].DeletionTimestamp.IsZero() || len(f.replacements()) != 1 {
		t.Fatal("candidate deleted, or another replacement made, while the replacement launches")
	}
	// 4. Initialized: the candidate's claim is deleted, the replacement's
	// record dropped.
	f.initialize(rep)
	if r := f.pass(); r.Completed != 1 {
		t.Fatalf("want the decision completed, got %+v", r)
	}
	if !tainted(f.getNode(cand)) {
		t.Fatal("candidate node not tainted")
	}
	if f.claims()[cand].DeletionTimestamp.IsZero() {
		t.Fatal("candidate claim not deleted")
	}
	if got := f.claims()[rep.Name]; got == nil || !got.DeletionTimestamp.IsZero() || commandOf(got) != "" {
		t.Fatalf("replacement should stay, as an ordinary node: %+v", got)
	}
	ev := f.events()
	if !contains(ev, "Normal Underutilized", "replacing "+cand) {
		t.Fatalf("want an Underutilized event with the decision's message, got %q", ev)
	}
}

func TestReplacementGoneDrainsNothing(t *testing.T) {
	f, cand, rep := launch(t)
	// Lifecycle deletes a claim whose launch found no capacity.
	f.must(kubetest.Update(f.ctx, env.Client, rep, func(nc *v1.NodeClaim) { nc.Finalizers = nil }))
	f.must(env.Client.Delete(f.ctx, rep))
	f.clk.Step(time.Second)
	if r := f.pass(); r.Failed != 1 || r.Completed != 0 {
		t.Fatalf("want the decision failed, got %+v", r)
	}
	if tainted(f.getNode(cand)) || !f.claims()[cand].DeletionTimestamp.IsZero() || commandOf(f.claims()[cand]) != "" {
		t.Fatal("candidate drained, or left tainted or recorded, although its replacement failed")
	}
	ev := f.events()
	if !contains(ev, "Warning DisruptionFailed", "nothing was drained") {
		t.Fatalf("want a DisruptionFailed event, got %q", ev)
	}
	// Released: the candidate may be proposed again.
	f.clk.Step(time.Second)
	if r := f.pass(); len(r.Proposed) != 1 {
		t.Fatalf("candidate not released: %+v", r)
	}
}

func TestReplacementTimeoutRollsBack(t *testing.T) {
	f, cand, rep := launch(t)
	f.clk.Step(f.c.opts.ReplacementTimeout - time.Second)
	if r := f.pass(); r.Failed != 0 {
		t.Fatalf("failed before the timeout: %+v", r)
	}
	f.clk.Step(time.Second)
	if r := f.pass(); r.Failed != 1 {
		t.Fatalf("want the decision failed at the timeout, got %+v", r)
	}
	if got := f.claims()[rep.Name]; got != nil && got.DeletionTimestamp.IsZero() {
		t.Fatal("replacement not deleted after the timeout")
	}
	if tainted(f.getNode(cand)) || !f.claims()[cand].DeletionTimestamp.IsZero() {
		t.Fatal("candidate drained although its replacement timed out")
	}
}

func TestDecisionNoLongerHoldingIsDropped(t *testing.T) {
	var f *fixture
	calls := 0
	f = newFixture(t, nil, func(s *disruptionplan.Snapshot) (*disruptionplan.Result, error) {
		calls++
		if calls > 1 { // a pod landed meanwhile, say
			return &disruptionplan.Result{}, nil
		}
		return replaceOne(&f, f.pool.Name+"-a")(s)
	})
	f.node(f.pool.Name + "-a")
	if r := f.pass(); len(r.Proposed) != 1 {
		t.Fatalf("want a proposal, got %+v", r)
	}
	f.clk.Step(delay)
	if r := f.pass(); len(r.Dropped) != 1 || len(r.Started) != 0 {
		t.Fatalf("want the decision dropped, got %+v", r)
	}
	if len(f.claims()) != 1 || tainted(f.getNode(f.pool.Name+"-a")) {
		t.Fatal("a dropped decision changed the cluster")
	}
}

func TestDifferentCandidatesAreDropped(t *testing.T) {
	var f *fixture
	calls := 0
	f = newFixture(t, nil, func(s *disruptionplan.Snapshot) (*disruptionplan.Result, error) {
		calls++
		name := f.pool.Name + "-a"
		if calls > 1 {
			name = f.pool.Name + "-b"
		}
		return replaceOne(&f, name)(s)
	})
	f.node(f.pool.Name + "-a")
	f.node(f.pool.Name + "-b")
	f.pass()
	f.clk.Step(delay)
	if r := f.pass(); len(r.Dropped) != 1 || len(r.Started) != 0 || len(f.replacements()) != 0 {
		t.Fatalf("want the decision dropped when the candidates changed, got %+v", r)
	}
}

func TestEmptyNodesGoWithoutReplacement(t *testing.T) {
	var f *fixture
	f = newFixture(t, nil, func(s *disruptionplan.Snapshot) (*disruptionplan.Result, error) {
		cands := f.candidates(s, f.pool.Name+"-a", f.pool.Name+"-b")
		if cands == nil {
			return &disruptionplan.Result{}, nil
		}
		return &disruptionplan.Result{Decisions: []*disruptionplan.Decision{{Method: disruptionplan.MethodEmptiness,
			Reason: v1.DisruptionReasonEmpty, Candidates: cands, Savings: 0.192, Message: "Empty: 2 nodes"}}}, nil
	})
	f.node(f.pool.Name + "-a")
	f.node(f.pool.Name + "-b")
	f.pass()
	f.clk.Step(delay)
	if r := f.pass(); r.Completed != 1 {
		t.Fatalf("want the empty nodes disrupted at once, got %+v", r)
	}
	for _, name := range []string{f.pool.Name + "-a", f.pool.Name + "-b"} {
		if !tainted(f.getNode(name)) || f.claims()[name].DeletionTimestamp.IsZero() {
			t.Fatalf("%s not tainted and deleted", name)
		}
	}
	if len(f.replacements()) != 0 {
		t.Fatal("an empty decision launched a replacement")
	}
	if ev := f.events(); !contains(ev, "Normal Empty", "Empty: 2 nodes") {
		t.Fatalf("want Empty events, got %q", ev)
	}
}

func TestRestartReleasesOrphanedTaints(t *testing.T) {
	f := newFixture(t, nil, func(*disruptionplan.Snapshot) (*disruptionplan.Result, error) { return &disruptionplan.Result{}, nil })
	live, going := f.pool.Name+"-live", f.pool.Name+"-going"
	f.node(live)
	f.node(going)
	for _, name := range []string{live, going} {
		f.updateNode(name, func(n *corev1.Node) error {
			n.Spec.Taints = append(n.Spec.Taints, v1.DisruptedNoScheduleTaint)
			return env.Client.Update(f.ctx, n)
		})
	}
	f.must(env.Client.Delete(f.ctx, f.claims()[going]))
	f.must(f.c.ReleaseOrphans(f.ctx))
	if tainted(f.getNode(live)) {
		t.Fatal("taint left on a node whose claim is not being deleted")
	}
	if !tainted(f.getNode(going)) {
		t.Fatal("taint removed from a node being disrupted")
	}
}

func TestMatchingEmptinessAllowsMoreNodes(t *testing.T) {
	node := func(name string) *disruptionplan.Node { return &disruptionplan.Node{NodeClaim: name} }
	empty := func(names ...string) *disruptionplan.Decision {
		d := &disruptionplan.Decision{Method: disruptionplan.MethodEmptiness, Reason: v1.DisruptionReasonEmpty}
		for _, n := range names {
			d.Candidates = append(d.Candidates, node(n))
		}
		return d
	}
	got := matching(empty("a", "b"), []*disruptionplan.Decision{empty("c", "b", "a")})
	if got == nil || len(got.Candidates) != 2 || candidateNames(got)[0] != "a" || candidateNames(got)[1] != "b" {
		t.Fatalf("want the validated nodes a and b, got %+v", got)
	}
	if got := matching(empty("a", "b"), []*disruptionplan.Decision{empty("a")}); got != nil {
		t.Fatalf("a node no longer empty must drop the decision, got %+v", got)
	}
	consolidate := &disruptionplan.Decision{Method: disruptionplan.MethodMultiNodeConsolidation, Candidates: []*disruptionplan.Node{node("a")}}
	wider := &disruptionplan.Decision{Method: disruptionplan.MethodMultiNodeConsolidation, Candidates: []*disruptionplan.Node{node("a"), node("b")}}
	if got := matching(consolidate, []*disruptionplan.Decision{wider}); got != nil {
		t.Fatalf("consolidation must keep the same candidates, got %+v", got)
	}
}
