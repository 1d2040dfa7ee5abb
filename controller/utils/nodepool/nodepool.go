// Package nodepool holds what several controllers do with NodePools: the
// scheduler's view of one. It is pure.
package nodepool

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

// ForScheduling is the scheduler's view of a NodePool, with its limits
// and what its nodes already use of them.
func ForScheduling(np *v1.NodePool, types []*scheduling.InstanceType) *scheduling.NodePool {
	out := scheduling.NodePoolFor(np, types)
	out.Limits = np.Spec.Limits
	out.InUse = inUse(np)
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
