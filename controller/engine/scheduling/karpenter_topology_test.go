package scheduling

import (
	"fmt"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
)

// skewOf is Karpenter's ExpectSkew: how many pods labelled app=a each
// domain of key holds once the plan is bound, counting the pods already
// on the nodes, in ascending order.
func skewOf(in Input, res *Result, key string) []int {
	sel := labels.SelectorFromSet(labels.Set{"app": "a"})
	per := map[string]int{}
	for i, n := range res.NodeClaims {
		d := fmt.Sprintf("claim-%d", i)
		switch key {
		case zoneKey:
			d = n.Chosen().Offering.Zone
		case ctKey:
			d = n.Chosen().Offering.CapacityType
		case hostKey:
		default:
			d, _ = n.Requirements.Single(key)
		}
		for _, p := range n.Pods {
			if sel.Matches(labels.Set(p.Labels)) {
				per[d]++
			}
		}
	}
	nodes := map[string]*ExistingNode{}
	for _, n := range in.Nodes {
		nodes[n.Name] = n
		for _, p := range n.Pods {
			if sel.Matches(labels.Set(p.Labels)) {
				per[n.Labels[key]]++
			}
		}
	}
	for _, e := range res.ExistingNodes {
		for _, p := range e.Pods {
			if sel.Matches(labels.Set(p.Labels)) {
				per[nodes[e.Node].Labels[key]]++
			}
		}
	}
	out := make([]int, 0, len(per))
	for _, n := range per {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// TestConformanceKarpenterTopology ports cases of Karpenter's
// pkg/controllers/provisioning/scheduling/topology_test.go, named after
// their It(); test-zone-1..3 are zone-a..c. Each case's want is the
// ExpectSkew of the original, sorted.
func TestConformanceKarpenterTopology(t *testing.T) {
	app := podLabels("app", "a")
	zoneSpread := spread(zoneKey, 1, "app", "a")
	// full is a node in zone that holds one pod of app a and has no room
	// left: where an earlier ExpectProvisioned put it.
	full := func(name, zone string) *ExistingNode {
		return existing(name, zone, "1200m", "2Gi", running(pod(name+"-pod", "1100m", "1Gi", app, zoneSpread)))
	}
	for _, tc := range []struct {
		name string
		in   Input
		key  string
		want []int
	}{
		{name: "should balance pods across zones (match labels)",
			in:  Input{Pods: replicas(4, "p", "1", "1Gi", app, zoneSpread), NodePools: []*NodePool{defaultPool()}},
			key: zoneKey, want: []int{1, 1, 2}},
		{name: "should respect NodePool zonal constraints (subset) with requirements",
			in: Input{Pods: replicas(4, "p", "1", "1Gi", app, zoneSpread),
				NodePools: []*NodePool{defaultPool(poolReqs(nsr(zoneKey, opIn, zoneA, zoneB)))}},
			key: zoneKey, want: []int{2, 2}},
		{name: "should respect NodePool zonal constraints (subset) with labels",
			in: Input{Pods: replicas(4, "p", "1", "1Gi", app, zoneSpread),
				NodePools: []*NodePool{defaultPool(poolLabels(zoneKey, zoneA))}},
			key: zoneKey, want: []int{4}},
		{name: "should not violate max-skew when unsat = do not schedule",
			in: Input{Pods: replicas(10, "p", "1100m", "1Gi", app, zoneSpread), Nodes: []*ExistingNode{full("n1", zoneA)},
				NodePools: []*NodePool{defaultPool(poolReqs(nsr(zoneKey, opIn, zoneB, zoneC)))}},
			key: zoneKey, want: []int{1, 2, 2}},
		{name: "should not violate max-skew when unsat = do not schedule (discover domains)",
			in: Input{Pods: replicas(10, "p", "1100m", "1Gi", app, zoneSpread),
				Nodes:     []*ExistingNode{existing("n1", zoneA, "1200m", "2Gi", running(pod("n1-pod", "1100m", "1Gi", app)))},
				NodePools: []*NodePool{defaultPool(poolReqs(nsr(zoneKey, opIn, zoneB, zoneC)))}},
			key: zoneKey, want: []int{1, 2, 2}},
		{name: "should only schedule to minimum domains if already violating max skew",
			in: Input{Pods: replicas(3, "p", "1100m", "1Gi", app, zoneSpread),
				Nodes: []*ExistingNode{full("n1", zoneA), full("n2", zoneA), full("n3", zoneA)}, NodePools: []*NodePool{defaultPool()}},
			key: zoneKey, want: []int{1, 2, 3}},
		{name: "should balance pods across nodes",
			in:  Input{Pods: replicas(4, "p", "1", "1Gi", app, spread(hostKey, 1, "app", "a")), NodePools: []*NodePool{defaultPool()}},
			key: hostKey, want: []int{1, 1, 1, 1}},
		{name: "should balance pods on the same hostname up to maxskew",
			in:  Input{Pods: replicas(4, "p", "100m", "128Mi", app, spread(hostKey, 4, "app", "a")), NodePools: []*NodePool{defaultPool()}},
			key: hostKey, want: []int{4}},
		{name: "should respect NodePool capacity type constraints",
			in:  Input{Pods: replicas(4, "p", "1", "1Gi", app, spread(ctKey, 1, "app", "a")), NodePools: []*NodePool{pool("default", spotAndOnDemand())}},
			key: ctKey, want: []int{2, 2}},
		{name: "should not violate max-skew when unsat = do not schedule (capacity type)",
			in: Input{Pods: replicas(5, "p", "1100m", "1Gi", app, spread(ctKey, 1, "app", "a")),
				Nodes: []*ExistingNode{existing("n1", zoneA, "1200m", "2Gi", nodeLabel(ctKey, spot),
					running(pod("n1-pod", "1100m", "1Gi", app, spread(ctKey, 1, "app", "a"))))},
				NodePools: []*NodePool{pool("default", spotAndOnDemand(), poolReqs(nsr(ctKey, opIn, od)))}},
			key: ctKey, want: []int{1, 2}},
		{name: "should limit spread options by nodeSelector",
			in: Input{Pods: append(replicas(5, "a", "1", "1Gi", app, zoneSpread, nodeSelector(zoneKey, zoneA)),
				replicas(10, "b", "1", "1Gi", app, zoneSpread, nodeSelector(zoneKey, zoneB))...), NodePools: []*NodePool{defaultPool()}},
			key: zoneKey, want: []int{5, 10}},
		// Its first round of four: two pods, hostname skew up to 3.
		{name: "should spread pods while respecting both constraints (hostname and zonal)",
			in: Input{Pods: replicas(2, "p", "1", "1Gi", app, zoneSpread, spread(hostKey, 3, "app", "a")),
				NodePools: []*NodePool{defaultPool()}},
			key: zoneKey, want: []int{1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Solve(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := skewOf(tc.in, res, tc.key); !slices.Equal(got, tc.want) {
				t.Errorf("skew over %s = %v, want %v\n%v", tc.key, got, tc.want, summarize(res))
			}
		})
	}
}
