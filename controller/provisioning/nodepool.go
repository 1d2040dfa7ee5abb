// Package provisioning turns pods that can't be scheduled into NodeClaims.
package provisioning

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/scheduling"
)

// SchedulingNodePool is the scheduler's view of a NodePool: its template's
// requirements, labels and taints (startup taints are expected to go away,
// so pods need not tolerate them), its limits and usage, and the instance
// types its node class resolves to.
func SchedulingNodePool(np *v1.NodePool, types []*scheduling.InstanceType) *scheduling.NodePool {
	out := &scheduling.NodePool{
		Name:          np.Name,
		Labels:        np.Spec.Template.ObjectMeta.Labels,
		Taints:        np.Spec.Template.Spec.Taints,
		Limits:        np.Spec.Limits,
		InUse:         inUse(np),
		InstanceTypes: types,
	}
	if np.Spec.Weight != nil {
		out.Weight = *np.Spec.Weight
	}
	for _, r := range np.Spec.Template.Spec.Requirements {
		out.Requirements = append(out.Requirements, corev1.NodeSelectorRequirement{Key: r.Key, Operator: r.Operator, Values: r.Values})
		if r.MinValues != nil {
			if out.MinValues == nil {
				out.MinValues = map[string]int{}
			}
			out.MinValues[r.Key] = *r.MinValues
		}
	}
	return out
}

// inUse is what the pool's nodes already count toward its limits.
func inUse(np *v1.NodePool) corev1.ResourceList {
	out := np.Status.Resources.DeepCopy()
	if out == nil {
		out = corev1.ResourceList{}
	}
	out["nodes"] = *resource.NewQuantity(np.Status.Nodes, resource.DecimalSI)
	return out
}
