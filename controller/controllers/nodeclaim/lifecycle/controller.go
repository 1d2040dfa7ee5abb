// Package lifecycle takes a NodeClaim from request to ready node: it
// launches the instance, registers the Node that joins for it, waits for
// that Node to initialize, and gives up on claims that take too long.
// It does I/O on both sides: the API server and the cloud provider.
package lifecycle

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilcache "k8s.io/apimachinery/pkg/util/cache"
	"k8s.io/client-go/tools/events"
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
)

// Options tune the liveness checks.
type Options struct {
	// LaunchTimeout: a claim not Launched this long after creation is
	// deleted. Zero means 5 minutes.
	LaunchTimeout time.Duration
	// RegistrationTimeout: a claim whose Node hasn't registered this long
	// after launch is deleted, and so its instance terminated. Zero means
	// 15 minutes.
	RegistrationTimeout time.Duration
}

// Controller reconciles NodeClaims towards Initialized.
type Controller struct {
	kube     client.Client
	cloud    cloudprovider.CloudProvider
	clock    clock.Clock
	recorder events.EventRecorder
	opts     Options
	// launched are the instances created, by claim UID, for a minute:
	// the cache may not show a claim's launch yet when the claim is
	// reconciled again (its own label patch triggers that), and without
	// this every second launch called CreateFleet again. Karpenter's
	// launch keeps the same record.
	launched *utilcache.Expiring
}

// NewController fills in default timeouts.
func NewController(kube client.Client, cloud cloudprovider.CloudProvider, clk clock.Clock, recorder events.EventRecorder, opts Options) *Controller {
	if opts.LaunchTimeout == 0 {
		opts.LaunchTimeout = 5 * time.Minute
	}
	if opts.RegistrationTimeout == 0 {
		opts.RegistrationTimeout = 15 * time.Minute
	}
	return &Controller{kube: kube, cloud: cloud, clock: clk, recorder: recorder, opts: opts, launched: utilcache.NewExpiringWithClock(clk)}
}

// Name is the controller's name in logs and metrics.
func (c *Controller) Name() string { return "nodeclaim.lifecycle" }

// Reconcile moves the claim one or more steps along launch, registration
// and initialization, saving status after each step so a crash loses none.
func (c *Controller) Reconcile(ctx context.Context, nc *v1.NodeClaim) (reconcile.Result, error) {
	ctx = log.IntoContext(ctx, log.FromContext(ctx).WithValues("nodeclaim", nc.Name))
	if !nc.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil // termination owns deleting claims
	}
	// The finalizer goes on before any instance exists, so no instance can
	// outlive its claim unnoticed.
	if !controllerutil.ContainsFinalizer(nc, v1.TerminationFinalizer) {
		stored := nc.DeepCopy()
		controllerutil.AddFinalizer(nc, v1.TerminationFinalizer)
		if err := c.kube.Patch(ctx, nc, client.MergeFromWithOptions(stored, client.MergeFromWithOptimisticLock{})); err != nil {
			return reconcile.Result{}, client.IgnoreNotFound(fmt.Errorf("adding finalizer to nodeclaim %s: %w", nc.Name, err))
		}
	}
	// 1. Launch.
	if !nc.IsTrue(v1.ConditionTypeLaunched) {
		if res, done, err := c.launch(ctx, nc); done || err != nil {
			return res, err
		}
	}
	// 2. Registration.
	node, err := c.nodeFor(ctx, nc)
	if err != nil {
		return reconcile.Result{}, err
	}
	if !nc.IsTrue(v1.ConditionTypeRegistered) {
		if node == nil {
			return c.awaitRegistration(ctx, nc)
		}
		if err := c.register(ctx, nc, node); err != nil {
			return reconcile.Result{}, err
		}
	}
	// 3. Initialization.
	if !nc.IsTrue(v1.ConditionTypeInitialized) && node != nil {
		return reconcile.Result{}, c.initialize(ctx, nc, node)
	}
	return reconcile.Result{}, nil
}

// setCondition stamps transitions with the injected clock, which the
// liveness checks measure against.
func (c *Controller) setCondition(nc *v1.NodeClaim, typ string, status metav1.ConditionStatus, reason, message string) {
	if reason == "" {
		reason = typ
	}
	meta.SetStatusCondition(&nc.Status.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: message,
		ObservedGeneration: nc.Generation, LastTransitionTime: metav1.NewTime(c.clock.Now()),
	})
}

func (c *Controller) patchStatus(ctx context.Context, nc, stored *v1.NodeClaim) error {
	if err := c.kube.Status().Patch(ctx, nc, client.MergeFrom(stored)); err != nil {
		return fmt.Errorf("patching status of nodeclaim %s: %w", nc.Name, err)
	}
	return nil
}

// deleteClaim gives up on a claim; termination then removes its instance
// and Node.
func (c *Controller) deleteClaim(ctx context.Context, nc *v1.NodeClaim, reason, message string) error {
	c.recorder.Eventf(nc, nil, corev1.EventTypeWarning, reason, "Delete", message)
	log.FromContext(ctx).Info("deleting nodeclaim", "reason", reason, "message", message)
	if err := c.kube.Delete(ctx, nc); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting nodeclaim %s: %w", nc.Name, err)
	}
	return nil
}

// Register watches NodeClaims, and Nodes mapped to the claim with their providerID.
func (c *Controller) Register(_ context.Context, mgr manager.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).Named(c.Name()).
		For(&v1.NodeClaim{}).
		Watches(&corev1.Node{}, handler.EnqueueRequestsFromMapFunc(nodeclaim.NodeToNodeClaims(mgr.GetClient()))).
		// Claims are independent and each launch waits on EC2: one at a
		// time, a batch of 50 claims took 27 s to launch and as long again
		// to register. Karpenter's lifecycle controller runs 1 000.
		WithOptions(controller.Options{MaxConcurrentReconciles: 1000}).
		Complete(reconcile.AsReconciler(mgr.GetClient(), c))
}
