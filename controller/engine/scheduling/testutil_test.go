package scheduling

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// Small builders: every test case spells out only what it is about.

const (
	zoneA = "zone-a"
	zoneB = "zone-b"
	zoneC = "zone-c"
	spot  = v1.CapacityTypeSpot
	od    = v1.CapacityTypeOnDemand
)

func q(s string) resource.Quantity { return resource.MustParse(s) }

// rl builds a ResourceList from name/quantity pairs.
func rl(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = q(kv[i+1])
	}
	return out
}

type podOpt func(*corev1.Pod)

// pod makes a one-container pod in namespace "default" requesting cpu and
// memory ("" leaves a resource out).
func pod(name, cpu, mem string, opts ...podOpt) *corev1.Pod {
	req := corev1.ResourceList{}
	if cpu != "" {
		req[corev1.ResourceCPU] = q(cpu)
	}
	if mem != "" {
		req[corev1.ResourceMemory] = q(mem)
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app",
			Resources: corev1.ResourceRequirements{Requests: req}}}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func podLabels(kv ...string) podOpt {
	return func(p *corev1.Pod) {
		for i := 0; i+1 < len(kv); i += 2 {
			p.Labels[kv[i]] = kv[i+1]
		}
	}
}

func namespace(ns string) podOpt { return func(p *corev1.Pod) { p.Namespace = ns } }

func requests(kv ...string) podOpt {
	return func(p *corev1.Pod) {
		for n, v := range rl(kv...) {
			p.Spec.Containers[0].Resources.Requests[n] = v
		}
	}
}

func initContainer(cpu, mem string, sidecar bool) podOpt {
	return func(p *corev1.Pod) {
		c := corev1.Container{Name: fmt.Sprintf("init-%d", len(p.Spec.InitContainers)),
			Resources: corev1.ResourceRequirements{Requests: rl("cpu", cpu, "memory", mem)}}
		if sidecar {
			always := corev1.ContainerRestartPolicyAlways
			c.RestartPolicy = &always
		}
		p.Spec.InitContainers = append(p.Spec.InitContainers, c)
	}
}

func overhead(kv ...string) podOpt { return func(p *corev1.Pod) { p.Spec.Overhead = rl(kv...) } }

func nodeSelector(kv ...string) podOpt {
	return func(p *corev1.Pod) {
		if p.Spec.NodeSelector == nil {
			p.Spec.NodeSelector = map[string]string{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Spec.NodeSelector[kv[i]] = kv[i+1]
		}
	}
}

func nsr(key string, op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorRequirement {
	return corev1.NodeSelectorRequirement{Key: key, Operator: op, Values: values}
}

func ensureAffinity(p *corev1.Pod) *corev1.Affinity {
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &corev1.Affinity{}
	}
	return p.Spec.Affinity
}

// requiredTerms sets required node affinity; each argument is one ORed term.
func requiredTerms(terms ...[]corev1.NodeSelectorRequirement) podOpt {
	return func(p *corev1.Pod) {
		a := ensureAffinity(p)
		if a.NodeAffinity == nil {
			a.NodeAffinity = &corev1.NodeAffinity{}
		}
		sel := &corev1.NodeSelector{}
		for _, t := range terms {
			sel.NodeSelectorTerms = append(sel.NodeSelectorTerms, corev1.NodeSelectorTerm{MatchExpressions: t})
		}
		a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = sel
	}
}

func term(reqs ...corev1.NodeSelectorRequirement) []corev1.NodeSelectorRequirement { return reqs }

func preferred(weight int32, reqs ...corev1.NodeSelectorRequirement) podOpt {
	return func(p *corev1.Pod) {
		a := ensureAffinity(p)
		if a.NodeAffinity == nil {
			a.NodeAffinity = &corev1.NodeAffinity{}
		}
		a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution,
			corev1.PreferredSchedulingTerm{Weight: weight, Preference: corev1.NodeSelectorTerm{MatchExpressions: reqs}})
	}
}

func affinityTerm(key string, match ...string) corev1.PodAffinityTerm {
	ml := map[string]string{}
	for i := 0; i+1 < len(match); i += 2 {
		ml[match[i]] = match[i+1]
	}
	return corev1.PodAffinityTerm{TopologyKey: key, LabelSelector: &metav1.LabelSelector{MatchLabels: ml}}
}

