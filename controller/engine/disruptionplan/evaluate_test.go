package disruptionplan

import (
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

func TestEmptiness(t *testing.T) {
	types := catalog(16)
	a, b := newPool("a", types), newPool("b", types)
	dsPod := newPod("100m", ownedBy("DaemonSet"))
	mirror := newPod("100m", annotate("kubernetes.io/config.mirror", "x"))
	done := newPod("1")
	done.Status.Phase = corev1.PodSucceeded
	s := snapshot([]*Pool{a, b},
		newNode("a-1", a, "t-2x", od, nil),
		newNode("a-2", a, "t-2x", od, []*corev1.Pod{dsPod}),
		newNode("a-3", a, "t-2x", od, []*corev1.Pod{mirror, done}),
		newNode("a-full", a, "t-2x", od, pods(2, "1")),
		newNode("b-1", b, "t-4x", spot, nil),
	)
	res := evaluate(t, s, Options{})
	if len(res.Decisions) != 2 {
		t.Fatalf("want a decision per pool, got %s", messages(res))
	}
	da, db := res.Decisions[0], res.Decisions[1]
	if da.Method != MethodEmptiness || da.Reason != v1.DisruptionReasonEmpty {
		t.Errorf("method %s reason %s", da.Method, da.Reason)
	}
	if got := names(da.Candidates); !reflect.DeepEqual(got, []string{"a-1", "a-2", "a-3"}) {
		t.Errorf("pool a candidates %v", got)
	}
	if got := names(db.Candidates); !reflect.DeepEqual(got, []string{"b-1"}) {
		t.Errorf("pool b candidates %v", got)
	}
	if want := "Empty: deleting 3 nodes (3×t-2x; $0.3/h)"; da.Message != want {
		t.Errorf("message %q, want %q", da.Message, want)
	}
	if want := "Empty: deleting t-4x (spot, $0.08/h)"; db.Message != want {
		t.Errorf("message %q, want %q", db.Message, want)
	}
	if diff := da.Savings - 0.3; diff > 1e-9 || diff < -1e-9 {
		t.Errorf("savings %v", da.Savings)
	}
}

func TestEmptinessBudgets(t *testing.T) {
	types := catalog(4)
	emptyNodes := func(p *Pool, n int, deleting int) []*Node {
		var out []*Node
		for i := 0; i < n; i++ {
			out = append(out, newNode(p.NodePool.Name+"-"+string(rune('a'+i)), p, "t-1x", od, nil))
		}
		for i := 0; i < deleting; i++ {
			out = append(out, newNode(p.NodePool.Name+"-del-"+string(rune('a'+i)), p, "t-1x", od, nil, func(n *Node) { n.Deleting = true }))
		}
		return out
	}
	hour := &metav1.Duration{Duration: time.Hour}
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name     string
		budgets  []v1.Budget
		empty    int
		deleting int
		want     int
	}{
		{"count", []v1.Budget{{Nodes: "3"}}, 10, 0, 3},
		{"percent", []v1.Budget{{Nodes: "20%"}}, 10, 0, 2},
		{"default 10% when none", nil, 10, 0, 1},
		{"deleting nodes count against it", []v1.Budget{{Nodes: "2"}}, 3, 1, 1},
		{"spent by deleting nodes", []v1.Budget{{Nodes: "1"}}, 3, 1, 0},
		{"most restrictive wins", []v1.Budget{{Nodes: "50%"}, {Nodes: "2"}}, 10, 0, 2},
		{"reason-specific zero", []v1.Budget{{Nodes: "0", Reasons: []v1.DisruptionReason{v1.DisruptionReasonEmpty}}, {Nodes: "100%"}}, 4, 0, 0},
		{"other reason's zero ignored", []v1.Budget{{Nodes: "0", Reasons: []v1.DisruptionReason{v1.DisruptionReasonDrifted}}, {Nodes: "100%"}}, 4, 0, 4},
		{"active window blocks", []v1.Budget{{Nodes: "0", Schedule: str("0 10 * * *"), Duration: hour}, {Nodes: "100%"}}, 4, 0, 0},
		{"inactive window", []v1.Budget{{Nodes: "0", Schedule: str("0 12 * * *"), Duration: hour}, {Nodes: "100%"}}, 4, 0, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPool("p", types, budgets(tc.budgets...))
			res := evaluate(t, snapshot([]*Pool{p}, emptyNodes(p, tc.empty, tc.deleting)...), Options{})
			got := 0
			for _, d := range res.Decisions {
				got += len(d.Candidates)
			}
			if got != tc.want {
				t.Fatalf("disrupted %d nodes, want %d (%s)", got, tc.want, messages(res))
			}
			blocked := 0
			for _, b := range res.Blocked {
				if strings.Contains(b.Reason, "budget") {
					blocked++
				}
			}
			if blocked != tc.empty-tc.want {
				t.Errorf("%d nodes blocked by the budget, want %d: %v", blocked, tc.empty-tc.want, res.Blocked)
			}
		})
	}
}

