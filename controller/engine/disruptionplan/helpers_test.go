package disruptionplan

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

var now = time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC) // a Wednesday

const (
	spot = v1.CapacityTypeSpot
	od   = v1.CapacityTypeOnDemand
)

// catalog has types t-1x..t-Nx: N vCPU, 2N GiB, 110 pods; on-demand at
// $0.05 per vCPU, spot at $0.02, in zones a and b.
func catalog(n int) []*scheduling.InstanceType {
	var out []*scheduling.InstanceType
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("t-%dx", i)
		it := &scheduling.InstanceType{
			Name:   name,
			Labels: map[string]string{corev1.LabelInstanceTypeStable: name, corev1.LabelArchStable: "amd64", corev1.LabelOSStable: "linux"},
			Allocatable: corev1.ResourceList{
				corev1.ResourceCPU:    *resource.NewQuantity(int64(i), resource.DecimalSI),
				corev1.ResourceMemory: *resource.NewQuantity(int64(2*i)<<30, resource.BinarySI),
				corev1.ResourcePods:   *resource.NewQuantity(110, resource.DecimalSI),
			},
		}
		for _, z := range []string{"zone-a", "zone-b"} {
			it.Offerings = append(it.Offerings,
				scheduling.Offering{Zone: z, CapacityType: od, Price: 0.05 * float64(i), Available: true},
				scheduling.Offering{Zone: z, CapacityType: spot, Price: 0.02 * float64(i), Available: true})
		}
		out = append(out, it)
	}
	return out
}

func findType(types []*scheduling.InstanceType, name string) *scheduling.InstanceType {
	for _, it := range types {
		if it.Name == name {
			return it
		}
	}
	panic("no instance type " + name)
}

type poolOpt func(*v1.NodePool)

func newPool(name string, types []*scheduling.InstanceType, opts ...poolOpt) *Pool {
	np := &v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: name}}
	np.Spec.Disruption = v1.Disruption{ConsolidationPolicy: v1.ConsolidationPolicyWhenEmptyOrUnderutilized, ConsolidateAfter: "0s",
		Budgets: []v1.Budget{{Nodes: "100%"}}}
	for _, o := range opts {
		o(np)
	}
	return &Pool{NodePool: np, Scheduling: scheduling.NodePoolFor(np, types)}
}

func budgets(b ...v1.Budget) poolOpt {
	return func(np *v1.NodePool) { np.Spec.Disruption.Budgets = b }
}

func policy(p v1.ConsolidationPolicy) poolOpt {
	return func(np *v1.NodePool) { np.Spec.Disruption.ConsolidationPolicy = p }
}

func consolidateAfter(d v1.NillableDuration) poolOpt {
	return func(np *v1.NodePool) { np.Spec.Disruption.ConsolidateAfter = d }
}

func expireAfter(d v1.NillableDuration) poolOpt {
	return func(np *v1.NodePool) { np.Spec.Template.Spec.ExpireAfter = d }
}

func capacityTypes(cts ...string) poolOpt {
	return func(np *v1.NodePool) {
		np.Spec.Template.Spec.Requirements = append(np.Spec.Template.Spec.Requirements,
			v1.NodeSelectorRequirementWithMinValues{Key: v1.CapacityTypeLabelKey, Operator: corev1.NodeSelectorOpIn, Values: cts})
	}
}

type nodeOpt func(*Node)

// newNode is an initialized node of the pool, an hour old, on the type's
// offering in zone-a.
func newNode(name string, pool *Pool, typeName, capacityType string, pods []*corev1.Pod, opts ...nodeOpt) *Node {
	it := findType(pool.Scheduling.InstanceTypes, typeName)
	labels := map[string]string{v1.NodePoolLabelKey: pool.NodePool.Name, corev1.LabelHostname: name,
		corev1.LabelTopologyZone: "zone-a", v1.CapacityTypeLabelKey: capacityType}
	for k, v := range it.Labels {
		labels[k] = v
	}
	n := &Node{
		ExistingNode: scheduling.ExistingNode{Name: name, Labels: labels, Allocatable: it.Allocatable, Pods: pods, NodePool: pool.NodePool.Name},
		NodeClaim:    name, InstanceType: typeName, Zone: "zone-a", CapacityType: capacityType,
		Price:   scheduling.ExistingCost(pool.Scheduling, typeName, "zone-a", capacityType, pods).Total(),
		Created: now.Add(-time.Hour), Initialized: true,
	}
	for _, o := range opts {
		o(n)
	}
	return n
}

// staticNode is capacity that is not ours (no pool, no price).
func staticNode(name, cpu string, pods ...*corev1.Pod) *Node {
	return &Node{ExistingNode: scheduling.ExistingNode{Name: name,
		Labels: map[string]string{corev1.LabelHostname: name, corev1.LabelTopologyZone: "zone-a"},
		Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse("64Gi"),
			corev1.ResourcePods: resource.MustParse("110")}, Pods: pods}}
}

type podOpt func(*corev1.Pod)

var podSeq int

// newPod is a running ReplicaSet pod requesting cpu and 256Mi.
func newPod(cpu string, opts ...podOpt) *corev1.Pod {
	podSeq++
	yes := true
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%d", podSeq), Namespace: "default", Labels: map[string]string{"app": "web"},
			CreationTimestamp: metav1.NewTime(now.Add(-time.Hour)),
			OwnerReferences:   []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: "rs-web", Controller: &yes}}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse("256Mi")}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &metav1.Time{Time: now.Add(-time.Hour)}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func annotate(k, v string) podOpt {
	return func(p *corev1.Pod) {
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		p.Annotations[k] = v
	}
}

func ownedBy(kind string) podOpt {
	return func(p *corev1.Pod) {
		yes := true
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: "x", UID: "x", Controller: &yes}}
	}
}

func pods(n int, cpu string, opts ...podOpt) []*corev1.Pod {
	out := make([]*corev1.Pod, n)
	for i := range out {
		out[i] = newPod(cpu, opts...)
	}
	return out
}

func snapshot(pools []*Pool, nodes ...*Node) *Snapshot {
	return &Snapshot{Now: now, Pools: pools, Nodes: nodes}
}

func evaluate(t *testing.T, s *Snapshot, opts Options) *Result {
	t.Helper()
	res, err := Evaluate(s, opts)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	return res
}

// only returns the pass's single decision, failing otherwise.
func only(t *testing.T, res *Result) *Decision {
	t.Helper()
	if len(res.Decisions) != 1 {
		t.Fatalf("want one decision, got %d: %s (blocked %v)", len(res.Decisions), messages(res), res.Blocked)
	}
	return res.Decisions[0]
}

func messages(res *Result) string {
	var out []string
	for _, d := range res.Decisions {
		out = append(out, string(d.Method)+": "+d.Message)
	}
	return strings.Join(out, " | ")
}

func names(nodes []*Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Name
	}
	return out
}

func blockedReason(res *Result, node string) string {
	for _, b := range res.Blocked {
		if b.Node == node {
			return b.Reason
		}
	}
	return ""
}
