package podruntime

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "1", "B": "two"}
	for in, want := range map[string]string{
		"plain":          "plain",
		"$(A)":           "1",
		"x$(A)y$(B)z":    "x1ytwoz",
		"$(MISSING)":     "$(MISSING)",
		"$$(A)":          "$(A)",
		"cost $5":        "cost $5",
		"unterminated$(": "unterminated$(",
		"trailing$":      "trailing$",
	} {
		if got := expand(in, vars); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFieldAndResourceValues(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", Labels: map[string]string{"app": "x"}},
		Spec: corev1.PodSpec{NodeName: "n", ServiceAccountName: "sa", Containers: []corev1.Container{{
			Name: "c", Resources: corev1.ResourceRequirements{
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")},
			},
		}}},
	}
	for path, want := range map[string]string{
		"metadata.name": "p", "metadata.namespace": "ns", "spec.nodeName": "n",
		"spec.serviceAccountName": "sa", "status.podIP": "127.0.0.1", "metadata.labels['app']": "x",
	} {
		if got, err := fieldValue(pod, path); err != nil || got != want {
			t.Errorf("fieldValue(%s) = %q, %v; want %q", path, got, err, want)
		}
	}
	if _, err := fieldValue(pod, "spec.bogus"); err == nil {
		t.Errorf("unsupported fieldRef accepted")
	}
	c := &pod.Spec.Containers[0]
	for _, tc := range []struct {
		res, divisor, want string
	}{
		{"limits.memory", "", "536870912"},
		{"limits.memory", "1Mi", "512"},
		{"requests.cpu", "", "1"}, // rounded up to whole cores
		{"requests.cpu", "1m", "250"},
		{"limits.cpu", "", "4"}, // no limit: node allocatable
	} {
		ref := &corev1.ResourceFieldSelector{Resource: tc.res}
		if tc.divisor != "" {
			ref.Divisor = resource.MustParse(tc.divisor)
		}
		if got, err := resourceFieldValue(pod, c, ref); err != nil || got != tc.want {
			t.Errorf("resourceFieldValue(%s/%s) = %q, %v; want %q", tc.res, tc.divisor, got, err, tc.want)
		}
	}
}
