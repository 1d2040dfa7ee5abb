package catalog

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// ResourceNvidiaGPU is the extended resource the NVIDIA device plugin advertises.
const ResourceNvidiaGPU corev1.ResourceName = "nvidia.com/gpu"

const (
	mib = int64(1024 * 1024)
	gib = 1024 * mib
	// vmOverheadPermille is the share of an instance's advertised memory the
	// hypervisor and firmware keep: 7.5%.
	vmOverheadPermille = 75
	// EKS AMIs reserve memory for system daemons per possible pod.
	kubeReservedMiBPerPod = 11
	kubeReservedMiBBase   = 255
	// The AMIs' kubelet evicts at memory.available<100Mi; kubelet subtracts
	// hard eviction thresholds from allocatable.
	evictionHardMemoryMiB = 100
	rootVolumeBytes       = 20 * gib
)

// DefaultMaxPods is the pod limit EKS gives a type when userData sets none:
// the published max-pods table, else the ENI formula (every ENI on the
// default network card, one IP per ENI for the ENI itself, plus two
// host-network pods).
func DefaultMaxPods(it InstanceType) int {
	if it.MaxPodsENI > 0 {
		return it.MaxPodsENI
	}
	enis := it.MaxENIsDefaultCard
	if enis <= 0 {
		enis = it.MaxENIs
	}
	if enis > 0 && it.IPv4PerENI > 1 {
		return enis*(it.IPv4PerENI-1) + 2
	}
	// Kubelet's own default when nothing else is known.
	return 110
}

// Resources computes a node's capacity and allocatable as kubelet on an EKS
// AMI reports them. maxPods <= 0 means DefaultMaxPods.
func Resources(it InstanceType, maxPods int) (capacity, allocatable corev1.ResourceList) {
	if maxPods <= 0 {
		maxPods = DefaultMaxPods(it)
	}
	// Whole MiB, rounding the overhead up so that capacity never overstates.
	overheadMiB := (it.MemoryMiB*vmOverheadPermille + 999) / 1000
	memMiB := it.MemoryMiB - overheadMiB

	capacity = corev1.ResourceList{
		corev1.ResourceCPU:              *resource.NewQuantity(int64(it.VCPU), resource.DecimalSI),
		corev1.ResourceMemory:           *resource.NewQuantity(memMiB*mib, resource.BinarySI),
		corev1.ResourcePods:             *resource.NewQuantity(int64(maxPods), resource.DecimalSI),
		corev1.ResourceEphemeralStorage: *resource.NewQuantity(rootVolumeBytes, resource.BinarySI),
	}
	if it.GPUCount > 0 && strings.EqualFold(it.GPUManufacturer, "nvidia") {
		capacity[ResourceNvidiaGPU] = *resource.NewQuantity(int64(it.GPUCount), resource.DecimalSI)
	}

	allocatable = capacity.DeepCopy()
	allocatable[corev1.ResourceCPU] = *resource.NewMilliQuantity(int64(it.VCPU)*1000-KubeReservedMilliCPU(it.VCPU), resource.DecimalSI)
	reservedMiB := int64(kubeReservedMiBPerPod*maxPods+kubeReservedMiBBase) + evictionHardMemoryMiB
	allocatable[corev1.ResourceMemory] = *resource.NewQuantity(max(memMiB-reservedMiB, 0)*mib, resource.BinarySI)
	return capacity, allocatable
}

// KubeReservedMilliCPU is the EKS AMIs' CPU reservation for system daemons:
// 6% of the first core, 1% of the second, 0.5% of the third and fourth and
// 0.25% of every further core. Fractions of a millicore are dropped.
func KubeReservedMilliCPU(vcpu int) int64 {
	// Work in quarter-millicores so that 0.25% of a core (2.5m) stays exact.
	var quarters int64
	for core := 1; core <= vcpu; core++ {
		switch {
		case core == 1:
			quarters += 240
		case core == 2:
			quarters += 40
		case core <= 4:
			quarters += 20
		default:
			quarters += 10
		}
	}
	return quarters / 4
}
