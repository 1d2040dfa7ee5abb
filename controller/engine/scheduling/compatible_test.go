package scheduling

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestCompatibleIgnoresInstanceTypes(t *testing.T) {
	gpuPool := &NodePool{Name: "gpu", Labels: map[string]string{"team": "ml"},
		Taints: []corev1.Taint{{Key: "gpu", Effect: corev1.TaintEffectNoSchedule}}}
	tolerant := func(p *corev1.Pod) {
		p.Spec.Tolerations = []corev1.Toleration{{Key: "gpu", Operator: corev1.TolerationOpExists}}
	}
	for _, tc := range []struct {
		name   string
		pod    *corev1.Pod
		ok     bool
		reason string
	}{
		{"selects the pool's label and tolerates its taint", pod("a", "1", "1Gi", nodeSelector("team", "ml"), tolerant), true, ""},
		{"a well-known label the instance types would set", pod("b", "1", "1Gi", nodeSelector("team", "ml", corev1.LabelArchStable, "amd64"), tolerant), true, ""},
		{"taint not tolerated", pod("c", "1", "1Gi", nodeSelector("team", "ml")), false, "taint gpu:NoSchedule not tolerated"},
		{"label conflicts", pod("d", "1", "1Gi", nodeSelector("team", "web"), tolerant), false, "conflicts"},
		{"label the pool never sets", pod("e", "1", "1Gi", nodeSelector("disk", "ssd"), tolerant), false, "label disk is not set"},
		{"second required term fits", pod("f", "1", "1Gi", tolerant, requiredTerms(
			term(nsr("team", corev1.NodeSelectorOpIn, "web")), term(nsr("team", corev1.NodeSelectorOpIn, "ml")))), true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Instance types must not matter: none here would fit 1 CPU anyway.
			np := *gpuPool
			np.InstanceTypes = []*InstanceType{itype("tiny", "100m", "128Mi", 10, 0.01)}
			ok, reason, err := Compatible(tc.pod, &np)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.ok || !strings.Contains(reason, tc.reason) {
				t.Fatalf("Compatible = %v, %q; want %v, containing %q", ok, reason, tc.ok, tc.reason)
			}
			if !ok && !strings.Contains(reason, "nodepool gpu") {
				t.Fatalf("reason %q does not name the pool", reason)
			}
		})
	}
}