func TestBudgetWindowNextCheck(t *testing.T) {
	str := func(s string) *string { return &s }
	p := newPool("p", catalog(4), budgets(v1.Budget{Nodes: "0", Schedule: str("0 10 * * *"), Duration: &metav1.Duration{Duration: time.Hour}}))
	res := evaluate(t, snapshot([]*Pool{p}, newNode("e", p, "t-1x", od, nil)), Options{})
	if len(res.Decisions) != 0 {
		t.Fatalf("got %s", messages(res))
	}
	if want := now.Truncate(time.Hour).Add(time.Hour); !res.NextCheck.Equal(want) {
		t.Errorf("NextCheck %v, want the window's end %v", res.NextCheck, want)
	}
}

// TestCandidateRules: one underutilized node whose single pod fits on a
// spare node that is not ours; each case changes one thing.
func TestCandidateRules(t *testing.T) {
	types := catalog(16)
	pdb := func(ns string, allowed int32) *policyv1.PodDisruptionBudget {
		return &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
			Spec:   policyv1.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
			Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: allowed}}
	}
	for _, tc := range []struct {
		name     string
		pool     []poolOpt
		node     nodeOpt
		pod      podOpt
		pdbs     []*policyv1.PodDisruptionBudget
		blocked  string // substring of the Blocked reason; "" expects a decision
		none     bool   // no decision, nothing blocked
		next     time.Duration
		hasNext  bool
		wantNext bool
	}{
		{name: "underutilized node is deleted"},
		{name: "not initialized", node: func(n *Node) { n.Initialized = false }, blocked: "not initialized"},
		{name: "already deleting", node: func(n *Node) { n.Deleting = true }, none: true},
		{name: "not ours", node: func(n *Node) { n.NodeClaim = "" }, none: true},
		{name: "node do-not-disrupt", node: func(n *Node) { n.DoNotDisrupt = true }, blocked: "do-not-disrupt"},
		{name: "pod do-not-disrupt", pod: annotate(v1.DoNotDisruptAnnotationKey, "true"), blocked: "do-not-disrupt"},
		{name: "pod do-not-disrupt for 2h, started 1h ago", pod: annotate(v1.DoNotDisruptAnnotationKey, "2h"), blocked: "for 2h", wantNext: true, next: time.Hour},
		{name: "pod do-not-disrupt for 30m, elapsed", pod: annotate(v1.DoNotDisruptAnnotationKey, "30m")},
		{name: "pod do-not-disrupt false", pod: annotate(v1.DoNotDisruptAnnotationKey, "false")},
		// Workloads that came from Karpenter keep its annotations.
		{name: "pod karpenter.sh/do-not-disrupt", pod: annotate("karpenter.sh/do-not-disrupt", "true"), blocked: "karpenter.sh/do-not-disrupt"},
		{name: "pod karpenter.sh/do-not-evict (v1alpha5)", pod: annotate("karpenter.sh/do-not-evict", "true"), blocked: "karpenter.sh/do-not-evict"},
		{name: "pdb allows none", pdbs: []*policyv1.PodDisruptionBudget{pdb("default", 0)}, blocked: "PodDisruptionBudget web"},
		{name: "pdb in another namespace", pdbs: []*policyv1.PodDisruptionBudget{pdb("other", 0)}},
		{name: "pdb allows one", pdbs: []*policyv1.PodDisruptionBudget{pdb("default", 1)}},
		{name: "pod without controller", pod: func(p *corev1.Pod) { p.OwnerReferences = nil }, blocked: "no controller"},
		{name: "consolidateAfter not elapsed since last pod event", pool: []poolOpt{consolidateAfter("2h")},
			node: func(n *Node) { n.LastPodEvent = now.Add(-time.Hour) }, blocked: "consolidateAfter", wantNext: true, next: time.Hour},
		{name: "consolidateAfter elapsed since creation", pool: []poolOpt{consolidateAfter("30m")}},
		{name: "consolidateAfter not elapsed since creation", pool: []poolOpt{consolidateAfter("90m")}, blocked: "consolidateAfter", wantNext: true, next: 30 * time.Minute},
		{name: "consolidateAfter Never", pool: []poolOpt{consolidateAfter(v1.Never)}, none: true},
		{name: "policy WhenEmpty", pool: []poolOpt{policy(v1.ConsolidationPolicyWhenEmpty)}, none: true},
		{name: "underutilized budget zero", pool: []poolOpt{budgets(v1.Budget{Nodes: "0", Reasons: []v1.DisruptionReason{v1.DisruptionReasonUnderutilized}})}, none: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPool("p", types, tc.pool...)
			var popts []podOpt
			if tc.pod != nil {
				popts = append(popts, tc.pod)
			}
			var nopts []nodeOpt
			if tc.node != nil {
				nopts = append(nopts, tc.node)
			}
			s := snapshot([]*Pool{p}, staticNode("spare", "8"), newNode("c", p, "t-4x", od, []*corev1.Pod{newPod("500m", popts...)}, nopts...))
			s.PDBs = tc.pdbs
			res := evaluate(t, s, Options{})
			switch {
			case tc.blocked != "":
				if len(res.Decisions) != 0 {
					t.Fatalf("want no decision, got %s", messages(res))
				}
				if r := blockedReason(res, "c"); !strings.Contains(r, tc.blocked) {
					t.Fatalf("blocked reason %q, want it to mention %q", r, tc.blocked)
				}
			case tc.none:
				if len(res.Decisions) != 0 || len(res.Blocked) != 0 {
					t.Fatalf("want nothing, got %s, blocked %v", messages(res), res.Blocked)
				}
			default:
				d := only(t, res)
				if d.Method != MethodSingleNodeConsolidation || len(d.Replacements) != 0 || d.PodsMoved != 1 {
					t.Fatalf("got %s %s", d.Method, d.Message)
				}
				if want := "Underutilized: deleting t-4x (on-demand, $0.2/h); 1 pods move"; d.Message != want {
					t.Errorf("message %q, want %q", d.Message, want)
				}
				if len(d.Placements) != 1 || d.Placements[0].Node != "spare" {
					t.Errorf("placements %+v", d.Placements)
				}
			}
			if tc.wantNext && !res.NextCheck.Equal(now.Add(tc.next)) {
				t.Errorf("NextCheck %v, want %v", res.NextCheck, now.Add(tc.next))
			}
		})
	}
}

