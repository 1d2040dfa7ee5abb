// Package disruption keeps a NodeClaim's Drifted condition: whether what the
// claim was launched with still matches what its NodePool and EC2NodeClass
// would launch today. The disruption controller replaces drifted nodes.
// It reads NodePools and EC2NodeClasses and writes NodeClaim status
// through the API server; it never calls AWS.
package disruption

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// recheck bounds how stale the condition can get if a watch event is missed.
const recheck = 5 * time.Minute

// Controller sets the Drifted condition of launched NodeClaims.
type Controller struct {
	kube client.Client
}

// NewController builds the controller.
func NewController(kube client.Client) *Controller {
	return &Controller{kube: kube}
}

// Name of the controller in logs and metrics.
func (c *Controller) Name() string { return "nodeclaim.disruption" }

// Reconcile compares one NodeClaim with its pool and node class.
func (c *Controller) Reconcile(ctx context.Context, nc *v1.NodeClaim) (reconcile.Result, error) {
	// 1. Nothing to judge until the instance exists, nor once it is going.
	if !nc.DeletionTimestamp.IsZero() || !nc.IsTrue(v1.ConditionTypeLaunched) {
		return reconcile.Result{}, nil
	}
	poolName := nc.Labels[v1.NodePoolLabelKey]
	if poolName == "" {
		return reconcile.Result{}, nil
	}
	logger := log.FromContext(ctx).WithValues("nodeclaim", nc.Name, "nodepool", poolName)
	var np v1.NodePool
	if err := c.kube.Get(ctx, client.ObjectKey{Name: poolName}, &np); err != nil {
		// A deleted pool takes its claims with it (owner references).
		return reconcile.Result{}, client.IgnoreNotFound(fmt.Errorf("getting nodepool %s: %w", poolName, err))
	}

	// 2. A claim hashed by another version of the algorithm (or before hashes
	// were stamped) can't be compared: adopt the pool's current hash.
	if nc.Annotations[v1.NodePoolHashVersionAnnotationKey] != v1.NodePoolHashVersion {
		stored := nc.DeepCopy()
		if nc.Annotations == nil {
			nc.Annotations = map[string]string{}
		}
		nc.Annotations[v1.NodePoolHashAnnotationKey] = np.Hash()
		nc.Annotations[v1.NodePoolHashVersionAnnotationKey] = v1.NodePoolHashVersion
		if err := c.kube.Patch(ctx, nc, client.MergeFromWithOptions(stored, client.MergeFromWithOptimisticLock{})); err != nil {
			if apierrors.IsConflict(err) {
				// The write it lost to is an update event: it reconciles the claim again.
				return reconcile.Result{}, nil
			}
			return reconcile.Result{}, client.IgnoreNotFound(fmt.Errorf("re-stamping nodepool hash of nodeclaim %s: %w", nc.Name, err))
		}
		logger.Info("re-stamped nodepool hash", "from", stored.Annotations[v1.NodePoolHashVersionAnnotationKey], "to", v1.NodePoolHashVersion)
	}

	// 3. The node class, when the pool names one that exists.
	var nodeClass *v1.EC2NodeClass
	if ref := np.Spec.Template.Spec.NodeClassRef; ref != nil {
		var got v1.EC2NodeClass
		err := c.kube.Get(ctx, client.ObjectKey{Name: ref.Name}, &got)
		switch {
		case err == nil:
			nodeClass = &got
		case client.IgnoreNotFound(err) != nil:
			return reconcile.Result{}, fmt.Errorf("getting ec2nodeclass %s: %w", ref.Name, err)
		}
	}

	// 4. Record the verdict if it changed.
	status, reason, message := metav1.ConditionFalse, ReasonNotDrifted, ""
	if d := Detect(&np, nodeClass, nc); d != nil {
		status, reason, message = metav1.ConditionTrue, d.Reason, d.Message
	}
	stored := nc.DeepCopy()
	if !nc.SetCondition(v1.ConditionTypeDrifted, status, reason, message) {
		return reconcile.Result{RequeueAfter: recheck}, nil
	}
	if err := c.kube.Status().Patch(ctx, nc, client.MergeFromWithOptions(stored, client.MergeFromWithOptimisticLock{})); err != nil {
		// The lifecycle controller writes the same conditions list during a
		// launch. The write this one lost to is an update event, which
		// judges the fresh claim again: no error worth a log line.
		if apierrors.IsConflict(err) {
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, client.IgnoreNotFound(fmt.Errorf("patching drifted condition of nodeclaim %s: %w", nc.Name, err))
	}
	if status == metav1.ConditionTrue {
		logger.Info("nodeclaim drifted", "reason", reason, "message", message)
	} else if prev := stored.GetCondition(v1.ConditionTypeDrifted); prev != nil && prev.Status == metav1.ConditionTrue {
		logger.Info("nodeclaim no longer drifted", "was", prev.Reason)
	}
	return reconcile.Result{RequeueAfter: recheck}, nil
}

// Register watches NodeClaims, and NodePools and EC2NodeClasses through the
// claims they would change.
func (c *Controller) Register(_ context.Context, mgr manager.Manager) error {
	kube := mgr.GetClient()
	return builder.ControllerManagedBy(mgr).
		Named(c.Name()).
		For(&v1.NodeClaim{}).
		Watches(&v1.NodePool{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			return claimsOf(ctx, kube, o.GetName())
		})).
		Watches(&v1.EC2NodeClass{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			var pools v1.NodePoolList
			if err := kube.List(ctx, &pools); err != nil {
				log.FromContext(ctx).Error(err, "listing nodepools for drift", "ec2nodeclass", o.GetName())
				return nil
			}
			var out []reconcile.Request
			for i := range pools.Items {
				if ref := pools.Items[i].Spec.Template.Spec.NodeClassRef; ref != nil && ref.Name == o.GetName() {
					out = append(out, claimsOf(ctx, kube, pools.Items[i].Name)...)
				}
			}
			return out
		})).
		Complete(reconcile.AsReconciler(kube, c))
}

func claimsOf(ctx context.Context, kube client.Client, pool string) []reconcile.Request {
	var claims v1.NodeClaimList
	if err := kube.List(ctx, &claims, client.MatchingLabels{v1.NodePoolLabelKey: pool}); err != nil {
		log.FromContext(ctx).Error(err, "listing nodeclaims for drift", "nodepool", pool)
		return nil
	}
	out := make([]reconcile.Request, 0, len(claims.Items))
	for i := range claims.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&claims.Items[i])})
	}
	return out
}