// podAffinity adds a pod affinity (anti=false) or anti-affinity term,
// required or preferred (weight 50).
func podAffinity(anti, required bool, key string, match ...string) podOpt {
	return func(p *corev1.Pod) {
		a := ensureAffinity(p)
		t := affinityTerm(key, match...)
		w := corev1.WeightedPodAffinityTerm{Weight: 50, PodAffinityTerm: t}
		if anti {
			if a.PodAntiAffinity == nil {
				a.PodAntiAffinity = &corev1.PodAntiAffinity{}
			}
			if required {
				a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution = append(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution, t)
			} else {
				a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution, w)
			}
			return
		}
		if a.PodAffinity == nil {
			a.PodAffinity = &corev1.PodAffinity{}
		}
		if required {
			a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution = append(a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution, t)
		} else {
			a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution, w)
		}
	}
}

type spreadOpt func(*corev1.TopologySpreadConstraint)

func scheduleAnyway(c *corev1.TopologySpreadConstraint) { c.WhenUnsatisfiable = corev1.ScheduleAnyway }
func minDomains(n int32) spreadOpt {
	return func(c *corev1.TopologySpreadConstraint) { c.MinDomains = &n }
}
func ignoreAffinity(c *corev1.TopologySpreadConstraint) {
	p := corev1.NodeInclusionPolicyIgnore
	c.NodeAffinityPolicy = &p
}

// spread adds a DoNotSchedule topology spread over key for pods with the
// given label.
func spread(key string, maxSkew int32, k, v string, opts ...spreadOpt) podOpt {
	return func(p *corev1.Pod) {
		c := corev1.TopologySpreadConstraint{MaxSkew: maxSkew, TopologyKey: key, WhenUnsatisfiable: corev1.DoNotSchedule,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{k: v}}}
		for _, o := range opts {
			o(&c)
		}
		p.Spec.TopologySpreadConstraints = append(p.Spec.TopologySpreadConstraints, c)
	}
}

func tolerate(key, value string, effect corev1.TaintEffect) podOpt {
	return func(p *corev1.Pod) {
		op := corev1.TolerationOpEqual
		if value == "" {
			op = corev1.TolerationOpExists
		}
		p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: key, Operator: op, Value: value, Effect: effect})
	}
}

func hostPortOpt(port int32) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, corev1.ContainerPort{ContainerPort: port, HostPort: port})
	}
}

func pvc(claim string) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: claim,
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
	}
}

func taint(key, value string, effect corev1.TaintEffect) corev1.Taint {
	return corev1.Taint{Key: key, Value: value, Effect: effect}
}

type itOpt func(*InstanceType)

// itype makes an amd64 linux type with the given cpu, memory and pod slots,
// offered by default as on-demand in zones a-c at price.
func itype(name, cpu, mem string, pods int, price float64, opts ...itOpt) *InstanceType {
	it := &InstanceType{Name: name,
		Labels: map[string]string{corev1.LabelArchStable: "amd64", corev1.LabelOSStable: "linux",
			corev1.LabelInstanceTypeStable: name},
		Allocatable: rl("cpu", cpu, "memory", mem, "pods", fmt.Sprint(pods)),
	}
	for _, z := range []string{zoneA, zoneB, zoneC} {
		it.Offerings = append(it.Offerings, Offering{Zone: z, CapacityType: od, Price: price, Available: true})
	}
	for _, o := range opts {
		o(it)
	}
	return it
}

func arch(a string) itOpt { return func(it *InstanceType) { it.Labels[corev1.LabelArchStable] = a } }

func itLabel(k, v string) itOpt { return func(it *InstanceType) { it.Labels[k] = v } }

func alloc(kv ...string) itOpt {
	return func(it *InstanceType) {
		for n, v := range rl(kv...) {
			it.Allocatable[n] = v
		}
	}
}

// offerings replaces the type's offerings.
func offerings(offs ...Offering) itOpt { return func(it *InstanceType) { it.Offerings = offs } }

func off(zone, ct string, price float64) Offering {
	return Offering{Zone: zone, CapacityType: ct, Price: price, Available: true}
}

type poolOpt func(*NodePool)

func pool(name string, types []*InstanceType, opts ...poolOpt) *NodePool {
	np := &NodePool{Name: name, InstanceTypes: types}
	for _, o := range opts {
		o(np)
	}
	return np
}

