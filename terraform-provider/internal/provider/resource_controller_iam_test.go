package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/nodewright/nodewright/controller/iampolicy"
	"github.com/nodewright/nodewright/test/localcloud/awsemu"
)

func TestAccControllerIAM(t *testing.T) {
	emu, prov := awsTest(t)
	c := iam.NewFromConfig(emu.Config())
	acct := awsemu.AccountID
	oidc := "arn:aws:iam::" + acct + ":oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC123"
	queue := "arn:aws:sqs:us-east-1:" + acct + ":nw-queue"
	cfg := func(trust, extra string) string {
		return prov + `
resource "nodewright_node_role" "nodes" { name = "nw-nodes" }
resource "nodewright_controller_iam" "test" {
  name          = "nw-controller"
  cluster_name  = "prod"
  node_role_arn = nodewright_node_role.nodes.arn
` + trust + extra + `}
`
	}
	irsa := `  irsa {
    oidc_provider_arn = "` + oidc + `"
    namespace         = "kube-system"
    service_account   = "nodewright"
  }
`
	trustOf := func() map[string]any {
		out, err := c.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String("nw-controller")})
		if err != nil {
			t.Fatal(err)
		}
		doc := aws.ToString(out.Role.AssumeRolePolicyDocument)
		if d, err := url.QueryUnescape(doc); err == nil && !strings.HasPrefix(doc, "{") {
			doc = d
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatal(err)
		}
		return m["Statement"].([]any)[0].(map[string]any)
	}
	res := "nodewright_controller_iam.test"
	wantDoc := func(q string) string {
		d, err := iampolicy.Document(iampolicy.Options{Partition: "aws", Region: "us-east-1", AccountID: acct, ClusterName: "prod",
			NodeRoleARN: "arn:aws:iam::" + acct + ":role/nw-nodes", QueueARN: q})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: func(*terraform.State) error {
			_, err := c.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String("nw-controller")})
			if !isCode(err, "NoSuchEntity") {
				return fmt.Errorf("controller role still exists after destroy (err=%v)", err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{Config: cfg("", ""), PlanOnly: true, ExpectError: regexp.MustCompile(`Set exactly one of an irsa block or pod_identity`)},
			{Config: cfg(irsa, "  pod_identity = true\n"), PlanOnly: true, ExpectError: regexp.MustCompile(`Set exactly one of irsa and pod_identity`)},
			{Config: cfg("  pod_identity = true\n", `  interruption_queue_arn = "https://sqs/q"`+"\n"), PlanOnly: true, ExpectError: regexp.MustCompile(`must be an SQS queue ARN`)},
			{Config: cfg("  pod_identity = true\n", `  ami_ssm_parameters = ["team/amis"]`+"\n"), PlanOnly: true, ExpectError: regexp.MustCompile(`must be a parameter path starting with /`)},
			{Config: cfg("  pod_identity = true\n", `  ami_ssm_parameters = ["/aws/service/eks/*"]`+"\n"), PlanOnly: true, ExpectError: regexp.MustCompile(`one of AWS's public parameters`)},
			{
				Config: cfg(irsa, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("arn"), knownvalue.StringExact("arn:aws:iam::"+acct+":role/nw-controller")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("region"), knownvalue.StringExact("us-east-1")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("policy_json"), knownvalue.StringExact(wantDoc(""))),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("pod_identity"), knownvalue.Bool(false)),
				},
				Check: func(*terraform.State) error {
					st := trustOf()
					if st["Action"] != "sts:AssumeRoleWithWebIdentity" {
						return fmt.Errorf("trust action %v", st["Action"])
					}
					cond := st["Condition"].(map[string]any)["StringEquals"].(map[string]any)
					if cond["oidc.eks.us-east-1.amazonaws.com/id/ABC123:sub"] != "system:serviceaccount:kube-system:nodewright" {
						return fmt.Errorf("trust condition %v", cond)
					}
					return nil
				},
			},
			{ResourceName: res, ImportState: true, ImportStateId: "nw-controller", ImportStateVerify: true},
			{
				// The inline policy edited outside Terraform is drift.
				PreConfig: func() {
					if _, err := c.PutRolePolicy(context.Background(), &iam.PutRolePolicyInput{RoleName: aws.String("nw-controller"), PolicyName: aws.String(controllerPolicyName),
						PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}); err != nil {
						t.Fatal(err)
					}
				},
				Config:             cfg(irsa, ""),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config: cfg("  pod_identity = true\n", `  interruption_queue_arn = "`+queue+`"`+"\n"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("policy_json"), knownvalue.StringExact(wantDoc(queue))),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("interruption_queue_arn"), knownvalue.StringExact(queue)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("irsa"), knownvalue.Null()),
				},
				Check: func(*terraform.State) error {
					st := trustOf()
					p, _ := st["Principal"].(map[string]any)
					if p["Service"] != "pods.eks.amazonaws.com" || fmt.Sprint(st["Action"]) != "[sts:AssumeRole sts:TagSession]" {
						return fmt.Errorf("pod identity trust %v", st)
					}
					out, err := c.GetRolePolicy(context.Background(), &iam.GetRolePolicyInput{RoleName: aws.String("nw-controller"), PolicyName: aws.String(controllerPolicyName)})
					if err != nil {
						return err
					}
					if !jsonEqual(urlDecodeDocument(aws.ToString(out.PolicyDocument)), wantDoc(queue)) {
						return fmt.Errorf("policy in IAM is not the one built: %s", aws.ToString(out.PolicyDocument))
					}
					return nil
				},
			},
			{ResourceName: res, ImportState: true, ImportStateId: "nw-controller", ImportStateVerify: true},
		},
	})
}
