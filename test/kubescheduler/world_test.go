package kubescheduler

import (
	"fmt"
	"math/rand/v2"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

// world is a small random cluster: nodes with pods on them, and pods to
// place. The shapes are the ones the engine's table tests name one at a
// time (zones, arch, custom labels, taints, host ports, requests, pod
// (anti-)affinity, spread), drawn together so they interact.
type world struct {
	nodes   []*corev1.Node
	running []*corev1.Pod
	pending []*corev1.Pod
}

var (
	zones = []string{"zone-a", "zone-b", "zone-c"}
	apps  = []string{"web", "db", "cache"}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func newWorld(r *rand.Rand) *world {
	w := &world{}
	for i := range 2 + r.IntN(5) {
		name := fmt.Sprintf("node-%d", i)
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), Labels: map[string]string{
			corev1.LabelHostname: name, corev1.LabelTopologyZone: pick(r, zones), corev1.LabelArchStable: pick(r, []string{"amd64", "arm64"}),
			corev1.LabelOSStable: "linux",
		}}}
		if r.IntN(2) == 0 {
			n.Labels["tier"] = pick(r, []string{"gold", "silver"})
		}
		switch r.IntN(10) {
		case 0, 1:
			n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "batch", Effect: corev1.TaintEffectNoSchedule}}
		case 2:
			n.Spec.Taints = []corev1.Taint{{Key: "spot", Value: "true", Effect: corev1.TaintEffectPreferNoSchedule}}
		}
		n.Status.Allocatable = corev1.ResourceList{
			corev1.ResourceCPU:    *resource.NewMilliQuantity(int64(1000+500*r.IntN(8)), resource.DecimalSI),
			corev1.ResourceMemory: *resource.NewQuantity(int64(1+r.IntN(8))<<30, resource.BinarySI),
			corev1.ResourcePods:   *resource.NewQuantity(int64(3+r.IntN(8)), resource.DecimalSI),
		}
		n.Status.Capacity = n.Status.Allocatable.DeepCopy()
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
		w.nodes = append(w.nodes, n)
	}
	for i := range r.IntN(3 * len(w.nodes)) {
		p := newPod(r, fmt.Sprintf("running-%d", i), false)
		p.Spec.NodeName = pick(r, w.nodes).Name
		w.running = append(w.running, p)
	}
	for i := range 1 + r.IntN(10) {
		w.pending = append(w.pending, newPod(r, fmt.Sprintf("pending-%d", i), true))
	}
	return w
}

// newPod draws a pod; constrained pods carry the scheduling terms, while
// running ones only need labels, requests and ports to count.
func newPod(r *rand.Rand, name string, constrained bool) *corev1.Pod {
	app := pick(r, apps)
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name),
		Labels: map[string]string{"app": app}}}
	c := corev1.Container{Name: "app", Image: "app", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewMilliQuantity(int64(100+100*r.IntN(15)), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(int64(128+128*r.IntN(12))<<20, resource.BinarySI),
	}}}
	if r.IntN(6) == 0 {
		c.Ports = []corev1.ContainerPort{{ContainerPort: 8080, HostPort: 8080, Protocol: corev1.ProtocolTCP}}
	}
	p.Spec.Containers = []corev1.Container{c}
	if r.IntN(4) == 0 {
		p.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "batch", Effect: corev1.TaintEffectNoSchedule}}
	}
	if !constrained {
		return p
	}
	if r.IntN(5) == 0 {
		p.Spec.NodeSelector = map[string]string{corev1.LabelArchStable: pick(r, []string{"amd64", "arm64"})}
	}
	affinity := &corev1.Affinity{}
	if r.IntN(5) == 0 {
		affinity.NodeAffinity = &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{
				{Key: corev1.LabelTopologyZone, Operator: corev1.NodeSelectorOpIn, Values: []string{pick(r, zones), pick(r, zones)}}}}}}}
	}
	if r.IntN(6) == 0 {
		op := pick(r, []corev1.NodeSelectorOperator{corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn, corev1.NodeSelectorOpExists, corev1.NodeSelectorOpDoesNotExist})
		req := corev1.NodeSelectorRequirement{Key: "tier", Operator: op}
		if op == corev1.NodeSelectorOpIn || op == corev1.NodeSelectorOpNotIn {
			req.Values = []string{"gold"}
		}
		if affinity.NodeAffinity == nil {
			affinity.NodeAffinity = &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{}}}}
		}
		t := &affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0]
		t.MatchExpressions = append(t.MatchExpressions, req)
	}
	sameApp := &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
	switch r.IntN(8) {
	case 0:
		affinity.PodAntiAffinity = &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
			{LabelSelector: sameApp, TopologyKey: pick(r, []string{corev1.LabelHostname, corev1.LabelTopologyZone})}}}
	case 1:
		affinity.PodAffinity = &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
			{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": pick(r, apps)}},
				TopologyKey: pick(r, []string{corev1.LabelHostname, corev1.LabelTopologyZone})}}}
	}
	if affinity.NodeAffinity != nil || affinity.PodAffinity != nil || affinity.PodAntiAffinity != nil {
		p.Spec.Affinity = affinity
	}
	if r.IntN(4) == 0 {
		c := corev1.TopologySpreadConstraint{MaxSkew: int32(1 + r.IntN(2)), LabelSelector: sameApp,
			TopologyKey:       pick(r, []string{corev1.LabelHostname, corev1.LabelTopologyZone, "tier"}),
			WhenUnsatisfiable: corev1.DoNotSchedule}
		if r.IntN(3) == 0 {
			honor := corev1.NodeInclusionPolicyHonor
			c.NodeTaintsPolicy = &honor
		}
		p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{c}
	}
	return p
}

// input is the world as the engine sees it: existing nodes only, so every
// placement is one kube-scheduler will be asked to make.
func (w *world) input() scheduling.Input {
	in := scheduling.Input{Pods: w.pending}
	for _, n := range w.nodes {
		en := &scheduling.ExistingNode{Name: n.Name, Labels: n.Labels, Taints: n.Spec.Taints, Allocatable: n.Status.Allocatable}
		for _, p := range w.running {
			if p.Spec.NodeName == n.Name {
				en.Pods = append(en.Pods, p)
			}
		}
		in.Nodes = append(in.Nodes, en)
	}
	return in
}
