// Package counter keeps a NodePool's status.resources and status.nodes in
// step with its NodeClaims; the scheduling engine reads them as the pool's
// usage toward its limits. It also sets the pool's usage, limit and price
// gauges, reading prices from the cloud provider's instance types.
package counter

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/utils/nodeclaim"
)

// Controller sums a NodePool's NodeClaims into its status.
type Controller struct {
	kube  client.Client
	cloud cloudprovider.CloudProvider
}

// NewController returns the counter; cloud prices the pools' nodes.
func NewController(kube client.Client, cloud cloudprovider.CloudProvider) *Controller {
	return &Controller{kube: kube, cloud: cloud}
}

// Name of the controller.
func (c *Controller) Name() string { return "nodepool.counter" }

// Reconcile writes status.resources (the sum of the claims' status.capacity)
// and status.nodes (how many claims the pool has, launched or not, since each
// counts toward a nodes limit from the moment it is created).
func (c *Controller) Reconcile(ctx context.Context, np *v1.NodePool) (reconcile.Result, error) {
	var claims v1.NodeClaimList
	// Read-only (Sum, observePrice), and run on every claim change.
	if err := c.kube.List(ctx, &claims, client.MatchingLabels{v1.NodePoolLabelKey: np.Name}, client.UnsafeDisableDeepCopy); err != nil {
		return reconcile.Result{}, fmt.Errorf("listing nodeclaims of nodepool %s: %w", np.Name, err)
	}
	resources, nodes := Sum(claims.Items)
	observe(np, resources, nodes)
	c.observePrice(ctx, np, claims.Items)
	if equality.Semantic.DeepEqual(np.Status.Resources, resources) && np.Status.Nodes == nodes {
		return reconcile.Result{}, nil
	}
	patch := client.MergeFrom(np.DeepCopy())
	np.Status.Resources, np.Status.Nodes = resources, nodes
	if err := c.kube.Status().Patch(ctx, np, patch); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(fmt.Errorf("updating status of nodepool %s: %w", np.Name, err))
	}
	log.FromContext(ctx).V(1).Info("counted nodepool", "nodepool", np.Name, "nodes", nodes, "resources", resources)
	return reconcile.Result{}, nil
}

// Sum adds up claims' capacity and counts them.
func Sum(claims []v1.NodeClaim) (corev1.ResourceList, int64) {
	out := corev1.ResourceList{}
	for i := range claims {
		for k, q := range claims[i].Status.Capacity {
			sum := out[k]
			sum.Add(q)
			out[k] = sum
		}
	}
	if len(out) == 0 {
		out = nil
	}
	return out, int64(len(claims))
}

// observePrice sets the pool's price gauge. The instance types are the
// cloud provider's cached ones; when they can't be read the gauge keeps its
// last figures, since the status count above must not wait on pricing.
func (c *Controller) observePrice(ctx context.Context, np *v1.NodePool, claims []v1.NodeClaim) {
	types, err := c.cloud.InstanceTypes(ctx, np)
	if err != nil {
		log.FromContext(ctx).V(1).Info("not pricing nodepool: no instance types", "nodepool", np.Name, "error", err.Error())
		return
	}
	prices, unpriced := Prices(claims, types)
	if unpriced > 0 {
		log.FromContext(ctx).V(1).Info("launched nodeclaims without a known price", "nodepool", np.Name, "count", unpriced)
	}
	observePrices(np, prices)
}

// Prices sums the hourly prices of the offerings the launched claims run on,
// by capacity type. unpriced counts launched claims whose offering types no
// longer list; they add nothing.
func Prices(claims []v1.NodeClaim, types []*scheduling.InstanceType) (prices map[string]float64, unpriced int) {
	prices = map[string]float64{}
	for i := range claims {
		if claims[i].Status.ProviderID == "" {
			continue // no instance, nothing to pay for yet
		}
		p, ok := nodeclaim.Price(&claims[i], types)
		if !ok {
			unpriced++
			continue
		}
		prices[claims[i].Labels[v1.CapacityTypeLabelKey]] += p
	}
	return prices, unpriced
}

// Register watches NodePools and the NodeClaims labelled with them.
func (c *Controller) Register(_ context.Context, mgr manager.Manager) error {
	return builder.ControllerManagedBy(mgr).
		Named(c.Name()).
		For(&v1.NodePool{}).
		Watches(&v1.NodeClaim{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			if name := o.GetLabels()[v1.NodePoolLabelKey]; name != "" {
				return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: name}}}
			}
			return nil
		})).
		Complete(reconcile.AsReconciler(mgr.GetClient(), c))
}
