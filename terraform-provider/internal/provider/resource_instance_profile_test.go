package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/nodewright/nodewright/test/localcloud/awsemu"
)

func TestAccInstanceProfile(t *testing.T) {
	emu, prov := awsTest(t)
	c := iam.NewFromConfig(emu.Config())
	cfg := func(role, tags string) string {
		return prov + `
resource "nodewright_node_role" "a" { name = "nw-a" }
resource "nodewright_node_role" "b" { name = "nw-b" }
resource "nodewright_instance_profile" "test" {
  name = "nw-profile"
  role = nodewright_node_role.` + role + `.name
` + tags + `}
`
	}
	res := "nodewright_instance_profile.test"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: func(*terraform.State) error {
			_, err := c.GetInstanceProfile(context.Background(), &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("nw-profile")})
			if !isCode(err, "NoSuchEntity") {
				return fmt.Errorf("profile still exists after destroy (err=%v)", err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config:      prov + "resource \"nodewright_instance_profile\" \"x\" {\n  name = \"a/b\"\n  role = \"r\"\n}\n",
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`IAM name rule`),
			},
			{
				Config: cfg("a", `  tags = { k = "v" }`+"\n"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("arn"), knownvalue.StringExact("arn:aws:iam::"+awsemu.AccountID+":instance-profile/nw-profile")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("role"), knownvalue.StringExact("nw-a")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("tags"), knownvalue.MapExact(map[string]knownvalue.Check{"k": knownvalue.StringExact("v")})),
				},
			},
			{
				// A role removed outside Terraform is drift.
				PreConfig: func() {
					if _, err := c.RemoveRoleFromInstanceProfile(context.Background(), &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("nw-profile"), RoleName: aws.String("nw-a")}); err != nil {
						t.Fatal(err)
					}
				},
				Config:             cfg("a", `  tags = { k = "v" }`+"\n"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config: cfg("b", ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("role"), knownvalue.StringExact("nw-b")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("tags"), knownvalue.Null()),
				},
				Check: func(*terraform.State) error {
					out, err := c.GetInstanceProfile(context.Background(), &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("nw-profile")})
					if err != nil {
						return err
					}
					if len(out.InstanceProfile.Roles) != 1 || aws.ToString(out.InstanceProfile.Roles[0].RoleName) != "nw-b" || len(out.InstanceProfile.Tags) != 0 {
						return fmt.Errorf("profile in AWS: roles %v tags %v", out.InstanceProfile.Roles, out.InstanceProfile.Tags)
					}
					return nil
				},
			},
			{ResourceName: res, ImportState: true, ImportStateId: "nw-profile", ImportStateVerify: true},
		},
	})
}
