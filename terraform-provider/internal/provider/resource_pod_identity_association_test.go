package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/nodewright/nodewright/test/localcloud/awsemu"
)

func TestAccPodIdentityAssociation(t *testing.T) {
	emu, prov := awsTest(t)
	c := eks.NewFromConfig(emu.Config())
	var cluster string
	emu.Do(func(w *awsemu.World) { cluster = w.Options.ClusterName })
	cfg := func(sa string) string {
		return prov + `
resource "nodewright_node_role" "nodes" { name = "nw-nodes" }
resource "nodewright_controller_iam" "ctl" {
  name          = "nw-controller"
  cluster_name  = "` + cluster + `"
  node_role_arn = nodewright_node_role.nodes.arn
  pod_identity  = true
}
resource "nodewright_pod_identity_association" "test" {
  cluster_name    = "` + cluster + `"
  namespace       = "kube-system"
  service_account = "` + sa + `"
  role_arn        = nodewright_controller_iam.ctl.arn
}
`
	}
	list := func() []string {
		out, err := c.ListPodIdentityAssociations(context.Background(), &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(cluster)})
		if err != nil {
			t.Fatal(err)
		}
		var sas []string
		for _, a := range out.Associations {
			sas = append(sas, aws.ToString(a.Namespace)+"/"+aws.ToString(a.ServiceAccount))
		}
		return sas
	}
	res := "nodewright_pod_identity_association.test"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: func(*terraform.State) error {
			if sas := list(); len(sas) != 0 {
				return fmt.Errorf("associations left after destroy: %v", sas)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{Config: prov + `resource "nodewright_pod_identity_association" "x" {
  cluster_name    = "c"
  namespace       = "Kube_System"
  service_account = "nodewright"
  role_arn        = "arn:aws:iam::111122223333:role/r"
}
`, PlanOnly: true, ExpectError: regexp.MustCompile(`must be a Kubernetes name`)},
			{
				Config: cfg("nodewright"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("association_arn"), knownvalue.StringRegexp(regexp.MustCompile(`^arn:aws:eks:us-east-1:`+awsemu.AccountID+`:podidentityassociation/`+cluster+`/a-`))),
				},
				Check: func(*terraform.State) error {
					if sas := list(); fmt.Sprint(sas) != "[kube-system/nodewright]" {
						return fmt.Errorf("associations in EKS: %v", sas)
					}
					return nil
				},
			},
			{
				// Another service account replaces the association.
				Config: cfg("other"),
				Check: func(*terraform.State) error {
					if sas := list(); fmt.Sprint(sas) != "[kube-system/other]" {
						return fmt.Errorf("associations in EKS after the change: %v", sas)
					}
					return nil
				},
			},
			{ResourceName: res, ImportState: true, ImportStateIdFunc: func(s *terraform.State) (string, error) {
				return s.RootModule().Resources[res].Primary.Attributes["id"], nil
			}, ImportStateVerify: true},
		},
	})
}
