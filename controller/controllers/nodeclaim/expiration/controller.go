// Package expiration deletes a NodeClaim once it is older than its
// spec.expireAfter. Expiry is forceful, as in Karpenter v1: neither
// do-not-disrupt nor a PodDisruptionBudget delays the deletion; the
// terminationGracePeriod then bounds the drain. It is not a disruption
// method, so the disruption engine never plans a competing replacement.
package expiration

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/utils/nodeclaim"
)

// ReasonExpired is the event reason on an expired NodeClaim.
const ReasonExpired = "Expired"

// Controller deletes expired NodeClaims.
type Controller struct {
	kube     client.Client
	clock    clock.Clock
	recorder events.EventRecorder
}

// NewController returns the controller.
func NewController(kube client.Client, clk clock.Clock, recorder events.EventRecorder) *Controller {
	return &Controller{kube: kube, clock: clk, recorder: recorder}
}

// Name is the controller's name in logs and metrics.
func (c *Controller) Name() string { return "nodeclaim.expiration" }

// Reconcile deletes nc if it has expired, else looks again when it will.
func (c *Controller) Reconcile(ctx context.Context, nc *v1.NodeClaim) (reconcile.Result, error) {
	if !nc.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil
	}
	// 1. "Never" (or no expireAfter) keeps the claim.
	ttl, ok := nc.Spec.ExpireAfter.Duration()
	if !ok {
		return reconcile.Result{}, nil
	}
	// 2. Not yet: come back when it expires. Age counts from the claim's
	// creation, as Karpenter's does.
	at := nc.CreationTimestamp.Add(ttl)
	if now := c.clock.Now(); now.Before(at) {
		return reconcile.Result{RequeueAfter: at.Sub(now)}, nil
	}
	// 3. Expired: delete it, whatever would block a voluntary disruption.
	// The precondition makes a pass over a stale copy (the cache not yet
	// showing the deletion) a conflict, so the deletion is counted once.
	err := c.kube.Delete(ctx, nc, client.Preconditions{ResourceVersion: &nc.ResourceVersion})
	if apierrors.IsConflict(err) {
		return reconcile.Result{}, nil
	}
	if err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(fmt.Errorf("deleting expired nodeclaim %s: %w", nc.Name, err))
	}
	log.FromContext(ctx).Info("deleted expired nodeclaim", "nodeclaim", nc.Name, "node", nc.Status.NodeName,
		"nodepool", nc.Labels[v1.NodePoolLabelKey], "expireAfter", nc.Spec.ExpireAfter, "expiredAt", at)
	c.recorder.Eventf(nc, nil, corev1.EventTypeNormal, ReasonExpired, "Delete",
		"Deleting: older than its expireAfter %s (expired at %s)", nc.Spec.ExpireAfter, at.UTC().Format("2006-01-02T15:04:05Z"))
	nodeclaim.CountDisrupted(nc, nodeclaim.ReasonExpired)
	return reconcile.Result{}, nil
}

// Register watches NodeClaims.
func (c *Controller) Register(_ context.Context, mgr manager.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).Named(c.Name()).
		For(&v1.NodeClaim{}).
		Complete(reconcile.AsReconciler(mgr.GetClient(), c))
}
