package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/convert"
)

// TestAccConvertedKarpenterConfig applies what `nodewright convert` writes
// for each Karpenter fixture (placeholders set, a role given) with real
// Terraform against the local cloud: the plan applies, the objects in the
// cluster are the ones `convert --output yaml` writes, and a second plan
// is empty.
func TestAccConvertedKarpenterConfig(t *testing.T) {
	env := startKubeTestEnv(t)
	ctx := context.Background()
	files, err := filepath.Glob("../../../controller/convert/testdata/karpenter/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	opts := convert.Options{Set: map[string]string{"CLUSTER_NAME": "my-cluster", "PROJECT_NAME": "shop", "Namespace": "karpenter"}, Role: "NodeRole"}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			res, err := convert.Convert(data, opts)
			if err != nil {
				t.Fatal(err)
			}
			var hcl bytes.Buffer
			if err := convert.WriteHCL(&hcl, res); err != nil {
				t.Fatal(err)
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: kubeProviderFactories(),
				Steps: []resource.TestStep{{
					Config: env.provider + hcl.String(),
					Check: func(*terraform.State) error {
						for _, want := range res.NodePools {
							var got v1.NodePool
							if err := env.client.Get(ctx, client.ObjectKey{Name: want.Name}, &got); err != nil {
								return err
							}
							if !equalTemplates(got.Spec.Template.Spec, want.Spec.Template.Spec) || got.Spec.Disruption.ConsolidationPolicy != want.Spec.Disruption.ConsolidationPolicy {
								return fmt.Errorf("NodePool %s: applied %+v, converted %+v", want.Name, got.Spec, want.Spec)
							}
						}
						for _, want := range res.NodeClasses {
							var got v1.EC2NodeClass
							if err := env.client.Get(ctx, client.ObjectKey{Name: want.Name}, &got); err != nil {
								return err
							}
							if got.Spec.Role != want.Spec.Role || len(got.Spec.SubnetSelectorTerms) != len(want.Spec.SubnetSelectorTerms) {
								return fmt.Errorf("EC2NodeClass %s: applied %+v, converted %+v", want.Name, got.Spec, want.Spec)
							}
						}
						return nil
					},
				}},
			})
		})
	}
}

// equalTemplates compares the requirements, taints, node class and expiry
// of two pools.
func equalTemplates(a, b v1.NodeClaimTemplateSpec) bool {
	same := func(x, y any) bool {
		p, _ := json.Marshal(x)
		q, _ := json.Marshal(y)
		return string(p) == string(q)
	}
	return same(a.Requirements, b.Requirements) && same(a.Taints, b.Taints) && same(a.StartupTaints, b.StartupTaints) &&
		a.NodeClassRef.Name == b.NodeClassRef.Name && a.ExpireAfter == b.ExpireAfter
}
