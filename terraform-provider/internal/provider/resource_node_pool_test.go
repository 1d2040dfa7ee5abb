package provider

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/crds"
	"github.com/nodewright/nodewright/test/localcloud"
)

// kubeTestEnv is a local cloud with the CRDs installed, and the provider
// block that points at it.
type kubeTestEnv struct {
	cloud    *localcloud.Cloud
	client   client.Client
	provider string
}

func kubeAccPreCheck(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (and TF_ACC_TERRAFORM_PATH, NODEWRIGHT_BIN_DIR)")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", localcloud.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", localcloud.SecretAccessKey)
	// The provider's buffering HTTP client can't take a custom CA bundle;
	// the emulator is plain HTTP anyway.
	t.Setenv("AWS_CA_BUNDLE", "")
}

func startKubeTestEnv(t *testing.T) *kubeTestEnv {
	t.Helper()
	kubeAccPreCheck(t)
	cloud := localcloud.Start(t)
	if err := crds.Install(context.Background(), cloud.RESTConfig); err != nil {
		t.Fatalf("installing CRDs: %v", err)
	}
	s, err := kubeScheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cloud.RESTConfig, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	return &kubeTestEnv{
		cloud:  cloud,
		client: c,
		provider: fmt.Sprintf(`
provider "nodewright" {
  region   = "us-east-1"
  endpoint = %q
  kubernetes {
    config_path = %q
  }
}
`, cloud.AWSEndpoint(), cloud.Kubeconfig),
	}
}

// updateInPlace asserts the plan updates the resource rather than
// replacing it.
func updateInPlace(address string) resource.ConfigPlanChecks {
	return resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)}}
}

func kubeProviderFactories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){"nodewright": providerserver.NewProtocol6WithError(New("test")())}
}

const nodePoolV1 = `
resource "nodewright_node_pool" "test" {
  name       = "general"
  node_class = "default"
  labels     = { "example.com/team" = "web" }
  requirements = [
    { key = "nodewright.dev/capacity-type", operator = "In", values = ["spot", "on-demand"] },
    { key = "kubernetes.io/arch", operator = "In", values = ["amd64"] },
  ]
  limits = { cpu = "1000", memory = "1024Gi" }
  termination_grace_period = "90m"
}
`

const nodePoolV2 = `
resource "nodewright_node_pool" "test" {
  name       = "general"
  node_class = "default"
  labels     = { "example.com/team" = "web" }
  requirements = [
    { key = "nodewright.dev/capacity-type", operator = "In", values = ["spot"] },
    { key = "node.kubernetes.io/instance-type", operator = "In", values = ["m5.large", "m5.xlarge", "c5.large"], min_values = 2 },
  ]
  taints = [{ key = "example.com/dedicated", value = "web", effect = "NoSchedule" }]
  limits = { cpu = "1000", memory = "1024Gi" }
  termination_grace_period = "90m"
  expire_after = "Never"
  weight = 10
  karpenter_labels = false
  # A number: Terraform converts it to the string the CRD stores.
  cost_per_node_hour = 0.012
  disruption = {
    consolidation_policy = "WhenEmpty"
    consolidate_after    = "5m"
    budgets = [
      { nodes = "20%", reasons = ["Empty", "Drifted"] },
      { nodes = "0", schedule = "0 9 * * mon-fri", duration = "8h" },
    ]
  }
}
`

