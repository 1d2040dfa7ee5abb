package nodeclaim

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

// TestFromPlanKarpenterLabels: a pool with karpenterLabels on (the
// default) marks its claims with karpenter.sh/nodepool, which registration
// reads; off, it does not. Either way the scheduler's requirement on that
// key stays out of the claim's requirements, which instance types are
// matched against and none of which has the label.
func TestFromPlanKarpenterLabels(t *testing.T) {
	types := []*scheduling.InstanceType{{Name: "m5.large",
		Labels:      map[string]string{corev1.LabelInstanceTypeStable: "m5.large", corev1.LabelArchStable: "amd64"},
		Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("7Gi"), corev1.ResourcePods: resource.MustParse("29")},
		Offerings:   []scheduling.Offering{{Zone: "us-east-1a", CapacityType: v1.CapacityTypeSpot, Price: 0.04, Available: true}}}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"},
		Spec: corev1.PodSpec{NodeSelector: map[string]string{"karpenter.sh/capacity-type": v1.CapacityTypeSpot},
			Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}}}}
	for _, on := range []*bool{nil, ptr.To(true), ptr.To(false)} {
		np := &v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: "default"}, Spec: v1.NodePoolSpec{KarpenterLabels: on,
			Template: v1.NodeClaimTemplate{Spec: v1.NodeClaimTemplateSpec{NodeClassRef: &v1.NodeClassReference{Name: "default"}}}}}
		res, err := scheduling.Solve(scheduling.Input{Pods: []*corev1.Pod{pod}, NodePools: []*scheduling.NodePool{scheduling.NodePoolFor(np, types)}})
		if err != nil {
			t.Fatal(err)
		}
		enabled := np.Spec.KarpenterLabelsEnabled()
		if !enabled {
			if len(res.NodeClaims) != 0 {
				t.Errorf("karpenterLabels off: a claim for a pod that selects on karpenter.sh/capacity-type")
			}
			continue
		}
		if len(res.NodeClaims) != 1 {
			t.Fatalf("karpenterLabels %v: %d claims, want 1 (unschedulable: %v)", on, len(res.NodeClaims), res.Unschedulable)
		}
		nc := FromPlan(np, res.NodeClaims[0])
		if nc.Labels[v1.KarpenterNodePoolLabelKey] != "default" {
			t.Errorf("karpenterLabels %v: labels %v, want karpenter.sh/nodepool=default", on, nc.Labels)
		}
		for _, r := range nc.Spec.Requirements {
			if r.Key == v1.KarpenterNodePoolLabelKey {
				t.Errorf("karpenterLabels %v: requirement %+v on the claim", on, r)
			}
		}
	}
	np := &v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: "default"}, Spec: v1.NodePoolSpec{KarpenterLabels: ptr.To(false)}}
	plan := &scheduling.NodeClaimPlan{NodePool: "default", Requirements: scheduling.Requirements{}}
	if nc := FromPlan(np, plan); nc.Labels[v1.KarpenterNodePoolLabelKey] != "" {
		t.Errorf("karpenterLabels off: labels %v", nc.Labels)
	}
}
