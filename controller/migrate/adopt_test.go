package migrate

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/convert"
	"github.com/nodewright/nodewright/controller/test/expectations"
)

// TestAdoptsKarpenterNodes: a node Karpenter launched (a running instance
// on the local cloud's EC2, its Node, and Karpenter's NodeClaim with its
// finalizer and owner reference) is handed to nodewright: the converted
// pool and class are created, a nodewright NodeClaim names the instance,
// the instance carries nodewright's tags, the node is released from
// Karpenter and survives the deletion of Karpenter's NodeClaim, and the
// Terraform imports what was created. Adoption refuses while Karpenter
// runs, and a second run changes nothing.
func TestAdoptsKarpenterNodes(t *testing.T) {
	k := newKarpenterCluster(t)
	ctx := context.Background()
	kube := k.env.Client
	ec2c := ec2.NewFromConfig(k.env.Cloud.AWSConfig())

	subnets, err := ec2c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
	if err != nil || len(subnets.Subnets) == 0 {
		t.Fatalf("subnets: %v", err)
	}
	run, err := ec2c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0a102300000000001"), InstanceType: ec2types.InstanceTypeC6aLarge,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: subnets.Subnets[0].SubnetId,
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{
			{Key: aws.String("karpenter.sh/nodepool"), Value: aws.String("general")},
			{Key: aws.String("kubernetes.io/cluster/" + k.env.Cloud.ClusterName()), Value: aws.String("owned")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	inst := run.Instances[0]
	zone := aws.ToString(inst.Placement.AvailabilityZone)
	providerID := fmt.Sprintf("aws:///%s/%s", zone, aws.ToString(inst.InstanceId))

	k.create(t, classes, karpenterClass)
	k.create(t, nodepools, karpenterPool)
	claim := k.create(t, claims, fmt.Sprintf(`apiVersion: karpenter.sh/v1
kind: NodeClaim
metadata:
  name: general-abcde
  finalizers: [karpenter.sh/termination]
  labels: {karpenter.sh/nodepool: general, karpenter.sh/capacity-type: on-demand, node.kubernetes.io/instance-type: c6a.large, topology.kubernetes.io/zone: %s}
spec:
  nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
  requirements:
  - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}
`, zone))
	const nodeName = "ip-10-0-0-9.ec2.internal"
	claim.Object["status"] = map[string]any{"nodeName": nodeName, "providerID": providerID}
	if _, err := k.dyn.Resource(claims).UpdateStatus(ctx, claim, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName,
		Labels:     map[string]string{"karpenter.sh/nodepool": "general", corev1.LabelInstanceTypeStable: "c6a.large"},
		Finalizers: []string{karpenterFinalizer},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "karpenter.sh/v1", Kind: "NodeClaim", Name: claim.GetName(), UID: claim.GetUID(),
			BlockOwnerDeletion: aws.Bool(true)}}},
		Spec: corev1.NodeSpec{ProviderID: providerID}}
	if err := kube.Create(ctx, node); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The test's own finalizers; no controller runs to remove them.
		_ = kube.Patch(context.Background(), node, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`)))
	})

	read := func() *Report {
		t.Helper()
		rep, err := Read(ctx, k.disc, k.dyn, convert.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}

	// Karpenter still runs: nothing is touched.
	karpenterPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "karpenter-0", Namespace: "default", Labels: map[string]string{"app.kubernetes.io/name": "karpenter"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "controller", Image: "karpenter"}}}}
	expectations.Eventually(t, time.Minute, "the default service account, for Karpenter's pod", func() bool {
		return kube.Create(ctx, karpenterPod) == nil
	})
	if _, err := Adopt(ctx, kube, k.dyn, ec2c, read()); err == nil || !strings.Contains(err.Error(), "scale it to 0") {
		t.Fatalf("adopting while Karpenter runs: %v", err)
	}
	if err := kube.Get(ctx, client.ObjectKey{Name: "general"}, &v1.NodePool{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a NodePool was created while Karpenter runs: %v", err)
	}
	if err := kube.Delete(ctx, karpenterPod, client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	expectations.Eventually(t, 30*time.Second, "Karpenter's pod gone", func() bool {
		return apierrors.IsNotFound(kube.Get(ctx, client.ObjectKeyFromObject(karpenterPod), &corev1.Pod{}))
	})

	rep := read()
	adoption, err := Adopt(ctx, kube, k.dyn, ec2c, rep)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(adoption.Created, []string{"EC2NodeClass default", "NodePool general"}) || !slices.Equal(adoption.Adopted, []string{"general-abcde"}) {
		t.Errorf("created %v, adopted %v, left %v", adoption.Created, adoption.Adopted, adoption.Left)
	}

	var nc v1.NodeClaim
	if err := kube.Get(ctx, client.ObjectKey{Name: "general-abcde"}, &nc); err != nil {
		t.Fatal(err)
	}
	var np v1.NodePool
	if err := kube.Get(ctx, client.ObjectKey{Name: "general"}, &np); err != nil {
		t.Fatal(err)
	}
	if nc.Annotations[v1.AdoptProviderIDAnnotationKey] != providerID || nc.Annotations[v1.NodePoolHashAnnotationKey] != np.Hash() ||
		nc.Labels[v1.NodePoolLabelKey] != "general" || len(nc.OwnerReferences) != 1 || nc.OwnerReferences[0].UID != np.UID {
		t.Errorf("nodewright NodeClaim %+v", nc.ObjectMeta)
	}
	want := map[string]string{v1.NodePoolTagKey: "general", v1.NodeClaimTagKey: "general-abcde", v1.EC2NodeClassTagKey: "default"}
	described, err := ec2c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{aws.ToString(inst.InstanceId)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range described.Reservations[0].Instances[0].Tags {
		if want[aws.ToString(tag.Key)] == aws.ToString(tag.Value) {
			delete(want, aws.ToString(tag.Key))
		}
	}
	if len(want) > 0 {
		t.Errorf("the instance lacks nodewright's tags %v", want)
	}
	expectations.Eventually(t, 30*time.Second, "Karpenter's NodeClaim deleted", func() bool {
		_, err := k.dyn.Resource(claims).Get(ctx, "general-abcde", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	// The garbage collector has had its chance to follow an owner
	// reference to the deleted claim.
	time.Sleep(2 * time.Second)
	var got corev1.Node
	if err := kube.Get(ctx, client.ObjectKey{Name: nodeName}, &got); err != nil {
		t.Fatalf("the adopted node is gone: %v", err)
	}
	if slices.Contains(got.Finalizers, karpenterFinalizer) || len(got.OwnerReferences) != 0 ||
		got.Labels[v1.NodePoolLabelKey] != "general" || got.Annotations[v1.AdoptedFromAnnotationKey] == "" {
		t.Errorf("node %+v", got.ObjectMeta)
	}

	var hcl bytes.Buffer
	if err := convert.WriteHCL(&hcl, rep.Conversion); err != nil {
		t.Fatal(err)
	}
	for _, block := range []string{"to = nodewright_node_pool.general\n  id = \"general\"", "to = nodewright_node_class.default\n  id = \"default\""} {
		if !strings.Contains(hcl.String(), block) {
			t.Errorf("the Terraform lacks the import %q:\n%s", block, hcl.String())
		}
	}
	hcl.Reset()
	if err := convert.WriteHCLModules(&hcl, rep.Conversion, "./modules/node-pool"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(hcl.String(), "to = module.general.nodewright_node_pool.this") {
		t.Errorf("the module-style Terraform lacks the pool's import:\n%s", hcl.String())
	}

	// Again: Karpenter's NodeClaim is gone, so there is nothing to adopt
	// and nothing to create.
	again, err := Adopt(ctx, kube, k.dyn, ec2c, read())
	if err != nil || len(again.Created) != 0 || len(again.Adopted) != 0 {
		t.Errorf("second run: %v, %+v", err, again)
	}
}
