package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/gruntwork-io/terratest/modules/terraform"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/convert"
	"github.com/nodewright/nodewright/controller/migrate"
	"github.com/nodewright/nodewright/test/localcloud"
	"github.com/nodewright/nodewright/test/release"
)

// karpenterNodeUserData is what Karpenter's AL2023 launch template gives
// nodeadm: the node joins with Karpenter's labels.
const karpenterNodeUserData = `MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="BOUNDARY"

--BOUNDARY
Content-Type: application/node.eks.aws

apiVersion: node.eks.aws/v1alpha1
kind: NodeConfig
spec:
  cluster:
    name: %s
    apiServerEndpoint: %s
    certificateAuthority: Y2E=
    cidr: 10.96.0.0/16
  kubelet:
    flags:
    - --node-labels=karpenter.sh/nodepool=general,karpenter.sh/capacity-type=on-demand,karpenter.k8s.aws/ec2nodeclass=default

--BOUNDARY--
`

// TestAdoptedKarpenterNodeIsManaged is migrate --adopt on a cluster where
// nodewright is installed beside a stopped Karpenter: a node Karpenter
// launched (its instance, Node and NodeClaim as Karpenter leaves them) is
// handed over without a relaunch, the controller registers it under the
// converted pool, Terraform imports the pool and class migrate created
// (a second plan is empty), and once the node has been empty for the
// pool's consolidateAfter nodewright removes it and terminates the
// instance, which IAM allows only because adoption tagged it.
func TestAdoptedKarpenterNodeIsManaged(t *testing.T) {
	if testing.Short() {
		t.Skip("adopts a Karpenter node on a local cloud")
	}
	root, err := localcloud.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := localcloud.DefaultBinDir()
	if err != nil {
		t.Fatal(err)
	}
	tfBin := release.TerraformBinary(t)
	cloud := localcloud.Start(t)
	ctx := context.Background()
	tagForKarpenter(t, cloud)
	if out, err := exec.Command(filepath.Join(bin, "kubectl"), "--kubeconfig", cloud.Kubeconfig, "apply", "--server-side", "-f", filepath.Join(bin, "karpenter-crds")).CombinedOutput(); err != nil {
		t.Fatalf("applying Karpenter's CRDs: %v\n%s", err, out)
	}

	// nodewright, installed by Terraform without a pool of its own.
	_, opts := localExample(t, root, cloud, tfBin)
	const roleOutput = "output \"node_role_name\" {\n  value = module.nodewright.node_role_name\n}\n"
	config := withoutDefaultPool(t, opts, roleOutput)
	destroy := destroyOnce(t, opts)
	terraform.InitAndApply(t, opts)
	role := terraform.Output(t, opts, "node_role_name")

	// Karpenter's pool and class, and a node it launched.
	kube, _ := clusterClients(t, cloud)
	dyn, err := dynamic.NewForConfig(cloud.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cloud.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	createKarpenter := func(resource, doc string) *unstructured.Unstructured {
		t.Helper()
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatal(err)
		}
		group := strings.Split(u.GetAPIVersion(), "/")[0]
		gvr := schema.GroupVersionResource{Group: group, Version: "v1", Resource: resource}
		var out *unstructured.Unstructured
		poll(t, "Karpenter's CRDs to serve "+resource, time.Minute, func() bool {
			out, err = dyn.Resource(gvr).Create(ctx, u, metav1.CreateOptions{})
			return err == nil
		})
		return out
	}
	createKarpenter("ec2nodeclasses", fmt.Sprintf(`apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata: {name: default}
spec:
  amiSelectorTerms: [{alias: al2023@latest}]
  role: %s
  subnetSelectorTerms: [{tags: {karpenter.sh/discovery: %s}}]
  securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: %s}}]
`, role, cloud.ClusterName(), cloud.ClusterName()))
	createKarpenter("nodepools", `apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: general}
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
      requirements:
      - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}
  disruption: {consolidationPolicy: WhenEmpty, consolidateAfter: 20s}
`)
	ec2c := ec2.NewFromConfig(cloud.AWSConfig())
	subnets, err := ec2c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:karpenter.sh/discovery"), Values: []string{cloud.ClusterName()}}}})
	if err != nil || len(subnets.Subnets) == 0 {
		t.Fatalf("Karpenter's subnets: %v", err)
	}
	userData := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf(karpenterNodeUserData, cloud.ClusterName(), cloud.APIServerURL())))
	run, err := ec2c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0a102300000000001"), InstanceType: ec2types.InstanceTypeM5Large,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: subnets.Subnets[0].SubnetId, UserData: aws.String(userData),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{
			{Key: aws.String("karpenter.sh/nodepool"), Value: aws.String("general")},
			{Key: aws.String("karpenter.sh/nodeclaim"), Value: aws.String("general-k7x2p")},
			{Key: aws.String("kubernetes.io/cluster/" + cloud.ClusterName()), Value: aws.String("owned")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	var node corev1.Node
	poll(t, "Karpenter's node to join", time.Minute, func() bool {
		var nodes corev1.NodeList
		if kube.List(ctx, &nodes) != nil {
			return false
		}
		for _, n := range nodes.Items {
			if strings.HasSuffix(n.Spec.ProviderID, "/"+id) {
				node = n
				return true
			}
		}
		return false
	})
	claim := createKarpenter("nodeclaims", fmt.Sprintf(`apiVersion: karpenter.sh/v1
kind: NodeClaim
metadata:
  name: general-k7x2p
  finalizers: [karpenter.sh/termination]
  labels: {karpenter.sh/nodepool: general, karpenter.sh/capacity-type: on-demand, node.kubernetes.io/instance-type: m5.large, topology.kubernetes.io/zone: %s}
spec:
  nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
  requirements:
  - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}
`, node.Labels[corev1.LabelTopologyZone]))
	claim.Object["status"] = map[string]any{"nodeName": node.Name, "providerID": node.Spec.ProviderID}
	if _, err := dyn.Resource(schema.GroupVersionResource{Group: "karpenter.sh", Version: "v1", Resource: "nodeclaims"}).UpdateStatus(ctx, claim, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// As Karpenter's registration leaves the node.
	stored := node.DeepCopy()
	node.Finalizers = append(node.Finalizers, "karpenter.sh/termination")
	node.OwnerReferences = append(node.OwnerReferences, metav1.OwnerReference{APIVersion: "karpenter.sh/v1", Kind: "NodeClaim",
		Name: claim.GetName(), UID: claim.GetUID(), BlockOwnerDeletion: aws.Bool(true)})
	if err := kube.Patch(ctx, &node, client.MergeFrom(stored)); err != nil {
		t.Fatal(err)
	}

	// nodewright migrate --adopt.
	rep, err := migrate.Read(ctx, disc, dyn, convert.Options{Module: "nodewright"})
	if err != nil {
		t.Fatal(err)
	}
	adoption, err := migrate.Adopt(ctx, kube, dyn, ec2c, rep)
	if err != nil {
		t.Fatal(err)
	}
	if len(adoption.Adopted) != 1 {
		t.Fatalf("adopted %v, left %v", adoption.Adopted, adoption.Left)
	}
	var nc v1.NodeClaim
	poll(t, "the adopted NodeClaim Initialized", 90*time.Second, func() bool {
		return kube.Get(ctx, client.ObjectKey{Name: "general-k7x2p"}, &nc) == nil && nc.IsTrue(v1.ConditionTypeInitialized)
	})
	if nc.Status.ProviderID != node.Spec.ProviderID || nc.Status.NodeName != node.Name {
		t.Errorf("adopted NodeClaim has instance %q on node %q, want %q on %q", nc.Status.ProviderID, nc.Status.NodeName, node.Spec.ProviderID, node.Name)
	}
	if launched := nodewrightInstances(t, ec2c); len(launched) != 1 || launched[0] != id {
		t.Errorf("nodewright's instances %v, want only the adopted %s (no relaunch)", launched, id)
	}

	// Terraform takes over the pool and class migrate created.
	var pasted bytes.Buffer
	if err := convert.WriteHCL(&pasted, rep.Conversion); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pasted.String(), "import {") {
		t.Fatalf("no import blocks in\n%s", pasted.String())
	}
	if err := os.WriteFile(filepath.Join(opts.TerraformDir, "main.tf"), []byte(config+"\n"+roleOutput+"\n"+pasted.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	terraform.Apply(t, opts)
	if code := terraform.PlanExitCode(t, opts); code != 0 {
		t.Errorf("plan after importing is not empty (exit code %d)", code)
	}

	// Empty for the pool's 20 s, the node goes, and its instance with it.
	poll(t, "the adopted instance terminated", 2*time.Minute, func() bool {
		return len(nodewrightInstances(t, ec2c)) == 0
	})
	waitNoNodeClaims(t, kube, time.Minute)

	destroy()
	assertNothingLeft(t, cloud)
}

// nodewrightInstances lists the live instances that carry nodewright's
// pool tag.
func nodewrightInstances(t *testing.T, c *ec2.Client) []string {
	t.Helper()
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag-key"), Values: []string{v1.NodePoolTagKey}},
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "shutting-down"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			ids = append(ids, aws.ToString(i.InstanceId))
		}
	}
	return ids
}
