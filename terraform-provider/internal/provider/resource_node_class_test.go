package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

const nodeClassV1 = `
resource "nodewright_node_class" "test" {
  name                          = "default"
  role                          = "nodewright-node"
  ami_selector_terms            = [{ alias = "al2023@latest" }]
  subnet_selector_terms         = [{ tags = { "nodewright.dev/discovery" = "localcloud" } }]
  security_group_selector_terms = [{ tags = { "nodewright.dev/discovery" = "localcloud" } }]
}
`

const nodeClassV2 = `
resource "nodewright_node_class" "test" {
  name                          = "default"
  role                          = "nodewright-node"
  ami_family                    = "AL2023"
  ami_selector_terms            = [{ alias = "al2023@v20261101" }]
  subnet_selector_terms         = [{ id = "subnet-0123abcd" }, { tags = { "kubernetes.io/role/internal-elb" = "*" } }]
  security_group_selector_terms = [{ name = "nodes" }]
  tags                          = { team = "web" }
  user_data                     = "[settings.kubernetes]\nmax-pods = 110\n"
  block_device_mappings = [{
    device_name = "/dev/xvda"
    root_volume = true
    ebs = { volume_size = "20480Mi", volume_type = "gp3", iops = 4000, throughput = 250, encrypted = true, delete_on_termination = true }
  }]
  metadata_options = { http_put_response_hop_limit = 2 }
  kubelet = {
    max_pods        = 110
    system_reserved = { cpu = "100m", memory = "1024Mi" }
    eviction_hard   = { "memory.available" = "5%" }
    eviction_soft   = { "memory.available" = "10%" }
    eviction_soft_grace_period = { "memory.available" = "90s" }
    image_gc_high_threshold_percent = 85
    image_gc_low_threshold_percent  = 80
  }
}
`

func TestAccNodeClass(t *testing.T) {
	env := startKubeTestEnv(t)
	ctx := context.Background()
	sameUID := statecheck.CompareValue(compare.ValuesSame())
	get := func() (*v1.EC2NodeClass, error) {
		var nc v1.EC2NodeClass
		return &nc, env.client.Get(ctx, client.ObjectKey{Name: "default"}, &nc)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: kubeProviderFactories(),
		Steps: []resource.TestStep{
			{
				// metadata_options defaults equal the CRD's: no diff after apply.
				Config: env.provider + nodeClassV1,
				ConfigStateChecks: []statecheck.StateCheck{
					sameUID.AddStateValue("nodewright_node_class.test", tfjsonpath.New("uid")),
					statecheck.ExpectKnownValue("nodewright_node_class.test", tfjsonpath.New("metadata_options"), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"http_endpoint": knownvalue.StringExact("enabled"), "http_protocol_ipv6": knownvalue.StringExact("disabled"),
						"http_put_response_hop_limit": knownvalue.Int64Exact(1), "http_tokens": knownvalue.StringExact("required"),
					})),
				},
				Check: func(*terraform.State) error {
					nc, err := get()
					if err != nil {
						return err
					}
					if nc.Spec.Role != "nodewright-node" || len(nc.Spec.AMISelectorTerms) != 1 || nc.Spec.AMISelectorTerms[0].Alias != "al2023@latest" {
						return fmt.Errorf("spec = %+v", nc.Spec)
					}
					return nil
				},
			},
			{
				Config:           env.provider + nodeClassV2,
				ConfigPlanChecks: updateInPlace("nodewright_node_class.test"),
				ConfigStateChecks: []statecheck.StateCheck{
					sameUID.AddStateValue("nodewright_node_class.test", tfjsonpath.New("uid")),
					statecheck.ExpectKnownValue("nodewright_node_class.test", tfjsonpath.New("metadata_options").AtMapKey("http_tokens"), knownvalue.StringExact("required")),
				},
				Check: func(*terraform.State) error {
					nc, err := get()
					if err != nil {
						return err
					}
					s := nc.Spec
					if len(s.BlockDeviceMappings) != 1 || s.BlockDeviceMappings[0].EBS.VolumeSize.String() != "20Gi" || *s.BlockDeviceMappings[0].EBS.IOPS != 4000 {
						return fmt.Errorf("blockDeviceMappings = %+v", s.BlockDeviceMappings)
					}
					if *s.MetadataOptions.HTTPPutResponseHopLimit != 2 || *s.MetadataOptions.HTTPEndpoint != "enabled" {
						return fmt.Errorf("metadataOptions = %+v", s.MetadataOptions)
					}
					if s.Kubelet == nil || *s.Kubelet.MaxPods != 110 || s.Kubelet.EvictionSoftGracePeriod["memory.available"].Duration.String() != "1m30s" {
						return fmt.Errorf("kubelet = %+v", s.Kubelet)
					}
					return nil
				},
			},
			{
				ResourceName:                         "nodewright_node_class.test",
				ImportState:                          true,
				ImportStateId:                        "default",
				ImportStateVerify:                    true,
				ImportStateVerifyIdentifierAttribute: "name",
				// The apiserver's canonical spellings come back on import.
				ImportStateVerifyIgnore: []string{"block_device_mappings.0.ebs.volume_size", "kubelet.system_reserved.memory", "kubelet.eviction_soft_grace_period.memory.available"},
			},
			{
				// A finalizer nobody removes (no controller here): destroy
				// times out and says what holds the class.
				PreConfig: func() {
					nc, err := get()
					if err != nil {
						t.Fatal(err)
					}
					nc.Finalizers = append(nc.Finalizers, v1.TerminationFinalizer)
					if err := env.client.Update(ctx, nc); err != nil {
						t.Fatal(err)
					}
				},
				Config: env.provider + replaceDeleteTimeout(nodeClassV2, "2s"),
			},
			{
				Config:      env.provider + replaceDeleteTimeout(nodeClassV2, "2s"),
				Destroy:     true,
				ExpectError: regexp.MustCompile(`still there after 2s, held by finalizers\s+\[nodewright.dev/termination\][\s\S]*controller`),
			},
			{
				// Released the way the controller would: destroy completes.
				PreConfig: func() {
					nc, err := get()
					if err != nil {
						t.Fatal(err)
					}
					nc.Finalizers = nil
					if err := env.client.Update(ctx, nc); err != nil {
						t.Fatal(err)
					}
				},
				Config:  env.provider + replaceDeleteTimeout(nodeClassV2, "2s"),
				Destroy: true,
			},
		},
		CheckDestroy: func(*terraform.State) error {
			if _, err := get(); err == nil {
				return fmt.Errorf("EC2NodeClass still exists after destroy")
			}
			return nil
		},
	})
}

// replaceDeleteTimeout adds delete_timeout to a node class config.
func replaceDeleteTimeout(cfg, timeout string) string {
	return regexp.MustCompile(`name\s+= "default"`).ReplaceAllString(cfg, fmt.Sprintf("name = \"default\"\n  delete_timeout = %q", timeout))
}
