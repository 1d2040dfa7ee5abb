// Package health repairs Nodes: a Node whose condition matches a repair
// policy (by default Ready False or Unknown) for the policy's toleration
// has its NodeClaim deleted, forcefully as expiry does, whatever
// do-not-disrupt or disruption budgets say. It is bounded as Karpenter's
// node health controller: while more than 20% of a NodePool's nodes
// (rounded up) are unhealthy, nothing in the pool is repaired, since that
// looks like a cause replacing nodes will not fix, and the NodePool gets a
// warning event instead.
package health

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/utils/nodeclaim"
)

// Event reasons.
const (
	ReasonUnhealthy     = "Unhealthy"
	ReasonRepairBlocked = "NodeRepairBlocked"
)

// BlockedRetry is how soon a repair the unhealthy share blocked is tried
// again (Karpenter's five minutes).
const BlockedRetry = 5 * time.Minute

// allowedUnhealthy is the share of a pool's nodes that may be unhealthy
// and still be repaired, rounded up as PodDisruptionBudget percentages are.
var allowedUnhealthy = intstr.FromString("20%")

// Controller deletes the NodeClaims of unhealthy Nodes.
type Controller struct {
	kube     client.Client
	clock    clock.Clock
	recorder events.EventRecorder
	policies []Policy
}

// NewController returns the controller; with no policies it repairs nothing.
func NewController(kube client.Client, clk clock.Clock, recorder events.EventRecorder, policies []Policy) *Controller {
	return &Controller{kube: kube, clock: clk, recorder: recorder, policies: policies}
}

// Name is the controller's name in logs and metrics.
func (c *Controller) Name() string { return "node.health" }

// Reconcile repairs node once it has been unhealthy for its toleration.
func (c *Controller) Reconcile(ctx context.Context, node *corev1.Node) (reconcile.Result, error) {
	if !node.DeletionTimestamp.IsZero() || node.Labels[v1.NodePoolLabelKey] == "" {
		return reconcile.Result{}, nil
	}
	// 1. Healthy: nothing to do.
	cond, policy := c.unhealthy(node)
	if cond == nil {
		return reconcile.Result{}, nil
	}
	// 2. Unhealthy, but within its toleration: come back when it runs out.
	at := cond.LastTransitionTime.Add(policy.Toleration)
	if now := c.clock.Now(); now.Before(at) {
		return reconcile.Result{RequeueAfter: at.Sub(now)}, nil
	}
	nc, err := c.claimOf(ctx, node)
	if err != nil || nc == nil || !nc.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, err
	}
	pool := node.Labels[v1.NodePoolLabelKey]
	logger := log.FromContext(ctx).WithValues("node", node.Name, "nodeclaim", nc.Name, "nodepool", pool, "condition", policy.String())
	// 3. Too much of the pool is unhealthy to blame the node: hold off.
	unhealthy, total, err := c.poolHealth(ctx, pool)
	if err != nil {
		return reconcile.Result{}, err
	}
	threshold, err := intstr.GetScaledValueFromIntOrPercent(&allowedUnhealthy, total, true)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("scaling %s of %d nodes: %w", allowedUnhealthy.String(), total, err)
	}
	if unhealthy > threshold {
		logger.Info("node repair blocked: too many unhealthy nodes in the nodepool", "unhealthy", unhealthy, "nodes", total)
		np := &v1.NodePool{}
		if err := c.kube.Get(ctx, client.ObjectKey{Name: pool}, np); err == nil {
			c.recorder.Eventf(np, node, corev1.EventTypeWarning, ReasonRepairBlocked, "Repair",
				"Not repairing node %s: %d of %d nodes are unhealthy, more than %s", node.Name, unhealthy, total, allowedUnhealthy.String())
		}
		return reconcile.Result{RequeueAfter: BlockedRetry}, nil
	}
	// 4. Repair: delete the claim; termination drains and replaces it.
	err = c.kube.Delete(ctx, nc, client.Preconditions{ResourceVersion: &nc.ResourceVersion})
	if apierrors.IsConflict(err) {
		return reconcile.Result{Requeue: true}, nil
	}
	if err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(fmt.Errorf("deleting nodeclaim %s of unhealthy node %s: %w", nc.Name, node.Name, err))
	}
	logger.Info("deleted nodeclaim of unhealthy node", "since", cond.LastTransitionTime.Time)
	c.recorder.Eventf(node, nc, corev1.EventTypeWarning, ReasonUnhealthy, "Repair",
		"Repairing: condition %s has been %s since %s, past its toleration of %s", cond.Type, cond.Status,
		cond.LastTransitionTime.UTC().Format(time.RFC3339), policy.Toleration)
	nodeclaim.CountDisrupted(nc, nodeclaim.ReasonUnhealthy)
	return reconcile.Result{}, nil
}

