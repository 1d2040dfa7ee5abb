package disruptionplan

import (
	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// emptiness deletes empty nodes, one decision per pool, within each
// pool's Empty budget.
func (e *evaluator) emptiness() ([]*Decision, error) {
	byPool := map[string]*Decision{}
	var out []*Decision
	for _, c := range e.cands {
		if !c.empty {
			continue
		}
		if len(e.taken[c.node.Name]) > 0 {
			e.block(c.node, "empty, but pods of nodes being disrupted are expected to move here")
			continue
		}
		if !e.take(c.pool.NodePool.Name, v1.DisruptionReasonEmpty) {
			e.block(c.node, "empty, but the Empty disruption budget is spent")
			continue
		}
		d := byPool[c.pool.NodePool.Name]
		if d == nil {
			d = &Decision{Method: MethodEmptiness, Reason: v1.DisruptionReasonEmpty}
			byPool[c.pool.NodePool.Name] = d
			out = append(out, d)
		}
		d.Candidates = append(d.Candidates, c.node)
		d.Savings += c.node.Price
	}
	for _, d := range out {
		d.Message = "Empty: deleting " + describeNodes(d.Candidates)
	}
	return out, nil
}
