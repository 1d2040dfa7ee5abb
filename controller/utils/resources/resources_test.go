package resources

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestFits(t *testing.T) {
	alloc := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi")}
	for name, tc := range map[string]struct {
		req  corev1.ResourceList
		want bool
	}{
		"nothing":                           {corev1.ResourceList{}, true},
		"exactly":                           {alloc, true},
		"too much cpu":                      {corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2001m")}, false},
		"a resource it lacks":               {corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}, false},
		"zero of one it lacks":              {corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("0")}, false},
		"volumes of a driver with no limit": {corev1.ResourceList{AttachLimit(EBSCSIDriver): resource.MustParse("40")}, true},
	} {
		if got := Fits(tc.req, alloc); got != tc.want {
			t.Errorf("%s: Fits = %v, want %v", name, got, tc.want)
		}
	}
	limited := corev1.ResourceList{AttachLimit(EBSCSIDriver): resource.MustParse("2")}
	for _, tc := range []struct {
		volumes string
		want    bool
	}{{"2", true}, {"3", false}} {
		if got := Fits(corev1.ResourceList{AttachLimit(EBSCSIDriver): resource.MustParse(tc.volumes)}, limited); got != tc.want {
			t.Errorf("%s volumes on a node that attaches 2: Fits = %v, want %v", tc.volumes, got, tc.want)
		}
	}
}
