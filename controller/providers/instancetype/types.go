package instancetype

// What the scheduler sees of one instance type: no I/O, shared with the
// offline planner.

import (
	"math"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/catalog"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/utils/resources"
)

// Pricing prices an offering; ok is false when the pool has no price.
type Pricing interface {
	OnDemand(it catalog.InstanceType) (float64, bool)
	Spot(it catalog.InstanceType, zone string) (float64, bool)
}

// Zone is an availability zone and whether a type is offered there.
type Zone struct {
	Name string
	// Offers reports whether the type is offered in the zone; nil offers all.
	Offers func(instanceType string) bool
}

// InstanceType converts a catalog entry into what the scheduler sees: the
// well-known labels, allocatable as EKS computes it with the
// node class's kubelet settings (plus the EBS volumes a new node can
// attach, which the EBS CSI driver publishes in its CSINode rather than in
// allocatable), and one offering per (zone, capacity type) with a price.
// Unavailable pools are still listed, marked so, for ICE caching.
func InstanceType(it catalog.InstanceType, region string, zones []Zone, pricing Pricing, kubelet catalog.Kubelet, unavailable func(typ, zone, capacityType string) bool) *scheduling.InstanceType {
	_, allocatable := catalog.Resources(it, kubelet)
	allocatable[resources.AttachLimit(resources.EBSCSIDriver)] = *resource.NewQuantity(int64(kubelet.EBSVolumes(it)), resource.DecimalSI)
	out := &scheduling.InstanceType{Name: it.Name, Labels: Labels(it, region), Allocatable: allocatable, Burst: burst(it)}
	od, odOK := pricing.OnDemand(it)
	for _, z := range zones {
		if z.Offers != nil && !z.Offers(it.Name) {
			continue
		}
		if sp, ok := pricing.Spot(it, z.Name); ok {
			out.Offerings = append(out.Offerings, scheduling.Offering{Zone: z.Name, CapacityType: v1.CapacityTypeSpot, Price: sp,
				Available: unavailable == nil || !unavailable(it.Name, z.Name, v1.CapacityTypeSpot)})
		}
		if odOK {
			out.Offerings = append(out.Offerings, scheduling.Offering{Zone: z.Name, CapacityType: v1.CapacityTypeOnDemand, Price: od,
				Available: unavailable == nil || !unavailable(it.Name, z.Name, v1.CapacityTypeOnDemand)})
		}
	}
	return out
}

// burst is a burstable type's baseline and surplus price, nil for other
// types. The launch template sets no credit specification, so T3/T3a/T4g
// run in unlimited mode, their EC2 default, and CPU above the baseline is
// billed as surplus credits. T2 defaults to standard mode (EC2 user guide,
// burstable-credits-baseline-concepts): no surplus is billed, the CPU is
// throttled to the baseline instead; charging T2 the surplus rate anyway
// keeps the planner from counting on CPU a T2 node cannot sustain. A type
// with no surplus price in the data (t3a, t4g: catalog/data/README.md)
// still gets its baseline, with bursting priced at zero, which understates
// its cost.
func burst(it catalog.InstanceType) *scheduling.Burst {
	if !it.Burstable || it.BaselineCPUPerVCPU <= 0 {
		return nil
	}
	return &scheduling.Burst{
		BaselineMilliCPU:   int64(math.Round(float64(it.VCPU) * it.BaselineCPUPerVCPU * 1000)),
		SurplusPerVCPUHour: it.SurplusPerVCPUHour,
	}
}

// Labels are the well-known labels of an instance type, as set on its nodes.
func Labels(it catalog.InstanceType, region string) map[string]string {
	l := map[string]string{
		corev1.LabelInstanceTypeStable: it.Name,
		corev1.LabelArchStable:         it.Architecture,
		corev1.LabelOSStable:           "linux",
		corev1.LabelTopologyRegion:     region,
		v1.InstanceCategoryLabel:       it.Category,
		v1.InstanceFamilyLabel:         it.Family,
		v1.InstanceGenerationLabel:     strconv.Itoa(it.Generation),
		v1.InstanceSizeLabel:           it.Size,
		v1.InstanceCPULabel:            strconv.Itoa(it.VCPU),
		v1.InstanceMemoryLabel:         strconv.FormatInt(it.MemoryMiB, 10),
		v1.InstanceHypervisorLabel:     it.Hypervisor,
	}
	if it.GPUCount > 0 {
		l[v1.InstanceGPUCountLabel] = strconv.Itoa(it.GPUCount)
		l[v1.InstanceGPUNameLabel] = strings.ToLower(it.GPUName)
		l[v1.InstanceGPUMfrLabel] = strings.ToLower(it.GPUManufacturer)
	}
	if it.AcceleratorCount > 0 {
		l[v1.InstanceAcceleratorCountLabel] = strconv.Itoa(it.AcceleratorCount)
		l[v1.InstanceAcceleratorNameLabel] = strings.ToLower(it.AcceleratorName)
		l[v1.InstanceAcceleratorMfrLabel] = strings.ToLower(it.AcceleratorMfr)
	}
	if it.LocalNVMeGB > 0 {
		l[v1.InstanceLocalNVMeLabel] = strconv.Itoa(it.LocalNVMeGB)
	}
	return l
}
