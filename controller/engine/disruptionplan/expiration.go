package disruptionplan

import (
	"fmt"

	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

// expiration replaces the first expired node whether or not its pods
// fit elsewhere; it is not budgeted.
func (e *evaluator) expiration() ([]*Decision, error) {
	for _, c := range e.cands {
		if !c.expired {
			continue
		}
		res, err := e.without([]string{c.node.Name}, scheduling.Options{})
		if err != nil {
			return nil, err
		}
		d := e.decision(MethodExpiration, "", []*candidate{c}, res)
		d.Replacements = res.NodeClaims
		d.Unschedulable = res.Unschedulable
		d.Savings = c.node.Price - res.TotalPrice
		ttl := c.pool.NodePool.Spec.Template.Spec.ExpireAfter
		d.Message = fmt.Sprintf("Expired (expireAfter %s): %s", ttl, d.what())
		if len(res.Unschedulable) > 0 {
			d.Message += fmt.Sprintf("; %d pods have nowhere to go yet", len(res.Unschedulable))
		}
		return []*Decision{d}, nil
	}
	return nil, nil
}
