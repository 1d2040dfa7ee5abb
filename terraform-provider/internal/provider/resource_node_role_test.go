package provider

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/nodewright/nodewright/test/localcloud/awsemu"
)

var testProviders = map[string]func() (tfprotov6.ProviderServer, error){
	"nodewright": providerserver.NewProtocol6WithError(New("test")()),
}

// awsTest starts an emulator and prepares the environment for an acceptance
// test against it; it returns the emulator and the provider block.
func awsTest(t *testing.T) (*awsemu.Server, string) {
	t.Helper()
	if os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		// Never let the test framework download Terraform.
		if _, err := os.Stat("/usr/local/bin/terraform"); err != nil {
			t.Skip("no terraform binary: set TF_ACC_TERRAFORM_PATH")
		}
		t.Setenv("TF_ACC_TERRAFORM_PATH", "/usr/local/bin/terraform")
	}
	if os.Getenv("TF_ACC") == "" {
		t.Setenv("TF_ACC", "1")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", awsemu.AdminAccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", awsemu.AdminSecretAccessKey)
	t.Setenv("AWS_PROFILE", "")
	// The provider's buffering HTTP client cannot take a custom CA bundle,
	// and the emulator is plain HTTP anyway.
	t.Setenv("AWS_CA_BUNDLE", "")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	emu := awsemu.NewForTest(t, awsemu.Options{})
	return emu, fmt.Sprintf("provider \"nodewright\" {\n  region   = \"us-east-1\"\n  endpoint = %q\n}\n", emu.URL)
}

func TestAccNodeRole(t *testing.T) {
	emu, prov := awsTest(t)
	c := iam.NewFromConfig(emu.Config())
	const acct = "arn:aws:iam::aws:policy/"
	cfg := func(body string) string {
		return prov + "resource \"nodewright_node_role\" \"test\" {\n  name = \"nw-nodes\"\n" + body + "}\n"
	}
	base := []knownvalue.Check{
		knownvalue.StringExact(acct + "AmazonEC2ContainerRegistryPullOnly"),
		knownvalue.StringExact(acct + "AmazonEKSWorkerNodePolicy"),
		knownvalue.StringExact(acct + "AmazonEKS_CNI_Policy"),
	}
	res := "nodewright_node_role.test"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: func(*terraform.State) error {
			_, err := c.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String("nw-nodes")})
			if !isCode(err, "NoSuchEntity") {
				return fmt.Errorf("role still exists after destroy (err=%v)", err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config:      cfg("  extra_policy_arns = [\"not-an-arn\"]\n  tags = { a = \"1\" }\n"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`must be an ARN`),
			},
			{
				Config:      prov + "resource \"nodewright_node_role\" \"test\" { name = \"bad name!\" }\n",
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)name.*IAM name rule`),
			},
			{
				Config: cfg("  tags = { team = \"infra\" }\n"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("arn"), knownvalue.StringExact("arn:aws:iam::"+awsemu.AccountID+":role/nw-nodes")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("id"), knownvalue.StringExact("nw-nodes")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("unique_id"), knownvalue.StringRegexp(regexp.MustCompile(`^AROA`))),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("path"), knownvalue.StringExact("/")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("policy_arns"), knownvalue.SetExact(base)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("tags"), knownvalue.MapExact(map[string]knownvalue.Check{"team": knownvalue.StringExact("infra")})),
				},
			},
			{
				// A policy detached outside Terraform is drift.
				PreConfig: func() {
					if _, err := c.DetachRolePolicy(context.Background(), &iam.DetachRolePolicyInput{RoleName: aws.String("nw-nodes"), PolicyArn: aws.String(acct + "AmazonEKS_CNI_Policy")}); err != nil {
						t.Fatal(err)
					}
				},
				Config:             cfg("  tags = { team = \"infra\" }\n"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				// Apply repairs the drift and updates in place.
				Config: cfg("  permissions_boundary = \"" + acct + "AdministratorAccess\"\n  attach_ssm = true\n  extra_policy_arns = [\"" + acct + "service-role/AmazonEBSCSIDriverPolicy\"]\n  tags = { team = \"platform\", env = \"dev\" }\n"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("policy_arns"), knownvalue.SetExact(append(append([]knownvalue.Check{}, base...),
						knownvalue.StringExact(acct+"AmazonSSMManagedInstanceCore"), knownvalue.StringExact(acct+"service-role/AmazonEBSCSIDriverPolicy")))),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("tags"), knownvalue.MapExact(map[string]knownvalue.Check{
						"team": knownvalue.StringExact("platform"), "env": knownvalue.StringExact("dev")})),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("permissions_boundary"), knownvalue.StringExact(acct+"AdministratorAccess")),
				},
				Check: func(*terraform.State) error {
					out, err := c.ListRoleTags(context.Background(), &iam.ListRoleTagsInput{RoleName: aws.String("nw-nodes")})
					if err != nil {
						return err
					}
					if len(out.Tags) != 2 {
						return fmt.Errorf("want 2 tags on the role, got %v", out.Tags)
					}
					return nil
				},
			},
			{
				ResourceName:      res,
				ImportState:       true,
				ImportStateId:     "nw-nodes",
				ImportStateVerify: true,
			},
			{
				// Removing SSM and the extra policy detaches them.
				Config: cfg(""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("policy_arns"), knownvalue.SetExact(base)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("tags"), knownvalue.Null()),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("permissions_boundary"), knownvalue.Null()),
				},
			},
		},
	})
}
