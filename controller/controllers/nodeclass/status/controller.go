// Package status resolves EC2NodeClasses: it writes what their selectors
// match (subnets, security groups, images, instance profile) into their
// status with one condition per part, tells each node class once when its
// nodes are priced from the embedded catalog, and cleans up the instance
// profile it created when a node class is deleted.
package status

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	controllerruntime "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// Resolver is the cloud side: the AWS cloud provider implements it.
type Resolver interface {
	// ResolveNodeClass fills nc.Status from the cloud.
	ResolveNodeClass(ctx context.Context, nc *v1.EC2NodeClass) error
	// DeleteInstanceProfile removes the instance profile made for nc, if any.
	DeleteInstanceProfile(ctx context.Context, nc *v1.EC2NodeClass) error
	// DeleteLaunchTemplates removes the launch templates made for the named
	// node class and returns how many went.
	DeleteLaunchTemplates(ctx context.Context, nodeClass string) (int, error)
	// PricesEmbedded numbers the current stretch of time in which
	// on-demand prices come from the embedded catalog (0: they are AWS's)
	// and says why, in a sentence for the node class's event.
	PricesEmbedded() (episode uint64, message string)
}

// ReasonPricesEmbedded is the warning event a node class gets once per
// stretch of time in which its nodes are priced from the embedded catalog:
// plans still work, but on list prices that may be stale or, in a region
// the catalog has no column for, another region's.
const ReasonPricesEmbedded = "PricesEmbedded"

// Selectors can start matching new subnets or images at any time, so ready
// node classes are re-resolved now and then, unready ones sooner.
const (
	readyResync    = 5 * time.Minute
	notReadyResync = time.Minute
	inUseRecheck   = 10 * time.Second
)

// Controller resolves EC2NodeClasses.
type Controller struct {
	kube     client.Client
	resolver Resolver
	clock    clock.Clock
	recorder events.EventRecorder

	mu sync.Mutex
	// toldOfEpisode is the fallback episode each node class was last told
	// of, so that it hears of each one once (a restart tells it again).
	toldOfEpisode map[types.UID]uint64
}

// NewController builds the controller.
func NewController(kube client.Client, resolver Resolver, clk clock.Clock, recorder events.EventRecorder) *Controller {
	return &Controller{kube: kube, resolver: resolver, clock: clk, recorder: recorder, toldOfEpisode: map[types.UID]uint64{}}
}

// Name of the controller in logs and metrics.
func (c *Controller) Name() string { return "nodeclass.status" }

// Reconcile resolves one EC2NodeClass.
func (c *Controller) Reconcile(ctx context.Context, nc *v1.EC2NodeClass) (reconcile.Result, error) {
	logger := log.FromContext(ctx).WithValues("ec2nodeclass", nc.Name)
	ctx = log.IntoContext(ctx, logger)

	// 1. Deleted: once no NodeClaim uses it, remove the profile we made.
	if !nc.DeletionTimestamp.IsZero() {
		return c.finalize(ctx, nc)
	}
	// 2. Guard the profile with a finalizer before creating it.
	if !controllerutil.ContainsFinalizer(nc, v1.TerminationFinalizer) {
		stored := nc.DeepCopy()
		controllerutil.AddFinalizer(nc, v1.TerminationFinalizer)
		if err := c.kube.Patch(ctx, nc, client.MergeFrom(stored)); err != nil {
			return reconcile.Result{}, client.IgnoreNotFound(fmt.Errorf("adding finalizer to ec2nodeclass %s: %w", nc.Name, err))
		}
	}
	// 3. Resolve, and write the status if it changed.
	stored := nc.DeepCopy()
	resolveErr := c.resolver.ResolveNodeClass(ctx, nc)
	if !equality.Semantic.DeepEqual(stored.Status, nc.Status) {
		if err := c.kube.Status().Patch(ctx, nc, client.MergeFrom(stored)); err != nil {
			return reconcile.Result{}, client.IgnoreNotFound(fmt.Errorf("updating ec2nodeclass %s status: %w", nc.Name, err))
		}
		ready := meta.FindStatusCondition(nc.Status.Conditions, v1.ConditionTypeReady)
		if ready != nil {
			logger.Info("resolved ec2nodeclass", "ready", ready.Status, "message", ready.Message,
				"subnets", len(nc.Status.Subnets), "securityGroups", len(nc.Status.SecurityGroups), "amis", len(nc.Status.AMIs),
				"instanceProfile", nc.Status.InstanceProfile)
		}
	}
	if resolveErr != nil {
		return reconcile.Result{}, fmt.Errorf("resolving ec2nodeclass %s: %w", nc.Name, resolveErr)
	}
	// 4. Say once per fallback that prices are the embedded catalog's.
	c.tellOfEmbeddedPrices(nc)
	// 5. Re-resolve later.
	if meta.IsStatusConditionTrue(nc.Status.Conditions, v1.ConditionTypeReady) {
		return reconcile.Result{RequeueAfter: readyResync}, nil
	}
	return reconcile.Result{RequeueAfter: notReadyResync}, nil
}

