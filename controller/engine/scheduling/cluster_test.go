package scheduling_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/engine/scheduling/workloads"
	"github.com/nodewright/nodewright/controller/test"
)

// TestClusterWithoutMatchesSolve is the Cluster's contract: for random
// clusters and random removal sets, asked in sequence of one Cluster (so
// that a what-if's leftovers would show in the next), Without equals
// SolveWith of the input without those nodes and with their pods pending.
func TestClusterWithoutMatchesSolve(t *testing.T) {
	whatIfs, placed, claims, unschedulable := 0, 0, 0, 0
	for seed := uint64(1); seed <= 300; seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		in := randomCluster(r)
		c, err := scheduling.NewCluster(in)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		for k := 0; k < 12; k++ {
			names := randomRemoval(r, in)
			opts := scheduling.Options{PlainFirstFitDecreasing: r.IntN(4) == 0}
			got, err := c.Without(names, opts)
			if err != nil {
				t.Fatalf("seed %d what-if %d: %v", seed, k, err)
			}
			want, err := scheduling.SolveWith(explicitWithout(in, names), opts)
			if err != nil {
				t.Fatalf("seed %d what-if %d: plain solve: %v", seed, k, err)
			}
			if g, w := describeResult(got), describeResult(want); g != w {
				t.Fatalf("seed %d what-if %d without %v (opts %+v):\n--- Without\n%s--- SolveWith\n%s", seed, k, names, opts, g, w)
			}
			whatIfs++
			for _, e := range got.ExistingNodes {
				placed += len(e.Pods)
			}
			claims += len(got.NodeClaims)
			unschedulable += len(got.Unschedulable)
		}
	}
	// The generator must exercise every outcome, or equality proves little.
	if placed < 1000 || claims < 300 || unschedulable < 50 {
		t.Errorf("weak coverage: %d what-ifs, %d pods onto existing nodes, %d claims, %d unschedulable", whatIfs, placed, claims, unschedulable)
	}
	t.Logf("%d what-ifs: %d pods onto existing nodes, %d claims, %d unschedulable", whatIfs, placed, claims, unschedulable)
}

