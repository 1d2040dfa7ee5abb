package scheduling

import (
	corev1 "k8s.io/api/core/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// NodePoolFor is the engine's view of a NodePool's template: requirements
// (with minValues), labels and taints (startup taints are expected to go
// away, so pods need not tolerate them), weight, and the instance types its
// node class resolves to, and the pool's per-node overhead
// (costPerNodeHour). Limits are the caller's to add: provisioning
// enforces them, while disruption, which takes nodes away as it adds them,
// does not. NodeCost.Volumes is left to whoever resolves the node class's
// volumes.
func NodePoolFor(np *v1.NodePool, types []*InstanceType) *NodePool {
	out := &NodePool{
		Name:          np.Name,
		Labels:        np.Spec.Template.ObjectMeta.Labels,
		Taints:        np.Spec.Template.Spec.Taints,
		InstanceTypes: types,
		NodeCost:      NodeCost{Overhead: np.Spec.NodeOverheadPerHour()},

		NoKarpenterLabels: !np.Spec.KarpenterLabelsEnabled(),
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
