package provider

import (
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Conversions between the Terraform models of the Kubernetes-backed
// resources and controller/api/v1. The "from object" direction takes the
// prior value of each attribute so that values the apiserver rewrites into
// an equivalent form (1h -> 1h0m0s, 1024Mi -> 1Gi) and empty-versus-null
// collections read back exactly as configured: anything else would show as
// a diff on every plan.

// kubeStringMap converts a known map of strings; null and unknown give nil.
func kubeStringMap(m types.Map) map[string]string {
	if m.IsNull() || m.IsUnknown() {
		return nil
	}
	out := make(map[string]string, len(m.Elements()))
	for k, v := range m.Elements() {
		if s, ok := v.(types.String); ok {
			out[k] = s.ValueString()
		}
	}
	return out
}

// kubeMapValue is the inverse of kubeStringMap; an empty map stays empty
// only when the prior value was an empty map.
func kubeMapValue(prior types.Map, m map[string]string) types.Map {
	if len(m) == 0 {
		if !prior.IsNull() && !prior.IsUnknown() && len(prior.Elements()) == 0 {
			return prior
		}
		return types.MapNull(types.StringType)
	}
	el := make(map[string]attr.Value, len(m))
	for k, v := range m {
		el[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, el)
}

// kubeQuantityMapValue reads a map of quantities, keeping each prior string
// that denotes the same quantity.
func kubeQuantityMapValue(prior types.Map, m map[string]string) types.Map {
	p := kubeStringMap(prior)
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = kubeSameQuantity(p[k], v)
	}
	return kubeMapValue(prior, out)
}

func kubeSameQuantity(prior, got string) string {
	if prior == "" || prior == got {
		return got
	}
	a, errA := resource.ParseQuantity(prior)
	b, errB := resource.ParseQuantity(got)
	if errA == nil && errB == nil && a.Cmp(b) == 0 {
		return prior
	}
	return got
}

func kubeStringList(l []types.String) []string {
	if l == nil {
		return nil
	}
	out := make([]string, 0, len(l))
	for _, v := range l {
		out = append(out, v.ValueString())
	}
	return out
}

func kubeStringListValue(prior []types.String, l []string) []types.String {
	if len(l) == 0 {
		if prior != nil && len(prior) == 0 {
			return prior
		}
		return nil
	}
	out := make([]types.String, 0, len(l))
	for _, v := range l {
		out = append(out, types.StringValue(v))
	}
	return out
}

// kubeOptString: null (and, for optional API fields, "") mean unset.
func kubeOptString(s types.String) *string {
	if s.IsNull() || s.IsUnknown() {
		return nil
	}
	return ptr.To(s.ValueString())
}

func kubeOptStringValue(s *string) types.String {
	if s == nil {
		return types.StringNull()
	}
	return types.StringValue(*s)
}

// kubeStrValue maps the API's "" (omitted) to null.
func kubeStrValue(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

func kubeOptInt64(v types.Int64) *int64 {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	return ptr.To(v.ValueInt64())
}

func kubeOptInt32(v types.Int64) *int32 {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	return ptr.To(int32(v.ValueInt64()))
}

func kubeOptInt64Value(v *int64) types.Int64 {
	if v == nil {
		return types.Int64Null()
	}
	return types.Int64Value(*v)
}

func kubeOptInt32Value(v *int32) types.Int64 {
	if v == nil {
		return types.Int64Null()
	}
	return types.Int64Value(int64(*v))
}

func kubeOptBool(v types.Bool) *bool {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	return ptr.To(v.ValueBool())
}

func kubeOptBoolValue(v *bool) types.Bool {
	if v == nil {
		return types.BoolNull()
	}
	return types.BoolValue(*v)
}

// kubeDuration parses a duration attribute; validation has already checked
// the format, so an error here means an unknown slipped through.
func kubeDuration(s types.String) (*metav1.Duration, error) {
	if s.IsNull() || s.IsUnknown() {
		return nil, nil
	}
	d, err := time.ParseDuration(s.ValueString())
	if err != nil {
		return nil, fmt.Errorf("parsing duration %q: %w", s.ValueString(), err)
	}
	return &metav1.Duration{Duration: d}, nil
}

// kubeDurationValue keeps the prior spelling ("90m") of an equal duration
// the apiserver returns as "1h30m0s".
func kubeDurationValue(prior types.String, d *metav1.Duration) types.String {
	if d == nil {
		return types.StringNull()
	}
	if !prior.IsNull() && !prior.IsUnknown() {
		if p, err := time.ParseDuration(prior.ValueString()); err == nil && p == d.Duration {
			return prior
		}
	}
	return types.StringValue(kubeFormatDuration(d.Duration))
}

// kubeFormatDuration drops Go's zero units: 8h0m0s reads back as 8h.
func kubeFormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
