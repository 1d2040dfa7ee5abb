package benchvs

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/engine/scheduling/workloads"
	"github.com/nodewright/nodewright/controller/providers/pricing"
	"github.com/nodewright/nodewright/controller/simulate"
)

// Workload is one row of the comparison.
type Workload struct {
	Name string
	In   scheduling.Input
}

var zones = []string{"us-east-1a", "us-east-1b", "us-east-1c"}

// Workloads are the comparison's rows at spot prices of hour at: Karpenter's
// synthetic benchmark (1 000, 5 000, 20 000 pods over its 400 linear-price
// types), the realistic cluster-shaped workload over the real catalog at the
// same sizes, and the seed walkthrough. Every pool's nodes carry the default
// root volume's cost, so the rule prices node count as a user pays it.
func Workloads(at time.Time, sizes []int) ([]Workload, error) {
	vol, err := pricing.VolumeCost(nil, "us-east-1")
	if err != nil {
		return nil, fmt.Errorf("pricing the default root volume: %w", err)
	}
	ec2, err := simulate.EC2Catalog("us-east-1", zones, 0, at)
	if err != nil {
		return nil, err
	}
	cost := scheduling.NodeCost{Volumes: vol}
	var out []Workload
	synthetic := workloads.SyntheticInstanceTypes(400)
	for _, n := range sizes {
		out = append(out, Workload{fmt.Sprintf("synthetic %d", n), scheduling.Input{Pods: workloads.DiversePods(n),
			NodePools: []*scheduling.NodePool{{Name: "default", InstanceTypes: synthetic, NodeCost: cost}}}})
	}
	for _, n := range sizes {
		out = append(out, Workload{fmt.Sprintf("realistic %d", n), scheduling.Input{Pods: workloads.RealisticPods(n, 1),
			DaemonSets: workloads.RealisticDaemonSets(),
			NodePools:  []*scheduling.NodePool{{Name: "default", InstanceTypes: ec2, NodeCost: cost}}}})
	}
	cost.Overhead = WalkthroughOverhead
	out = append(out, Walkthrough(ec2, cost))
	return out, nil
}

// WalkthroughOverhead is examples/local's cost_per_node_hour, which the
// demo's walkthrough runs under.
const WalkthroughOverhead = 0.01

// Walkthrough is the seed walkthrough: 10 pods of 1 CPU / 1.5 GiB, and a
// NodePool of c/m/r types of generation above 2, spot and on-demand, both
// architectures (the Karpenter getting-started tutorial's inflate
// deployment and default NodePool).
func Walkthrough(types []*scheduling.InstanceType, cost scheduling.NodeCost) Workload {
	var pods []*corev1.Pod
	for i := 0; i < 10; i++ {
		pods = append(pods, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("inflate-%d", i), Namespace: "default", Labels: map[string]string{"app": "inflate"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "inflate", Image: "public.ecr.aws/eks-distro/kubernetes/pause:3.7",
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1.5Gi")}}}}},
		})
	}
	pool := &scheduling.NodePool{Name: "default", InstanceTypes: types, NodeCost: cost, Requirements: []corev1.NodeSelectorRequirement{
		{Key: v1.InstanceCategoryLabel, Operator: corev1.NodeSelectorOpIn, Values: []string{"c", "m", "r"}},
		{Key: v1.InstanceGenerationLabel, Operator: corev1.NodeSelectorOpGt, Values: []string{"2"}},
		{Key: v1.CapacityTypeLabelKey, Operator: corev1.NodeSelectorOpIn, Values: []string{v1.CapacityTypeSpot, v1.CapacityTypeOnDemand}},
		{Key: corev1.LabelArchStable, Operator: corev1.NodeSelectorOpIn, Values: []string{"amd64", "arm64"}},
	}}
	return Workload{"walkthrough 10x1cpu", scheduling.Input{Pods: pods, NodePools: []*scheduling.NodePool{pool}}}
}
