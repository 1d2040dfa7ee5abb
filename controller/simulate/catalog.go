package simulate

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/catalog"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/providers/instancetype"
	"github.com/nodewright/nodewright/controller/providers/nodeclass"
	"github.com/nodewright/nodewright/controller/providers/pricing"
)

// CatalogFile is the --catalog format. vcpu, memoryMiB and pods are what
// pods may use: nothing is subtracted.
type CatalogFile struct {
	InstanceTypes []CatalogType `json:"instanceTypes"`
}

// CatalogType is one instance type of a catalog file.
type CatalogType struct {
	Name      string                `json:"name"`
	VCPU      float64               `json:"vcpu"`
	MemoryMiB int64                 `json:"memoryMiB"`
	Pods      int64                 `json:"pods"`
	Arch      string                `json:"arch"`
	Labels    map[string]string     `json:"labels,omitempty"`
	Resources map[string]string     `json:"resources,omitempty"`
	Offerings []scheduling.Offering `json:"offerings"`
}

// LoadCatalogFile reads a catalog file into instance types.
func LoadCatalogFile(path string) ([]*scheduling.InstanceType, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f CatalogFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(f.InstanceTypes) == 0 {
		return nil, fmt.Errorf("%s: no instanceTypes", path)
	}
	out := make([]*scheduling.InstanceType, 0, len(f.InstanceTypes))
	for i, ct := range f.InstanceTypes {
		if ct.Name == "" || ct.VCPU <= 0 || ct.MemoryMiB <= 0 || ct.Pods <= 0 {
			return nil, fmt.Errorf("%s: instanceTypes[%d] (%q) needs name, vcpu, memoryMiB and pods above zero", path, i, ct.Name)
		}
		arch := ct.Arch
		if arch == "" {
			arch = "amd64"
		}
		it := &scheduling.InstanceType{
			Name: ct.Name,
			Labels: map[string]string{
				corev1.LabelInstanceTypeStable: ct.Name, corev1.LabelArchStable: arch, corev1.LabelOSStable: "linux",
			},
			Allocatable: corev1.ResourceList{
				corev1.ResourceCPU:    *resource.NewMilliQuantity(int64(ct.VCPU*1000), resource.DecimalSI),
				corev1.ResourceMemory: *resource.NewQuantity(ct.MemoryMiB<<20, resource.BinarySI),
				corev1.ResourcePods:   *resource.NewQuantity(ct.Pods, resource.DecimalSI),
			},
			Offerings: ct.Offerings,
		}
		for k, v := range ct.Labels {
			it.Labels[k] = v
		}
		for name, q := range ct.Resources {
			qty, err := resource.ParseQuantity(q)
			if err != nil {
				return nil, fmt.Errorf("%s: %s resource %s: %w", path, ct.Name, name, err)
			}
			it.Allocatable[corev1.ResourceName(name)] = qty
		}
		for j, off := range it.Offerings {
			if off.Zone == "" || (off.CapacityType != v1.CapacityTypeSpot && off.CapacityType != v1.CapacityTypeOnDemand) || off.Price < 0 {
				return nil, fmt.Errorf("%s: %s offering %d needs a zone, capacityType spot or on-demand, and a price", path, ct.Name, j)
			}
		}
		out = append(out, it)
	}
	return out, nil
}

// EC2Catalog is EC2CatalogFor with the AMI's kubelet defaults but maxPods
// (0: the type's default).
func EC2Catalog(region string, zones []string, maxPods int, at time.Time) ([]*scheduling.InstanceType, error) {
	return EC2CatalogFor(region, zones, catalog.Kubelet{MaxPods: maxPods}, at)
}

// EC2CatalogFor is the embedded real EC2 catalog as a NodePool in region sees
// it at time at: EKS's allocatable under the node class's kubelet settings
// (VM overhead, kube- and system-reserved, eviction thresholds, max pods),
// every type an EKS-optimized image can run in every zone, and the prices the local cloud's endpoints serve
// at that time (catalog on-demand, synthetic spot for at's hour), which are
// the prices the controller reads there.
func EC2CatalogFor(region string, zones []string, kubelet catalog.Kubelet, at time.Time) ([]*scheduling.InstanceType, error) {
	types, err := catalog.InstanceTypes()
	if err != nil {
		return nil, err
	}
	zs := make([]instancetype.Zone, len(zones))
	for i, z := range zones {
		zs[i] = instancetype.Zone{Name: z}
	}
	prices := pricing.CatalogPricing{Region: region, At: at}
	images := nodeclass.EKSOptimizedImages()
	out := make([]*scheduling.InstanceType, 0, len(types))
	for _, t := range types {
		if !nodeclass.Launchable(images, instancetype.Labels(t, region)) {
			continue
		}
		it := instancetype.InstanceType(t, region, zs, prices, kubelet, nil)
		if len(it.Offerings) > 0 {
			out = append(out, it)
		}
	}
	return out, nil
}
