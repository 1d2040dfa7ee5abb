package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

func nodeClassWith(body string) string {
	return `
resource "nodewright_node_class" "v" {
  name                          = "v"
  subnet_selector_terms         = [{ tags = { "nodewright.dev/discovery" = "c" } }]
  security_group_selector_terms = [{ tags = { "nodewright.dev/discovery" = "c" } }]
` + body + `
}
`
}

const aliasTerm = `ami_selector_terms = [{ alias = "al2023@latest" }]`

func TestAccNodeClassValidation(t *testing.T) {
	kubeAccPreCheck(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: kubeProviderFactories(),
		Steps: planOnlySteps([]struct{ config, want string }{
			// A valid class plans with no cluster reachable.
			{nodeClassWith(`role = "r"` + "\n" + aliasTerm), ""},
			{nodeClassWith(`role = "r"` + "\n" + `instance_profile = "p"` + "\n" + aliasTerm), "role, instance_profile: specify exactly one of role or instance_profile"},
			{nodeClassWith(aliasTerm), "specify exactly one of role or instance_profile"},
			{nodeClassWith(`role = "r"` + "\n" + `ami_selector_terms = [{ alias = "al2023@latest" }, { id = "ami-0123" }]`), `ami_selector_terms[0]: an alias term can't be combined with other terms`},
			{nodeClassWith(`role = "r"` + "\n" + `ami_selector_terms = [{ alias = "al2023@latest", owner = "amazon" }]`), "ami_selector_terms[0]: a term with an alias can't have other fields"},
			{nodeClassWith(`role = "r"` + "\n" + `ami_selector_terms = [{ id = "ami-0123" }]`), "ami_family is required unless ami_selector_terms uses an alias"},
			{nodeClassWith(`role = "r"` + "\n" + `ami_family = "Bottlerocket"` + "\n" + aliasTerm), `ami_family "Bottlerocket" must match the family of alias "al2023@latest" (AL2023)`},
			{nodeClassWith(`role = "r"` + "\n" + `ami_selector_terms = [{ alias = "ubuntu@latest" }]`), "must be al2023@latest, al2023@v<version>, bottlerocket@latest or bottlerocket@v<version>"},
			{nodeClassWith(`role = "r"` + "\n" + aliasTerm + "\n" + `tags = { "kubernetes.io/cluster/c" = "owned" }`), `tags: tag key kubernetes.io/cluster/c is reserved`},
			{nodeClassWith(`role = "r"` + "\n" + aliasTerm + "\n" + `block_device_mappings = [{ ebs = { volume_type = "gp2", iops = 3000 } }]`), `block_device_mappings[0].ebs.iops can only be set for io1, io2 and gp3 volumes (volume_type is "gp2")`},
			{nodeClassWith(`role = "r"` + "\n" + aliasTerm + "\n" + `block_device_mappings = [{ root_volume = true }, { root_volume = true }]`), "block_device_mappings: at most one mapping may be the root volume, 2 are"},
			{nodeClassWith(`role = "r"` + "\n" + aliasTerm + "\n" + `kubelet = { eviction_soft = { "memory.available" = "10%" } }`), `kubelet: eviction_soft signal "memory.available" needs an eviction_soft_grace_period`},
			{nodeClassWith(`role = "r"` + "\n" + aliasTerm + "\n" + `kubelet = { system_reserved = { gpu = "1" } }`), `kubelet.system_reserved may only reserve cpu, memory, ephemeral-storage, pid, not "gpu"`},
			{nodeClassWith(`role = "r"` + "\n" + aliasTerm + "\n" + `kubelet = { image_gc_high_threshold_percent = 50, image_gc_low_threshold_percent = 60 }`), "kubelet.image_gc_high_threshold_percent (50) must be greater than image_gc_low_threshold_percent (60)"},
			{nodeClassWith(`role = "r"` + "\n" + `ami_selector_terms = [{ alias = "bottlerocket@latest" }]` + "\n" + `kubelet = { pods_per_core = 10 }`), "kubelet.pods_per_core is not supported on the Bottlerocket AMI family"},
			{nodeClassWith(`role = "r"` + "\n" + aliasTerm + "\n" + `metadata_options = { http_tokens = "maybe" }`), `value must be one of: ["required" "optional"], got: "maybe"`},
		}),
	})
}

func TestAccNodeClassSubnetTermValidation(t *testing.T) {
	kubeAccPreCheck(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: kubeProviderFactories(),
		Steps: planOnlySteps([]struct{ config, want string }{
			{`
resource "nodewright_node_class" "v" {
  name                          = "v"
  role                          = "r"
  ami_selector_terms            = [{ alias = "al2023@latest" }]
  subnet_selector_terms         = [{ id = "subnet-0123", tags = { a = "b" } }]
  security_group_selector_terms = [{ id = "sg-0123", name = "nodes" }]
}
`, "subnet_selector_terms[0]: a subnet selector term needs exactly one of tags or id"},
			{nodeClassWith(`role = "r"`+"\n"+aliasTerm) + `
resource "nodewright_node_class" "w" {
  name                          = "w"
  role                          = "r"
  ami_selector_terms            = [{ alias = "al2023@latest" }]
  subnet_selector_terms         = [{ id = "subnet-0123" }]
  security_group_selector_terms = [{ id = "sg-0123", name = "nodes" }]
}
`, "security_group_selector_terms[0]: a security group selector term with an id can't also have tags or name"},
		}),
	})
}

// Every key nodewright sets on what it launches is refused with a message
// that names it; the user's own keys, nodewright.dev ones included, pass.
func TestNodeClassRefusedTagKeys(t *testing.T) {
	for key, want := range map[string]string{
		"team":                        "",
		"nodewright.dev/custom":       "",
		"kubernetes.io/cluster-name":  "",
		"":                            "tag keys must not be empty",
		"kubernetes.io/cluster/prod":  "tag key kubernetes.io/cluster/prod is reserved: nodewright tags every resource of the cluster",
		"nodewright.dev/nodepool":     "tag key nodewright.dev/nodepool is reserved: nodewright sets it to the name of the NodePool",
		"nodewright.dev/nodeclaim":    "tag key nodewright.dev/nodeclaim is reserved: nodewright sets it to the name of the NodeClaim",
		"nodewright.dev/ec2nodeclass": "tag key nodewright.dev/ec2nodeclass is reserved: nodewright sets it to the name of the EC2NodeClass",
		"eks:eks-cluster-name":        "tag key eks:eks-cluster-name is reserved: nodewright sets it to the name of the EKS cluster",
	} {
		got := refusedTagKey(key)
		if want == "" && got != "" || !strings.HasPrefix(got, want) {
			t.Errorf("refusedTagKey(%q) = %q, want it to start with %q", key, got, want)
		}
	}
}
