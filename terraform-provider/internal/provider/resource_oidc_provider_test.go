package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/nodewright/nodewright/test/localcloud/awsemu"
)

func TestAccOIDCProvider(t *testing.T) {
	emu, prov := awsTest(t)
	var cluster string
	emu.Do(func(w *awsemu.World) {
		cluster = w.Options.ClusterName
		w.Options.OIDCIssuer = "https://oidc.eks.us-east-1.amazonaws.com/id/LOCALTEST"
	})
	c := iam.NewFromConfig(emu.Config())
	res := "nodewright_oidc_provider.test"
	arn := "arn:aws:iam::" + awsemu.AccountID + ":oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/LOCALTEST"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: func(*terraform.State) error {
			out, err := c.ListOpenIDConnectProviders(context.Background(), &iam.ListOpenIDConnectProvidersInput{})
			if err != nil || len(out.OpenIDConnectProviderList) != 0 {
				return fmt.Errorf("providers left after destroy: %v %v", out, err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{Config: prov + "resource \"nodewright_oidc_provider\" \"test\" { cluster_name = \"no such\" }\n", PlanOnly: true, ExpectError: regexp.MustCompile(`EKS cluster name rule`)},
			{Config: prov + "resource \"nodewright_oidc_provider\" \"test\" { cluster_name = \"other\" }\n", ExpectError: regexp.MustCompile(`eks:DescribeCluster`)},
			{
				Config: prov + "resource \"nodewright_oidc_provider\" \"test\" { cluster_name = \"" + cluster + "\" }\n",
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("arn"), knownvalue.StringExact(arn)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("issuer_url"), knownvalue.StringExact("https://oidc.eks.us-east-1.amazonaws.com/id/LOCALTEST")),
				},
				Check: func(*terraform.State) error {
					out, err := c.GetOpenIDConnectProvider(context.Background(), &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn})
					if err != nil || len(out.ClientIDList) != 1 || out.ClientIDList[0] != "sts.amazonaws.com" {
						return fmt.Errorf("provider in IAM: %+v %v", out, err)
					}
					return nil
				},
			},
			{ResourceName: res, ImportState: true, ImportStateId: arn, ImportStateVerify: true, ImportStateVerifyIgnore: []string{"cluster_name"}},
		},
	})
}
