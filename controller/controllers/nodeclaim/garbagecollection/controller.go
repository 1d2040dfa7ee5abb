// Package garbagecollection reconciles the cloud against the cluster on a
// timer: instances nobody claims are terminated, and claims whose instance
// vanished (a spot interruption missed, a console termination) are deleted.
// It does I/O on both sides: the API server and the cloud provider.
package garbagecollection

import (
	"context"
	"fmt"
	"path"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider"
	"github.com/nodewright/nodewright/controller/utils/nodeclaim"
)

// Options tune the sweep.
type Options struct {
	// Interval between sweeps. Zero means 2 minutes.
	Interval time.Duration
	// GracePeriod: an unclaimed instance younger than this is left alone,
	// since its claim may not have recorded the providerID yet. Zero means
	// 1 minute.
	GracePeriod time.Duration
}

// Controller is a periodic sweep, run as a manager Runnable.
type Controller struct {
	kube  client.Client
	cloud cloudprovider.CloudProvider
	clock clock.Clock
	opts  Options
}

// NewController fills in default options.
func NewController(kube client.Client, cloud cloudprovider.CloudProvider, clk clock.Clock, opts Options) *Controller {
	if opts.Interval == 0 {
		opts.Interval = 2 * time.Minute
	}
	if opts.GracePeriod == 0 {
		opts.GracePeriod = time.Minute
	}
	return &Controller{kube: kube, cloud: cloud, clock: clk, opts: opts}
}

// Name is the controller's name in logs and metrics.
func (c *Controller) Name() string { return "nodeclaim.garbagecollection" }

// Reconcile runs one sweep and asks to run again after the interval.
func (c *Controller) Reconcile(ctx context.Context) (reconcile.Result, error) {
	ctx = log.IntoContext(ctx, log.FromContext(ctx).WithName(c.Name()))
	instances, err := c.cloud.List(ctx)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("listing instances: %w", err)
	}
	var claims v1.NodeClaimList
	if err := c.kube.List(ctx, &claims); err != nil {
		return reconcile.Result{}, fmt.Errorf("listing nodeclaims: %w", err)
	}
	claimed, names := sets.New[string](), sets.New[string]()
	for i := range claims.Items {
		claimed.Insert(claims.Items[i].Status.ProviderID)
		names.Insert(claims.Items[i].Name)
	}

	// 1. Instances without a claim.
	for _, inst := range instances {
		if claimed.Has(inst.Status.ProviderID) || (inst.Name != "" && names.Has(inst.Name)) {
			continue
		}
		if c.clock.Since(inst.CreationTimestamp.Time) < c.opts.GracePeriod {
			continue
		}
		if err := c.cloud.Delete(ctx, inst); cloudprovider.IgnoreNodeClaimNotFoundError(err) != nil {
			return reconcile.Result{}, fmt.Errorf("terminating orphan instance %s: %w", inst.Status.ProviderID, err)
		}
		log.FromContext(ctx).Info("terminated orphan instance", "instance", path.Base(inst.Status.ProviderID), "providerID", inst.Status.ProviderID)
	}

	// 2. Claims without an instance. Those the list holds are alive; only
	// the others are looked up one by one (an instance launched since the
	// list, or one the list's tags miss), so a sweep costs one call, not
	// one per node.
	listed := sets.New[string]()
	for _, inst := range instances {
		listed.Insert(inst.Status.ProviderID)
	}
	for i := range claims.Items {
		nc := &claims.Items[i]
		if !nc.IsTrue(v1.ConditionTypeLaunched) || nc.Status.ProviderID == "" || !nc.DeletionTimestamp.IsZero() || listed.Has(nc.Status.ProviderID) {
			continue
		}
		_, err := c.cloud.Get(ctx, nc.Status.ProviderID)
		if err == nil {
			continue
		}
		if !cloudprovider.IsNodeClaimNotFoundError(err) {
			return reconcile.Result{}, fmt.Errorf("looking up instance of nodeclaim %s: %w", nc.Name, err)
		}
		if err := c.deleteClaim(ctx, nc); err != nil {
			return reconcile.Result{}, err
		}
	}
	return reconcile.Result{RequeueAfter: c.opts.Interval}, nil
}

// deleteClaim deletes the claim and its Node; their termination finds the
// instance already gone.
func (c *Controller) deleteClaim(ctx context.Context, nc *v1.NodeClaim) error {
	node, err := nodeclaim.NodeForProviderID(ctx, c.kube, nc.Status.ProviderID)
	if err != nil {
		return err
	}
	if node != nil {
		if err := c.kube.Delete(ctx, node); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting node %s of vanished instance: %w", node.Name, err)
		}
	}
	if err := c.kube.Delete(ctx, nc); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting nodeclaim %s of vanished instance: %w", nc.Name, err)
	}
	log.FromContext(ctx).Info("deleted nodeclaim whose instance is gone", "nodeclaim", nc.Name, "providerID", nc.Status.ProviderID)
	return nil
}

// Start sweeps every Interval until ctx ends; a failed sweep is logged and
// retried at the next tick.
func (c *Controller) Start(ctx context.Context) error {
	for {
		if _, err := c.Reconcile(ctx); err != nil && ctx.Err() == nil {
			log.FromContext(ctx).Error(err, "garbage collection sweep failed")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-c.clock.After(c.opts.Interval):
		}
	}
}

// NeedLeaderElection: only the leader terminates instances.
func (c *Controller) NeedLeaderElection() bool { return true }

// Register adds the sweep to the manager.
func (c *Controller) Register(_ context.Context, mgr manager.Manager) error {
	return mgr.Add(c)
}