func TestAccNodePool(t *testing.T) {
	env := startKubeTestEnv(t)
	ctx := context.Background()
	sameUID := statecheck.CompareValue(compare.ValuesSame())
	var uid string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: kubeProviderFactories(),
		Steps: []resource.TestStep{
			{
				// Defaults (expire_after, disruption) match the CRD's, so
				// the post-apply plan is empty.
				Config: env.provider + nodePoolV1,
				ConfigStateChecks: []statecheck.StateCheck{
					sameUID.AddStateValue("nodewright_node_pool.test", tfjsonpath.New("uid")),
					statecheck.ExpectKnownValue("nodewright_node_pool.test", tfjsonpath.New("expire_after"), knownvalue.StringExact("720h")),
					statecheck.ExpectKnownValue("nodewright_node_pool.test", tfjsonpath.New("cost_per_node_hour"), knownvalue.Null()),
					statecheck.ExpectKnownValue("nodewright_node_pool.test", tfjsonpath.New("karpenter_labels"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("nodewright_node_pool.test", tfjsonpath.New("disruption").AtMapKey("consolidation_policy"), knownvalue.StringExact("WhenEmptyOrUnderutilized")),
					statecheck.ExpectKnownValue("nodewright_node_pool.test", tfjsonpath.New("disruption").AtMapKey("budgets"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(map[string]knownvalue.Check{"nodes": knownvalue.StringExact("10%")}),
					})),
				},
				Check: func(*terraform.State) error {
					var np v1.NodePool
					if err := env.client.Get(ctx, client.ObjectKey{Name: "general"}, &np); err != nil {
						return err
					}
					uid = string(np.UID)
					if got := np.Spec.Template.Spec.NodeClassRef; got == nil || got.Name != "default" || got.Kind != "EC2NodeClass" || got.Group != "nodewright.dev" {
						return fmt.Errorf("nodeClassRef = %+v", got)
					}
					if got := np.Spec.Limits.Memory().String(); got != "1Ti" {
						return fmt.Errorf("limits.memory = %s, want 1Ti (the apiserver's spelling of 1024Gi)", got)
					}
					if got := np.Spec.Template.Spec.TerminationGracePeriod.Duration.String(); got != "1h30m0s" {
						return fmt.Errorf("terminationGracePeriod = %s", got)
					}
					return nil
				},
			},
			{
				Config:           env.provider + nodePoolV2,
				ConfigPlanChecks: updateInPlace("nodewright_node_pool.test"),
				ConfigStateChecks: []statecheck.StateCheck{
					sameUID.AddStateValue("nodewright_node_pool.test", tfjsonpath.New("uid")),
					statecheck.ExpectKnownValue("nodewright_node_pool.test", tfjsonpath.New("weight"), knownvalue.Int64Exact(10)),
					statecheck.ExpectKnownValue("nodewright_node_pool.test", tfjsonpath.New("cost_per_node_hour"), knownvalue.StringExact("0.012")),
				},
				Check: func(*terraform.State) error {
					var np v1.NodePool
					if err := env.client.Get(ctx, client.ObjectKey{Name: "general"}, &np); err != nil {
						return err
					}
					if string(np.UID) != uid {
						return fmt.Errorf("NodePool UID changed from %s to %s: it was replaced, not updated", uid, np.UID)
					}
					reqs := np.Spec.Template.Spec.Requirements
					if len(reqs) != 2 || reqs[1].Key != corev1.LabelInstanceTypeStable || reqs[1].MinValues == nil || *reqs[1].MinValues != 2 {
						return fmt.Errorf("requirements = %+v", reqs)
					}
					b := np.Spec.Disruption.Budgets
					if len(b) != 2 || b[1].Schedule == nil || *b[1].Schedule != "0 9 * * mon-fri" || b[1].Duration.Duration.String() != "8h0m0s" {
						return fmt.Errorf("budgets = %+v", b)
					}
					if np.Spec.CostPerNodeHour != "0.012" || np.Spec.NodeOverheadPerHour() != 0.012 {
						return fmt.Errorf("costPerNodeHour = %q", np.Spec.CostPerNodeHour)
					}
					if np.Spec.KarpenterLabels == nil || *np.Spec.KarpenterLabels {
						return fmt.Errorf("karpenterLabels = %v, want false", np.Spec.KarpenterLabels)
					}
					if np.Spec.Template.Spec.ExpireAfter != v1.Never || np.Spec.Disruption.ConsolidationPolicy != v1.ConsolidationPolicyWhenEmpty {
						return fmt.Errorf("expireAfter %q, consolidationPolicy %q", np.Spec.Template.Spec.ExpireAfter, np.Spec.Disruption.ConsolidationPolicy)
					}
					return nil
				},
			},
			{
				ResourceName:                         "nodewright_node_pool.test",
				ImportState:                          true,
				ImportStateId:                        "general",
				ImportStateVerify:                    true,
				ImportStateVerifyIdentifierAttribute: "name",
				// Import has no configuration to take spellings from: the
				// apiserver's canonical forms (1k, 1Ti, 1h30m) come back,
				// which the next apply rewrites to the same quantities.
				ImportStateVerifyIgnore: []string{"limits.cpu", "limits.memory", "termination_grace_period"},
			},
			{
				// Someone edits a requirement with kubectl: the next plan
				// must show it.
				PreConfig: func() {
					var np v1.NodePool
					if err := env.client.Get(ctx, client.ObjectKey{Name: "general"}, &np); err != nil {
						t.Fatal(err)
					}
					np.Spec.Template.Spec.Requirements[0].Values = []string{"on-demand"}
					if err := env.client.Update(ctx, &np); err != nil {
						t.Fatal(err)
					}
				},
				Config:             env.provider + nodePoolV2,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				// And apply puts it back, in place.
				Config:           env.provider + nodePoolV2,
				ConfigPlanChecks: updateInPlace("nodewright_node_pool.test"),
				ConfigStateChecks: []statecheck.StateCheck{
					sameUID.AddStateValue("nodewright_node_pool.test", tfjsonpath.New("uid")),
					statecheck.ExpectKnownValue("nodewright_node_pool.test", tfjsonpath.New("requirements").AtSliceIndex(0).AtMapKey("values"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("spot")})),
				},
			},
		},
		CheckDestroy: func(*terraform.State) error {
			var list v1.NodePoolList
			if err := env.client.List(ctx, &list); err != nil {
				return err
			}
			if len(list.Items) != 0 {
				return fmt.Errorf("%d NodePools left after destroy", len(list.Items))
			}
			return nil
		},
	})
}

// A NodeClaim of the pool that never goes away (no controller runs here)
// makes destroy time out with an error naming it; once it is gone, destroy
// succeeds.
func TestAccNodePoolDeleteWaitsForNodeClaims(t *testing.T) {
	env := startKubeTestEnv(t)
	ctx := context.Background()
	cfg := env.provider + `
resource "nodewright_node_pool" "test" {
  name           = "waits"
  node_class     = "default"
  delete_timeout = "3s"
}
`
	claim := &v1.NodeClaim{}
	claim.Name = "waits-abcde"
	claim.Labels = map[string]string{v1.NodePoolLabelKey: "waits"}
	claim.Spec.NodeClassRef = &v1.NodeClassReference{Group: v1.Group, Kind: "EC2NodeClass", Name: "default"}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: kubeProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: func(*terraform.State) error {
					return env.client.Create(ctx, claim)
				},
			},
			{
				Config:      cfg,
				Destroy:     true,
				ExpectError: regexp.MustCompile(`(?s)these NodeClaims.*remain: \[waits-abcde\].*controller`),
			},
			{
				PreConfig: func() {
					if err := env.client.Delete(ctx, claim); err != nil {
						t.Fatal(err)
					}
				},
				Config:  cfg,
				Destroy: true,
			},
		},
	})
}
