package nodeclass

// Selector terms as condition messages name them, so that a user sees
// which terms matched nothing.

import (
	"maps"
	"slices"
	"strings"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

func describeTags(tags map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		parts = append(parts, k+"="+tags[k])
	}
	return "tags " + strings.Join(parts, ",")
}

func describeSubnetTerms(terms []v1.SubnetSelectorTerm) string {
	var parts []string
	for _, t := range terms {
		if t.ID != "" {
			parts = append(parts, "id "+t.ID)
		} else {
			parts = append(parts, describeTags(t.Tags))
		}
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func describeSGTerms(terms []v1.SecurityGroupSelectorTerm) string {
	var parts []string
	for _, t := range terms {
		var p []string
		if t.ID != "" {
			p = append(p, "id "+t.ID)
		}
		if t.Name != "" {
			p = append(p, "name "+t.Name)
		}
		if len(t.Tags) > 0 {
			p = append(p, describeTags(t.Tags))
		}
		parts = append(parts, strings.Join(p, " "))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func describeAMITerms(terms []v1.AMISelectorTerm, k8sVersion string) string {
	var parts []string
	for _, t := range terms {
		var p []string
		if t.Alias != "" {
			p = append(p, "alias "+t.Alias+" (Kubernetes "+k8sVersion+")")
		}
		if t.ID != "" {
			p = append(p, "id "+t.ID)
		}
		if t.Name != "" {
			p = append(p, "name "+t.Name)
		}
		if t.Owner != "" {
			p = append(p, "owner "+t.Owner)
		}
		if t.SSMParameter != "" {
			p = append(p, "ssmParameter "+t.SSMParameter)
		}
		if len(t.Tags) > 0 {
			p = append(p, describeTags(t.Tags))
		}
		parts = append(parts, strings.Join(p, " "))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}
