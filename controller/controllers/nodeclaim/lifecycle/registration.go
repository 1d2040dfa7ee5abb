package lifecycle

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/utils/nodeclaim"
	"github.com/nodewright/nodewright/controller/utils/patch"
)

func (c *Controller) nodeFor(ctx context.Context, nc *v1.NodeClaim) (*corev1.Node, error) {
	return nodeclaim.NodeForProviderID(ctx, c.kube, nc.Status.ProviderID)
}

// awaitRegistration deletes the claim once its Node is overdue, and
// otherwise wakes up when it would be (a Node joining wakes it sooner).
func (c *Controller) awaitRegistration(ctx context.Context, nc *v1.NodeClaim) (reconcile.Result, error) {
	launched := nc.GetCondition(v1.ConditionTypeLaunched)
	waited := c.clock.Since(launched.LastTransitionTime.Time)
	if waited >= c.opts.RegistrationTimeout {
		return reconcile.Result{}, c.deleteClaim(ctx, nc, "RegistrationTimeout",
			fmt.Sprintf("no node registered within %v of launch", c.opts.RegistrationTimeout))
	}
	return reconcile.Result{RequeueAfter: c.opts.RegistrationTimeout - waited}, nil
}

// register makes the Node the claim's: its labels and taints, an owner
// reference (so deleting the claim deletes the Node), the termination
// finalizer, and no unregistered taint, which lets pods on.
func (c *Controller) register(ctx context.Context, nc *v1.NodeClaim, node *corev1.Node) error {
	err := patch.Locked(ctx, c.kube, node, func(node *corev1.Node) { adopt(nc, node) })
	if err != nil {
		return fmt.Errorf("registering node %s for nodeclaim %s: %w", node.Name, nc.Name, err)
	}
	log.FromContext(ctx).Info("registered node", "node", node.Name, "providerID", node.Spec.ProviderID)

	storedNC := nc.DeepCopy()
	nc.Status.NodeName = node.Name
	c.setCondition(nc, v1.ConditionTypeRegistered, metav1.ConditionTrue, "Registered", "")
	if err := c.patchStatus(ctx, nc, storedNC); err != nil {
		return err
	}
	observeStep(nc, StepRegistration, conditionSince(storedNC, v1.ConditionTypeLaunched), c.clock.Now())
	return nil
}

// adopt makes node nc's, in memory.
func adopt(nc *v1.NodeClaim, node *corev1.Node) {
	if node.Labels == nil {
		node.Labels = map[string]string{}
	}
	for k, v := range nc.Labels {
		node.Labels[k] = v
	}
	// Workloads that came from Karpenter select on its keys; the claim
	// says whether its pool puts them on (FromPlan).
	if _, ok := nc.Labels[v1.KarpenterNodePoolLabelKey]; ok {
		for k, v := range v1.KarpenterLabels(nc.Labels) {
			node.Labels[k] = v
		}
	}
	node.Labels[v1.NodeRegisteredLabelKey] = "true"
	taints := node.Spec.Taints[:0:0]
	for _, t := range node.Spec.Taints {
		if t.Key != v1.UnregisteredTaintKey {
			taints = append(taints, t)
		}
	}
	for _, want := range nc.Spec.Taints {
		if !hasTaint(taints, want) {
			taints = append(taints, want)
		}
	}
	node.Spec.Taints = taints
	owned := false
	for _, ref := range node.OwnerReferences {
		owned = owned || ref.UID == nc.UID
	}
	if !owned {
		node.OwnerReferences = append(node.OwnerReferences, metav1.OwnerReference{
			APIVersion: v1.SchemeGroupVersion.String(), Kind: "NodeClaim", Name: nc.Name, UID: nc.UID,
			BlockOwnerDeletion: ptr.To(true),
		})
	}
	controllerutil.AddFinalizer(node, v1.TerminationFinalizer)
}

// hasTaint matches on key and effect, as the scheduler does for tolerations.
func hasTaint(taints []corev1.Taint, t corev1.Taint) bool {
	for _, have := range taints {
		if have.Key == t.Key && have.Effect == t.Effect {
			return true
		}
	}
	return false
}
