// Package readiness keeps a NodePool's conditions: NodeClassReady (its
// EC2NodeClass exists, is not being deleted and is Ready),
// DisruptionBudgetsValid (every budget's nodes and schedule parse) and
// Ready (both). They say on the pool why it launches or disrupts nothing;
// the provisioner and the disruption loop check the same things for
// themselves and leave such a pool out, so they never wait on this
// controller.
// It reads and writes through the API server only; it never calls AWS.
package readiness

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/disruptionplan"
)

// conflictRetry: another writer (the counter) changed the pool between our
// read and our patch; read it again soon rather than overwrite.
const conflictRetry = time.Second

// Controller sets the conditions of NodePools.
type Controller struct {
	kube client.Client
}

// NewController builds the controller.
func NewController(kube client.Client) *Controller { return &Controller{kube: kube} }

// Name of the controller in logs and metrics.
func (c *Controller) Name() string { return "nodepool.readiness" }

// Reconcile works out one NodePool's conditions and writes them if they
// changed.
func (c *Controller) Reconcile(ctx context.Context, np *v1.NodePool) (reconcile.Result, error) {
	// 1. A pool being deleted launches nothing more; its conditions stay.
	if !np.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil
	}
	logger := log.FromContext(ctx).WithValues("nodepool", np.Name)
	stored := np.DeepCopy()

	// 2. The node class.
	reason, message, err := c.nodeClassProblem(ctx, np)
	if err != nil {
		return reconcile.Result{}, err
	}
	if reason == "" {
		np.SetCondition(v1.ConditionTypeNodeClassReady, metav1.ConditionTrue, "", "")
	} else {
		np.SetCondition(v1.ConditionTypeNodeClassReady, metav1.ConditionFalse, reason, message)
	}

	// 3. The disruption budgets, as the disruption engine will read them.
	if err := disruptionplan.ValidateBudgets(np.Spec.Disruption.Budgets); err != nil {
		np.SetCondition(v1.ConditionTypeDisruptionBudgetsValid, metav1.ConditionFalse, v1.ReasonInvalidBudget, err.Error())
	} else {
		np.SetCondition(v1.ConditionTypeDisruptionBudgetsValid, metav1.ConditionTrue, "", "")
	}

	// 4. Ready summarises them, naming the ones that are not True.
	var failing []string
	for _, t := range []string{v1.ConditionTypeNodeClassReady, v1.ConditionTypeDisruptionBudgetsValid} {
		if cond := np.GetCondition(t); cond.Status != metav1.ConditionTrue {
			failing = append(failing, fmt.Sprintf("%s is False (%s): %s", t, cond.Reason, cond.Message))
		}
	}
	if len(failing) == 0 {
		np.SetCondition(v1.ConditionTypeReady, metav1.ConditionTrue, "", "")
	} else {
		np.SetCondition(v1.ConditionTypeReady, metav1.ConditionFalse, "NotReady", strings.Join(failing, "; "))
	}

	// 5. Write only a change, and only onto the version read: a merge patch
	// replaces the whole conditions list.
	if equality.Semantic.DeepEqual(stored.Status.Conditions, np.Status.Conditions) {
		return reconcile.Result{}, nil
	}
	if err := c.kube.Status().Patch(ctx, np, client.MergeFromWithOptions(stored, client.MergeFromWithOptimisticLock{})); err != nil {
		if apierrors.IsConflict(err) {
			return reconcile.Result{RequeueAfter: conflictRetry}, nil
		}
		return reconcile.Result{}, client.IgnoreNotFound(fmt.Errorf("patching conditions of nodepool %s: %w", np.Name, err))
	}
	ready := np.GetCondition(v1.ConditionTypeReady)
	if prev := stored.GetCondition(v1.ConditionTypeReady); prev == nil || prev.Status != ready.Status || prev.Message != ready.Message {
		logger.Info("nodepool readiness changed", "ready", ready.Status, "message", ready.Message)
	}
	return reconcile.Result{}, nil
}

// nodeClassProblem reads the pool's node class and says why the pool
// can't launch from it (v1.NodePool.NodeClassProblem), or "" when it can.
func (c *Controller) nodeClassProblem(ctx context.Context, np *v1.NodePool) (reason, message string, err error) {
	var nc *v1.EC2NodeClass
	if name, ok := np.NodeClassName(); ok {
		nc = &v1.EC2NodeClass{}
		if err := c.kube.Get(ctx, client.ObjectKey{Name: name}, nc); err != nil {
			if !apierrors.IsNotFound(err) {
				return "", "", fmt.Errorf("getting ec2nodeclass %s of nodepool %s: %w", name, np.Name, err)
			}
			nc = nil
		}
	}
	reason, message = np.NodeClassProblem(nc)
	return reason, message, nil
}

// Register watches NodePools, and EC2NodeClasses through the pools that
// name them (a class created, resolved or deleted changes those pools).
func (c *Controller) Register(_ context.Context, mgr manager.Manager) error {
	kube := mgr.GetClient()
	return builder.ControllerManagedBy(mgr).
		Named(c.Name()).
		For(&v1.NodePool{}).
		Watches(&v1.EC2NodeClass{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			return poolsOf(ctx, kube, o.GetName())
		})).
		Complete(reconcile.AsReconciler(kube, c))
}

// poolsOf lists requests for the NodePools whose nodeClassRef names class.
func poolsOf(ctx context.Context, kube client.Reader, class string) []reconcile.Request {
	var pools v1.NodePoolList
	if err := kube.List(ctx, &pools); err != nil {
		log.FromContext(ctx).Error(err, "listing nodepools for readiness", "ec2nodeclass", class)
		return nil
	}
	var out []reconcile.Request
	for i := range pools.Items {
		if ref := pools.Items[i].Spec.Template.Spec.NodeClassRef; ref != nil && ref.Name == class {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKey{Name: pools.Items[i].Name}})
		}
	}
	return out
}
