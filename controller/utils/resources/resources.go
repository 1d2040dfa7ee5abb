// Package resources holds arithmetic on resource lists that controllers and
// cloud providers share. It is pure.
package resources

import corev1 "k8s.io/api/core/v1"

// Fits reports whether allocatable covers every request; a resource the
// allocatable does not list has none.
func Fits(requests, allocatable corev1.ResourceList) bool {
	for name, q := range requests {
		if a, ok := allocatable[name]; !ok || a.Cmp(q) < 0 {
			return false
		}
	}
	return true
}
