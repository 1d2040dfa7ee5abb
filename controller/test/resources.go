package test

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Resources builds a ResourceList from name/quantity pairs, as in
// Resources("cpu", "500m", "memory", "1Gi"); an empty quantity leaves its
// name out, so a table can switch a resource off.
func Resources(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
		}
	}
	return out
}
