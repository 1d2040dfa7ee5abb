// Package termination finishes deleting a NodeClaim: it deletes the claim's
// Node (whose own termination drains it), waits for the Node to go,
// terminates the instance and then lets the claim go.
// It does I/O on both sides: the API server and the cloud provider.
package termination

import (
	"context"
	"fmt"
	"path"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider"
	"github.com/nodewright/nodewright/controller/utils/nodeclaim"
	"github.com/nodewright/nodewright/controller/utils/patch"
)

// NodeWait is how often a claim checks whether its draining Node is gone
// (the Node watch usually wakes it first).
const NodeWait = 5 * time.Second

// Controller terminates deleted NodeClaims.
type Controller struct {
	kube  client.Client
	cloud cloudprovider.CloudProvider
	clock clock.Clock
}

// NewController returns the controller.
func NewController(kube client.Client, cloud cloudprovider.CloudProvider, clk clock.Clock) *Controller {
	return &Controller{kube: kube, cloud: cloud, clock: clk}
}

// Name is the controller's name in logs and metrics.
func (c *Controller) Name() string { return "nodeclaim.termination" }

// Reconcile acts only on claims being deleted that still hold the finalizer.
func (c *Controller) Reconcile(ctx context.Context, nc *v1.NodeClaim) (reconcile.Result, error) {
	if nc.DeletionTimestamp.IsZero() || !controllerutil.ContainsFinalizer(nc, v1.TerminationFinalizer) {
		return reconcile.Result{}, nil
	}
	ctx = log.IntoContext(ctx, log.FromContext(ctx).WithValues("nodeclaim", nc.Name))

	// 1. The Node goes first, so its pods are drained while the instance
	// still runs them.
	node, err := nodeclaim.NodeForProviderID(ctx, c.kube, nc.Status.ProviderID)
	if err != nil {
		return reconcile.Result{}, err
	}
	if node != nil {
		if node.DeletionTimestamp.IsZero() {
			if err := c.kube.Delete(ctx, node); client.IgnoreNotFound(err) != nil {
				return reconcile.Result{}, fmt.Errorf("deleting node %s of nodeclaim %s: %w", node.Name, nc.Name, err)
			}
		}
		return reconcile.Result{RequeueAfter: NodeWait}, nil
	}

	// 2. The instance. A claim that never launched has none, and the Node's
	// termination may already have terminated it.
	if nc.Status.ProviderID != "" && nc.Annotations[v1.InstanceTerminatedAnnotationKey] != nc.Status.ProviderID {
		err := c.cloud.Delete(ctx, nc)
		switch {
		case err == nil:
			log.FromContext(ctx).Info("terminated instance", "instance", path.Base(nc.Status.ProviderID), "providerID", nc.Status.ProviderID)
		case cloudprovider.IsNodeClaimNotFoundError(err):
			log.FromContext(ctx).V(1).Info("instance already terminated", "providerID", nc.Status.ProviderID)
		default:
			return reconcile.Result{}, fmt.Errorf("terminating instance of nodeclaim %s: %w", nc.Name, err)
		}
	}

	// 3. The claim.
	// Other controllers write the claim (its status above all).
	err = patch.Locked(ctx, c.kube, nc, func(nc *v1.NodeClaim) { controllerutil.RemoveFinalizer(nc, v1.TerminationFinalizer) })
	if err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(fmt.Errorf("removing finalizer from nodeclaim %s: %w", nc.Name, err))
	}
	pool := nc.Labels[v1.NodePoolLabelKey]
	terminated.WithLabelValues(pool).Inc()
	if took := c.clock.Since(nc.DeletionTimestamp.Time); took > 0 {
		terminationDuration.WithLabelValues(pool).Observe(took.Seconds())
	}
	return reconcile.Result{}, nil
}

// Register watches NodeClaims, and Nodes so a claim hears its Node go.
func (c *Controller) Register(_ context.Context, mgr manager.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).Named(c.Name()).
		For(&v1.NodeClaim{}).
		Watches(&corev1.Node{}, handler.EnqueueRequestsFromMapFunc(nodeclaim.NodeToNodeClaims(mgr.GetClient()))).
		// A burst of interruptions or a scale-down ends many claims at once.
		WithOptions(controller.Options{MaxConcurrentReconciles: 100}).
		Complete(reconcile.AsReconciler(mgr.GetClient(), c))
}
