package provider

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// noClusterProvider points the provider at an address nothing listens on:
// plans that pass prove no cluster (and no CRD) is needed to plan.
const noClusterProvider = `
provider "nodewright" {
  region   = "us-east-1"
  endpoint = "http://127.0.0.1:1"
  kubernetes {
    host  = "https://127.0.0.1:1"
    token = "unused"
  }
}
`

// wrappedPhrase matches text however Terraform wraps it.
func wrappedPhrase(s string) *regexp.Regexp {
	return regexp.MustCompile(strings.ReplaceAll(regexp.QuoteMeta(s), " ", `\s+`))
}

func planOnlySteps(cases []struct{ config, want string }) []resource.TestStep {
	var steps []resource.TestStep
	for _, c := range cases {
		step := resource.TestStep{Config: noClusterProvider + c.config, PlanOnly: true}
		if c.want == "" {
			step.ExpectNonEmptyPlan = true
		} else {
			step.ExpectError = wrappedPhrase(c.want)
		}
		steps = append(steps, step)
	}
	return steps
}

func nodePoolWith(body string) string {
	return `
resource "nodewright_node_pool" "v" {
  name       = "v"
  node_class = "default"
` + body + `
}
`
}

func TestAccNodePoolValidation(t *testing.T) {
	kubeAccPreCheck(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: kubeProviderFactories(),
		Steps: planOnlySteps([]struct{ config, want string }{
			// A valid pool plans with no cluster reachable.
			{nodePoolWith(`requirements = [{ key = "nodewright.dev/capacity-type", operator = "In", values = ["spot"] }]`), ""},
			{nodePoolWith(`requirements = [{ key = "kubernetes.io/arch", operator = "Into", values = ["amd64"] }]`), `value must be one of: ["In" "NotIn" "Exists" "DoesNotExist" "Gt" "Lt"], got: "Into"`},
			{nodePoolWith(`requirements = [{ key = "node.kubernetes.io/instance-type", operator = "In", values = ["m5.large", "c5.large"], min_values = 3 }]`), "requirements[0] (node.kubernetes.io/instance-type): min_values (3) must not exceed the number of values (2) of an In requirement"},
			{nodePoolWith(`requirements = [{ key = "kubernetes.io/arch", operator = "In" }]`), "requirements[0] (kubernetes.io/arch): operators In and NotIn need at least one value"},
			{nodePoolWith(`requirements = [{ key = "kubernetes.io/arch", operator = "Exists", values = ["amd64"] }]`), "operators Exists and DoesNotExist take no values"},
			{nodePoolWith(`requirements = [{ key = "nodewright.dev/instance-cpu", operator = "Gt", values = ["four"] }]`), "operators Gt and Lt take exactly one integer value"},
			{nodePoolWith(`requirements = [{ key = "nodewright.dev/mine", operator = "Exists" }]`), `requirements[0].key: "nodewright.dev/mine" is in the reserved nodewright.dev domain`},
			{nodePoolWith(`labels = { "nodewright.dev/nodepool" = "x" }`), `labels: key "nodewright.dev/nodepool" is restricted: nodewright or the kubelet sets it`},
			{nodePoolWith(`labels = { "kubernetes.io/hostname" = "x" }`), `labels: key "kubernetes.io/hostname" is restricted`},
			{nodePoolWith(`disruption = { budgets = [{ nodes = "0", schedule = "@daily" }] }`), "disruption.budgets[0]: a budget schedule needs a duration, and a duration needs a schedule"},
			{nodePoolWith(`disruption = { budgets = [{ nodes = "0", schedule = "0 9 * * mon-fri", duration = "8h" }] }`), ""},
			{nodePoolWith(`disruption = { budgets = [{ nodes = "0", schedule = "0 9 * * fri-mon", duration = "8h" }] }`), `disruption.budgets[0].schedule: schedule "0 9 * * fri-mon": day of week field: "fri-mon": range starts after it ends`},
			{nodePoolWith(`disruption = { budgets = [{ nodes = "0", schedule = "0 25 * * *", duration = "1h" }] }`), `hour field: "25": 25 is above the maximum 23`},
			{nodePoolWith(`disruption = { budgets = [{ nodes = "0", schedule = "*-5 * * * *", duration = "1h" }] }`), `use five fields of numbers, names`},
			{nodePoolWith(`disruption = { budgets = [] }`), "disruption.budgets list must contain at least 1 elements and at most 50 elements, got: 0"},
			{nodePoolWith(`disruption = { budgets = [{ nodes = "ten" }] }`), `disruption.budgets[0].nodes: "ten" must be a count like 3 or a percentage like 10%`},
			{nodePoolWith(`disruption = { consolidation_policy = "Always" }`), `value must be one of: ["WhenEmpty" "WhenEmptyOrUnderutilized"], got: "Always"`},
			{nodePoolWith(`expire_after = "30d"`), `expire_after: "30d" must be a duration in h, m and s units`},
			{nodePoolWith(`termination_grace_period = "1 hour"`), `termination_grace_period: "1 hour" must be a duration`},
			{nodePoolWith(`weight = 0`), "weight value must be between 1 and 100, got: 0"},
			{nodePoolWith(`limits = { cpu = "lots" }`), `limits["cpu"]: "lots" is not a quantity`},
			{nodePoolWith(`taints = [{ key = "example.com/x", effect = "NoWay" }]`), `got: "NoWay"`},
			{nodePoolWith(`cost_per_node_hour = "0.012"`), ""},
			// A number is converted to the string the CRD stores.
			{nodePoolWith(`cost_per_node_hour = 1.5`), ""},
			{nodePoolWith(`cost_per_node_hour = "-1"`), `cost_per_node_hour: "-1" must be a non-negative decimal number of US dollars per node per hour`},
			{nodePoolWith(`cost_per_node_hour = -0.5`), `cost_per_node_hour: "-0.5" must be a non-negative decimal number`},
			{nodePoolWith(`cost_per_node_hour = "abc"`), `cost_per_node_hour: "abc" must be a non-negative decimal number`},
			{nodePoolWith(`cost_per_node_hour = "1e3"`), `cost_per_node_hour: "1e3" must be a non-negative decimal number`},
			{nodePoolWith(`cost_per_node_hour = ""`), `of 1 to 32 characters`},
			// Terraform divides with 512-bit precision: unrounded, 1/3 is far
			// longer than the CRD takes.
			{nodePoolWith(`cost_per_node_hour = 1 / 3`), `round a computed value with format("%.6f", ...)`},
			{nodePoolWith(`cost_per_node_hour = format("%.6f", 1 / 3)`), ""},
		}),
	})
}

// The documented examples plan cleanly, with no cluster reachable.
func TestAccKubeExamplesPlan(t *testing.T) {
	kubeAccPreCheck(t)
	var cfg strings.Builder
	for _, name := range []string{"nodewright_node_class", "nodewright_node_pool", "nodewright_cluster_access"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "examples", "resources", name, "resource.tf"))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Write(data)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: kubeProviderFactories(),
		Steps:                    []resource.TestStep{{Config: noClusterProvider + cfg.String(), PlanOnly: true, ExpectNonEmptyPlan: true}},
	})
}
