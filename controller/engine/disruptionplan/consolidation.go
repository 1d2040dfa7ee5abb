package disruptionplan

import (
	corev1 "k8s.io/api/core/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

// underutilized lists the consolidation candidates with pods that the
// budgets allow, in order (empty nodes are emptiness's, within its budget).
func (e *evaluator) underutilized() []*candidate {
	left := map[string]int{}
	var out []*candidate
	for _, c := range e.cands {
		if !c.underutilized {
			continue
		}
		pool := c.pool.NodePool.Name
		if _, ok := left[pool]; !ok {
			left[pool] = e.left[pool][v1.DisruptionReasonUnderutilized]
		}
		if left[pool] <= 0 {
			e.budgetSpent(pool)
			continue
		}
		left[pool]--
		out = append(out, c)
	}
	return out
}

// consolidate asks whether cands may go: their pods fit on the rest of the
// cluster plus at most one new node that is strictly cheaper than them.
func (e *evaluator) consolidate(m Method, cands []*candidate) (*Decision, error) {
	names := make([]string, len(cands))
	total := 0.0
	allSpot := true
	for i, c := range cands {
		names[i] = c.node.Name
		total += c.node.Price
		allSpot = allSpot && c.node.CapacityType == v1.CapacityTypeSpot
	}
	res, err := e.without(names, scheduling.Options{})
	if err != nil {
		return nil, err
	}
	if len(res.Unschedulable) == 0 && len(res.NodeClaims) > 1 {
		// Sized packing may split the pods over several right-sized nodes
		// where one bigger node would do; consolidation launches at most
		// one, and first-fit decreasing grows one claim as far as the
		// catalog allows, so ask it before giving up.
		if res, err = e.without(names, scheduling.Options{PlainFirstFitDecreasing: true}); err != nil {
			return nil, err
		}
	}
	if len(res.Unschedulable) > 0 || len(res.NodeClaims) > 1 {
		return nil, nil
	}
	d := e.decision(m, v1.DisruptionReasonUnderutilized, cands, res)
	d.Savings = total
	if len(res.NodeClaims) == 1 {
		plan := cheaperThan(res.NodeClaims[0], total)
		if plan == nil {
			return nil, nil
		}
		if allSpot && plan.Chosen().Offering.CapacityType == v1.CapacityTypeSpot {
			// Spot to spot only with enough choice left, or the new node
			// would likely be the next one interrupted.
			if spotTypes(plan) < e.opts.SpotToSpotMinTypes {
				return nil, nil
			}
		}
		if !minValuesHold(plan, e.pools[plan.NodePool]) {
			return nil, nil
		}
		d.Replacements = []*scheduling.NodeClaimPlan{plan}
		d.Savings = total - plan.Chosen().Cost.Total()
	}
	d.Message = "Underutilized: " + d.what()
	return d, nil
}

// cheaperThan keeps the plan's options that cost strictly less than price,
// so the launch cannot land on a dearer one; nil when none do.
func cheaperThan(plan *scheduling.NodeClaimPlan, price float64) *scheduling.NodeClaimPlan {
	var opts []scheduling.Option
	for _, o := range plan.Options {
		if o.Cost.Total() < price {
			opts = append(opts, o)
		}
	}
	if len(opts) == 0 {
		return nil
	}
	out := *plan
	out.Options = opts
	types := map[string]bool{}
	for _, o := range opts {
		types[o.InstanceType.Name] = true
	}
	out.InstanceTypes = len(types)
	return &out
}

func spotTypes(plan *scheduling.NodeClaimPlan) int {
	types := map[string]bool{}
	for _, o := range plan.Options {
		if o.Offering.CapacityType == v1.CapacityTypeSpot {
			types[o.InstanceType.Name] = true
		}
	}
	return len(types)
}

// minValuesHold: trimming the options must not break the pool's demand for
// instance-type flexibility.
func minValuesHold(plan *scheduling.NodeClaimPlan, pool *Pool) bool {
	if pool == nil || pool.Scheduling == nil {
		return true
	}
	n, ok := pool.Scheduling.MinValues[corev1.LabelInstanceTypeStable]
	return !ok || plan.InstanceTypes >= n
}