func TestDrift(t *testing.T) {
	types := catalog(16)
	drifted := func(n *Node) { n.Drifted = "AMI ami-old replaced by ami-new" }
	t.Run("replaced before drain, not gated by consolidateAfter", func(t *testing.T) {
		p := newPool("p", types, consolidateAfter(v1.Never), capacityTypes(od))
		s := snapshot([]*Pool{p}, newNode("d", p, "t-4x", od, pods(3, "1"), drifted, func(n *Node) { n.LastPodEvent = now }))
		d := only(t, evaluate(t, s, Options{}))
		if d.Method != MethodDrift || d.Reason != v1.DisruptionReasonDrifted {
			t.Fatalf("got %s", d.Method)
		}
		if len(d.Replacements) != 1 || len(d.Replacements[0].Pods) != 3 {
			t.Fatalf("replacements %+v", d.Replacements)
		}
		if want := "Drifted (AMI ami-old replaced by ami-new): replacing t-4x (on-demand, $0.2/h) with t-"; !strings.HasPrefix(d.Message, want) {
			t.Errorf("message %q, want prefix %q", d.Message, want)
		}
		if !strings.HasSuffix(d.Message, "; 3 pods move") {
			t.Errorf("message %q", d.Message)
		}
	})
	t.Run("do-not-disrupt blocks drift", func(t *testing.T) {
		p := newPool("p", types)
		s := snapshot([]*Pool{p}, newNode("d", p, "t-4x", od, pods(1, "3", annotate(v1.DoNotDisruptAnnotationKey, "true")), drifted))
		res := evaluate(t, s, Options{})
		if len(res.Decisions) != 0 || !strings.Contains(blockedReason(res, "d"), "do-not-disrupt") {
			t.Fatalf("got %s, blocked %v", messages(res), res.Blocked)
		}
	})
	t.Run("drift budget", func(t *testing.T) {
		p := newPool("p", types, capacityTypes(od), budgets(v1.Budget{Nodes: "0", Reasons: []v1.DisruptionReason{v1.DisruptionReasonDrifted}}, v1.Budget{Nodes: "100%"}))
		s := snapshot([]*Pool{p}, newNode("d", p, "t-4x", od, pods(4, "900m"), drifted))
		if res := evaluate(t, s, Options{}); len(res.Decisions) != 0 {
			t.Fatalf("got %s", messages(res))
		}
	})
	t.Run("emptiness comes first", func(t *testing.T) {
		p := newPool("p", types)
		s := snapshot([]*Pool{p}, newNode("d", p, "t-4x", od, pods(4, "900m"), drifted), newNode("e", p, "t-1x", od, nil))
		d := only(t, evaluate(t, s, Options{}))
		if d.Method != MethodEmptiness || d.Candidates[0].Name != "e" {
			t.Fatalf("got %s %s", d.Method, d.Message)
		}
	})
	t.Run("drift comes before consolidation", func(t *testing.T) {
		p := newPool("p", types)
		s := snapshot([]*Pool{p}, staticNode("spare", "16"), newNode("d", p, "t-4x", od, pods(4, "900m"), drifted),
			newNode("u", p, "t-8x", od, pods(1, "100m")))
		d := only(t, evaluate(t, s, Options{}))
		if d.Method != MethodDrift || d.Candidates[0].Name != "d" {
			t.Fatalf("got %s %s", d.Method, d.Message)
		}
	})
}

