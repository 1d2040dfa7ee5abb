// Package provisioning turns pods that kube-scheduler can't place into
// NodeClaims. The controller triggers a batch on every such pod; the
// Provisioner waits for the batch to settle, snapshots the cluster, asks the
// scheduling engine for a plan, creates the NodeClaims it names and
// nominates the pods to them. It does I/O: the cluster through a
// controller-runtime client, the cloud's instance types and prices through
// cloudprovider.CloudProvider; the decisions are the engine's.
//
// Files: controller.go (pod events → batch), batcher.go (idle and max
// windows), provisioner.go (batch → plan → NodeClaims), state.go (the
// snapshot the engine plans on), inflight.go (the claims and nominations
// written but not yet in the cache), replace.go (capacity for nodes about
// to be interrupted).
package provisioning

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// Retry is how often a pod that stays provisionable re-triggers a batch, so
// pods that fit nowhere get another chance when capacity or pools change.
const Retry = time.Minute

// nominationRecheck is how often a pod that waits for its NodeClaim is
// looked at again.
const nominationRecheck = 15 * time.Second

// Controller triggers the provisioner for provisionable pods.
type Controller struct {
	kube        client.Client
	provisioner *Provisioner
}

// NewController returns the pod trigger controller.
func NewController(kube client.Client, p *Provisioner) *Controller {
	return &Controller{kube: kube, provisioner: p}
}

// Name of the controller.
func (c *Controller) Name() string { return "provisioner.trigger.pod" }

// Reconcile triggers a batch when the pod needs a node.
func (c *Controller) Reconcile(ctx context.Context, pod *corev1.Pod) (reconcile.Result, error) {
	nominated := false
	live := func(name string) bool {
		var nc v1.NodeClaim
		if err := c.kube.Get(ctx, client.ObjectKey{Name: name}, &nc); err != nil {
			return false
		}
		nominated = NominationHolds(&nc)
		return nominated
	}
	if !Provisionable(pod, live) {
		if nominated {
			// Checked again once the claim's node may be up: a pod that
			// does not fit it after all needs a batch then.
			return reconcile.Result{RequeueAfter: nominationRecheck}, nil
		}
		return reconcile.Result{}, nil
	}
	c.provisioner.Trigger(string(pod.UID))
	return reconcile.Result{RequeueAfter: Retry}, nil
}

// Register adds the provisioner's batching loop and the pod trigger to mgr.
// A deleted NodeClaim re-triggers: the pods nominated to it are pending
// again; so does one that starts deleting, for the pods of its node.
func (c *Controller) Register(_ context.Context, mgr manager.Manager) error {
	if err := mgr.Add(c.provisioner); err != nil {
		return fmt.Errorf("adding provisioner: %w", err)
	}
	return builder.ControllerManagedBy(mgr).
		Named(c.Name()).
		For(&corev1.Pod{}, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			pod, ok := o.(*corev1.Pod)
			return ok && pod.Spec.NodeName == "" && Unschedulable(pod)
		}))).
		Watches(&v1.NodeClaim{}, handler.Funcs{DeleteFunc: func(_ context.Context, e event.TypedDeleteEvent[client.Object], _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			c.provisioner.Trigger(string(e.Object.GetUID()))
		}, UpdateFunc: func(_ context.Context, e event.TypedUpdateEvent[client.Object], _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			// A claim that starts deleting: its node's pods need capacity.
			if e.ObjectOld.GetDeletionTimestamp() == nil && e.ObjectNew.GetDeletionTimestamp() != nil {
				c.provisioner.Trigger(string(e.ObjectNew.GetUID()))
			}
			// A claim whose node is up: its nominations end (NominationHolds),
			// and pods the node has no room for need a batch now, not at
			// their next recheck.
			if initialized(e.ObjectNew) && !initialized(e.ObjectOld) {
				c.provisioner.Trigger(string(e.ObjectNew.GetUID()))
			}
		}}).
		// A batch leaves out pools that cannot launch; pods only they can
		// run should not wait for the next Retry once one can.
		Watches(&v1.NodePool{}, handler.Funcs{
			CreateFunc: func(_ context.Context, e event.TypedCreateEvent[client.Object], _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
				c.provisioner.Trigger(string(e.Object.GetUID()))
			},
			UpdateFunc: func(_ context.Context, e event.TypedUpdateEvent[client.Object], _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
				if e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration() {
					c.provisioner.Trigger(string(e.ObjectNew.GetUID()))
				}
			}}).
		Watches(&v1.EC2NodeClass{}, handler.Funcs{
			UpdateFunc: func(_ context.Context, e event.TypedUpdateEvent[client.Object], _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
				if becameReady(e.ObjectOld, e.ObjectNew) {
					c.provisioner.Trigger(string(e.ObjectNew.GetUID()))
				}
			}}).
		Complete(reconcile.AsReconciler(mgr.GetClient(), c))
}

// initialized: a NodeClaim's node is initialized.
func initialized(o client.Object) bool {
	nc, ok := o.(*v1.NodeClaim)
	return ok && nc.IsTrue(v1.ConditionTypeInitialized)
}

// becameReady: an EC2NodeClass's Ready condition turned True.
func becameReady(old, updated client.Object) bool {
	o, ok1 := old.(*v1.EC2NodeClass)
	n, ok2 := updated.(*v1.EC2NodeClass)
	return ok1 && ok2 && !meta.IsStatusConditionTrue(o.Status.Conditions, v1.ConditionTypeReady) &&
		meta.IsStatusConditionTrue(n.Status.Conditions, v1.ConditionTypeReady)
}
