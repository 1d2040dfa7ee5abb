// Package emptiness removes nodes that have run no workload for the pool's
// consolidateAfter, within its disruption budgets.
//
// The empty clock is the NodeClaim condition "Empty": True, with its
// lastTransitionTime, from the first reconcile that saw the node empty;
// False as soon as a workload pod is seen. A later status.lastPodEventTime
// (a pod came or went) also restarts the clock. Deleting the NodeClaim hands
// the node to termination, which drains it.
package emptiness

import (
	"context"
	"fmt"
	"github.com/nodewright/nodewright/controller/controllers/index"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/disruption"
)

// ConditionTypeEmpty is set on NodeClaims whose node runs only daemonset or
// terminal pods.
const ConditionTypeEmpty = "Empty"

// NodeNameField indexes pods by spec.nodeName (the API server also supports
// it as a field selector).
const NodeNameField = index.PodNodeName

// Controller deletes empty nodes of one NodePool per reconcile.
type Controller struct {
	kube     client.Client
	clock    clock.Clock
	recorder record.EventRecorder
}

// NewController returns the emptiness controller.
func NewController(kube client.Client, clk clock.Clock, recorder record.EventRecorder) *Controller {
	return &Controller{kube: kube, clock: clk, recorder: recorder}
}

// Name of the controller.
func (c *Controller) Name() string { return "disruption.emptiness" }

type candidate struct {
	claim *v1.NodeClaim
	node  *corev1.Node
	since time.Time
}

// Reconcile updates the empty clocks of the pool's nodes and deletes those
// empty for consolidateAfter, oldest first, as far as the budget allows.
func (c *Controller) Reconcile(ctx context.Context, np *v1.NodePool) (reconcile.Result, error) {
	if np.Spec.Disruption.ConsolidationPolicy != v1.ConsolidationPolicyWhenEmpty &&
		np.Spec.Disruption.ConsolidationPolicy != v1.ConsolidationPolicyWhenEmptyOrUnderutilized {
		return reconcile.Result{}, nil
	}
	after, ok := np.Spec.Disruption.ConsolidateAfter.Duration()
	if !ok && np.Spec.Disruption.ConsolidateAfter != "" {
		return reconcile.Result{}, nil // Never
	}
	now := c.clock.Now()
	var claims v1.NodeClaimList
	if err := c.kube.List(ctx, &claims, client.MatchingLabels{v1.NodePoolLabelKey: np.Name}); err != nil {
		return reconcile.Result{}, fmt.Errorf("listing nodeclaims of nodepool %s: %w", np.Name, err)
	}
	deleting := 0
	var ready []candidate
	var requeue time.Duration
	for i := range claims.Items {
		nc := &claims.Items[i]
		if !nc.DeletionTimestamp.IsZero() {
			deleting++
			continue
		}
		// 1. Only initialized nodes: a new node is empty until its pods land.
		if !nc.IsTrue(v1.ConditionTypeInitialized) || nc.Status.NodeName == "" {
			continue
		}
		var node corev1.Node
		if err := c.kube.Get(ctx, client.ObjectKey{Name: nc.Status.NodeName}, &node); err != nil {
			if client.IgnoreNotFound(err) == nil {
				continue
			}
			return reconcile.Result{}, fmt.Errorf("getting node %s: %w", nc.Status.NodeName, err)
		}
		// 2. Track the empty clock.
		empty, blocked, err := c.empty(ctx, &node)
		if err != nil {
			return reconcile.Result{}, err
		}
		since, err := c.track(ctx, nc, empty, now)
		if err != nil {
			return reconcile.Result{}, err
		}
		if !empty || blocked || nc.Annotations[v1.DoNotDisruptAnnotationKey] == "true" {
			continue
		}
		// 3. Wait out consolidateAfter.
		if wait := since.Add(after).Sub(now); wait > 0 {
			if requeue == 0 || wait < requeue {
				requeue = wait
			}
			continue
		}
		ready = append(ready, candidate{claim: nc, node: &node, since: since})
	}
	if len(ready) == 0 {
		return reconcile.Result{RequeueAfter: requeue}, nil
	}
	// 4. Delete within budget; claims already going count against it.
	allowed, err := disruption.Allowed(np.Spec.Disruption.Budgets, v1.DisruptionReasonEmpty, len(claims.Items), now)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("budgets of nodepool %s: %w", np.Name, err)
	}
	sort.Slice(ready, func(i, j int) bool { return ready[i].since.Before(ready[j].since) })
	for _, cand := range ready {
		if deleting >= allowed {
			// The budget frees up when a deletion finishes; look again soon.
			return reconcile.Result{RequeueAfter: 10 * time.Second}, nil
		}
		emptyFor := now.Sub(cand.since).Round(time.Second)
		if err := c.kube.Delete(ctx, cand.claim); client.IgnoreNotFound(err) != nil {
			return reconcile.Result{}, fmt.Errorf("deleting nodeclaim %s: %w", cand.claim.Name, err)
		}
		deleting++
		log.FromContext(ctx).Info(fmt.Sprintf("Empty: deleting node %s after %s", cand.node.Name, emptyFor),
			"nodeclaim", cand.claim.Name, "node", cand.node.Name, "nodepool", np.Name)
		c.recorder.Eventf(cand.claim, corev1.EventTypeNormal, "DisruptionEmpty", "Empty: deleting node %s after %s", cand.node.Name, emptyFor)
		c.recorder.Eventf(cand.node, corev1.EventTypeNormal, "DisruptionEmpty", "Empty: deleting node %s after %s", cand.node.Name, emptyFor)
	}
	return reconcile.Result{RequeueAfter: requeue}, nil
}

