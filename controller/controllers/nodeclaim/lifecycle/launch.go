package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"path"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider"
	"github.com/nodewright/nodewright/controller/utils/nodeclaim"
)

// nodeClassRetry is how soon a claim whose node class isn't resolved yet
// tries again.
const nodeClassRetry = 10 * time.Second

// launch creates the instance. done says Reconcile must return res now
// (the claim is gone, or must wait).
func (c *Controller) launch(ctx context.Context, nc *v1.NodeClaim) (res reconcile.Result, done bool, err error) {
	age := c.clock.Since(nc.CreationTimestamp.Time)
	if age >= c.opts.LaunchTimeout {
		return reconcile.Result{}, true, c.deleteClaim(ctx, nc, "LaunchTimeout",
			fmt.Sprintf("instance not launched within %v", c.opts.LaunchTimeout))
	}
	created, err := c.create(ctx, nc)
	if err != nil {
		stored := nc.DeepCopy()
		var notReady *cloudprovider.NodeClassNotReadyError
		switch {
		case cloudprovider.IsInsufficientCapacityError(err):
			// The offerings tried are now marked unavailable, so deleting the
			// claim lets provisioning choose another type or zone.
			c.setCondition(nc, v1.ConditionTypeLaunched, metav1.ConditionFalse, "InsufficientCapacity", err.Error())
			if perr := c.patchStatus(ctx, nc, stored); perr != nil {
				return reconcile.Result{}, true, client.IgnoreNotFound(perr)
			}
			return reconcile.Result{}, true, c.deleteClaim(ctx, nc, "InsufficientCapacity",
				fmt.Sprintf("deleting nodeclaim so provisioning retries elsewhere: %v", err))
		case errors.As(err, &notReady):
			c.setCondition(nc, v1.ConditionTypeLaunched, metav1.ConditionFalse, "NodeClassNotReady", err.Error())
			if perr := c.patchStatus(ctx, nc, stored); perr != nil {
				return reconcile.Result{}, true, perr
			}
			return reconcile.Result{RequeueAfter: min(nodeClassRetry, c.opts.LaunchTimeout-age)}, true, nil
		default:
			return reconcile.Result{}, true, fmt.Errorf("launching nodeclaim %s: %w", nc.Name, err)
		}
	}

	stored := nc.DeepCopy()
	if nc.Labels == nil {
		nc.Labels = map[string]string{}
	}
	for k, v := range created.Labels {
		nc.Labels[k] = v
	}
	for k, v := range created.Annotations {
		if nc.Annotations == nil {
			nc.Annotations = map[string]string{}
		}
		nc.Annotations[k] = v
	}
	if err := c.kube.Patch(ctx, nc, client.MergeFrom(stored)); err != nil {
		return reconcile.Result{}, true, fmt.Errorf("labelling nodeclaim %s: %w", nc.Name, err)
	}
	stored = nc.DeepCopy()
	nc.Status.ProviderID = created.Status.ProviderID
	nc.Status.ImageID = created.Status.ImageID
	nc.Status.Capacity = created.Status.Capacity
	nc.Status.Allocatable = created.Status.Allocatable
	reason, msg := "Launched", "launched instance"
	if nc.Annotations[v1.AdoptProviderIDAnnotationKey] != "" {
		reason, msg = "Adopted", "adopted instance"
	}
	c.setCondition(nc, v1.ConditionTypeLaunched, metav1.ConditionTrue, reason, "")
	if err := c.patchStatus(ctx, nc, stored); err != nil {
		return reconcile.Result{}, true, err
	}
	observeStep(nc, StepLaunch, nc.CreationTimestamp.Time, c.clock.Now())
	kv := []any{"instance", path.Base(nc.Status.ProviderID), "type", nc.Labels[corev1.LabelInstanceTypeStable],
		"zone", nc.Labels[corev1.LabelTopologyZone], "capacityType", nc.Labels[v1.CapacityTypeLabelKey]}
	if price, ok := c.price(ctx, nc); ok {
		kv = append(kv, "price", price)
	}
	log.FromContext(ctx).Info(msg, kv...)
	return reconcile.Result{}, false, nil
}

// create launches the claim's instance, or looks up the running one an
// adopted claim names: a node Karpenter launched keeps its instance.
func (c *Controller) create(ctx context.Context, nc *v1.NodeClaim) (*v1.NodeClaim, error) {
	if id := nc.Annotations[v1.AdoptProviderIDAnnotationKey]; id != "" {
		created, err := c.cloud.Get(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("looking up adopted instance %s: %w", id, err)
		}
		return created, nil
	}
	if v, ok := c.launched.Get(nc.UID); ok {
		return v.(*v1.NodeClaim).DeepCopy(), nil
	}
	created, err := c.cloud.Create(ctx, nc)
	if err != nil {
		return nil, err
	}
	c.launched.Set(nc.UID, created.DeepCopy(), launchedFor)
	return created, nil
}

// launchedFor is how long a launch is remembered (Controller.launched):
// long past any cache lag, short enough to hold few entries.
const launchedFor = time.Minute

// price looks the launched offering up in the pool's instance types; it is
// only for the log line, so any failure just leaves the price out.
func (c *Controller) price(ctx context.Context, nc *v1.NodeClaim) (float64, bool) {
	var np v1.NodePool
	if err := c.kube.Get(ctx, client.ObjectKey{Name: nc.Labels[v1.NodePoolLabelKey]}, &np); err != nil {
		return 0, false
	}
	types, err := c.cloud.InstanceTypes(ctx, &np)
	if err != nil {
		return 0, false
	}
	return nodeclaim.Price(nc, types)
}
