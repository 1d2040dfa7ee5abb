package v1

import "testing"

func TestDoNotDisrupt(t *testing.T) {
	for _, tc := range []struct {
		annotations map[string]string
		key, value  string
		ok          bool
	}{
		{nil, "", "", false},
		{map[string]string{DoNotDisruptAnnotationKey: "true", "karpenter.sh/do-not-disrupt": "false"}, DoNotDisruptAnnotationKey, "true", true},
		{map[string]string{"karpenter.sh/do-not-disrupt": "1h"}, "karpenter.sh/do-not-disrupt", "1h", true},
		{map[string]string{"karpenter.sh/do-not-consolidate": "true"}, "karpenter.sh/do-not-consolidate", "true", true},
	} {
		key, value, ok := DoNotDisrupt(tc.annotations)
		if key != tc.key || value != tc.value || ok != tc.ok {
			t.Errorf("DoNotDisrupt(%v) = %q %q %v, want %q %q %v", tc.annotations, key, value, ok, tc.key, tc.value, tc.ok)
		}
	}
}
