package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

func TestNodePoolCostPerNodeHour(t *testing.T) {
	for _, tc := range []struct {
		in   types.String
		want string
	}{{types.StringNull(), ""}, {types.StringValue("0"), "0"}, {types.StringValue("0.012"), "0.012"}} {
		m := &nodePoolModel{Name: types.StringValue("p"), NodeClass: types.StringValue("default"), CostPerNodeHour: tc.in}
		spec, err := nodePoolSpec(m)
		if err != nil {
			t.Fatal(err)
		}
		if spec.CostPerNodeHour != tc.want {
			t.Errorf("%s: costPerNodeHour = %q, want %q", tc.in, spec.CostPerNodeHour, tc.want)
		}
		// What the API stores reads back as what was planned.
		var back nodePoolModel
		nodePoolFromAPI(&v1.NodePool{Spec: spec}, &back)
		if !back.CostPerNodeHour.Equal(tc.in) {
			t.Errorf("%s: read back as %s", tc.in, back.CostPerNodeHour)
		}
	}
}

func TestValidateNodePoolCostPerNodeHour(t *testing.T) {
	for in, want := range map[string]string{
		"0": "", "0.012": "", "1.5": "", "0." + strings.Repeat("1", 30): "",
		"-1":                           `"-1" must be a non-negative decimal number of US dollars per node per hour`,
		"abc":                          `"abc" must be a non-negative decimal number`,
		"1e3":                          `"1e3" must be a non-negative decimal number`,
		"":                             "of 1 to 32 characters",
		"0." + strings.Repeat("1", 31): "of 1 to 32 characters",
	} {
		d := validateNodePool(&nodePoolModel{CostPerNodeHour: types.StringValue(in)})
		switch {
		case want == "" && d.HasError():
			t.Errorf("%q: rejected: %v", in, d)
		case want != "" && (!d.HasError() || !strings.Contains(d[0].Detail(), want)):
			t.Errorf("%q: diagnostics %v, want one containing %q", in, d, want)
		}
	}
	// Unknown until apply (from another resource): nothing to check yet.
	if d := validateNodePool(&nodePoolModel{CostPerNodeHour: types.StringUnknown()}); d.HasError() {
		t.Errorf("unknown value rejected: %v", d)
	}
}
