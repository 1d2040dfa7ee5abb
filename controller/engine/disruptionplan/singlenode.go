package disruptionplan

// singleNode consolidates the first underutilized node that can go.
func (e *evaluator) singleNode() ([]*Decision, error) {
	for _, c := range e.underutilized() {
		d, err := e.consolidate(MethodSingleNodeConsolidation, []*candidate{c})
		if err != nil {
			return nil, err
		}
		if d != nil {
			return []*Decision{d}, nil
		}
	}
	return nil, nil
}
