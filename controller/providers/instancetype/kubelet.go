package instancetype

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/catalog"
)

// Kubelet is the node class's kubelet settings as the catalog counts them
// in capacity and allocatable. A nil node class or kubelet block is the
// AMI's defaults.
func Kubelet(nc *v1.EC2NodeClass) catalog.Kubelet {
	if nc == nil || nc.Spec.Kubelet == nil {
		return catalog.Kubelet{}
	}
	k := nc.Spec.Kubelet
	out := catalog.Kubelet{
		KubeReserved:   quantities(k.KubeReserved),
		SystemReserved: quantities(k.SystemReserved),
		EvictionHard:   k.EvictionHard,
	}
	if k.MaxPods != nil {
		out.MaxPods = int(*k.MaxPods)
	}
	if k.PodsPerCore != nil {
		out.PodsPerCore = int(*k.PodsPerCore)
	}
	return out
}

// quantities parses reservations; validation admits only quantities, so a
// value that doesn't parse is skipped rather than failing a launch.
func quantities(m map[string]string) corev1.ResourceList {
	if len(m) == 0 {
		return nil
	}
	out := corev1.ResourceList{}
	for k, v := range m {
		if q, err := resource.ParseQuantity(v); err == nil {
			out[corev1.ResourceName(k)] = q
		}
	}
	return out
}
