package nodeclass_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/providers/nodeclass"
	"github.com/nodewright/nodewright/controller/test"
	"github.com/nodewright/nodewright/test/localcloud/awsemu"
)

const clusterName = "test"

type env struct {
	emu *awsemu.Server
	cfg aws.Config
	p   *nodeclass.DefaultProvider
}

// setup is the provider against the local cloud, with the node role a
// class's spec.role names.
func setup(t *testing.T) *env {
	t.Helper()
	emu := awsemu.NewForTest(t, awsemu.Options{World: awsemu.WorldOptions{ClusterName: clusterName}})
	cfg := emu.Config()
	p := nodeclass.NewDefaultProvider(nodeclass.Options{ClusterName: clusterName, Region: cfg.Region, KubernetesVersion: "1.37"},
		ec2.NewFromConfig(cfg), ssm.NewFromConfig(cfg), iam.NewFromConfig(cfg))
	_, err := iam.NewFromConfig(cfg).CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String("node-role"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	return &env{emu: emu, cfg: cfg, p: p}
}

// nodeClass finds the emulator's subnets and groups for clusterName.
func nodeClass(name string) *v1.EC2NodeClass {
	return test.EC2NodeClass(test.EC2NodeClassOptions{Name: name, Discovery: clusterName, Role: "node-role", Tags: map[string]string{"team": "infra"}})
}

func TestResolveNodeClass(t *testing.T) {
	e := setup(t)
	ctx := context.Background()

	nc := nodeClass("default")
	if err := e.p.Resolve(ctx, nc); err != nil {
		t.Fatal(err)
	}
	if len(nc.Status.Subnets) != 3 || nc.Status.Subnets[0].Zone == "" {
		t.Errorf("subnets %+v", nc.Status.Subnets)
	}
	if len(nc.Status.SecurityGroups) != 1 || !strings.HasPrefix(nc.Status.SecurityGroups[0].ID, "sg-") {
		t.Errorf("security groups %+v", nc.Status.SecurityGroups)
	}
	// One image per architecture and variant AWS publishes, each for the
	// instance types it has drivers for.
	var kinds []string
	for _, a := range nc.Status.AMIs {
		kinds = append(kinds, a.Requirements[0].Values[0]+"/"+strings.Split(a.Name, "-")[5])
		if !strings.Contains(a.Name, "al2023") || !strings.Contains(a.Name, "1.37") {
			t.Errorf("AMI %s %s is not a 1.37 al2023 image", a.ID, a.Name)
		}
	}
	if want := []string{"amd64/neuron", "amd64/nvidia", "amd64/standard", "arm64/nvidia", "arm64/standard"}; !slices.Equal(kinds, want) {
		t.Errorf("AMIs %v, want %v", kinds, want)
	}
	if nc.Status.InstanceProfile != e.p.InstanceProfileName("default") {
		t.Errorf("instance profile %q", nc.Status.InstanceProfile)
	}
	if !meta.IsStatusConditionTrue(nc.Status.Conditions, v1.ConditionTypeReady) {
		t.Errorf("not ready: %+v", nc.Status.Conditions)
	}
	got, err := iam.NewFromConfig(e.cfg).GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(nc.Status.InstanceProfile)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.InstanceProfile.Roles) != 1 || aws.ToString(got.InstanceProfile.Roles[0].RoleName) != "node-role" {
		t.Errorf("profile roles %+v", got.InstanceProfile.Roles)
	}
	// Resolving again reuses the profile.
	if err := e.p.Resolve(ctx, nc); err != nil {
		t.Fatal(err)
	}
	if err := e.p.DeleteInstanceProfile(ctx, nc); err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(e.cfg).GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(nc.Status.InstanceProfile)}); err == nil {
		t.Error("instance profile still exists after DeleteInstanceProfile")
	}
	if err := e.p.DeleteInstanceProfile(ctx, nc); err != nil {
		t.Errorf("deleting a deleted profile: %v", err)
	}

	br := nodeClass("br")
	br.Spec.AMISelectorTerms = []v1.AMISelectorTerm{{Alias: "bottlerocket@latest"}}
	br.Spec.SecurityGroupSelectorTerms = []v1.SecurityGroupSelectorTerm{{Name: "eks-cluster-sg-" + clusterName}}
	if err := e.p.Resolve(ctx, br); err != nil {
		t.Fatal(err)
	}
	// Bottlerocket's standard x86_64 image also serves Neuron types.
	if len(br.Status.AMIs) != 5 || !strings.HasPrefix(br.Status.AMIs[1].Name, "bottlerocket") || len(br.Status.SecurityGroups) != 1 {
		t.Errorf("bottlerocket status %+v", br.Status)
	}

	// Pinned aliases resolve by image name.
	for alias, prefix := range map[string]string{"al2023@v20261101": "amazon-eks-node-al2023-", "bottlerocket@v1.50.0": "bottlerocket-aws-k8s-1.37-"} {
		pinned := nodeClass("pinned")
		pinned.Spec.AMISelectorTerms = []v1.AMISelectorTerm{{Alias: alias}}
		if err := e.p.Resolve(ctx, pinned); err != nil {
			t.Fatal(err)
		}
		if len(pinned.Status.AMIs) != 5 || !strings.HasPrefix(pinned.Status.AMIs[0].Name, prefix) || !strings.Contains(pinned.Status.AMIs[0].Name, "1.37") {
			t.Errorf("%s resolved to %+v", alias, pinned.Status.AMIs)
		}
	}
	pinned := nodeClass("pinned")
	pinned.Spec.AMISelectorTerms = []v1.AMISelectorTerm{{Alias: "al2023@v19990101"}}
	if err := e.p.Resolve(ctx, pinned); err != nil || len(pinned.Status.AMIs) != 0 {
		t.Errorf("unknown release resolved to %+v, %v", pinned.Status.AMIs, err)
	}

	bad := nodeClass("bad")
	bad.Spec.SubnetSelectorTerms = []v1.SubnetSelectorTerm{{Tags: map[string]string{"nodewright.dev/discovery": "foo"}}}
	bad.Spec.AMISelectorTerms = []v1.AMISelectorTerm{{Name: "no-such-image-*"}}
	bad.Spec.Role = "missing-role"
	if err := e.p.Resolve(ctx, bad); err != nil {
		t.Fatal(err)
	}
	for typ, msg := range map[string]string{
		v1.ConditionTypeSubnetsReady:         "no subnet matches subnetSelectorTerms [tags nodewright.dev/discovery=foo]",
		v1.ConditionTypeAMIsReady:            "no image matches amiSelectorTerms [name no-such-image-*]",
		v1.ConditionTypeInstanceProfileReady: "role missing-role does not exist",
		v1.ConditionTypeReady:                "SubnetsReady, AMIsReady, InstanceProfileReady not ready",
	} {
		c := meta.FindStatusCondition(bad.Status.Conditions, typ)
		if c == nil || c.Status != metav1.ConditionFalse || c.Message != msg {
			t.Errorf("%s = %+v, want False %q", typ, c, msg)
		}
	}
	if !meta.IsStatusConditionTrue(bad.Status.Conditions, v1.ConditionTypeSecurityGroupsReady) {
		t.Error("security groups should still resolve")
	}
}
