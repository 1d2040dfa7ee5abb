package instancetype

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/catalog"
	"github.com/nodewright/nodewright/controller/providers/nodeclass"
)

// Kubelet is the node class's kubelet settings as the catalog counts them
// in capacity and allocatable. A nil node class or kubelet block is the
// AMI's defaults.
func Kubelet(nc *v1.EC2NodeClass) catalog.Kubelet {
	if nc == nil {
		return catalog.Kubelet{}
	}
	out := catalog.Kubelet{RootVolumeBytes: ephemeralVolumeBytes(nc), DataVolumes: dataVolumes(nc)}
	k := nc.Spec.Kubelet
	if k == nil {
		return out
	}
	out.KubeReserved, out.SystemReserved, out.EvictionHard = quantities(k.KubeReserved), quantities(k.SystemReserved), k.EvictionHard
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

// ephemeralVolumeBytes is the size of the volume the node's ephemeral
// storage lives on, as the launch template sizes it (whole GiB, rounded
// up): the mapping marked rootVolume, else the AMI family's device for it
// (the root volume; Bottlerocket's data volume, /dev/xvdb), as Karpenter's
// amifamily EphemeralBlockDevice. Zero leaves the 20 GiB default.
func ephemeralVolumeBytes(nc *v1.EC2NodeClass) int64 {
	device := "/dev/xvda"
	if nodeclass.AMIFamily(nc) == v1.AMIFamilyBottlerocket {
		device = "/dev/xvdb"
	}
	var size *resource.Quantity
	for _, b := range nc.Spec.BlockDeviceMappings {
		if b.EBS == nil || b.EBS.VolumeSize == nil {
			continue
		}
		if b.RootVolume {
			size = b.EBS.VolumeSize
			break
		}
		if b.DeviceName != nil && *b.DeviceName == device {
			size = b.EBS.VolumeSize
		}
	}
	if size == nil {
		return 0
	}
	const gib = 1 << 30
	return (size.Value() + gib - 1) / gib * gib
}

// dataVolumes counts the EBS volumes mapped besides the root volume (the
// mapping marked rootVolume, or /dev/xvda, every EKS AMI's root device),
// which a node attaches on top of it. Bottlerocket keeps its data on a
// second volume, /dev/xvdb, which its AMI maps when the class maps none.
func dataVolumes(nc *v1.EC2NodeClass) int {
	if len(nc.Spec.BlockDeviceMappings) == 0 && nodeclass.AMIFamily(nc) == v1.AMIFamilyBottlerocket {
		return 1
	}
	n := 0
	for _, b := range nc.Spec.BlockDeviceMappings {
		if b.EBS == nil || b.RootVolume || b.DeviceName != nil && *b.DeviceName == "/dev/xvda" {
			continue
		}
		n++
	}
	return n
}
