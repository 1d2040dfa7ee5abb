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
	// mu guards byPool and epoch.
	mu     sync.Mutex
	byPool map[string]map[string]bool // pool -> claim names
	// epoch counts the changes to byPool that a count made from an older
	// read of the cache could get wrong: a reservation added, or dropped
	// because the cache shows its claim disrupting or gone.
	epoch uint64
}

// reserve takes a unit of the claim's pool budget for Drifted, counting the
// pool's claims being disrupted (deleting, or interrupted and waiting for
// their drain) and the reservations not yet visible as such: a rebalance
// recommendation, like drift, is a node the pool would rather not keep,
// replaced voluntarily. The returned release gives the unit back when the
// action fails; on success the reservation stays until the claim shows as
// disrupting.
//
// The pool and its claims are read without the lock; the lock covers only
// the count against the reservations and the taking. What keeps the two
// steps one is the epoch: a read older than the last change to the
// reservations may not count against them, since a reservation dropped as
// visible in a newer read would be invisible in it, so the read is made
// again. The cache only moves forward, so a read begun after a change sees
// at least what that change was based on.
func (c *Controller) reserve(ctx context.Context, nc *v1.NodeClaim) (release func(), ok bool, err error) {
	r := &c.reservations
	poolName := nc.Labels[v1.NodePoolLabelKey]
	for {
		r.mu.Lock()
		epoch := r.epoch
		r.mu.Unlock()
		var np v1.NodePool
		if err := c.kube.Get(ctx, client.ObjectKey{Name: poolName}, &np); err != nil {
			return nil, false, fmt.Errorf("getting nodepool %s: %w", poolName, err)
		}
		var claims v1.NodeClaimList
		if err := c.kube.List(ctx, &claims, client.MatchingLabels{v1.NodePoolLabelKey: poolName}); err != nil {
			return nil, false, fmt.Errorf("listing nodeclaims of nodepool %s: %w", poolName, err)
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
			return nil, false, nil
		}
		taken, current := r.take(epoch, poolName, nc.Name, claims.Items, allowed)
		if !current {
			continue // the reservations changed since the read began
		}
		if !taken {
			return nil, false, nil
		}
		return func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			// Dropping a reservation only frees budget: an older read
			// counting it still errs on the safe side, so no new epoch.
			delete(r.byPool[poolName], nc.Name)
		}, true, nil
	}
}

// take reserves claim in pool when fewer than allowed of the pool's claims
// are disrupting, counting claims (read when the epoch was epoch) and the
// reservations not visible in them. current is false, and nothing is
// done, when the reservations have changed since that read.
func (r *budgetReservations) take(epoch uint64, pool, claim string, claims []v1.NodeClaim, allowed int) (taken, current bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.epoch != epoch {
		return false, false
	}
	reserved := r.byPool[pool]
	disrupting, live := 0, map[string]bool{}
	for i := range claims {
		name := claims[i].Name
		live[name] = true
		if !claims[i].DeletionTimestamp.IsZero() || claims[i].Annotations[DeleteByAnnotationKey] != "" {
			disrupting++
			if reserved[name] {
				delete(reserved, name) // visible now: counted above
				r.epoch++
			}
		}
	}
	for name := range reserved {
		if !live[name] {
			delete(reserved, name) // gone: counts for nothing
			r.epoch++
			continue
		}
		disrupting++
	}
	if disrupting >= allowed {
		return false, true
	}
	if r.byPool == nil {
		r.byPool = map[string]map[string]bool{}
	}
	if r.byPool[pool] == nil {
		r.byPool[pool] = map[string]bool{}
	}
	r.byPool[pool][claim] = true
	r.epoch++
	return true, true
}