func weight(w int32) poolOpt { return func(np *NodePool) { np.Weight = w } }
func poolReqs(reqs ...corev1.NodeSelectorRequirement) poolOpt {
	return func(np *NodePool) { np.Requirements = append(np.Requirements, reqs...) }
}
func poolTaints(ts ...corev1.Taint) poolOpt { return func(np *NodePool) { np.Taints = ts } }
func poolLabels(kv ...string) poolOpt {
	return func(np *NodePool) {
		np.Labels = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			np.Labels[kv[i]] = kv[i+1]
		}
	}
}
func limits(kv ...string) poolOpt { return func(np *NodePool) { np.Limits = rl(kv...) } }
func inUse(kv ...string) poolOpt  { return func(np *NodePool) { np.InUse = rl(kv...) } }
func minValuesOpt(key string, n int) poolOpt {
	return func(np *NodePool) {
		if np.MinValues == nil {
			np.MinValues = map[string]int{}
		}
		np.MinValues[key] = n
	}
}

type nodeOpt func(*ExistingNode)

// existing makes a node in zone with the given allocatable (and 110 pods).
func existing(name, zone, cpu, mem string, opts ...nodeOpt) *ExistingNode {
	n := &ExistingNode{Name: name,
		Labels: map[string]string{corev1.LabelHostname: name, corev1.LabelArchStable: "amd64",
			corev1.LabelOSStable: "linux"},
		Allocatable: rl("cpu", cpu, "memory", mem, "pods", "110")}
	if zone != "" {
		n.Labels[corev1.LabelTopologyZone] = zone
	}
	for _, o := range opts {
		o(n)
	}
	return n
}

func running(pods ...*corev1.Pod) nodeOpt {
	return func(n *ExistingNode) { n.Pods = append(n.Pods, pods...) }
}
func nodeTaints(ts ...corev1.Taint) nodeOpt { return func(n *ExistingNode) { n.Taints = ts } }
func nodeLabel(k, v string) nodeOpt         { return func(n *ExistingNode) { n.Labels[k] = v } }
func nodePods(max string) nodeOpt {
	return func(n *ExistingNode) { n.Allocatable[corev1.ResourcePods] = q(max) }
}

func pods(ps ...*corev1.Pod) []*corev1.Pod { return ps }

// replicas makes n identical pods named prefix-0.. prefix-(n-1).
func replicas(n int, prefix, cpu, mem string, opts ...podOpt) []*corev1.Pod {
	out := make([]*corev1.Pod, n)
	for i := range out {
		out[i] = pod(fmt.Sprintf("%s-%d", prefix, i), cpu, mem, opts...)
	}
	return out
}

// summarize renders a plan as sorted lines, so cases can state the exact
// expected placement:
//
//	claim <pool> <type> <zone> <capacity-type>: <pods>
//	node <name>: <pods>
//	unschedulable <pod>: <reason>
func summarize(res *Result) []string {
	var out []string
	for _, n := range res.NodeClaims {
		c := n.Chosen()
		out = append(out, fmt.Sprintf("claim %s %s %s %s: %s", n.NodePool, c.InstanceType.Name, c.Offering.Zone,
			c.Offering.CapacityType, podNames(n.Pods)))
	}
	for _, e := range res.ExistingNodes {
		out = append(out, fmt.Sprintf("node %s: %s", e.Node, podNames(e.Pods)))
	}
	for _, u := range res.Unschedulable {
		out = append(out, fmt.Sprintf("unschedulable %s: %s", u.Pod.Name, u.Reason))
	}
	sort.Strings(out)
	return out
}

func podNames(ps []*corev1.Pod) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

// solveCase is one table row: an input and the exact plan it must produce.
type solveCase struct {
	name string
	in   Input
	want []string
	// check runs extra assertions on the result.
	check func(t *testing.T, res *Result)
}

func runSolveCases(t *testing.T, cases []solveCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Solve(tc.in)
			if err != nil {
				t.Fatalf("Solve: %v", err)
			}
			if tc.want == nil && tc.check != nil {
				// The check says what matters; the exact plan does not.
				tc.check(t, res)
				return
			}
			got := summarize(res)
			want := append([]string(nil), tc.want...)
			sort.Strings(want)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("plan mismatch\n got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			if tc.check != nil {
				tc.check(t, res)
			}
		})
	}
}

// claimWith returns the claim holding the named pod.
func claimWith(t *testing.T, res *Result, podName string) *NodeClaimPlan {
	t.Helper()
	for _, n := range res.NodeClaims {
		for _, p := range n.Pods {
			if p.Name == podName {
				return n
			}
		}
	}
	t.Fatalf("no claim holds pod %s", podName)
	return nil
}

// optionTypes lists the distinct instance types among a claim's options.
func optionTypes(n *NodeClaimPlan) []string {
	seen := map[string]bool{}
	var out []string
	for _, o := range n.Options {
		if !seen[o.InstanceType.Name] {
			seen[o.InstanceType.Name] = true
			out = append(out, o.InstanceType.Name)
		}
	}
	sort.Strings(out)
	return out
}
