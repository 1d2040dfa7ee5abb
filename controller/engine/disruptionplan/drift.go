package disruptionplan

import (
	"fmt"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

// drift replaces the first drifted node whose pods would all schedule,
// within its pool's Drifted budget.
func (e *evaluator) drift() ([]*Decision, error) {
	for _, c := range e.cands {
		if c.node.Drifted == "" {
			continue
		}
		if e.left[c.pool.NodePool.Name][v1.DisruptionReasonDrifted] <= 0 {
			e.budgetSpent(c.pool.NodePool.Name)
			continue
		}
		res, err := e.without([]string{c.node.Name}, scheduling.Options{})
		if err != nil {
			return nil, err
		}
		if len(res.Unschedulable) > 0 {
			e.block(c.node, fmt.Sprintf("drifted, but %d pods would not schedule: %s", len(res.Unschedulable), res.Unschedulable[0].Reason))
			continue
		}
		e.take(c.pool.NodePool.Name, v1.DisruptionReasonDrifted)
		d := e.decision(MethodDrift, v1.DisruptionReasonDrifted, []*candidate{c}, res)
		d.Replacements = res.NodeClaims
		d.Savings = c.node.Price - res.TotalPrice
		d.Message = fmt.Sprintf("Drifted (%s): %s", c.node.Drifted, d.what())
		return []*Decision{d}, nil
	}
	return nil, nil
}
