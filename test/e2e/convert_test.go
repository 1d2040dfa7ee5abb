package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/gruntwork-io/terratest/modules/terraform"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/convert"
	"github.com/nodewright/nodewright/test/localcloud"
	"github.com/nodewright/nodewright/test/release"
)

// TestConvertedSpotProvisioner is the walkthrough a Karpenter user started
// from, moved to nodewright: the 2022 spot Provisioner, converted, is
// applied with Terraform beside modules/nodewright in place of the local
// example's pool, in an account whose subnets and security groups carry
// Karpenter's discovery tag. The fixture's inflate Deployment runs on spot
// nodes, and 30 s after it scales to zero (ttlSecondsAfterEmpty: 30) the
// nodes go.
func TestConvertedSpotProvisioner(t *testing.T) {
	if testing.Short() {
		t.Skip("applies a converted Provisioner to a local cloud")
	}
	root, err := localcloud.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tfBin := release.TerraformBinary(t)
	cloud := localcloud.Start(t)
	ctx := context.Background()
	tagForKarpenter(t, cloud)

	data, err := os.ReadFile(filepath.Join(root, "controller", "convert", "testdata", "karpenter", "v1alpha5-spot.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// What `nodewright convert --set CLUSTER_NAME=… --hcl-style module
	// --module-source ../../modules/node-pool` prints, pasted as is: a call
	// of the node-pool module that waits for module "nodewright", whose
	// node role the class takes.
	res, err := convert.Convert(data, convert.Options{Set: map[string]string{"CLUSTER_NAME": cloud.ClusterName()}, Module: "nodewright"})
	if err != nil {
		t.Fatal(err)
	}
	var pasted bytes.Buffer
	if err := convert.WriteHCLModules(&pasted, res, "../../modules/node-pool"); err != nil {
		t.Fatal(err)
	}

	_, opts := localExample(t, root, cloud, tfBin)
	withoutDefaultPool(t, opts, pasted.String())
	destroy := destroyOnce(t, opts)
	terraform.InitAndApply(t, opts)
	if code := terraform.PlanExitCode(t, opts); code != 0 {
		t.Errorf("plan after apply is not empty (exit code %d)", code)
	}

	kube, cs := clusterClients(t, cloud)
	inflate := readInflate(t, root)
	inflate.Spec.Replicas = ptr.To[int32](5)
	waitDefaultServiceAccount(t, cs)
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, inflate, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitInflateRunning(t, cs, 5, 90*time.Second)
	pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=inflate"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		node, err := cs.CoreV1().Nodes().Get(ctx, p.Spec.NodeName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if node.Labels[v1.CapacityTypeLabelKey] != v1.CapacityTypeSpot || node.Labels["karpenter.sh/capacity-type"] != v1.CapacityTypeSpot {
			t.Errorf("pod %s runs on %s, capacity type %q / %q, want spot under both keys", p.Name, node.Name,
				node.Labels[v1.CapacityTypeLabelKey], node.Labels["karpenter.sh/capacity-type"])
		}
	}

	// Scale to zero: the nodes go once empty for the Provisioner's 30 s.
	scaled := time.Now()
	inflate, err = cs.AppsV1().Deployments("default").Get(ctx, "inflate", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inflate.Spec.Replicas = ptr.To[int32](0)
	if _, err := cs.AppsV1().Deployments("default").Update(ctx, inflate, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitNoNodeClaims(t, kube, 2*time.Minute)
	took := time.Since(scaled)
	t.Logf("nodes removed %s after the scale-down", took.Round(time.Second))
	// 30 s empty, then one disruption pass and the drain: the budget of
	// 100% takes every node at once.
	if took < 30*time.Second || took > 75*time.Second {
		t.Errorf("nodes went %s after the scale-down, want 30 s and a disruption pass", took)
	}

	destroy()
	assertNothingLeft(t, cloud)
}

// TestConvertedModulesPlan: for every Karpenter fixture, the node-pool
// module calls `nodewright convert --hcl-style module` writes (placeholders
// set, a role given) pass terraform validate, and plan against the local
// cloud's cluster to create what the conversion holds.
func TestConvertedModulesPlan(t *testing.T) {
	if testing.Short() {
		t.Skip("plans converted configurations against a local cloud")
	}
	root, err := localcloud.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tfBin := release.TerraformBinary(t)
	cloud := localcloud.Start(t)
	env := providerEnv(t)
	for _, kv := range cloud.AWSEnv() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	work := t.TempDir()
	copyTree(t, filepath.Join(root, "modules"), filepath.Join(work, "modules"))
	files, err := filepath.Glob(filepath.Join(root, "controller", "convert", "testdata", "karpenter", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			res, err := convert.Convert(data, convert.Options{Set: map[string]string{"CLUSTER_NAME": "my-cluster", "PROJECT_NAME": "shop", "Namespace": "karpenter"}, Role: "NodeRole"})
			if err != nil {
				t.Fatal(err)
			}
			var hcl bytes.Buffer
			if err := convert.WriteHCLModules(&hcl, res, "../modules/node-pool"); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(work, name)
			config := fmt.Sprintf(`terraform {
  required_providers {
    nodewright = { source = "nodewright/nodewright" }
  }
}

provider "nodewright" {
  kubernetes {
    config_path = %q
  }
}

`, cloud.Kubeconfig) + hcl.String()
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
				t.Fatal(err)
			}
			opts := &terraform.Options{TerraformDir: dir, TerraformBinary: tfBin, NoColor: true, EnvVars: env,
				PlanFilePath: filepath.Join(dir, "plan.out")}
			terraform.Init(t, opts)
			terraform.Validate(t, opts)
			plan := terraform.InitAndPlanAndShowWithStruct(t, opts)
			want := len(res.NodePools) + len(res.NodeClasses)
			if got := len(plan.ResourceChangesMap); got != want {
				t.Errorf("plan changes %d resources, want %d (a class and a pool per converted object): %v", got, want, keys(plan.ResourceChangesMap))
			}
		})
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// tagForKarpenter gives the cloud's discovery-tagged subnets and security
// groups Karpenter's discovery tag too, as an account that ran Karpenter
// has them.
func tagForKarpenter(t *testing.T, cloud *localcloud.Cloud) {
	t.Helper()
	ctx := context.Background()
	c := ec2.NewFromConfig(cloud.AWSConfig())
	filter := []ec2types.Filter{{Name: aws.String("tag:nodewright.dev/discovery"), Values: []string{cloud.ClusterName()}}}
	var ids []string
	subnets, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: filter})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subnets.Subnets {
		ids = append(ids, aws.ToString(s.SubnetId))
	}
	groups, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: filter})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups.SecurityGroups {
		ids = append(ids, aws.ToString(g.GroupId))
	}
	if len(ids) == 0 {
		t.Fatal("the local cloud has no discovery-tagged subnets or security groups")
	}
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids,
		Tags: []ec2types.Tag{{Key: aws.String("karpenter.sh/discovery"), Value: aws.String(cloud.ClusterName())}}}); err != nil {
		t.Fatal(err)
	}
}

// readInflate is the walkthrough's Deployment, from the fixture.
func readInflate(t *testing.T, root string) *appsv1.Deployment {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "controller", "convert", "testdata", "workloads", "inflate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	if err := yaml.UnmarshalStrict(data, &d); err != nil {
		t.Fatal(err)
	}
	d.Namespace = "default"
	return &d
}
