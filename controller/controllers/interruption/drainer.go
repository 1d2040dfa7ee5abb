package interruption

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// DrainPoll is how often an interrupted claim checks on its replacements.
const DrainPoll = time.Second

// Drainer deletes interrupted NodeClaims (termination drains and
// terminates them) once their replacements are up, or at their delete-by
// time, whichever comes first. "Up" is Initialized, not merely Launched: an
// instance takes ~30 s to join, and draining into a node that isn't there
// yet leaves pods Pending while half the warning is still unused.
type Drainer struct {
	kube     client.Client
	clock    clock.Clock
	recorder events.EventRecorder
	tracker  *tracker
}

// NewDrainer returns the drainer.
func NewDrainer(kube client.Client, clk clock.Clock, recorder events.EventRecorder, t *tracker) *Drainer {
	return &Drainer{kube: kube, clock: clk, recorder: recorder, tracker: t}
}

// Name of the controller.
func (d *Drainer) Name() string { return "interruption.drain" }

// Reconcile acts on claims carrying a delete-by annotation.
func (d *Drainer) Reconcile(ctx context.Context, nc *v1.NodeClaim) (reconcile.Result, error) {
	raw := nc.Annotations[DeleteByAnnotationKey]
	if raw == "" || !nc.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil
	}
	deleteBy, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		// A hand-edited annotation: treat as due rather than never.
		deleteBy = time.Time{}
	}
	now := d.clock.Now()
	// 1. Wait for the replacements, until the delete-by time.
	up, err := d.replacementsUp(ctx, nc)
	if err != nil {
		return reconcile.Result{}, err
	}
	if !up && now.Before(deleteBy) {
		return reconcile.Result{RequeueAfter: min(DrainPoll, deleteBy.Sub(now))}, nil
	}
	// 2. Taint and delete; termination drains and terminates.
	node, err := nodeOf(ctx, d.kube, nc)
	if err != nil {
		return reconcile.Result{}, err
	}
	if err := taintAndDelete(ctx, d.kube, node, nc); err != nil {
		return reconcile.Result{}, err
	}
	actions.WithLabelValues(ActionDelete).Inc()
	why := "replacements ready"
	if !up {
		why = "delete-by time reached"
	}
	if t, err := time.Parse(time.RFC3339, nc.Annotations[MessageTimeAnnotationKey]); err == nil {
		d.tracker.watch(ctx, node, t)
	}
	log.FromContext(ctx).Info("deleting interrupted nodeclaim", "nodeclaim", nc.Name, "node", nc.Status.NodeName,
		"kind", nc.Annotations[KindAnnotationKey], "reason", why)
	msg := fmt.Sprintf("Interruption (%s): deleting, %s", nc.Annotations[KindAnnotationKey], why)
	recordEvent(d.recorder, nc, node, corev1.EventTypeNormal, "InterruptionDrain", msg)
	return reconcile.Result{}, nil
}

// replacementsUp reports whether every replacement is Initialized (or there
// are none); a replacement that is gone never comes up.
func (d *Drainer) replacementsUp(ctx context.Context, nc *v1.NodeClaim) (bool, error) {
	names := nc.Annotations[ReplacementsAnnotationKey]
	if names == "" {
		return true, nil
	}
	for _, name := range strings.Split(names, ",") {
		var r v1.NodeClaim
		if err := d.kube.Get(ctx, client.ObjectKey{Name: name}, &r); err != nil {
			if client.IgnoreNotFound(err) == nil {
				return false, nil
			}
			return false, fmt.Errorf("getting replacement nodeclaim %s: %w", name, err)
		}
		if !r.IsTrue(v1.ConditionTypeInitialized) {
			return false, nil
		}
	}
	return true, nil
}

// Register watches NodeClaims that carry a delete-by annotation.
func (d *Drainer) Register(_ context.Context, mgr manager.Manager) error {
	return builder.ControllerManagedBy(mgr).
		Named(d.Name()).
		For(&v1.NodeClaim{}, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			return o.GetAnnotations()[DeleteByAnnotationKey] != ""
		}))).
		// Stateless per claim, as node termination is: one at a time, 200
		// claims interrupted at once on a busy apiserver took 19 deletes in
		// three minutes, past their instances' end.
		WithOptions(controller.Options{MaxConcurrentReconciles: 100}).
		Complete(reconcile.AsReconciler(mgr.GetClient(), d))
}
