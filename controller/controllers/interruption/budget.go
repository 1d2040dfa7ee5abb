package interruption

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/disruptionplan"
)

// errBudget leaves a rebalance message for redelivery: the budget frees up
// as other disruptions finish.
var errBudget = errors.New("disruption budget exhausted; waiting for redelivery")

// budgetReservations hold the rebalance replacements that passed the
// budget but whose claims do not show as disrupting yet: the replacement
// waits for its batch, and the annotation for the cache. Counting them
// makes the check and the reservation one step, so two messages handled
// together cannot both take the last unit of budget. The leader is the only
// writer, so an in-process lock is enough.
type budgetReservations struct {
	mu     sync.Mutex
	byPool map[string]map[string]bool // pool -> claim names
}

// reserve takes a unit of the claim's pool budget for Drifted, counting the
// pool's claims being disrupted (deleting, or interrupted and waiting for
// their drain) and the reservations not yet visible as such: a rebalance
// recommendation, like drift, is a node the pool would rather not keep,
// replaced voluntarily. The returned release gives the unit back when the
// action fails; on success the reservation stays until the claim shows as
// disrupting.
func (c *Controller) reserve(ctx context.Context, nc *v1.NodeClaim) (release func(), ok bool, err error) {
	r := &c.reservations
	r.mu.Lock()
	defer r.mu.Unlock()
	poolName := nc.Labels[v1.NodePoolLabelKey]
	var np v1.NodePool
	if err := c.kube.Get(ctx, client.ObjectKey{Name: poolName}, &np); err != nil {
		return nil, false, fmt.Errorf("getting nodepool %s: %w", poolName, err)
	}
	var claims v1.NodeClaimList
	if err := c.kube.List(ctx, &claims, client.MatchingLabels{v1.NodePoolLabelKey: poolName}); err != nil {
		return nil, false, fmt.Errorf("listing nodeclaims of nodepool %s: %w", poolName, err)
	}
	reserved := r.byPool[poolName]
	disrupting, live := 0, map[string]bool{}
	for i := range claims.Items {
		name := claims.Items[i].Name
		live[name] = true
		if !claims.Items[i].DeletionTimestamp.IsZero() || claims.Items[i].Annotations[DeleteByAnnotationKey] != "" {
			disrupting++
			delete(reserved, name) // visible now: counted above
		}
	}
	for name := range reserved {
		if !live[name] {
			delete(reserved, name) // gone: counts for nothing
			continue
		}
		disrupting++
	}
	// A pool whose budgets cannot be evaluated has none to spend, as the
	// disruption loop sees it too: the message waits for redelivery (the
	// pool may be fixed meanwhile), and no other pool's message is held up.
	budgets := np.Spec.Disruption.Budgets
	err = disruptionplan.ValidateBudgets(budgets)
	allowed := 0
	if err == nil {
		allowed, err = disruptionplan.Allowed(budgets, v1.DisruptionReasonDrifted, len(claims.Items), c.clock.Now())
	}
	if err != nil {
		log.FromContext(ctx).Info("nodepool budgets cannot be evaluated; no rebalance replacement until they are fixed",
			"nodepool", poolName, "error", err.Error())
		return nil, false, nil
	}
	if disrupting >= allowed {
		return nil, false, nil
	}
	if r.byPool == nil {
		r.byPool = map[string]map[string]bool{}
	}
	if r.byPool[poolName] == nil {
		r.byPool[poolName] = map[string]bool{}
	}
	r.byPool[poolName][nc.Name] = true
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.byPool[poolName], nc.Name)
	}, true, nil
}