func TestSingleNodeReplace(t *testing.T) {
	types := catalog(16)
	p := newPool("p", types, capacityTypes(od))
	s := snapshot([]*Pool{p}, newNode("n", p, "t-8x", od, pods(2, "500m")))
	d := only(t, evaluate(t, s, Options{}))
	if d.Method != MethodSingleNodeConsolidation || len(d.Replacements) != 1 {
		t.Fatalf("got %s %s", d.Method, d.Message)
	}
	r := d.Replacements[0]
	for _, o := range r.Options {
		if o.Offering.Price >= 0.4 {
			t.Errorf("option %s at %v is not cheaper than the node", o.InstanceType.Name, o.Offering.Price)
		}
	}
	if r.Chosen().InstanceType.Name != "t-1x" || d.Savings < 0.349 || d.Savings > 0.351 {
		t.Errorf("chose %s saving %v", r.Chosen().InstanceType.Name, d.Savings)
	}
	if want := "Underutilized: replacing t-8x (on-demand, $0.4/h) with t-1x (on-demand, $0.05/h); 2 pods move"; d.Message != want {
		t.Errorf("message %q, want %q", d.Message, want)
	}
	if r.InstanceTypes != len(r.Options)/2 { // two zones per type
		t.Errorf("InstanceTypes %d for %d options", r.InstanceTypes, len(r.Options))
	}
}

// TestSingleNodeReplaceWithOneBiggerNode: when right-sized packing would
// split the pods over two nodes (no 8-vCPU type, so a 7 and a 1), the
// replacement is still one node, the cheapest that holds them all.
func TestSingleNodeReplaceWithOneBiggerNode(t *testing.T) {
	var types []*scheduling.InstanceType
	for _, it := range catalog(32) {
		if it.Name != "t-8x" {
			types = append(types, it)
		}
	}
	p := newPool("p", types, capacityTypes(od))
	s := snapshot([]*Pool{p}, newNode("n", p, "t-32x", od, pods(8, "1")))
	d := only(t, evaluate(t, s, Options{}))
	if d.Method != MethodSingleNodeConsolidation || len(d.Replacements) != 1 {
		t.Fatalf("got %s %s", d.Method, d.Message)
	}
	if got := d.Replacements[0].Chosen().InstanceType.Name; got != "t-9x" {
		t.Errorf("replacement %s, want t-9x, the smallest type left that holds 8 one-vCPU pods", got)
	}
}

