package interruption

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/awsevents"
)

// rebalance follows the policy: Replace (within the NodePool's disruption
// budget, avoiding the at-risk pool), Cordon, or Ignore.
func (c *Controller) rebalance(ctx context.Context, msg *awsevents.Message, nc *v1.NodeClaim, done func(error)) {
	switch c.opts.RebalancePolicy {
	case RebalanceIgnore:
		actions.WithLabelValues(ActionIgnore).Inc()
		done(nil)
	case RebalanceCordon:
		done(c.cordonOnly(ctx, msg, nc))
	default:
		release, ok, err := c.reserve(ctx, nc)
		if err != nil {
			done(err)
			return
		}
		if !ok {
			actions.WithLabelValues(ActionBudgetBlocked).Inc()
			done(errBudget)
			return
		}
		c.markUnavailable(ctx, nc)
		c.replace(ctx, msg, nc, c.clock.Now().Add(c.opts.RebalanceDeleteAfter), func(err error) {
			if err != nil {
				release()
			}
			done(err)
		})
	}
}

// cordonOnly marks the node unschedulable and the claim handled, with no
// delete-by: the node stays until something else removes it.
func (c *Controller) cordonOnly(ctx context.Context, msg *awsevents.Message, nc *v1.NodeClaim) error {
	node, err := nodeOf(ctx, c.kube, nc)
	if err == nil && node != nil {
		err = cordon(ctx, c.kube, node)
	}
	if err == nil {
		err = annotate(ctx, c.kube, nc, msg, time.Time{}, nil)
	}
	if err != nil {
		return err
	}
	actions.WithLabelValues(ActionCordon).Inc()
	log.FromContext(ctx).Info("cordoned node on rebalance recommendation")
	recordEvent(c.recorder, nc, node, corev1.EventTypeWarning, reasons[msg.Kind], "Rebalance recommendation: cordoned")
	return nil
}
