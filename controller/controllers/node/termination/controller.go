// Package termination drains a Node that is being deleted, terminates its
// instance and then lets the Node go.
//
// Draining here is not voluntary disruption: the Node is already being
// deleted (by its NodeClaim's termination, a user, or garbage collection),
// so pods annotated nodewright.dev/do-not-disrupt=true are evicted like any
// other. That annotation only stops nodewright from choosing to disrupt a
// node; it never keeps a deleted node alive. PodDisruptionBudgets are
// honoured (an eviction the apiserver refuses is retried), until the
// terminationGracePeriod runs out. That is a hard deadline, counted from
// when the NodeClaim began deleting (else the Node): at it the instance is
// terminated and the Node let go whatever pods or volumes remain, as
// Karpenter v1 does.
package termination

import (
	"context"
	"fmt"
	"path"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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
	"github.com/nodewright/nodewright/controller/utils/index"
	"github.com/nodewright/nodewright/controller/utils/patch"
)

// DrainRetry is how soon a Node whose pods are still leaving is looked at
// again (pod deletions usually wake it first).
const DrainRetry = 2 * time.Second

// podNodeNameField indexes pods by node under a manager's cache; the
// apiserver supports the same field selector natively.
const podNodeNameField = index.PodNodeName

// Controller drains and finalizes deleted Nodes.
type Controller struct {
	kube     client.Client
	cloud    cloudprovider.CloudProvider
	clock    clock.Clock
	recorder events.EventRecorder
}

// NewController returns the controller.
func NewController(kube client.Client, cloud cloudprovider.CloudProvider, clk clock.Clock, recorder events.EventRecorder) *Controller {
	return &Controller{kube: kube, cloud: cloud, clock: clk, recorder: recorder}
}

// Name is the controller's name in logs and metrics.
func (c *Controller) Name() string { return "node.termination" }

// Reconcile cordons, drains, terminates the instance and removes the
// finalizer, returning early (with RequeueAfter) while pods remain.
func (c *Controller) Reconcile(ctx context.Context, node *corev1.Node) (reconcile.Result, error) {
	if node.DeletionTimestamp.IsZero() || !controllerutil.ContainsFinalizer(node, v1.TerminationFinalizer) {
		return reconcile.Result{}, nil
	}
	ctx = log.IntoContext(ctx, log.FromContext(ctx).WithValues("node", node.Name))
	deadline, bounded, err := c.deadline(ctx, node)
	if err != nil {
		return reconcile.Result{}, err
	}
	overdue := bounded && !c.clock.Now().Before(deadline)

	// 1. Cordon, so nothing new lands while pods leave.
	if !hasTaint(node.Spec.Taints, v1.DisruptedNoScheduleTaint) {
		err := patch.Locked(ctx, c.kube, node, func(n *corev1.Node) {
			if !hasTaint(n.Spec.Taints, v1.DisruptedNoScheduleTaint) {
				n.Spec.Taints = append(n.Spec.Taints, v1.DisruptedNoScheduleTaint)
			}
		})
		if err != nil {
			return reconcile.Result{}, client.IgnoreNotFound(fmt.Errorf("cordoning node %s: %w", node.Name, err))
		}
		log.FromContext(ctx).Info("cordoned")
	}

	if overdue {
		// 2-3. Past the deadline nothing is waited for: not pods stuck
		// terminating, not pods a budget protects, not volumes.
		if err := c.abandon(ctx, node, deadline); err != nil {
			return reconcile.Result{}, err
		}
	} else {
		// 2. Drain.
		remaining, err := c.drain(ctx, node, deadline, bounded)
		if err != nil {
			return reconcile.Result{}, err
		}
		if remaining > 0 {
			return reconcile.Result{RequeueAfter: retryBefore(DrainRetry, deadline, bounded, c.clock.Now())}, nil
		}

		// 3. Volumes: the CSI driver detaches them once their pods are
		// gone; the instance waits, up to the deadline. "drained" is
		// logged once, when both are done.
		attached, err := c.attachedVolumes(ctx, node)
		if err != nil {
			return reconcile.Result{}, err
		}
		if len(attached) > 0 {
			log.FromContext(ctx).V(1).Info("waiting for volumes to detach", "volumeAttachments", attached)
			return reconcile.Result{RequeueAfter: retryBefore(VolumeRetry, deadline, bounded, c.clock.Now())}, nil
		}
		log.FromContext(ctx).Info("drained")
	}

	// 4. The instance, now, so its kubelet can't register the Node again.
	// Its NodeClaim normally waits for the Node before terminating it; if
	// it got there first, not-found is success.
	if node.Spec.ProviderID != "" {
		gone := &v1.NodeClaim{Status: v1.NodeClaimStatus{ProviderID: node.Spec.ProviderID, NodeName: node.Name}}
		if err := c.cloud.Delete(ctx, gone); err != nil {
			if !cloudprovider.IsNodeClaimNotFoundError(err) {
				return reconcile.Result{}, fmt.Errorf("terminating instance of node %s: %w", node.Name, err)
			}
		} else {
			log.FromContext(ctx).Info("terminated instance", "instance", path.Base(node.Spec.ProviderID))
		}
	}
	// Its claims learn the instance is gone; a Node deleted on its own (by a
	// user) takes its claim with it.
	if err := c.settleClaims(ctx, node); err != nil {
		return reconcile.Result{}, err
	}

	// 5. The Node.
	err = patch.Locked(ctx, c.kube, node, func(n *corev1.Node) { controllerutil.RemoveFinalizer(n, v1.TerminationFinalizer) })
	if err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(fmt.Errorf("removing finalizer from node %s: %w", node.Name, err))
	}
	log.FromContext(ctx).Info("deleted node")
	return reconcile.Result{}, nil
}