func TestSpotReplacement(t *testing.T) {
	types := catalog(16)
	for _, tc := range []struct {
		name     string
		pool     []poolOpt
		nodeType string
		podCPU   string
		minTypes int
		want     bool
	}{
		// t-16x spot costs $0.32: t-1x..t-15x spot are cheaper: 15 types.
		{"spot to spot with 15 types", []poolOpt{capacityTypes(spot)}, "t-16x", "500m", 15, true},
		{"spot to spot with too few types", []poolOpt{capacityTypes(spot)}, "t-16x", "500m", 16, false},
		{"spot to spot, few cheaper types", []poolOpt{capacityTypes(spot)}, "t-8x", "500m", 0, false},
		// t-2x spot costs $0.04; the pods need two vCPU: no on-demand
		// offering is cheaper.
		{"spot is not replaced by pricier on-demand", nil, "t-2x", "900m", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPool("p", types, tc.pool...)
			s := snapshot([]*Pool{p}, newNode("n", p, tc.nodeType, spot, pods(2, tc.podCPU)))
			res := evaluate(t, s, Options{SpotToSpotMinTypes: tc.minTypes})
			if got := len(res.Decisions) == 1; got != tc.want {
				t.Fatalf("decision %v, want %v: %s", got, tc.want, messages(res))
			}
			if tc.want {
				r := res.Decisions[0].Replacements[0]
				if r.Chosen().Offering.CapacityType != spot || spotTypes(r) < 15 {
					t.Errorf("replacement %s with %d spot types", r.Chosen().Offering.CapacityType, spotTypes(r))
				}
			}
		})
	}
}

func TestMultiNodeConsolidation(t *testing.T) {
	types := catalog(16)
	p := newPool("p", types, capacityTypes(od))
	var nodes []*Node
	for _, name := range []string{"n1", "n2", "n3", "n4"} {
		nodes = append(nodes, newNode(name, p, "t-4x", od, pods(1, "500m")))
	}
	d := only(t, evaluate(t, snapshot([]*Pool{p}, nodes...), Options{}))
	if d.Method != MethodMultiNodeConsolidation || len(d.Candidates) != 4 || len(d.Replacements) != 1 {
		t.Fatalf("got %s with %d candidates: %s", d.Method, len(d.Candidates), d.Message)
	}
	if got := d.Replacements[0].Chosen().InstanceType.Name; got != "t-2x" {
		t.Errorf("replacement %s, want t-2x", got)
	}
	if want := "Underutilized: replacing 4 nodes (4×t-4x; $0.8/h) with t-2x (on-demand, $0.1/h); 4 pods move"; d.Message != want {
		t.Errorf("message %q, want %q", d.Message, want)
	}

	t.Run("only single-node when limited to it", func(t *testing.T) {
		d := only(t, evaluate(t, snapshot([]*Pool{p}, nodes...), Options{Methods: []Method{MethodSingleNodeConsolidation}}))
		if d.Method != MethodSingleNodeConsolidation || len(d.Candidates) != 1 || len(d.Replacements) != 0 {
			t.Fatalf("got %s: %s", d.Method, d.Message)
		}
	})
	t.Run("budget caps the set", func(t *testing.T) {
		p := newPool("p", types, capacityTypes(od), budgets(v1.Budget{Nodes: "2"}))
		var nodes []*Node
		for _, name := range []string{"n1", "n2", "n3", "n4"} {
			nodes = append(nodes, newNode(name, p, "t-4x", od, pods(1, "500m")))
		}
		d := only(t, evaluate(t, snapshot([]*Pool{p}, nodes...), Options{}))
		if len(d.Candidates) != 2 {
			t.Fatalf("got %d candidates: %s", len(d.Candidates), d.Message)
		}
	})
}

