package v1

import (
	"fmt"
	"regexp"
	"strconv"
)

// The field is a decimal string named for its unit because the Kubernetes
// API conventions want units in the field name or the value, and no floats
// (kubernetes/community, contributors/devel/sig-architecture/
// api-conventions.md, "Units" and "Primitive types").

// CostPerHourPattern is the CRD's pattern for NodePoolSpec.CostPerNodeHour
// (a test keeps the marker equal to it): plain decimals only, so what the
// apiserver admits always parses and is never negative, infinite or NaN;
// strconv.ParseFloat alone would take "-1", "1e3" and "Inf".
const CostPerHourPattern = `^[0-9]+([.][0-9]+)?$`

// CostPerHourMaxLength is the CRD's MaxLength for CostPerNodeHour.
const CostPerHourMaxLength = 32

var costPerHourRE = regexp.MustCompile(CostPerHourPattern)

// ParseCostPerHour reads a cost such as "0.012" ($/h). The empty string is
// no cost.
func ParseCostPerHour(s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	if !costPerHourRE.MatchString(s) {
		return 0, fmt.Errorf("cost %q is not a non-negative decimal number of US dollars per hour, such as 0.012", s)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("parsing cost %q: %w", s, err)
	}
	return v, nil
}

// NodeOverheadPerHour is CostPerNodeHour in $/h, 0 when unset. The CRD
// admits only values ParseCostPerHour accepts; one that bypassed it (a
// fake client, a hand-built object) counts as 0 rather than stopping the
// pool from scheduling.
func (s *NodePoolSpec) NodeOverheadPerHour() float64 {
	v, err := ParseCostPerHour(s.CostPerNodeHour)
	if err != nil {
		return 0
	}
	return v
}