func TestClusterWithoutErrors(t *testing.T) {
	in := workloads.SyntheticCluster(5, 20, 1)
	c, err := scheduling.NewCluster(in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Without([]string{"node-00001", "nope"}, scheduling.Options{}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("unknown node: err = %v", err)
	}
	// The failed call must leave nothing behind.
	got, err := c.Without([]string{"node-00001"}, scheduling.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := scheduling.SolveWith(explicitWithout(in, []string{"node-00001"}), scheduling.Options{})
	if describeResult(got) != describeResult(want) {
		t.Fatalf("after a failed what-if:\n%s\nwant\n%s", describeResult(got), describeResult(want))
	}
	in.Nodes = append(in.Nodes, in.Nodes[0])
	if _, err := scheduling.NewCluster(in); err == nil {
		t.Fatal("a node listed twice was accepted")
	}
}

// TestClusterWithoutSynthetic checks the equality on the benchmark's
// workload, with its larger topology groups.
func TestClusterWithoutSynthetic(t *testing.T) {
	in := workloads.SyntheticCluster(60, 600, 3)
	r := rand.New(rand.NewPCG(3, 3))
	sets := emptiestPrefixes(in, 6)
	for k := 0; k < 30; k++ {
		sets = append(sets, randomRemoval(r, in))
	}
	// Shrunk nodes make the pods of removed ones need NodeClaims too.
	full := in
	full.Nodes = fillNodes(in.Nodes)
	checkWithout(t, in, sets)
	if claims := checkWithout(t, full, sets); claims == 0 {
		t.Error("no what-if on full nodes needed a NodeClaim")
	}
}

// checkWithout compares each what-if with a plain solve and returns how
// many NodeClaims they planned.
func checkWithout(t *testing.T, in scheduling.Input, sets [][]string) int {
	t.Helper()
	claims := 0
	c, err := scheduling.NewCluster(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, names := range sets {
		got, err := c.Without(names, scheduling.Options{})
		if err != nil {
			t.Fatal(err)
		}
		want, err := scheduling.SolveWith(explicitWithout(in, names), scheduling.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if g, w := describeResult(got), describeResult(want); g != w {
			t.Fatalf("without %v:\n--- Without\n%s--- SolveWith\n%s", names, g, w)
		}
		claims += len(got.NodeClaims)
	}
	return claims
}

func explicitWithout(in scheduling.Input, names []string) scheduling.Input {
	removed := map[string]bool{}
	out := in
	out.Pods = nil
	for _, name := range names {
		if removed[name] {
			continue
		}
		removed[name] = true
		for _, n := range in.Nodes {
			if n.Name != name {
				continue
			}
			for _, p := range n.Pods {
				if scheduling.Reschedulable(p) {
					out.Pods = append(out.Pods, p)
				}
			}
		}
	}
	out.Nodes = nil
	for _, n := range in.Nodes {
		if !removed[n.Name] {
			out.Nodes = append(out.Nodes, n)
		}
	}
	return out
}

// describeResult renders every decision in a result, in order.
func describeResult(res *scheduling.Result) string {
	var b strings.Builder
	for _, e := range res.ExistingNodes {
		fmt.Fprintf(&b, "node %s:", e.Node)
		for _, p := range e.Pods {
			fmt.Fprintf(&b, " %s", p.Namespace+"/"+p.Name)
		}
		b.WriteString("\n")
	}
	for _, nc := range res.NodeClaims {
		fmt.Fprintf(&b, "claim %s:", nc.NodePool)
		for _, p := range nc.Pods {
			fmt.Fprintf(&b, " %s", p.Namespace+"/"+p.Name)
		}
		ch := nc.Chosen()
		fmt.Fprintf(&b, " | %s %s %s %.4f | types %d options %d | reqs %s | requests", ch.InstanceType.Name, ch.Offering.Zone,
			ch.Offering.CapacityType, ch.Offering.Price, nc.InstanceTypes, len(nc.Options), nc.Requirements.String())
		for _, name := range sortedResourceNames(nc.Requests) {
			q := nc.Requests[name]
			fmt.Fprintf(&b, " %s=%s", name, q.String())
		}
		b.WriteString("\n")
	}
	for _, u := range res.Unschedulable {
		fmt.Fprintf(&b, "unschedulable %s: %s\n", u.Pod.Namespace+"/"+u.Pod.Name, u.Reason)
	}
	fmt.Fprintf(&b, "total %.4f\n", res.TotalPrice)
	return b.String()
}

func sortedResourceNames(l corev1.ResourceList) []corev1.ResourceName {
	var out []corev1.ResourceName
	for n := range l {
		out = append(out, n)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func randomRemoval(r *rand.Rand, in scheduling.Input) []string {
	k := 1 + r.IntN(min(len(in.Nodes), 1+r.IntN(6)))
	var names []string
	for _, i := range r.Perm(len(in.Nodes))[:k] {
		names = append(names, in.Nodes[i].Name)
	}
	return names
}

const testGPU = "example.com/gpu"

// randomCluster builds a small cluster exercising what a what-if must
// undo: topology spread (hard and soft, zone and hostname), pod
// (anti-)affinity, host ports, taints, node selectors, an extended
// resource (sometimes overcommitted), daemonset and finished pods on
// nodes, pods elsewhere, pool limits and several pools.
func randomCluster(r *rand.Rand) scheduling.Input {
	types := workloads.SyntheticInstanceTypes(4 + r.IntN(12))
	for i, it := range types {
		if i%4 == 3 {
			it.Allocatable = it.Allocatable.DeepCopy()
			it.Allocatable[testGPU] = resource.MustParse("2")
		}
	}
	in := scheduling.Input{}
	pools := 1 + r.IntN(2)
	for i := 0; i < pools; i++ {
		np := &scheduling.NodePool{Name: fmt.Sprintf("pool-%d", i), Weight: int32(r.IntN(3)), InstanceTypes: types}
		if r.IntN(3) == 0 {
			np.Requirements = []corev1.NodeSelectorRequirement{{Key: corev1.LabelTopologyZone, Operator: corev1.NodeSelectorOpIn, Values: workloads.SyntheticZones[:1+r.IntN(3)]}}
		}
		if r.IntN(3) == 0 {
			np.Taints = []corev1.Taint{{Key: "dedicated", Value: "batch", Effect: corev1.TaintEffectNoSchedule}}
		}
		if r.IntN(3) == 0 {
			np.Limits = test.Resources("cpu", fmt.Sprint(8+r.IntN(40)))
			np.InUse = test.Resources("cpu", fmt.Sprint(r.IntN(8)))
		}
		if r.IntN(4) == 0 {
			np.Labels = map[string]string{"tier": "web"}
		}
		in.NodePools = append(in.NodePools, np)
	}
	if r.IntN(3) == 0 {
		ds := pod("ds", "100m", "128Mi", nil)
		if r.IntN(3) == 0 {
			// Types without the resource can't take this daemonset's pod,
			// unless no pending pod names the resource.
			ds.Spec.Containers[0].Resources.Requests[testGPU] = resource.MustParse("1")
		}
		in.DaemonSets = append(in.DaemonSets, ds)
	}
	apps := []string{"a", "b", "c"}
	nodes := 2 + r.IntN(10)
	seq := 0
	for i := 0; i < nodes; i++ {
		it := types[r.IntN(len(types))]
		zone := workloads.SyntheticZones[r.IntN(len(workloads.SyntheticZones))]
		name := fmt.Sprintf("n%02d", i)
		labels := maps.Clone(it.Labels)
		maps.Copy(labels, map[string]string{corev1.LabelHostname: name, corev1.LabelTopologyZone: zone,
			v1.CapacityTypeLabelKey: v1.CapacityTypeOnDemand, "tier": []string{"web", "db"}[r.IntN(2)]})
		if r.IntN(8) == 0 {
			delete(labels, corev1.LabelTopologyZone)
		}
		en := &scheduling.ExistingNode{Name: name, Labels: labels, Allocatable: it.Allocatable, NodePool: in.NodePools[0].Name}
		if r.IntN(5) == 0 {
			en.Taints = []corev1.Taint{{Key: "dedicated", Value: "batch", Effect: corev1.TaintEffectNoSchedule}}
		}
		for k := 0; k < r.IntN(7); k++ {
			seq++
			p := randomPod(r, fmt.Sprintf("p%03d", seq), apps)
			p.Spec.NodeName = name
			en.Pods = append(en.Pods, p)
		}
		in.Nodes = append(in.Nodes, en)
	}
	if r.IntN(3) == 0 {
		p := randomPod(r, "elsewhere", apps)
		in.PodsElsewhere = append(in.PodsElsewhere, scheduling.PodOnDomain{Pod: p, NodeLabels: map[string]string{
			corev1.LabelHostname: "gone", corev1.LabelTopologyZone: workloads.SyntheticZones[r.IntN(3)]}})
	}
	return in
}

func randomPod(r *rand.Rand, name string, apps []string) *corev1.Pod {
	cpus := []string{"100m", "250m", "500m", "1", "1500m", "3"}
	mems := []string{"128Mi", "512Mi", "1Gi", "2Gi", "5Gi"}
	app := apps[r.IntN(len(apps))]
	p := pod(name, cpus[r.IntN(len(cpus))], mems[r.IntN(len(mems))], map[string]string{"app": app})
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
	switch r.IntN(13) {
	case 0, 1:
		when := corev1.DoNotSchedule
		if r.IntN(3) == 0 {
			when = corev1.ScheduleAnyway
		}
		key := corev1.LabelTopologyZone
		if r.IntN(3) == 0 {
			key = corev1.LabelHostname
		}
		p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: key, WhenUnsatisfiable: when, LabelSelector: sel}}
	case 2:
		p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{TopologyKey: corev1.LabelHostname, LabelSelector: sel}}}}
	case 3:
		p.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{TopologyKey: corev1.LabelTopologyZone, LabelSelector: sel}}}}
	case 4:
		p.Spec.NodeSelector = map[string]string{"tier": "db"}
	case 5:
		p.Spec.Containers[0].Ports = []corev1.ContainerPort{{HostPort: 8080}}
	case 6:
		p.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "batch", Effect: corev1.TaintEffectNoSchedule}}
	case 7:
		p.Spec.Containers[0].Resources.Requests[testGPU] = resource.MustParse("1")
	case 8:
		// A daemonset pod whose term only it defines: the term's group must
		// vanish with its node.
		t := true
		p.OwnerReferences = []metav1.OwnerReference{{Kind: "DaemonSet", Name: "agent", Controller: &t}}
		p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			TopologyKey: corev1.LabelTopologyZone, LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}}}}}
	case 9:
		p.Status.Phase = corev1.PodSucceeded
	case 11:
		// Spread over a label neither zone nor hostname: only the pods
		// counted keep its domains known.
		tsc := corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: "tier", WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: sel}
		if r.IntN(3) == 0 {
			two := int32(2)
			tsc.MinDomains = &two
		}
		p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{tsc}
	case 10:
		p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
			Weight: 10, PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: corev1.LabelTopologyZone, LabelSelector: sel}}}}}
	}
	return p
}

