package interruption

import (
	"context"
	"errors"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/disruptionplan"
)

// errBudget leaves a rebalance message for redelivery: the budget frees up
// as other disruptions finish.
var errBudget = errors.New("disruption budget exhausted; waiting for redelivery")

// withinBudget counts the pool's claims being disrupted (deleting, or
// interrupted and waiting for their drain) against its budget for Drifted:
// a rebalance recommendation, like drift, is a node the pool would rather
// not keep, replaced voluntarily.
func (c *Controller) withinBudget(ctx context.Context, nc *v1.NodeClaim) (bool, error) {
	poolName := nc.Labels[v1.NodePoolLabelKey]
	var np v1.NodePool
	if err := c.kube.Get(ctx, client.ObjectKey{Name: poolName}, &np); err != nil {
		return false, fmt.Errorf("getting nodepool %s: %w", poolName, err)
	}
	var claims v1.NodeClaimList
	if err := c.kube.List(ctx, &claims, client.MatchingLabels{v1.NodePoolLabelKey: poolName}); err != nil {
		return false, fmt.Errorf("listing nodeclaims of nodepool %s: %w", poolName, err)
	}
	disrupting := 0
	for i := range claims.Items {
		if !claims.Items[i].DeletionTimestamp.IsZero() || claims.Items[i].Annotations[DeleteByAnnotationKey] != "" {
			disrupting++
		}
	}
	// A pool whose budgets cannot be evaluated has none to spend, as the
	// disruption loop sees it too: the message waits for redelivery (the
	// pool may be fixed meanwhile), and no other pool's message is held up.
	budgets := np.Spec.Disruption.Budgets
	err := disruptionplan.ValidateBudgets(budgets)
	allowed := 0
	if err == nil {
		allowed, err = disruptionplan.Allowed(budgets, v1.DisruptionReasonDrifted, len(claims.Items), c.clock.Now())
	}
	if err != nil {
		log.FromContext(ctx).Info("nodepool budgets cannot be evaluated; no rebalance replacement until they are fixed",
			"nodepool", poolName, "error", err.Error())
		return false, nil
	}
	return disrupting < allowed, nil
}