// Expiry is forceful and belongs to the nodeclaim expiration controller,
// as in Karpenter v1: an expired node is no candidate of its own, so the
// engine never plans a competing replacement for it.
func TestExpiredNodeIsNoCandidate(t *testing.T) {
	types := catalog(16)
	p := newPool("p", types, expireAfter("720h"), consolidateAfter("Never"))
	n := newNode("x", p, "t-2x", od, pods(2, "1"), func(n *Node) { n.Created = now.Add(-800 * time.Hour) })
	res := evaluate(t, snapshot([]*Pool{p}, n), Options{})
	if len(res.Decisions) != 0 {
		t.Fatalf("got %s", messages(res))
	}
}

func TestOrder(t *testing.T) {
	types := catalog(16)
	for _, tc := range []struct {
		name string
		a, b *Node
		want string
	}{
		{"fewer pods first",
			newNode("a", newPool("p", types), "t-4x", od, pods(3, "100m")),
			newNode("b", newPool("p", types), "t-4x", od, pods(1, "100m")), "b"},
		{"pricier node first at equal disruption",
			newNode("a", newPool("p", types), "t-4x", od, pods(1, "100m")),
			newNode("b", newPool("p", types), "t-8x", od, pods(1, "100m")), "b"},
		{"low priority first",
			newNode("a", newPool("p", types), "t-4x", od, pods(1, "100m", func(p *corev1.Pod) { x := int32(1 << 24); p.Spec.Priority = &x })),
			newNode("b", newPool("p", types), "t-4x", od, pods(1, "100m")), "b"},
		{"low deletion cost first",
			newNode("a", newPool("p", types), "t-4x", od, pods(1, "100m")),
			newNode("b", newPool("p", types), "t-4x", od, pods(1, "100m", annotate(PodDeletionCostAnnotationKey, "-100000000"))), "b"},
		{"older node first",
			newNode("a", newPool("p", types), "t-4x", od, pods(1, "100m")),
			newNode("b", newPool("p", types), "t-4x", od, pods(1, "100m"), func(n *Node) { n.Created = now.Add(-20 * 24 * time.Hour) }), "b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPool("p", types)
			s := snapshot([]*Pool{p}, staticNode("spare", "16"), tc.a, tc.b)
			d := only(t, evaluate(t, s, Options{Methods: []Method{MethodSingleNodeConsolidation}}))
			if d.Candidates[0].Name != tc.want {
				t.Fatalf("disrupted %s first, want %s", d.Candidates[0].Name, tc.want)
			}
		})
	}
}

// TestRoomForDrainingPods: the pods of a node being disrupted will need
// the room on the replacement launched for them; consolidation must not
// count on it, and emptiness must not take the node they move to.
func TestRoomForDrainingPods(t *testing.T) {
	types := catalog(16)
	p := newPool("p", types, capacityTypes(od))
	deleting := func(n *Node) { n.Deleting = true }
	inFlight := func(n *Node) { n.Initialized = false }
	t.Run("consolidation", func(t *testing.T) {
		s := snapshot([]*Pool{p},
			newNode("old", p, "t-2x", od, pods(1, "1500m"), deleting),
			newNode("replacement", p, "t-2x", od, nil, inFlight),
			newNode("c", p, "t-2x", od, pods(1, "1500m")))
		res := evaluate(t, s, Options{})
		if len(res.Decisions) != 0 {
			t.Fatalf("c's pod was moved into room the draining pod needs: %s", messages(res))
		}
		// Without the draining pod, c's pod fits on the replacement.
		s.Nodes[0].Pods = nil
		if d := only(t, evaluate(t, s, Options{})); d.Candidates[0].Name != "c" || d.Placements[0].Node != "replacement" {
			t.Fatalf("got %s", d.Message)
		}
	})
	t.Run("emptiness", func(t *testing.T) {
		s := snapshot([]*Pool{p},
			newNode("old", p, "t-2x", od, pods(1, "1500m"), deleting),
			newNode("empty", p, "t-2x", od, nil))
		res := evaluate(t, s, Options{})
		if len(res.Decisions) != 0 {
			t.Fatalf("got %s", messages(res))
		}
		if r := blockedReason(res, "empty"); !strings.Contains(r, "expected to move here") {
			t.Errorf("blocked reason %q", r)
		}
	})
}