// TestClusterWithoutGroupOrder: a pod counted by two zone groups joins a
// new node whose zone the first of its groups picks, and a plain solve
// lists first the groups its pending pods define. Here the base cluster
// lists "app=a" first (a pod on n0 defines it) but the plain solve lists
// "team=t" first (only the pending pod q defines it), and the two groups
// rank the zones in opposite orders.
func TestClusterWithoutGroupOrder(t *testing.T) {
	softAnti := func(key, value string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
				Weight: 1, PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: corev1.LabelTopologyZone,
					LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{key: value}}}}}}}
		}
	}
	types := workloads.SyntheticInstanceTypes(8)
	node := func(name, zone string, pods ...*corev1.Pod) *scheduling.ExistingNode {
		return &scheduling.ExistingNode{Name: name, Allocatable: types[7].Allocatable, Pods: pods,
			Labels: map[string]string{corev1.LabelHostname: name, corev1.LabelTopologyZone: zone}}
	}
	in := scheduling.Input{NodePools: []*scheduling.NodePool{workloads.DefaultNodePool(types)}, Nodes: []*scheduling.ExistingNode{
		node("n0", workloads.SyntheticZones[0], pod("r", "1", "1Gi", nil, softAnti("app", "a")), pod("a1", "1", "1Gi", map[string]string{"app": "a"}), pod("a2", "1", "1Gi", map[string]string{"app": "a"})),
		node("n1", workloads.SyntheticZones[1], pod("t1", "1", "1Gi", map[string]string{"team": "t"}), pod("t2", "1", "1Gi", map[string]string{"team": "t"})),
		node("n2", workloads.SyntheticZones[2], pod("a3", "1", "1Gi", map[string]string{"app": "a"}), pod("t3", "1", "1Gi", map[string]string{"team": "t"})),
		node("n3", workloads.SyntheticZones[2], pod("p", "2", "1Gi", map[string]string{"app": "a", "team": "t"}), pod("q", "100m", "100Mi", nil, softAnti("team", "t"))),
	}}
	in.Nodes = fillNodes(in.Nodes)
	c, err := scheduling.NewCluster(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Without([]string{"n3"}, scheduling.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := scheduling.SolveWith(explicitWithout(in, []string{"n3"}), scheduling.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g, w := describeResult(got), describeResult(want); g != w {
		t.Fatalf("--- Without\n%s--- SolveWith\n%s", g, w)
	}
	// The scenario only tests the order if p's zone follows team=t.
	if len(want.NodeClaims) == 0 || want.NodeClaims[0].Pods[0].Name != "p" {
		t.Fatalf("p should open a NodeClaim:\n%s", describeResult(want))
	}
	if z, _ := want.NodeClaims[0].Requirements.Single(corev1.LabelTopologyZone); z != workloads.SyntheticZones[0] {
		t.Fatalf("p's NodeClaim is in %q, want %s (the emptiest of team=t):\n%s", z, workloads.SyntheticZones[0], describeResult(want))
	}
}

// pod is a pending pod of one container requesting cpu and mem.
func pod(name, cpu, mem string, labels map[string]string, mutate ...func(*corev1.Pod)) *corev1.Pod {
	p := test.Pod(test.PodOptions{Name: name, Labels: labels, Requests: test.Resources("cpu", cpu, "memory", mem)})
	for _, m := range mutate {
		m(p)
	}
	return p
}
