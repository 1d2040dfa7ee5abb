package disruptionplan

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// A drift replacement that would take the pool past its cpu or node limit
// is not taken, and the reason names the limit; with room it is.
func TestReplacementWithinLimits(t *testing.T) {
	types := catalog(16)
	drifted := func(n *Node) { n.Drifted = "AMI changed" }
	limits := func(l corev1.ResourceList) poolOpt { return func(np *v1.NodePool) { np.Spec.Limits = l } }
	for _, tc := range []struct {
		name   string
		limits corev1.ResourceList
		over   string
	}{
		// The candidate's 4 vCPU still count: 4 + at least 3 for the pods.
		{"cpu", corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("6")}, "cpu"},
		{"nodes", corev1.ResourceList{"nodes": resource.MustParse("1")}, "nodes 2 > 1"},
		{"room", corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8"), "nodes": resource.MustParse("2")}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPool("p", types, capacityTypes(od), limits(tc.limits))
			s := snapshot([]*Pool{p}, newNode("d", p, "t-4x", od, pods(3, "1"), drifted))
			res := evaluate(t, s, Options{})
			if tc.over == "" {
				if d := only(t, res); d.Method != MethodDrift || len(res.OverLimit) != 0 {
					t.Fatalf("want the drift taken, got %s, over %v", messages(res), res.OverLimit)
				}
				return
			}
			if len(res.Decisions) != 0 {
				t.Fatalf("want no decision over the limit, got %s", messages(res))
			}
			// Drift is set aside, then consolidation's cheaper replacement too.
			if len(res.OverLimit) == 0 || res.OverLimit[0].Decision.Method != MethodDrift || res.OverLimit[0].NodePool != "p" || !strings.Contains(res.OverLimit[0].Reason, tc.over) {
				t.Fatalf("want the drift over the %s limit, got %+v", tc.over, res.OverLimit)
			}
			if r := blockedReason(res, "d"); !strings.Contains(r, "exceed nodepool p limits") {
				t.Fatalf("candidate not blocked by the limit: %q", r)
			}
		})
	}
}

// Usage is the larger of the pool's status and its nodes in the snapshot.
func TestInUseTakesStatusWhenLarger(t *testing.T) {
	types := catalog(4)
	p := newPool("p", types)
	p.NodePool.Status.Resources = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10")}
	p.NodePool.Status.Nodes = 1
	e := &evaluator{s: snapshot([]*Pool{p}, newNode("a", p, "t-2x", od, nil), newNode("b", p, "t-2x", od, nil))}
	u := e.inUse(p)
	if cpu, nodes := u[corev1.ResourceCPU], u["nodes"]; cpu.Value() != 10 || nodes.Value() != 2 {
		t.Fatalf("want cpu 10 (status) and nodes 2 (snapshot), got %v", u)
	}
}