func (c *Controller) tellOfEmbeddedPrices(nc *v1.EC2NodeClass) {
	episode, message := c.resolver.PricesEmbedded()
	c.mu.Lock()
	defer c.mu.Unlock()
	if episode == 0 || c.toldOfEpisode[nc.UID] == episode {
		return
	}
	c.toldOfEpisode[nc.UID] = episode
	c.recorder.Eventf(nc, nil, corev1.EventTypeWarning, ReasonPricesEmbedded, "Price", "%s", message)
}

func (c *Controller) finalize(ctx context.Context, nc *v1.EC2NodeClass) (reconcile.Result, error) {
	if !controllerutil.ContainsFinalizer(nc, v1.TerminationFinalizer) {
		return reconcile.Result{}, nil
	}
	claims := &v1.NodeClaimList{}
	if err := c.kube.List(ctx, claims); err != nil {
		return reconcile.Result{}, fmt.Errorf("listing nodeclaims: %w", err)
	}
	for _, claim := range claims.Items {
		if ref := claim.Spec.NodeClassRef; ref != nil && ref.Name == nc.Name {
			// Their instances still use the profile.
			log.FromContext(ctx).Info("waiting for nodeclaims before deleting ec2nodeclass", "nodeclaim", claim.Name)
			return reconcile.Result{RequeueAfter: inUseRecheck}, nil
		}
	}
	if err := c.resolver.DeleteInstanceProfile(ctx, nc); err != nil {
		return reconcile.Result{}, fmt.Errorf("deleting instance profile of ec2nodeclass %s: %w", nc.Name, err)
	}
	n, err := c.resolver.DeleteLaunchTemplates(ctx, nc.Name)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("deleting launch templates of ec2nodeclass %s: %w", nc.Name, err)
	}
	c.mu.Lock()
	delete(c.toldOfEpisode, nc.UID)
	c.mu.Unlock()
	stored := nc.DeepCopy()
	controllerutil.RemoveFinalizer(nc, v1.TerminationFinalizer)
	if err := c.kube.Patch(ctx, nc, client.MergeFrom(stored)); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(fmt.Errorf("removing finalizer from ec2nodeclass %s: %w", nc.Name, err))
	}
	log.FromContext(ctx).Info("deleted ec2nodeclass instance profile and launch templates", "launchTemplates", n)
	return reconcile.Result{}, nil
}

// Register adds the controller to the manager.
func (c *Controller) Register(_ context.Context, mgr manager.Manager) error {
	return controllerruntime.NewControllerManagedBy(mgr).
		Named(c.Name()).
		For(&v1.EC2NodeClass{}).
		Complete(reconcile.AsReconciler(mgr.GetClient(), c))
}