// unhealthy is node's condition that matches a policy and whose toleration
// runs out first, with that policy; nil when none matches.
func (c *Controller) unhealthy(node *corev1.Node) (*corev1.NodeCondition, Policy) {
	var found *corev1.NodeCondition
	var match Policy
	for _, p := range c.policies {
		for i := range node.Status.Conditions {
			cond := &node.Status.Conditions[i]
			if cond.Type != p.Type || cond.Status != p.Status {
				continue
			}
			if found == nil || cond.LastTransitionTime.Add(p.Toleration).Before(found.LastTransitionTime.Add(match.Toleration)) {
				found, match = cond, p
			}
		}
	}
	return found, match
}

// poolHealth counts the pool's Nodes and those matching any policy, within
// its toleration or not, as Karpenter counts them.
func (c *Controller) poolHealth(ctx context.Context, pool string) (unhealthy, total int, err error) {
	var nodes corev1.NodeList
	if err := c.kube.List(ctx, &nodes, client.MatchingLabels{v1.NodePoolLabelKey: pool}); err != nil {
		return 0, 0, fmt.Errorf("listing nodes of nodepool %s: %w", pool, err)
	}
	for i := range nodes.Items {
		if cond, _ := c.unhealthy(&nodes.Items[i]); cond != nil {
			unhealthy++
		}
	}
	return unhealthy, len(nodes.Items), nil
}

// claimOf is node's NodeClaim, by provider ID; nil if it has none.
func (c *Controller) claimOf(ctx context.Context, node *corev1.Node) (*v1.NodeClaim, error) {
	if node.Spec.ProviderID == "" {
		return nil, nil
	}
	var claims v1.NodeClaimList
	if err := c.kube.List(ctx, &claims); err != nil {
		return nil, fmt.Errorf("listing nodeclaims for node %s: %w", node.Name, err)
	}
	for i := range claims.Items {
		if claims.Items[i].Status.ProviderID == node.Spec.ProviderID {
			return &claims.Items[i], nil
		}
	}
	return nil, nil
}

// Register watches Nodes, waking only when their conditions or pool change
// (not on every heartbeat).
func (c *Controller) Register(_ context.Context, mgr manager.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).Named(c.Name()).
		For(&corev1.Node{}, builder.WithPredicates(predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
			return conditionsChanged(e.ObjectOld.(*corev1.Node), e.ObjectNew.(*corev1.Node))
		}})).
		Complete(reconcile.AsReconciler(mgr.GetClient(), c))
}

func conditionsChanged(old, cur *corev1.Node) bool {
	if len(old.Status.Conditions) != len(cur.Status.Conditions) || !old.DeletionTimestamp.Equal(cur.DeletionTimestamp) ||
		old.Labels[v1.NodePoolLabelKey] != cur.Labels[v1.NodePoolLabelKey] {
		return true
	}
	for i := range old.Status.Conditions {
		o, n := old.Status.Conditions[i], cur.Status.Conditions[i]
		if o.Type != n.Type || o.Status != n.Status || !o.LastTransitionTime.Equal(&n.LastTransitionTime) {
			return true
		}
	}
	return false
}
