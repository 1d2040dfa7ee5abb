package scheduling

import (
	"strings"
	"testing"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Cases where the engine must decide as kube-scheduler and Karpenter do.
// Each names the test of Karpenter's scheduling suite it follows
// (kubernetes-sigs/karpenter pkg/controllers/provisioning/scheduling,
// suite_test.go or topology_test.go), with Karpenter's label keys
// translated to ours.

// spotAndOnDemand offers each size both ways in zone-a, spot at half price.
func spotAndOnDemand() []*InstanceType {
	var out []*InstanceType
	for _, it := range catalog() {
		p := it.Offerings[0].Price
		it.Offerings = []Offering{off(zoneA, spot, p/2), off(zoneA, od, p)}
		out = append(out, it)
	}
	return out
}

// podsPer counts each claim's pods by a value of its chosen offering or
// its requirements: how a spread over key came out.
func podsPer(res *Result, key string) map[string]int {
	out := map[string]int{}
	for _, n := range res.NodeClaims {
		var d string
		switch key {
		case zoneKey:
			d = n.Chosen().Offering.Zone
		case ctKey:
			d = n.Chosen().Offering.CapacityType
		default:
			d, _ = n.Requirements.Single(key)
		}
		out[d] += len(n.Pods)
	}
	return out
}

func wantCounts(t *testing.T, res *Result, key string, want map[string]int) {
	t.Helper()
	got := podsPer(res, key)
	if len(got) != len(want) {
		t.Fatalf("pods per %s = %v, want %v (plan %v)", key, got, want, summarize(res))
	}
	for d, n := range want {
		if got[d] != n {
			t.Fatalf("pods per %s = %v, want %v (plan %v)", key, got, want, summarize(res))
		}
	}
}

func withSpreadPolicy(honorTaints bool, matchLabelKeys ...string) spreadOpt {
	return func(c *corev1.TopologySpreadConstraint) {
		if honorTaints {
			h := corev1.NodeInclusionPolicyHonor
			c.NodeTaintsPolicy = &h
		}
		c.MatchLabelKeys = matchLabelKeys
	}
}

// 1. Spread domains come from the pools, not only from where pods landed.
func TestConformanceSpreadDomainsFromPools(t *testing.T) {
	custom := func(name string, value string, opts ...poolOpt) *NodePool {
		return pool(name, catalog(), append([]poolOpt{poolReqs(nsr("spread-label", corev1.NodeSelectorOpIn, value))}, opts...)...)
	}
	runSolveCases(t, []solveCase{
		// topology_test.go "should balance pods across capacity types"
		{name: "capacity type spread splits 2:2",
			in: Input{Pods: replicas(4, "p", "1", "1Gi", podLabels("app", "a"), spread(ctKey, 1, "app", "a")),
				NodePools: []*NodePool{pool("default", spotAndOnDemand())}},
			check: func(t *testing.T, res *Result) { wantCounts(t, res, ctKey, map[string]int{spot: 2, od: 2}) }},
		// topology_test.go "should balance pods across a label when
		// discovered from the nodepool (NodeTaintsPolicy=ignore)": the
		// tainted pool's domain counts, so only one pod fits the skew.
		{name: "custom label spread counts an untolerated pool's domain by default",
			in: Input{Pods: replicas(2, "p", "1", "1Gi", podLabels("app", "a"), spread("spread-label", 1, "app", "a")),
				NodePools: []*NodePool{custom("foo", "foo"), custom("bar", "bar", poolTaints(taint("taint-key", "v", corev1.TaintEffectNoSchedule)))}},
			check: func(t *testing.T, res *Result) {
				wantCounts(t, res, "spread-label", map[string]int{"foo": 1})
				if len(res.Unschedulable) != 1 {
					t.Fatalf("want one pod left out by the skew, got %v", summarize(res))
				}
			}},
	})
}

// 2. nodeTaintsPolicy and matchLabelKeys.
func TestConformanceSpreadPolicies(t *testing.T) {
	custom := func(name string, value string, opts ...poolOpt) *NodePool {
		return pool(name, catalog(), append([]poolOpt{poolReqs(nsr("spread-label", corev1.NodeSelectorOpIn, value))}, opts...)...)
	}
	revision := func(rev string) podOpt { return podLabels("pod-template-hash", rev) }
	runSolveCases(t, []solveCase{
		// topology_test.go "should balance pods across a label when
		// discovered from the nodepool (NodeTaintsPolicy=honor)"
		{name: "nodeTaintsPolicy Honor ignores a domain only untolerated pools offer",
			in: Input{Pods: replicas(2, "p", "1", "1Gi", podLabels("app", "a"), spread("spread-label", 1, "app", "a", withSpreadPolicy(true))),
				NodePools: []*NodePool{custom("foo", "foo"), custom("bar", "bar", poolTaints(taint("taint-key", "v", corev1.TaintEffectNoSchedule)))}},
			want: []string{"claim foo small zone-a on-demand: p-0 p-1"}},
		// topology_test.go "should support matchLabelKeys": each revision
		// spreads on its own, so two nodes hold one pod of each.
		{name: "matchLabelKeys spreads each revision on its own",
			in: Input{Pods: append(
				replicas(2, "a", "1", "1Gi", podLabels("app", "a"), revision("1"), spread(hostKey, 1, "app", "a", withSpreadPolicy(false, "pod-template-hash"))),
				replicas(2, "b", "1", "1Gi", podLabels("app", "a"), revision("2"), spread(hostKey, 1, "app", "a", withSpreadPolicy(false, "pod-template-hash")))...),
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: a-0 b-0", "claim default small zone-a on-demand: a-1 b-1"}},
		// topology_test.go "should ignore unknown labels specified in matchLabelKeys"
		{name: "matchLabelKeys ignores a key the pod lacks",
			in: Input{Pods: replicas(3, "p", "1", "1Gi", podLabels("app", "a"), spread(hostKey, 1, "app", "a", withSpreadPolicy(false, "absent"))),
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: p-0", "claim default small zone-a on-demand: p-1", "claim default small zone-a on-demand: p-2"}},
	})
}

// 3. Preferred node affinity does not narrow a spread's eligible domains.
func TestConformanceSpreadIgnoresPreferredAffinity(t *testing.T) {
	// topology_test.go "should not limit spread options by preferred node
	// affinity": with zone-a preferred, the spread still counts b and c, so
	// after one pod in a the next go to b and c.
	runSolveCases(t, []solveCase{{name: "preferred zone does not narrow the spread",
		in: Input{Pods: replicas(3, "p", "1", "1Gi", podLabels("app", "a"), spread(zoneKey, 1, "app", "a"),
			preferred(10, nsr(zoneKey, corev1.NodeSelectorOpIn, zoneA))),
			NodePools: []*NodePool{defaultPool()}},
		check: func(t *testing.T, res *Result) {
			wantCounts(t, res, zoneKey, map[string]int{zoneA: 1, zoneB: 1, zoneC: 1})
		}}})
}

// 4. Preferred terms are tried one at a time, heaviest first.
func TestConformancePreferredTermsOneAtATime(t *testing.T) {
	// suite_test.go "should relax to use lighter weights": the heaviest
	// term is unsatisfiable, the next one is used, the lightest never.
	runSolveCases(t, []solveCase{{name: "heaviest unsatisfiable term gives way to the next",
		in: Input{Pods: pods(pod("x", "1", "1Gi",
			preferred(100, nsr(itKey, corev1.NodeSelectorOpIn, "no-such-type")),
			preferred(50, nsr(zoneKey, corev1.NodeSelectorOpIn, zoneB)),
			preferred(1, nsr(zoneKey, corev1.NodeSelectorOpIn, zoneA)))),
			NodePools: []*NodePool{defaultPool(poolReqs(nsr(zoneKey, corev1.NodeSelectorOpIn, zoneA, zoneB)))}},
		want: []string{"claim default small zone-b on-demand: x"}}})
}

// 5. and 6. Daemonsets: host ports, and requests defaulted from limits.
func TestConformanceDaemonSets(t *testing.T) {
	daemon := func(opts ...podOpt) *corev1.Pod { return pod("ds", "", "", opts...) }
	limitsOnly := func(cpu string) podOpt {
		return func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources = corev1.ResourceRequirements{Limits: rl("cpu", cpu, "memory", "1Gi")}
		}
	}
	runSolveCases(t, []solveCase{
		// suite_test.go "should schedule pods with the same host port to
		// different nodes", with the port taken by a daemonset.
		{name: "a daemonset's host port is taken on new nodes",
			in: Input{Pods: pods(pod("x", "1", "1Gi", hostPortOpt(8080))), DaemonSets: pods(daemon(hostPortOpt(8080))),
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"unschedulable x: nodepool default: the pod's host ports are taken by daemonsets on every instance type that fits it"}},
		{name: "a daemonset that lands only on some types leaves the others free",
			in: Input{Pods: pods(pod("x", "1", "1Gi", hostPortOpt(8080))),
				DaemonSets: pods(daemon(hostPortOpt(8080), nodeSelector(itKey, "small"))), NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default medium zone-a on-demand: x"}},
		// The API server defaults a pod's requests to its limits; a
		// daemonset template is not defaulted until its pods are made.
		{name: "a daemonset giving only limits requests them",
			in: Input{Pods: pods(pod("x", "1", "1Gi")), DaemonSets: pods(daemon(limitsOnly("1500m"))),
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default medium zone-a on-demand: x"}},
	})
}

// 7. and 8. Instance-type labels: pins narrow the options, and a type
// without a label does not satisfy a requirement that it exist.
func TestConformanceInstanceTypeLabels(t *testing.T) {
	mixed := func() []*InstanceType {
		return []*InstanceType{
			itype("amd-small", "2", "4Gi", 10, 0.10),
			itype("arm-small", "2", "4Gi", 10, 0.12, arch("arm64")),
			itype("gpu", "4", "16Gi", 20, 1.00, itLabel("gpu-count", "1")),
		}
	}
	armNode := existing("arm-node", zoneA, "1", "1Gi", nodeLabel(archKey, "arm64"),
		running(pod("db", "500m", "512Mi", podLabels("app", "db"))))
	runSolveCases(t, []solveCase{
		// topology_test.go "should respect pod affinity (arch)"
		{name: "pod affinity on arch pins the new node's types to arm64",
			in: Input{Pods: pods(pod("x", "1", "1Gi", podAffinity(false, true, archKey, "app", "db"))), Nodes: []*ExistingNode{armNode},
				NodePools: []*NodePool{pool("default", mixed())}},
			want: []string{"claim default arm-small zone-a on-demand: x"},
			check: func(t *testing.T, res *Result) {
				if got := optionTypes(res.NodeClaims[0]); strings.Join(got, ",") != "arm-small" {
					t.Errorf("options %v, want arm-small only", got)
				}
			}},
		// suite_test.go "should not schedule pods that have node selectors
		// with Exists operator and undefined key", for a key some types set.
		{name: "Exists on a label only some types set picks those types",
			in: Input{Pods: pods(pod("x", "1", "1Gi", requiredTerms(term(nsr("gpu-count", corev1.NodeSelectorOpExists))))),
				NodePools: []*NodePool{pool("default", mixed())}},
			want: []string{"claim default gpu zone-a on-demand: x"}},
		{name: "In on a label only some types set picks those types",
			in:   Input{Pods: pods(pod("x", "1", "1Gi", nodeSelector("gpu-count", "1"))), NodePools: []*NodePool{pool("default", mixed())}},
			want: []string{"claim default gpu zone-a on-demand: x"}},
	})
}

// 9. A pod whose affinity target comes later in the batch is placed.
func TestConformanceAffinityToALaterPod(t *testing.T) {
	// The large pod is tried first and finds no "db" pod yet; once the
	// small one is placed, the retry puts it beside it.
	runSolveCases(t, []solveCase{{name: "affinity target placed after the pod",
		in: Input{Pods: pods(
			pod("web", "3", "1Gi", podAffinity(false, true, zoneKey, "app", "db")),
			pod("db", "500m", "512Mi", podLabels("app", "db"))),
			NodePools: []*NodePool{defaultPool()}},
		check: func(t *testing.T, res *Result) {
			if len(res.Unschedulable) > 0 {
				t.Fatalf("want both placed: %v", summarize(res))
			}
			wantCounts(t, res, zoneKey, map[string]int{zoneA: 2})
		}}})
}

// 10. Namespaces of pod affinity terms.
func TestConformanceAffinityNamespaces(t *testing.T) {
	other := existing("other", zoneB, "4", "8Gi", running(pod("db", "500m", "512Mi", podLabels("app", "db"), namespace("data"))))
	affinityIn := func(nsList []string, nsSel *metav1.LabelSelector) podOpt {
		return func(p *corev1.Pod) {
			term := affinityTerm(zoneKey, "app", "db")
			term.Namespaces, term.NamespaceSelector = nsList, nsSel
			a := ensureAffinity(p)
			a.PodAffinity = &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{term}}
		}
	}
	// The existing node is full of pod slots, so placements are new claims
	// whose zone shows which domain the term matched.
	other.Allocatable[corev1.ResourcePods] = q("1")
	in := func(opt podOpt) Input {
		return Input{Pods: pods(pod("x", "1", "1Gi", opt)), Nodes: []*ExistingNode{other}, NodePools: []*NodePool{defaultPool()},
			NamespaceLabels: map[string]map[string]string{"data": {"team": "storage"}}}
	}
	runSolveCases(t, []solveCase{
		// topology_test.go "should filter pod affinity topologies by
		// namespace, empty namespace selector"
		{name: "empty namespace selector matches every namespace", in: in(affinityIn(nil, &metav1.LabelSelector{})),
			want: []string{"claim default small zone-b on-demand: x"}},
		// topology_test.go "should filter pod affinity topologies by
		// namespace, matching pods namespace list"
		{name: "namespace list", in: in(affinityIn([]string{"data"}, nil)),
			want: []string{"claim default small zone-b on-demand: x"}},
		{name: "namespace selector by label", in: in(affinityIn(nil, &metav1.LabelSelector{MatchLabels: map[string]string{"team": "storage"}})),
			want: []string{"claim default small zone-b on-demand: x"}},
		// topology_test.go "should filter pod affinity topologies by
		// namespace, no matching pods": the pod's own namespace has no db.
		{name: "no namespaces given means the pod's own", in: in(affinityIn(nil, nil)),
			check: func(t *testing.T, res *Result) {
				if len(res.Unschedulable) != 1 {
					t.Fatalf("want x unschedulable: %v", summarize(res))
				}
			}},
	})
}

// 11. Deprecated label keys are aliases of the stable ones.
func TestConformanceDeprecatedLabels(t *testing.T) {
	runSolveCases(t, []solveCase{
		{name: "beta zone and arch", in: Input{Pods: pods(pod("x", "1", "1Gi",
			nodeSelector(corev1.LabelFailureDomainBetaZone, zoneC, "beta.kubernetes.io/arch", "amd64"))), NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-c on-demand: x"}},
		{name: "beta instance type", in: Input{Pods: pods(pod("x", "1", "1Gi",
			requiredTerms(term(nsr(corev1.LabelInstanceType, corev1.NodeSelectorOpIn, "large"))))), NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default large zone-a on-demand: x"}},
		{name: "spread over the beta zone key", in: Input{Pods: replicas(3, "p", "1", "1Gi", podLabels("app", "a"),
			spread(corev1.LabelFailureDomainBetaZone, 1, "app", "a")), NodePools: []*NodePool{defaultPool()}},
			check: func(t *testing.T, res *Result) {
				wantCounts(t, res, zoneKey, map[string]int{zoneA: 1, zoneB: 1, zoneC: 1})
			}},
	})
}

// 12. A pool with a PreferNoSchedule taint is a last resort.
func TestConformancePreferNoSchedule(t *testing.T) {
	tainted := pool("tainted", catalog(), weight(10), poolTaints(taint("spot-only", "", corev1.TaintEffectPreferNoSchedule)))
	runSolveCases(t, []solveCase{
		// The tainted pool weighs more, yet the untainted one is used.
		{name: "untainted pool first", in: Input{Pods: pods(pod("x", "1", "1Gi")), NodePools: []*NodePool{tainted, defaultPool()}},
			want: []string{"claim default small zone-a on-demand: x"}},
		{name: "tainted pool when it is the only one", in: Input{Pods: pods(pod("x", "1", "1Gi")), NodePools: []*NodePool{tainted}},
			want: []string{"claim tainted small zone-a on-demand: x"}},
		{name: "tolerating pod uses the heavier pool", in: Input{Pods: pods(pod("x", "1", "1Gi", tolerate("spot-only", "", corev1.TaintEffectPreferNoSchedule))),
			NodePools: []*NodePool{tainted, defaultPool()}},
			want: []string{"claim tainted small zone-a on-demand: x"}},
		{name: "existing node with the taint is avoided", in: Input{Pods: pods(pod("x", "1", "1Gi")),
			Nodes:     []*ExistingNode{existing("n1", zoneA, "4", "8Gi", nodeTaints(taint("spot-only", "", corev1.TaintEffectPreferNoSchedule)))},
			NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: x"}},
	})
	ok, reason, err := Compatible(pod("x", "1", "1Gi"), tainted)
	if err != nil || !ok {
		t.Errorf("Compatible with a PreferNoSchedule pool = %v %q %v, want compatible", ok, reason, err)
	}
}

// 13. A pool that can launch nothing says so.
func TestConformancePoolWithoutTypesReason(t *testing.T) {
	runSolveCases(t, []solveCase{
		{name: "requirements rule out every type",
			in:   Input{Pods: pods(pod("x", "", "")), NodePools: []*NodePool{defaultPool(poolReqs(nsr(archKey, corev1.NodeSelectorOpIn, "arm64")))}},
			want: []string{"unschedulable x: nodepool default has no instance type to launch: none of its 3 instance types meets its requirements (arch In [arm64]) with an available offering and room for its daemonsets"}},
		{name: "no types at all",
			in:   Input{Pods: pods(pod("x", "1", "1Gi")), NodePools: []*NodePool{pool("default", nil)}},
			want: []string{"unschedulable x: nodepool default has no instance types to launch (is its node class ready?)"}},
	})
}

// karpenterCase is one case of Karpenter's "Custom Constraints" and "Well
// Known Labels" contexts (suite_test.go), named as there: the pods, the
// pool's options, and whether every pod is placed, with a label value
// the first pod's node must then carry ("" for none to check, "!" for the
// key to be absent or another value).
type karpenterCase struct {
	name      string
	pool      []poolOpt
	pods      []*corev1.Pod
	scheduled bool
	key, want string
}

func runKarpenterCases(t *testing.T, cases []karpenterCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Solve(Input{Pods: tc.pods, NodePools: []*NodePool{defaultPool(tc.pool...)}})
			if err != nil {
				t.Fatal(err)
			}
			if placed := len(res.Unschedulable) == 0; placed != tc.scheduled {
				t.Fatalf("scheduled = %v, want %v: %v", placed, tc.scheduled, summarize(res))
			}
			if !tc.scheduled || tc.key == "" {
				return
			}
			got, pinned := claimWith(t, res, tc.pods[0].Name).Requirements.Single(tc.key)
			switch {
			case tc.want == "!" && pinned && got == "test-value":
				t.Errorf("node label %s = %s, want it absent or another value", tc.key, got)
			case tc.want != "!" && got != tc.want:
				t.Errorf("node label %s = %q, want %q", tc.key, got, tc.want)
			}
		})
	}
}

func TestConformanceKarpenterCustomConstraints(t *testing.T) {
	const key = "test-key"
	labels := poolLabels(key, "test-value")
	reqIn := func(values ...string) poolOpt { return poolReqs(nsr(key, corev1.NodeSelectorOpIn, values...)) }
	podWith := func(reqs ...corev1.NodeSelectorRequirement) *corev1.Pod {
		return pod("p", "1", "1Gi", requiredTerms(term(reqs...)))
	}
	runKarpenterCases(t, []karpenterCase{
		// Context "NodePool with Labels"
		{name: "should schedule unconstrained pods that don't have matching node selectors", pool: []poolOpt{labels},
			pods: pods(pod("p", "1", "1Gi")), scheduled: true, key: key, want: "test-value"},
		{name: "should not schedule pods that have conflicting node selectors", pool: []poolOpt{labels},
			pods: pods(pod("p", "1", "1Gi", nodeSelector(key, "different-value")))},
		{name: "should not schedule pods that have node selectors with undefined key",
			pods: pods(pod("p", "1", "1Gi", nodeSelector(key, "test-value")))},
		{name: "should schedule pods that have matching requirements", pool: []poolOpt{labels},
			pods: pods(podWith(nsr(key, corev1.NodeSelectorOpIn, "test-value", "another-value"))), scheduled: true, key: key, want: "test-value"},
		{name: "should not schedule pods that have conflicting requirements", pool: []poolOpt{labels},
			pods: pods(podWith(nsr(key, corev1.NodeSelectorOpIn, "another-value")))},
		// Context "Scheduling Logic"
		{name: "should not schedule pods that have node selectors with In operator and undefined key",
			pods: pods(podWith(nsr(key, corev1.NodeSelectorOpIn, "test-value")))},
		{name: "should schedule pods that have node selectors with NotIn operator and undefined key",
			pods: pods(podWith(nsr(key, corev1.NodeSelectorOpNotIn, "test-value"))), scheduled: true, key: key, want: "!"},
		{name: "should not schedule pods that have node selectors with Exists operator and undefined key",
			pods: pods(podWith(nsr(key, corev1.NodeSelectorOpExists)))},
		{name: "should schedule pods that with DoesNotExists operator and undefined key",
			pods: pods(podWith(nsr(key, corev1.NodeSelectorOpDoesNotExist))), scheduled: true, key: key, want: "!"},
		{name: "should schedule unconstrained pods that don't have matching node selectors (requirement)", pool: []poolOpt{reqIn("test-value")},
			pods: pods(pod("p", "1", "1Gi")), scheduled: true, key: key, want: "test-value"},
		{name: "should schedule pods that have node selectors with matching value and In operator", pool: []poolOpt{reqIn("test-value")},
			pods: pods(podWith(nsr(key, corev1.NodeSelectorOpIn, "test-value"))), scheduled: true, key: key, want: "test-value"},
		{name: "should not schedule pods that have node selectors with matching value and NotIn operator", pool: []poolOpt{reqIn("test-value")},
			pods: pods(podWith(nsr(key, corev1.NodeSelectorOpNotIn, "test-value")))},
		{name: "should schedule the pod with Exists operator and defined key", pool: []poolOpt{reqIn("test-value")},
			pods: pods(podWith(nsr(key, corev1.NodeSelectorOpExists))), scheduled: true},
		{name: "should not schedule the pod with DoesNotExists operator and defined key", pool: []poolOpt{reqIn("test-value")},
			pods: pods(podWith(nsr(key, corev1.NodeSelectorOpDoesNotExist)))},
		{name: "should not schedule pods that have node selectors with different value and In operator", pool: []poolOpt{reqIn("test-value")},
			pods: pods(podWith(nsr(key, corev1.NodeSelectorOpIn, "another-value")))},
		{name: "should schedule pods that have node selectors with different value and NotIn operator", pool: []poolOpt{reqIn("test-value")},
			pods: pods(podWith(nsr(key, corev1.NodeSelectorOpNotIn, "another-value"))), scheduled: true, key: key, want: "test-value"},
		{name: "Exists operator should not overwrite the existing value",
			pods: pods(podWith(nsr(zoneKey, corev1.NodeSelectorOpIn, "non-existent-zone"), nsr(zoneKey, corev1.NodeSelectorOpExists)))},
		// Context "Well Known Labels"
		{name: "should use NodePool constraints", pool: []poolOpt{poolReqs(nsr(zoneKey, corev1.NodeSelectorOpIn, zoneB))},
			pods: pods(pod("p", "1", "1Gi")), scheduled: true, key: zoneKey, want: zoneB},
		{name: "should use node selectors", pool: []poolOpt{poolReqs(nsr(zoneKey, corev1.NodeSelectorOpIn, zoneA, zoneB))},
			pods: pods(pod("p", "1", "1Gi", nodeSelector(zoneKey, zoneB))), scheduled: true, key: zoneKey, want: zoneB},
		{name: "should not schedule nodes with a hostname selector",
			pods: pods(pod("p", "1", "1Gi", nodeSelector(corev1.LabelHostname, "red-node")))},
		{name: "should not schedule the pod if nodeselector unknown", pool: []poolOpt{poolReqs(nsr(zoneKey, corev1.NodeSelectorOpIn, zoneA))},
			pods: pods(pod("p", "1", "1Gi", nodeSelector(zoneKey, "unknown")))},
		{name: "should not schedule if node selector outside of NodePool constraints", pool: []poolOpt{poolReqs(nsr(zoneKey, corev1.NodeSelectorOpIn, zoneA))},
			pods: pods(pod("p", "1", "1Gi", nodeSelector(zoneKey, zoneB)))},
		{name: "should schedule compatible requirements with Operator=In",
			pods: pods(podWith(nsr(zoneKey, corev1.NodeSelectorOpIn, zoneC))), scheduled: true, key: zoneKey, want: zoneC},
	})
}

// suite_test.go "should schedule compatible pods to the same node" and
// "should schedule incompatible pods to the different node".
func TestConformanceKarpenterCompatiblePodsShareANode(t *testing.T) {
	const key = "test-key"
	np := func() *NodePool {
		return defaultPool(poolReqs(nsr(key, corev1.NodeSelectorOpIn, "test-value", "another-value")))
	}
	a := pod("a", "500m", "512Mi", requiredTerms(term(nsr(key, corev1.NodeSelectorOpIn, "test-value"))))
	b := pod("b", "500m", "512Mi", requiredTerms(term(nsr(key, corev1.NodeSelectorOpNotIn, "another-value"))))
	c := pod("c", "500m", "512Mi", requiredTerms(term(nsr(key, corev1.NodeSelectorOpIn, "another-value"))))
	res, err := Solve(Input{Pods: pods(a, b), NodePools: []*NodePool{np()}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.NodeClaims) != 1 || len(res.Unschedulable) > 0 {
		t.Errorf("compatible pods: want one node, got %v", summarize(res))
	}
	res, err = Solve(Input{Pods: pods(a, c), NodePools: []*NodePool{np()}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.NodeClaims) != 2 || len(res.Unschedulable) > 0 {
		t.Fatalf("incompatible pods: want two nodes, got %v", summarize(res))
	}
	for p, want := range map[string]string{"a": "test-value", "c": "another-value"} {
		if got, _ := claimWith(t, res, p).Requirements.Single(key); got != want {
			t.Errorf("node of %s has %s=%q, want %q", p, key, got, want)
		}
	}
}

// suite_test.go, Describe "Instance Type Compatibility". Karpenter's fake
// catalog offers one arm64 type with 16 vCPUs and more operating systems
// than ours can label on one type, so the arm64 type here runs "ios" and
// a separate type runs windows.
func TestConformanceKarpenterInstanceTypeCompatibility(t *testing.T) {
	types := func() []*InstanceType {
		return append(catalog(),
			itype("arm-instance-type", "16", "128Gi", 110, 1.60, arch("arm64"), itLabel(corev1.LabelOSStable, "ios")),
			itype("windows-instance-type", "4", "16Gi", 20, 0.50, itLabel(corev1.LabelOSStable, "windows")))
	}
	amd64Only := poolReqs(nsr(archKey, corev1.NodeSelectorOpIn, "amd64"))
	bothArchs := poolReqs(nsr(archKey, corev1.NodeSelectorOpIn, "amd64", "arm64"))
	limitsOnly := func(cpu string) podOpt {
		return func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources = corev1.ResourceRequirements{Limits: rl("cpu", cpu)}
		}
	}
	for _, tc := range []struct {
		name  string
		pool  poolOpt
		pods  []*corev1.Pod
		nodes int // new nodes wanted; -1: the pods are unschedulable
	}{
		{"should not schedule if requesting more resources than any instance type has", bothArchs,
			pods(pod("p", "512", "")), -1},
		{"should launch pods with different archs on different instances", bothArchs,
			pods(pod("a", "1", "", nodeSelector(archKey, "amd64")), pod("b", "1", "", nodeSelector(archKey, "arm64"))), 2},
		{"should exclude instance types that are not supported by the pod constraints (node affinity/instance type)", amd64Only,
			pods(pod("p", "1", "", requiredTerms(term(nsr(itKey, corev1.NodeSelectorOpIn, "arm-instance-type"))))), -1},
		{"should exclude instance types that are not supported by the pod constraints (node affinity/operating system)", amd64Only,
			pods(pod("p", "1", "", requiredTerms(term(nsr(corev1.LabelOSStable, corev1.NodeSelectorOpIn, "ios"))))), -1},
		{"should exclude instance types that are not supported by the provider constraints (arch)", amd64Only,
			pods(pod("p", "", "", limitsOnly("14"))), -1},
		{"should launch pods with different operating systems on different instances", bothArchs,
			pods(pod("a", "1", "", nodeSelector(corev1.LabelOSStable, "linux")), pod("b", "1", "", nodeSelector(corev1.LabelOSStable, "windows"))), 2},
		{"should launch pods with different instance type node selectors on different instances", bothArchs,
			pods(pod("a", "1", "", nodeSelector(corev1.LabelInstanceType, "small")), pod("b", "1", "", nodeSelector(itKey, "medium"))), 2},
		{"should launch pods with different zone selectors on different instances", bothArchs,
			pods(pod("a", "1", "", nodeSelector(zoneKey, zoneA)), pod("b", "1", "", nodeSelector(zoneKey, zoneB))), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Solve(Input{Pods: tc.pods, NodePools: []*NodePool{pool("default", types(), tc.pool)}})
			if err != nil {
				t.Fatal(err)
			}
			if tc.nodes < 0 {
				if len(res.Unschedulable) != len(tc.pods) || len(res.NodeClaims) != 0 {
					t.Errorf("want every pod unschedulable, got %v", summarize(res))
				}
				return
			}
			if len(res.Unschedulable) != 0 || len(res.NodeClaims) != tc.nodes {
				t.Errorf("want %d nodes and every pod placed, got %v", tc.nodes, summarize(res))
			}
		})
	}
}

// TestRelaxationOrder: required node affinity terms are ORed, so the next
// term is tried, preferences on, before any preference is given up, as in
// Karpenter's preferences.go (removeRequiredNodeAffinityTerm first).
func TestRelaxationOrder(t *testing.T) {
	inA, inB := term(nsr(zoneKey, opIn, zoneA)), term(nsr(zoneKey, opIn, zoneB))
	types := func(armZones ...Offering) []*InstanceType {
		return []*InstanceType{
			itype("amd", "4", "8Gi", 110, 0.10, offerings(off(zoneA, od, 0.10), off(zoneC, od, 0.10))),
			itype("arm", "4", "8Gi", 110, 0.12, arch("arm64"), offerings(armZones...)),
		}
	}
	prefersArm := preferred(10, nsr(corev1.LabelArchStable, opIn, "arm64"))
	runSolveCases(t, []solveCase{
		// Karpenter: "should relax to use lighter weights" family; the
		// second term with the preference beats the first without it.
		{name: "the next required term keeps the preference",
			in: Input{Pods: pods(pod("p", "1", "1Gi", requiredTerms(inA, inB), prefersArm)),
				NodePools: []*NodePool{pool("default", types(off(zoneB, od, 0.12)))}},
			want: []string{"claim default arm zone-b on-demand: p"}},
		// Decided differently: Karpenter drops a failed required term for
		// good, so once zone-a fails with the preference it never tries
		// zone-a without it, and with nothing in zone-b the pod stays
		// Pending. kube-scheduler would bind it to any zone-a node, so
		// nodewright tries every term again at each level of relaxation.
		{name: "a term that failed only with a preference is tried again without it",
			in: Input{Pods: pods(pod("p", "1", "1Gi", requiredTerms(inA, inB), prefersArm)),
				NodePools: []*NodePool{pool("default", types(off(zoneC, od, 0.12)))}},
			want: []string{"claim default amd zone-a on-demand: p"}},
	})
}

// TestKarpenterLabelAliases: a workload that came from Karpenter selects on
// its keys; they mean nodewright's (v1.KarpenterLabelAliases), on new
// nodes and on nodes Karpenter launched, which carry only its keys.
func TestKarpenterLabelAliases(t *testing.T) {
	karpenterNode := existing("karpenter-node", zoneA, "4", "8Gi", nodeLabel("karpenter.sh/capacity-type", spot))
	runSolveCases(t, []solveCase{
		{name: "a Karpenter node matches its own key",
			in: Input{Pods: pods(pod("p", "1", "1Gi", nodeSelector("karpenter.sh/capacity-type", spot))),
				Nodes: []*ExistingNode{karpenterNode}, NodePools: []*NodePool{pool("default", spotAndOnDemand())}},
			want: []string{"node karpenter-node: p"}},
		{name: "a new node is pinned under nodewright's key",
			in: Input{Pods: pods(pod("p", "1", "1Gi", nodeSelector("karpenter.sh/capacity-type", od))),
				NodePools: []*NodePool{pool("default", spotAndOnDemand())}},
			want: []string{"claim default small zone-a on-demand: p"}},
		{name: "a v1alpha5 Karpenter node without karpenter.sh/nodepool matches",
			in: Input{Pods: pods(pod("p", "1", "1Gi", nodeSelector("karpenter.k8s.aws/instance-family", "m5"))),
				Nodes: []*ExistingNode{existing("old", zoneA, "4", "8Gi", nodeLabel("karpenter.sh/provisioner-name", "default"),
					nodeLabel("karpenter.k8s.aws/instance-family", "m5"))}, NodePools: []*NodePool{pool("default", spotAndOnDemand())}},
			want: []string{"node old: p"}},
	})
}

// TestKarpenterLabelsOff: a pool whose nodes do not carry Karpenter's keys
// (KarpenterLabels off) takes no pod that kube-scheduler would only put
// on a node with one, and neither does a node without them; pods that
// select on nodewright's keys, or only exclude a Karpenter key, still go.
func TestKarpenterLabelsOff(t *testing.T) {
	off := func(np *NodePool) { np.NoKarpenterLabels = true }
	ours := existing("ours", zoneA, "4", "8Gi", nodeLabel(v1.CapacityTypeLabelKey, spot), nodeLabel(v1.NodePoolLabelKey, "plain"))
	runSolveCases(t, []solveCase{
		{name: "a Karpenter key skips the pool without the labels",
			in: Input{Pods: pods(pod("p", "1", "1Gi", nodeSelector("karpenter.sh/capacity-type", spot))),
				NodePools: []*NodePool{pool("plain", spotAndOnDemand(), off, weight(50)), pool("compat", spotAndOnDemand())}},
			want: []string{"claim compat small zone-a spot: p"}},
		{name: "a Karpenter key has no pool without the labels",
			in: Input{Pods: pods(pod("p", "1", "1Gi", nodeSelector("karpenter.sh/capacity-type", spot))),
				NodePools: []*NodePool{pool("plain", spotAndOnDemand(), off)}},
			want: []string{"unschedulable p: incompatible with nodepool plain: the pod selects on Karpenter's label keys (karpenter.sh/*, karpenter.k8s.aws/*), which the pool's nodes do not carry with karpenterLabels off"}},
		{name: "nodewright's key goes to the pool without the labels",
			in: Input{Pods: pods(pod("p", "1", "1Gi", nodeSelector(v1.CapacityTypeLabelKey, spot))),
				NodePools: []*NodePool{pool("plain", spotAndOnDemand(), off)}},
			want: []string{"claim plain small zone-a spot: p"}},
		{name: "NotIn on a Karpenter key holds without the labels",
			in: Input{Pods: pods(pod("p", "1", "1Gi", requiredTerms(term(nsr("karpenter.sh/capacity-type", corev1.NodeSelectorOpNotIn, od))))),
				NodePools: []*NodePool{pool("plain", spotAndOnDemand(), off)}},
			want: []string{"claim plain small zone-a spot: p"}},
		{name: "an ORed term without a Karpenter key takes the pool",
			in: Input{Pods: pods(pod("p", "1", "1Gi", requiredTerms(
				term(nsr("karpenter.sh/capacity-type", corev1.NodeSelectorOpIn, spot)),
				term(nsr(v1.CapacityTypeLabelKey, corev1.NodeSelectorOpIn, od))))),
				NodePools: []*NodePool{pool("plain", spotAndOnDemand(), off)}},
			want: []string{"claim plain small zone-a on-demand: p"}},
		{name: "a spread over a Karpenter key needs the labels",
			in: Input{Pods: pods(pod("p", "1", "1Gi", podLabels("app", "a"), spread("karpenter.sh/capacity-type", 1, "app", "a"))),
				NodePools: []*NodePool{pool("plain", spotAndOnDemand(), off)}},
			want: []string{"unschedulable p: incompatible with nodepool plain: the pod selects on Karpenter's label keys (karpenter.sh/*, karpenter.k8s.aws/*), which the pool's nodes do not carry with karpenterLabels off"}},
		{name: "an existing node without the labels is passed over",
			in: Input{Pods: pods(pod("p", "1", "1Gi", nodeSelector("karpenter.sh/capacity-type", spot))),
				Nodes: []*ExistingNode{ours}, NodePools: []*NodePool{pool("compat", spotAndOnDemand())}},
			want: []string{"claim compat small zone-a spot: p"}},
		{name: "nodewright's key uses the existing node without the labels",
			in: Input{Pods: pods(pod("p", "1", "1Gi", nodeSelector(v1.CapacityTypeLabelKey, spot))),
				Nodes: []*ExistingNode{ours}, NodePools: []*NodePool{pool("compat", spotAndOnDemand())}},
			want: []string{"node ours: p"}},
	})
}