// settleClaims marks the node's claims as having no instance left to
// terminate, before the Node's finalizer goes and wakes them, and deletes
// those not already going.
func (c *Controller) settleClaims(ctx context.Context, node *corev1.Node) error {
	if node.Spec.ProviderID == "" {
		return nil
	}
	var claims v1.NodeClaimList
	if err := c.kube.List(ctx, &claims); err != nil {
		return fmt.Errorf("listing nodeclaims: %w", err)
	}
	for i := range claims.Items {
		nc := &claims.Items[i]
		if nc.Status.ProviderID != node.Spec.ProviderID {
			continue
		}
		if nc.Annotations[v1.InstanceTerminatedAnnotationKey] != nc.Status.ProviderID {
			err := patch.Locked(ctx, c.kube, nc, func(nc *v1.NodeClaim) {
				metav1.SetMetaDataAnnotation(&nc.ObjectMeta, v1.InstanceTerminatedAnnotationKey, nc.Status.ProviderID)
			})
			if client.IgnoreNotFound(err) != nil {
				return fmt.Errorf("marking nodeclaim %s of node %s terminated: %w", nc.Name, node.Name, err)
			}
		}
		if !nc.DeletionTimestamp.IsZero() {
			continue
		}
		if err := c.kube.Delete(ctx, nc); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting nodeclaim %s of node %s: %w", nc.Name, node.Name, err)
		}
	}
	return nil
}

// abandon deletes the pods the deadline leaves behind on the node, so
// their controllers replace them now rather than when the pod garbage
// collector finds them on a Node that is gone, without waiting for them,
// and says, once, what was left.
func (c *Controller) abandon(ctx context.Context, node *corev1.Node, deadline time.Time) error {
	left, err := c.drainablePods(ctx, node)
	if err != nil {
		return err
	}
	pods := make([]string, 0, len(left))
	for _, p := range left {
		pods = append(pods, p.Namespace+"/"+p.Name)
		if !p.DeletionTimestamp.IsZero() {
			continue
		}
		if err := c.kube.Delete(ctx, p); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting pod %s/%s at the node's termination deadline: %w", p.Namespace, p.Name, err)
		}
	}
	attached, err := c.attachedVolumes(ctx, node)
	if err != nil {
		return err
	}
	if len(pods) == 0 && len(attached) == 0 {
		return nil
	}
	log.FromContext(ctx).Info("terminating with pods or volumes left: termination grace period is over",
		"deadline", deadline, "pods", pods, "volumeAttachments", attached)
	c.recorder.Eventf(node, nil, corev1.EventTypeWarning, "TerminationGracePeriodElapsed", "Terminate",
		"Terminating the instance with %d pods and %d volume attachments left: the termination grace period ended at %s",
		len(pods), len(attached), deadline.UTC().Format(time.RFC3339))
	return nil
}

// retryBefore is after, or less if the deadline comes sooner.
func retryBefore(after time.Duration, deadline time.Time, bounded bool, now time.Time) time.Duration {
	if left := deadline.Sub(now); bounded && left < after {
		return max(left, time.Millisecond)
	}
	return after
}

func hasTaint(taints []corev1.Taint, t corev1.Taint) bool {
	for _, have := range taints {
		if have.Key == t.Key && have.Effect == t.Effect {
			return true
		}
	}
	return false
}

// Register watches Nodes, and pods so a Node hears its pods leave. It
// reads pods through index.PodNodeName, which the operator registers.
func (c *Controller) Register(_ context.Context, mgr manager.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).Named(c.Name()).
		For(&corev1.Node{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			if name := o.(*corev1.Pod).Spec.NodeName; name != "" {
				return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: name}}}
			}
			return nil
		})).
		// Drains wait on evictions and PDBs; nodes drain side by side, as
		// Karpenter's node termination controller (100) lets them.
		WithOptions(controller.Options{MaxConcurrentReconciles: 100}).
		Complete(reconcile.AsReconciler(mgr.GetClient(), c))
}
