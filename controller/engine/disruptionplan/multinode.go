package disruptionplan

// multiNode finds, by binary search over prefixes of the ordered
// candidates, the largest set that consolidates into at most one new node.
// Success is not monotone in the prefix length; the search is a heuristic
// that costs log2(n) what-ifs instead of n.
func (e *evaluator) multiNode() ([]*Decision, error) {
	cands := e.underutilized()
	if len(cands) > MultiNodeCandidates {
		cands = cands[:MultiNodeCandidates]
	}
	if len(cands) < 2 {
		return nil, nil
	}
	var best *Decision
	lo, hi := 2, len(cands)
	for lo <= hi {
		mid := (lo + hi) / 2
		d, err := e.consolidate(MethodMultiNodeConsolidation, cands[:mid])
		if err != nil {
			return nil, err
		}
		if d != nil {
			best, lo = d, mid+1
		} else {
			hi = mid - 1
		}
	}
	if best == nil {
		return nil, nil
	}
	return []*Decision{best}, nil
}
