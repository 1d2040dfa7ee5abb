package e2e

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/gruntwork-io/terratest/modules/terraform"

	"github.com/nodewright/nodewright/test/localcloud"
	"github.com/nodewright/nodewright/test/release"
)

// TestTerraformUserPolicy applies and destroys examples/local as an IAM
// user that holds only modules/nodewright/terraform-policy.json, the policy
// the README tells a Terraform user to grant, with IAM enforced: the policy
// is enough for the whole bundle's lifecycle.
func TestTerraformUserPolicy(t *testing.T) {
	if testing.Short() {
		t.Skip("applies examples/local to a local cloud")
	}
	root, err := localcloud.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "modules", "nodewright", "terraform-policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	cloud := localcloud.Start(t)
	ctx := context.Background()
	admin := iam.NewFromConfig(cloud.AWSConfig())
	pol, err := admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("nodewright-terraform"), PolicyDocument: aws.String(string(doc))})
	if err != nil {
		t.Fatalf("the policy is not a valid managed policy: %v", err)
	}
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("terraform")}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("terraform"), PolicyArn: pol.Policy.Arn}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("terraform")})
	if err != nil {
		t.Fatal(err)
	}

	_, adminOpts := localExample(t, root, cloud, release.TerraformBinary(t))
	opts := *adminOpts
	opts.EnvVars = maps.Clone(adminOpts.EnvVars)
	opts.EnvVars["AWS_ACCESS_KEY_ID"], opts.EnvVars["AWS_SECRET_ACCESS_KEY"] = aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)
	if _, err := terraform.InitAndApplyE(t, &opts); err != nil {
		// Leave nothing behind whatever the policy lacked.
		terraform.Destroy(t, adminOpts)
		t.Fatalf("apply as the policy's user: %v", err)
	}
	if _, err := terraform.DestroyE(t, &opts); err != nil {
		t.Fatalf("destroy as the policy's user: %v", err)
	}
}
