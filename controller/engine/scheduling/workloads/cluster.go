package workloads

import (
	"fmt"
	"math/rand/v2"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

// SyntheticClusterTypes is how many synthetic instance types the synthetic
// cluster's NodePool offers (1 to 64 vCPU).
const SyntheticClusterTypes = 64

// syntheticNodeSizes are the vCPU counts of the synthetic cluster's nodes.
var syntheticNodeSizes = []int{2, 4, 8, 16, 32}

// syntheticApp is a ReplicaSet of the synthetic cluster: all its pods share
// a shape and constraints.
type syntheticApp struct {
	name   string
	cpuM   int64
	memMi  int64
	kind   int // 0 plain, 1 zonal spread, 2 hostname anti-affinity
	nextID int
	uid    types.UID
	// anti-affinity apps: the nodes already holding a replica.
	onNode map[int]bool
}

// SyntheticCluster returns a running cluster for consolidation benchmarks:
// nodes existing nodes of the synthetic catalog (spread over SyntheticZones,
// spot and on-demand), holding pods in total, and one NodePool "default"
// offering the same instance types. Pods belong to ReplicaSets with mixed
// CPU/memory shapes; about 10% carry a zonal topology spread and about 5% a
// hostname anti-affinity within a small app group. Node utilisation varies
// from nearly empty to full, so consolidation has work. The same seed gives
// the same cluster.
func SyntheticCluster(nodes, pods int, seed uint64) scheduling.Input {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	typesList := SyntheticInstanceTypes(SyntheticClusterTypes)
	in := scheduling.Input{NodePools: []*scheduling.NodePool{DefaultNodePool(typesList)}}
	if nodes <= 0 {
		return in
	}

	// Utilisation targets: a fifth nearly empty, half middling, the rest full.
	util := make([]float64, nodes)
	weight := make([]float64, nodes)
	var total float64
	for i := range util {
		switch x := r.Float64(); {
		case x < 0.2:
			util[i] = 0.05 + 0.2*r.Float64()
		case x < 0.7:
			util[i] = 0.4 + 0.4*r.Float64()
		default:
			util[i] = 0.85 + 0.15*r.Float64()
		}
	}
	sizes := make([]int, nodes)
	for i := range sizes {
		sizes[i] = syntheticNodeSizes[r.IntN(len(syntheticNodeSizes))]
		weight[i] = util[i] * float64(sizes[i])
		total += weight[i]
	}
	// Pods per node in proportion to the CPU each node should have in use,
	// capped by its pod slots.
	counts := make([]int, nodes)
	assigned := 0
	for i := range counts {
		counts[i] = min(int(float64(pods)*weight[i]/total), 10*sizes[i])
		assigned += counts[i]
	}
	for i := 0; assigned < pods && i < 100*nodes; i++ {
		n := r.IntN(nodes)
		if counts[n] < 10*sizes[n] {
			counts[n]++
			assigned++
		}
	}

	cpus := []int64{50, 100, 250, 500, 1000, 1500, 2000, 4000}
	ratios := []int64{1024, 2048, 4096} // MiB per vCPU
	var plain, spread, anti []*syntheticApp
	newApp := func(kind int) *syntheticApp {
		cpu := cpus[r.IntN(len(cpus))]
		mem := max(cpu*ratios[r.IntN(len(ratios))]/1000, 64)
		a := &syntheticApp{cpuM: cpu, memMi: mem, kind: kind, onNode: map[int]bool{}}
		switch kind {
		case 0:
			a.name = fmt.Sprintf("svc-%03d", len(plain))
			plain = append(plain, a)
		case 1:
			a.name = fmt.Sprintf("spread-%03d", len(spread))
			spread = append(spread, a)
		default:
			a.name = fmt.Sprintf("anti-%03d", len(anti))
			anti = append(anti, a)
		}
		a.uid = types.UID(fmt.Sprintf("00000000-0000-0000-%04x-%012x", kind, seed^uint64(len(plain)+len(spread)<<16+len(anti)<<32)))
		return a
	}
	for range max(pods/200, 8) {
		newApp(0)
	}
	for range max(pods/400, 4) {
		newApp(1)
	}

	for i := 0; i < nodes; i++ {
		it := typesList[sizes[i]-1]
		zone := SyntheticZones[i%len(SyntheticZones)]
		ct := v1.CapacityTypeOnDemand
		if i%len(SyntheticZones) < 2 && r.IntN(2) == 0 {
			ct = v1.CapacityTypeSpot
		}
		name := fmt.Sprintf("node-%05d", i)
		labels := mergeLabels(it.Labels, map[string]string{
			corev1.LabelHostname:     name,
			corev1.LabelTopologyZone: zone,
			v1.CapacityTypeLabelKey:  ct,
			v1.NodePoolLabelKey:      "default",
		})
		en := &scheduling.ExistingNode{Name: name, Labels: labels, Allocatable: it.Allocatable, NodePool: "default"}
		budgetCPU := int64(util[i] * float64(sizes[i]) * 1000)
		budgetMem := int64(sizes[i]) * 2048
		for k := 0; k < counts[i]; k++ {
			left := int64(counts[i] - k)
			target := max(budgetCPU/left, 50)
			var a *syntheticApp
			switch x := r.Float64(); {
			case x < 0.10:
				a = pickApp(r, spread, target)
			case x < 0.15:
				// Anti-affinity groups of 3 to 5 replicas, one per node.
				if n := len(anti); n > 0 && !anti[n-1].onNode[i] && anti[n-1].nextID < 3+int(anti[n-1].cpuM%3) && anti[n-1].cpuM <= target*2 {
					a = anti[n-1]
				} else {
					a = newApp(2)
					if a.cpuM > target*2 {
						a.cpuM = smallestAtMost(cpus, target)
						a.memMi = max(a.cpuM*2, 64)
					}
				}
			default:
				a = pickApp(r, plain, target)
			}
			cpu, mem := a.cpuM, a.memMi
			if cpu > budgetCPU || mem > budgetMem {
				// The node is full: shrink rather than overcommit it.
				cpu, mem = min(cpu, max(budgetCPU, 0)), min(mem, max(budgetMem, 0))
				if cpu <= 0 || mem <= 0 {
					continue
				}
			}
			budgetCPU -= cpu
			budgetMem -= mem
			a.onNode[i] = true
			en.Pods = append(en.Pods, syntheticPod(a, name, cpu, mem))
		}
		in.Nodes = append(in.Nodes, en)
	}
	return in
}

// pickApp draws a few apps and keeps the one whose pods come closest to
// target millicores without exceeding it by half, so nodes reach their
// utilisation; it falls back to the smallest.
func pickApp(r *rand.Rand, apps []*syntheticApp, target int64) *syntheticApp {
	var best *syntheticApp
	for range 6 {
		a := apps[r.IntN(len(apps))]
		if a.cpuM > target*3/2 {
			continue
		}
		if best == nil || abs64(a.cpuM-target) < abs64(best.cpuM-target) {
			best = a
		}
	}
	if best != nil {
		return best
	}
	best = apps[0]
	for _, a := range apps {
		if a.cpuM < best.cpuM {
			best = a
		}
	}
	return best
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func smallestAtMost(xs []int64, target int64) int64 {
	best := xs[0]
	for _, x := range xs {
		if x <= target {
			best = x
		}
	}
	return best
}

func syntheticPod(a *syntheticApp, node string, cpuM, memMi int64) *corev1.Pod {
	a.nextID++
	t := true
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("%s-%05d", a.name, a.nextID), Namespace: "default",
			Labels:          map[string]string{"app": a.name},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: a.name, UID: a.uid, Controller: &t}},
		},
		Spec: corev1.PodSpec{
			NodeName: node,
			Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10",
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU:    *resource.NewMilliQuantity(cpuM, resource.DecimalSI),
					corev1.ResourceMemory: *resource.NewQuantity(memMi<<20, resource.BinarySI),
				}}}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": a.name}}
	switch a.kind {
	case 1:
		p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
			MaxSkew: 1, TopologyKey: corev1.LabelTopologyZone, WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: sel,
		}}
	case 2:
		p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{TopologyKey: corev1.LabelHostname, LabelSelector: sel}},
		}}
	}
	return p
}

// mergeLabels is the engine's own merge (later maps win), which it keeps
// unexported.
func mergeLabels(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
