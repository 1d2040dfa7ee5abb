package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const foreignRoleARN = "arn:aws:iam::111122223333:role/eksctl-nodegroup"

func TestAccClusterAccessAWSAuth(t *testing.T) {
	env := startKubeTestEnv(t)
	ctx := context.Background()
	const arn = "arn:aws:iam::123456789012:role/nodewright-node"
	// Someone else's entries, and a mapUsers key, that must survive.
	foreign := "- rolearn: " + foreignRoleARN + "\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n  - system:bootstrappers\n  - system:nodes\n"
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "aws-auth"},
		Data:       map[string]string{"mapRoles": foreign, "mapUsers": "- userarn: arn:aws:iam::111122223333:user/admin\n  username: admin\n"},
	}
	if err := env.client.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	roles := func() ([]map[string]any, *corev1.ConfigMap, error) {
		var got corev1.ConfigMap
		if err := env.client.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: "aws-auth"}, &got); err != nil {
			return nil, nil, err
		}
		r, err := parseMapRoles(got.Data["mapRoles"])
		return r, &got, err
	}
	cfg := env.provider + fmt.Sprintf(`
resource "nodewright_cluster_access" "test" {
  mode     = "aws_auth"
  role_arn = %q
}
`, arn)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: kubeProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("nodewright_cluster_access.test", tfjsonpath.New("id"), knownvalue.StringExact("aws_auth/"+arn)),
				},
				Check: func(*terraform.State) error {
					r, got, err := roles()
					if err != nil {
						return err
					}
					if len(r) != 2 || r[0]["rolearn"] != foreignRoleARN || r[1]["rolearn"] != arn || r[1]["username"] != nodeUsername {
						return fmt.Errorf("mapRoles = %v", r)
					}
					if groups := fmt.Sprint(r[1]["groups"]); groups != "[system:bootstrappers system:nodes]" {
						return fmt.Errorf("groups = %s", groups)
					}
					if !strings.Contains(got.Data["mapUsers"], "user/admin") {
						return fmt.Errorf("mapUsers clobbered: %q", got.Data["mapUsers"])
					}
					return nil
				},
			},
			{
				ResourceName:      "nodewright_cluster_access.test",
				ImportState:       true,
				ImportStateId:     "aws_auth/" + arn,
				ImportStateVerify: true,
			},
			{
				// Someone removes the entry: the plan puts it back.
				PreConfig: func() {
					_, got, err := roles()
					if err != nil {
						t.Fatal(err)
					}
					got.Data["mapRoles"] = foreign
					if err := env.client.Update(ctx, got); err != nil {
						t.Fatal(err)
					}
				},
				Config:             cfg,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{Config: cfg},
		},
		CheckDestroy: func(*terraform.State) error {
			r, got, err := roles()
			if err != nil {
				return err
			}
			if len(r) != 1 || r[0]["rolearn"] != foreignRoleARN {
				return fmt.Errorf("after destroy mapRoles = %v, want only the foreign entry", r)
			}
			if !strings.Contains(got.Data["mapUsers"], "user/admin") {
				return fmt.Errorf("mapUsers clobbered: %q", got.Data["mapUsers"])
			}
			return nil
		},
	})
}

func TestAccClusterAccessEntry(t *testing.T) {
	env := startKubeTestEnv(t)
	ctx := context.Background()
	awsCfg := env.cloud.AWSConfig()
	role, err := iam.NewFromConfig(awsCfg).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String("nodewright-node"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(role.Role.Arn)
	cluster := env.cloud.ClusterName()
	eksc := eks.NewFromConfig(awsCfg)
	cfg := env.provider + fmt.Sprintf(`
resource "nodewright_cluster_access" "test" {
  mode         = "access_entry"
  role_arn     = %q
  cluster_name = %q
}
`, arn, cluster)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: kubeProviderFactories(),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: func(*terraform.State) error {
					out, err := eksc.DescribeAccessEntry(ctx, &eks.DescribeAccessEntryInput{ClusterName: aws.String(cluster), PrincipalArn: aws.String(arn)})
					if err != nil {
						return err
					}
					if got := aws.ToString(out.AccessEntry.Type); got != "EC2_LINUX" {
						return fmt.Errorf("access entry type = %s, want EC2_LINUX", got)
					}
					return nil
				},
			},
			{
				ResourceName:      "nodewright_cluster_access.test",
				ImportState:       true,
				ImportStateId:     "access_entry/" + cluster + "/" + arn,
				ImportStateVerify: true,
			},
			{
				PreConfig: func() {
					if _, err := eksc.DeleteAccessEntry(ctx, &eks.DeleteAccessEntryInput{ClusterName: aws.String(cluster), PrincipalArn: aws.String(arn)}); err != nil {
						t.Fatal(err)
					}
				},
				Config:             cfg,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{Config: cfg},
		},
		CheckDestroy: func(*terraform.State) error {
			_, err := eksc.DescribeAccessEntry(ctx, &eks.DescribeAccessEntryInput{ClusterName: aws.String(cluster), PrincipalArn: aws.String(arn)})
			var nf *ekstypes.ResourceNotFoundException
			if !errors.As(err, &nf) {
				return fmt.Errorf("access entry after destroy: err = %v, want ResourceNotFoundException", err)
			}
			return nil
		},
	})
}

func TestAccClusterAccessValidation(t *testing.T) {
	kubeAccPreCheck(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: kubeProviderFactories(),
		Steps: planOnlySteps([]struct{ config, want string }{
			{`
resource "nodewright_cluster_access" "v" {
  mode     = "aws_auth"
  role_arn = "arn:aws:iam::123456789012:role/nodes"
}
`, ""},
			{`
resource "nodewright_cluster_access" "v" {
  mode     = "access_entry"
  role_arn = "arn:aws:iam::123456789012:role/nodes"
}
`, `cluster_name is required with mode = "access_entry"`},
			{`
resource "nodewright_cluster_access" "v" {
  mode     = "configmap"
  role_arn = "arn:aws:iam::123456789012:role/nodes"
}
`, `value must be one of: ["access_entry" "aws_auth"], got: "configmap"`},
			{`
resource "nodewright_cluster_access" "v" {
  mode     = "aws_auth"
  role_arn = "nodes"
}
`, "must be an IAM role ARN"},
		}),
	})
}

// Concurrent writers of aws-auth (another apply, eksctl) each keep their
// entry: writes carry the resourceVersion read and are redone on conflict.
func TestAccClusterAccessAWSAuthConcurrentEdits(t *testing.T) {
	env := startKubeTestEnv(t)
	ctx := context.Background()
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() {
			arn := fmt.Sprintf("arn:aws:iam::123456789012:role/nodes-%d", i)
			errs <- editAWSAuth(ctx, env.client, func(roles []map[string]any) []map[string]any {
				return append(roles, map[string]any{"rolearn": arn, "username": nodeUsername, "groups": nodeGroups})
			})
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	var cm corev1.ConfigMap
	if err := env.client.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: "aws-auth"}, &cm); err != nil {
		t.Fatal(err)
	}
	roles, err := parseMapRoles(cm.Data["mapRoles"])
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if findRole(roles, fmt.Sprintf("arn:aws:iam::123456789012:role/nodes-%d", i)) < 0 {
			t.Errorf("entry %d lost; mapRoles:\n%s", i, cm.Data["mapRoles"])
		}
	}
}
