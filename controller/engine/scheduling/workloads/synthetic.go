package workloads

import (
	"fmt"
	"math/rand/v2"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

// The benchmark workload reproduces the shape of Karpenter's own scheduling
// benchmark, so the two engines can be compared on the same input.

// SyntheticZones are the zones of the synthetic catalog.
var SyntheticZones = []string{"test-zone-1", "test-zone-2", "test-zone-3"}

// SyntheticInstanceTypes returns n types where type i has i+1 vCPU,
// 2(i+1) GiB and 10(i+1) pods, offered as spot in zones 1-2 and on-demand in
// zones 1-3, all amd64, each priced at 0.1 per vCPU plus 0.1 per GB.
func SyntheticInstanceTypes(n int) []*scheduling.InstanceType {
	out := make([]*scheduling.InstanceType, 0, n)
	for i := 0; i < n; i++ {
		cpu, memGiB, pods := i+1, 2*(i+1), 10*(i+1)
		price := 0.1*float64(cpu) + 0.1*float64(memGiB)*1.073741824
		it := &scheduling.InstanceType{
			Name: fmt.Sprintf("synthetic-%dx", cpu),
			Labels: map[string]string{
				corev1.LabelArchStable: "amd64", corev1.LabelOSStable: "linux",
				corev1.LabelInstanceTypeStable: fmt.Sprintf("synthetic-%dx", cpu),
				v1.InstanceCPULabel:            fmt.Sprint(cpu),
			},
			Allocatable: corev1.ResourceList{
				corev1.ResourceCPU:    *resource.NewQuantity(int64(cpu), resource.DecimalSI),
				corev1.ResourceMemory: *resource.NewQuantity(int64(memGiB)<<30, resource.BinarySI),
				corev1.ResourcePods:   *resource.NewQuantity(int64(pods), resource.DecimalSI),
			},
		}
		for z, zone := range SyntheticZones {
			if z < 2 {
				it.Offerings = append(it.Offerings, scheduling.Offering{Zone: zone, CapacityType: v1.CapacityTypeSpot, Price: price, Available: true})
			}
			it.Offerings = append(it.Offerings, scheduling.Offering{Zone: zone, CapacityType: v1.CapacityTypeOnDemand, Price: price, Available: true})
		}
		out = append(out, it)
	}
	return out
}

// DiversePods returns n pods with CPU drawn from {100, 250, 500, 1000,
// 1500}m and memory from {100, 256, 512, 1024, 2048, 4096}Mi (fixed seed),
// in five equal parts: no constraints; zonal topology spread (maxSkew 1,
// DoNotSchedule); hostname topology spread; zonal self pod-affinity; and
// hostname self anti-affinity. Spread and affinity groups use seven label
// values, as Karpenter's benchmark does.
func DiversePods(n int) []*corev1.Pod {
	r := rand.New(rand.NewPCG(42, 42))
	cpus := []int64{100, 250, 500, 1000, 1500}
	mems := []int64{100, 256, 512, 1024, 2048, 4096}
	group := func() string { return string(rune('a' + r.IntN(7))) }
	pods := make([]*corev1.Pod, 0, n)
	for i := 0; i < n; i++ {
		kind := i * 5 / max(n, 1)
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%05d", i), Namespace: "default", Labels: map[string]string{}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10",
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU:    *resource.NewMilliQuantity(cpus[r.IntN(len(cpus))], resource.DecimalSI),
					corev1.ResourceMemory: *resource.NewQuantity(mems[r.IntN(len(mems))]<<20, resource.BinarySI),
				}}}}},
		}
		switch kind {
		case 0:
			p.Labels["workload"] = "generic"
		case 1, 2:
			key := corev1.LabelTopologyZone
			if kind == 2 {
				key = corev1.LabelHostname
			}
			g := group()
			p.Labels["spread-"+key] = g
			p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
				MaxSkew: 1, TopologyKey: key, WhenUnsatisfiable: corev1.DoNotSchedule,
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"spread-" + key: g}},
			}}
		case 3:
			g := group()
			p.Labels["affinity"] = g
			p.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				TopologyKey: corev1.LabelTopologyZone, LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"affinity": g}},
			}}}}
		default:
			p.Labels["anti-affinity"] = "singleton"
			p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				TopologyKey: corev1.LabelHostname, LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"anti-affinity": "singleton"}},
			}}}}
		}
		pods = append(pods, p)
	}
	return pods
}

// DefaultNodePool allows every instance type, zone and capacity type.
func DefaultNodePool(types []*scheduling.InstanceType) *scheduling.NodePool {
	return &scheduling.NodePool{Name: "default", InstanceTypes: types}
}
