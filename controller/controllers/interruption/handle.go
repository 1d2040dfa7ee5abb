package interruption

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/awsevents"
)

// reasons are the event reasons, by kind.
var reasons = map[awsevents.Kind]string{
	awsevents.KindSpotInterruption:               "SpotInterrupted",
	awsevents.KindCapacityReservationInterrupted: "CapacityReservationInterrupted",
	awsevents.KindScheduledChange:                "InstanceScheduledChange",
	awsevents.KindRebalanceRecommendation:        "RebalanceRecommendation",
	awsevents.KindStateChange:                    "InstanceStateChange",
}

// actOn handles one instance; done is called exactly once.
func (c *Controller) actOn(ctx context.Context, msg *awsevents.Message, instanceID string, done func(error)) {
	logger := log.FromContext(ctx).WithValues("instance", instanceID)
	ctx = log.IntoContext(ctx, logger)
	nc, err := c.claimFor(ctx, instanceID)
	if err != nil {
		done(err)
		return
	}
	if nc == nil {
		logger.V(1).Info("no nodeclaim for interrupted instance")
		actions.WithLabelValues(ActionIgnore).Inc()
		done(nil)
		return
	}
	ctx = log.IntoContext(ctx, logger.WithValues("nodeclaim", nc.Name, "node", nc.Status.NodeName))
	switch {
	case !nc.DeletionTimestamp.IsZero():
		actions.WithLabelValues(ActionDuplicate).Inc()
		done(nil)
	case msg.Kind == awsevents.KindStateChange:
		// The instance is going or gone whatever was done before.
		done(c.deleteNow(ctx, msg, nc))
	case handled(nc):
		// A copy of this message, or an earlier warning, is in hand.
		actions.WithLabelValues(ActionDuplicate).Inc()
		done(nil)
	case msg.Kind == awsevents.KindSpotInterruption, msg.Kind == awsevents.KindCapacityReservationInterrupted:
		c.markUnavailable(ctx, nc)
		c.replace(ctx, msg, nc, c.deleteBy(msg), done)
	case msg.Kind == awsevents.KindScheduledChange:
		c.replace(ctx, msg, nc, c.deleteBy(msg), done)
	case msg.Kind == awsevents.KindRebalanceRecommendation:
		c.rebalance(ctx, msg, nc, done)
	default:
		actions.WithLabelValues(ActionIgnore).Inc()
		done(nil)
	}
}

// deleteBy is when an interrupted claim is deleted even if its replacement
// has not launched: DeleteFraction of the way from the warning to the
// instance's end, which leaves the rest of the warning for the drain.
func (c *Controller) deleteBy(msg *awsevents.Message) time.Time {
	lead := max(msg.Deadline().Sub(msg.Time), 0)
	return msg.Time.Add(time.Duration(c.opts.DeleteFraction * float64(lead)))
}

// markUnavailable keeps the next launches out of the interrupted pool.
func (c *Controller) markUnavailable(ctx context.Context, nc *v1.NodeClaim) {
	typ, zone, ct := nc.Labels[corev1.LabelInstanceTypeStable], nc.Labels[corev1.LabelTopologyZone], nc.Labels[v1.CapacityTypeLabelKey]
	if typ == "" || zone == "" || ct == "" {
		return
	}
	c.cloud.MarkUnavailable(typ, zone, ct, c.opts.UnavailableFor)
	actions.WithLabelValues(ActionMarkUnavailable).Inc()
	log.FromContext(ctx).Info("marked offering unavailable", "instanceType", typ, "zone", zone, "capacityType", ct,
		"for", c.opts.UnavailableFor.String())
}

// deleteNow taints the node and deletes the claim: the instance is going
// or gone, its pods must reschedule at once.
func (c *Controller) deleteNow(ctx context.Context, msg *awsevents.Message, nc *v1.NodeClaim) error {
	node, err := nodeOf(ctx, c.kube, nc)
	if err != nil {
		return err
	}
	if err := taintAndDelete(ctx, c.kube, node, nc); err != nil {
		return err
	}
	actions.WithLabelValues(ActionDelete).Inc()
	c.tracker.watch(ctx, node, msg.Time)
	what := fmt.Sprintf("Instance %s: deleting nodeclaim", msg.State)
	log.FromContext(ctx).Info(what)
	recordEvent(c.recorder, nc, node, corev1.EventTypeWarning, reasons[msg.Kind], what)
	return nil
}

// replace taints the node so nothing new lands on it, and hands it to the
// batcher; the batch's callback records the replacement on the claim.
func (c *Controller) replace(ctx context.Context, msg *awsevents.Message, nc *v1.NodeClaim, deleteBy time.Time, done func(error)) {
	node, err := nodeOf(ctx, c.kube, nc)
	if err != nil {
		done(err)
		return
	}
	if node == nil {
		// No node yet: no pods to move.
		done(ignoreGone(ctx, annotate(ctx, c.kube, nc, msg, deleteBy, nil)))
		return
	}
	if err := taint(ctx, c.kube, node); err != nil {
		done(err)
		return
	}
	c.batcher.add(ctx, node.Name, func(replacements []string, err error, duplicate bool) {
		if duplicate {
			actions.WithLabelValues(ActionDuplicate).Inc()
			done(nil)
			return
		}
		if err != nil {
			done(err)
			return
		}
		if err := annotate(ctx, c.kube, nc, msg, deleteBy, replacements); err != nil {
			done(ignoreGone(ctx, err))
			return
		}
		actions.WithLabelValues(ActionReplace).Inc()
		what := fmt.Sprintf("%s: replacing with %v, deleting by %s", msg.DetailType, replacements, deleteBy.UTC().Format(time.RFC3339))
		log.FromContext(ctx).Info("replacing interrupted node", "replacements", replacements, "deleteBy", deleteBy)
		recordEvent(c.recorder, nc, node, corev1.EventTypeWarning, reasons[msg.Kind], what)
		done(nil)
	})
}

// ignoreGone treats an interrupted claim that is already gone as handled:
// its instance ended and garbage collection removed it while the
// replacement was planned, so nothing is left to drain, and a redelivered
// message would only find it gone again (a 10 000-pod run redelivered 99).
func ignoreGone(ctx context.Context, err error) error {
	if apierrors.IsNotFound(err) {
		// As for an instance with no claim at all.
		actions.WithLabelValues(ActionIgnore).Inc()
		log.FromContext(ctx).Info("interrupted nodeclaim is already gone")
		return nil
	}
	return err
}

// replaceBatch is the batcher's flush: one Replace for every node, whose
// claims are shared out to the nodes they take pods from.
func (c *Controller) replaceBatch(ctx context.Context, nodes []string) (map[string][]string, error) {
	claims, err := c.replacer.Replace(ctx, nodes)
	byNode := map[string][]string{}
	for _, nc := range claims {
		for _, n := range strings.Split(nc.Annotations[v1.ReplacementForAnnotationKey], ",") {
			byNode[n] = append(byNode[n], nc.Name)
		}
	}
	return byNode, err
}
