package catalog

import (
	"maps"
	"math"
	"strconv"
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

// Kubelet is the part of a node's kubelet configuration that shapes its
// capacity and allocatable. The zero value is an EKS AMI's defaults.
type Kubelet struct {
	// MaxPods <= 0 means DefaultMaxPods.
	MaxPods int
	// PodsPerCore > 0 caps pods at PodsPerCore per vCPU, below MaxPods.
	PodsPerCore int
	// KubeReserved replaces the EKS default of each resource it names
	// (cpu, memory, ephemeral-storage); the others keep their default.
	KubeReserved corev1.ResourceList
	// SystemReserved is subtracted as given; there is no default.
	SystemReserved corev1.ResourceList
	// RootVolumeBytes is the size of the volume kubelet's filesystem, and
	// so the node's ephemeral storage, lives on; <= 0 means the default
	// 20 GiB root volume.
	RootVolumeBytes int64
	// DataVolumes counts the EBS volumes mapped besides the root one; each
	// takes an attachment pods' volumes can't use.
	DataVolumes int
	// EvictionHard thresholds by signal; memory.available (default 100Mi)
	// and nodefs.available are subtracted, as quantities or percentages of
	// capacity. Soft thresholds never reduce allocatable: kubelet subtracts
	// only hard ones.
	EvictionHard map[string]string
}

// Pods is the pod capacity kubelet reports: MaxPods (or the type's
// default), capped at PodsPerCore per vCPU.
func (k Kubelet) Pods(it InstanceType) int {
	pods := k.MaxPods
	if pods <= 0 {
		pods = DefaultMaxPods(it)
	}
	if k.PodsPerCore > 0 {
		pods = min(pods, k.PodsPerCore*it.VCPU)
	}
	return pods
}

func (k Kubelet) rootVolume() int64 {
	if k.RootVolumeBytes > 0 {
		return k.RootVolumeBytes
	}
	return rootVolumeBytes
}

// Eviction signals that reduce allocatable.
const (
	EvictionMemoryAvailable = "memory.available"
	EvictionNodeFSAvailable = "nodefs.available"
)

// Resources computes a node's capacity and allocatable as kubelet on an EKS
// AMI configured with k reports them: capacity less kube-reserved,
// system-reserved and the hard eviction thresholds.
func Resources(it InstanceType, k Kubelet) (capacity, allocatable corev1.ResourceList) {
	pods := k.Pods(it)
	// Whole MiB, rounding the overhead up so that capacity never overstates.
	overheadMiB := (it.MemoryMiB*vmOverheadPermille + 999) / 1000
	memMiB := it.MemoryMiB - overheadMiB

	capacity = corev1.ResourceList{
		corev1.ResourceCPU:              *resource.NewQuantity(int64(it.VCPU), resource.DecimalSI),
		corev1.ResourceMemory:           *resource.NewQuantity(memMiB*mib, resource.BinarySI),
		corev1.ResourcePods:             *resource.NewQuantity(int64(pods), resource.DecimalSI),
		corev1.ResourceEphemeralStorage: *resource.NewQuantity(k.rootVolume(), resource.BinarySI),
	}
	if it.GPUCount > 0 && strings.EqualFold(it.GPUManufacturer, "nvidia") {
		capacity[ResourceNvidiaGPU] = *resource.NewQuantity(int64(it.GPUCount), resource.DecimalSI)
	}

	kubeReserved := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewMilliQuantity(KubeReservedMilliCPU(it.VCPU), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(int64(kubeReservedMiBPerPod*pods+kubeReservedMiBBase)*mib, resource.BinarySI),
	}
	maps.Copy(kubeReserved, k.KubeReserved)
	eviction := corev1.ResourceList{
		corev1.ResourceMemory: *resource.NewQuantity(evictionHardMemoryMiB*mib, resource.BinarySI),
	}
	if v, ok := k.EvictionHard[EvictionMemoryAvailable]; ok {
		eviction[corev1.ResourceMemory] = evictionThreshold(capacity[corev1.ResourceMemory], v)
	}
	if v, ok := k.EvictionHard[EvictionNodeFSAvailable]; ok {
		eviction[corev1.ResourceEphemeralStorage] = evictionThreshold(capacity[corev1.ResourceEphemeralStorage], v)
	}

	allocatable = capacity.DeepCopy()
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
		q := allocatable[name]
		for _, overhead := range []corev1.ResourceList{kubeReserved, k.SystemReserved, eviction} {
			if o, ok := overhead[name]; ok {
				q.Sub(o)
			}
		}
		if q.Sign() < 0 {
			q = *resource.NewQuantity(0, q.Format)
		}
		allocatable[name] = q
	}
	return capacity, allocatable
}

// evictionThreshold is a threshold as a quantity: a percentage of the
// capacity (rounded up to a whole unit; 100% disables the signal, as in
// kubelet's configuration), else the quantity itself. Unparseable values,
// which validation refuses, count as no threshold.
func evictionThreshold(capacity resource.Quantity, v string) resource.Quantity {
	if pct, ok := strings.CutSuffix(v, "%"); ok {
		p, err := strconv.ParseFloat(pct, 64)
		if err != nil || p <= 0 || p >= 100 {
			return resource.Quantity{}
		}
		return *resource.NewQuantity(int64(math.Ceil(float64(capacity.Value())*p/100)), capacity.Format)
	}
	q, err := resource.ParseQuantity(v)
	if err != nil {
		return resource.Quantity{}
	}
	return q
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