// empty reports whether the node runs only daemonset and terminal pods, and
// whether a pod or the node forbids disruption.
func (c *Controller) empty(ctx context.Context, node *corev1.Node) (empty, blocked bool, err error) {
	if node.Annotations[v1.DoNotDisruptAnnotationKey] == "true" {
		blocked = true
	}
	var pods corev1.PodList
	if err := c.kube.List(ctx, &pods, client.MatchingFields{NodeNameField: node.Name}); err != nil {
		return false, false, fmt.Errorf("listing pods of node %s: %w", node.Name, err)
	}
	empty = true
	for i := range pods.Items {
		pod := &pods.Items[i]
		if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			continue
		}
		if pod.Annotations[v1.DoNotDisruptAnnotationKey] == "true" {
			blocked = true
		}
		if !ownedByDaemonSet(pod) {
			empty = false
		}
	}
	return empty, blocked, nil
}

func ownedByDaemonSet(pod *corev1.Pod) bool {
	for _, o := range pod.OwnerReferences {
		if o.Kind == "DaemonSet" {
			return true
		}
	}
	return false
}

// track records the Empty condition and returns since when the node has
// been empty.
func (c *Controller) track(ctx context.Context, nc *v1.NodeClaim, empty bool, now time.Time) (time.Time, error) {
	status := metav1.ConditionFalse
	if empty {
		status = metav1.ConditionTrue
	}
	cond := nc.GetCondition(ConditionTypeEmpty)
	if cond == nil || cond.Status != status {
		patch := client.MergeFromWithOptions(nc.DeepCopy(), client.MergeFromWithOptimisticLock{})
		nc.SetCondition(ConditionTypeEmpty, status, "", "")
		nc.GetCondition(ConditionTypeEmpty).LastTransitionTime = metav1.NewTime(now)
		if err := c.kube.Status().Patch(ctx, nc, patch); err != nil {
			return time.Time{}, fmt.Errorf("recording emptiness of nodeclaim %s: %w", nc.Name, err)
		}
		cond = nc.GetCondition(ConditionTypeEmpty)
	}
	since := cond.LastTransitionTime.Time
	if nc.Status.LastPodEventTime.After(since) {
		since = nc.Status.LastPodEventTime.Time
	}
	return since, nil
}

// Register watches NodePools, their NodeClaims, and pods (mapped through
// their node's nodepool label).
func (c *Controller) Register(ctx context.Context, mgr manager.Manager) error {
	if err := index.PodsByNode(ctx, mgr); err != nil {
		return err
	}
	toPool := func(_ context.Context, o client.Object) []reconcile.Request {
		if name := o.GetLabels()[v1.NodePoolLabelKey]; name != "" {
			return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: name}}}
		}
		return nil
	}
	kube := mgr.GetClient()
	return builder.ControllerManagedBy(mgr).
		Named(c.Name()).
		For(&v1.NodePool{}).
		Watches(&v1.NodeClaim{}, handler.EnqueueRequestsFromMapFunc(toPool)).
		Watches(&corev1.Node{}, handler.EnqueueRequestsFromMapFunc(toPool)).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			name := o.(*corev1.Pod).Spec.NodeName
			if name == "" {
				return nil
			}
			var node corev1.Node
			if err := kube.Get(ctx, client.ObjectKey{Name: name}, &node); err != nil {
				return nil
			}
			return toPool(ctx, &node)
		})).
		Complete(reconcile.AsReconciler(kube, c))
}
