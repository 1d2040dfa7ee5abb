package test

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

// InstanceTypeOptions describe an amd64 linux instance type with 110 pod
// slots, offered on demand in us-east-1a at Price and in us-east-1b at 10%
// more.
type InstanceTypeOptions struct {
	Name        string
	CPU, Memory string
	Price       float64
	// Extra adds to the allocatable, as a GPU.
	Extra corev1.ResourceList
}

// InstanceType builds the type.
func InstanceType(o InstanceTypeOptions) *scheduling.InstanceType {
	alloc := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(o.CPU),
		corev1.ResourceMemory: resource.MustParse(o.Memory),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	for k, v := range o.Extra {
		alloc[k] = v
	}
	return &scheduling.InstanceType{
		Name: o.Name,
		Labels: map[string]string{
			corev1.LabelInstanceTypeStable: o.Name,
			corev1.LabelArchStable:         "amd64",
			corev1.LabelOSStable:           "linux",
		},
		Allocatable: alloc,
		Offerings: []scheduling.Offering{
			{Zone: "us-east-1a", CapacityType: v1.CapacityTypeOnDemand, Price: o.Price, Available: true},
			{Zone: "us-east-1b", CapacityType: v1.CapacityTypeOnDemand, Price: o.Price * 1.1, Available: true},
		},
	}
}

// InstanceTypes are the fake cloud provider's usual catalog: a small
// general-purpose type and one with a GPU.
func InstanceTypes() []*scheduling.InstanceType {
	return []*scheduling.InstanceType{
		InstanceType(InstanceTypeOptions{Name: "m5.large", CPU: "2", Memory: "8Gi", Price: 0.096}),
		InstanceType(InstanceTypeOptions{Name: "g4dn.xlarge", CPU: "4", Memory: "16Gi", Price: 0.526,
			Extra: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}}),
	}
}
