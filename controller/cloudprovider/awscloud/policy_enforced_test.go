package awscloud_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider/awscloud"
	"github.com/nodewright/nodewright/controller/iampolicy"
	"github.com/nodewright/nodewright/test/localcloud/awsemu"
)

// underRole is setup with the provider running as the controller's role:
// the module's policy, assumed through STS, enforced by the local cloud.
// statements, when set, replaces the policy's statements.
func underRole(t *testing.T, statements func([]iampolicy.Statement) []iampolicy.Statement) *env {
	t.Helper()
	e := setup(t)
	ctx := context.Background()
	admin := iam.NewFromConfig(e.cfg)
	if _, err := sqs.NewFromConfig(e.cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("interruption")}); err != nil {
		t.Fatal(err)
	}
	opts := policyOptions()
	doc, err := iampolicy.Document(opts)
	if err != nil {
		t.Fatal(err)
	}
	if statements != nil {
		doc = iampolicy.Render(statements(iampolicy.Statements(opts)))
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + awsemu.AccountID + `:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("controller"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("controller"), PolicyName: aws.String("nodewright"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	// The admin may assume it because the trust names the account and the
	// admin's own policy allows everything.
	cfg := e.cfg.Copy()
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(e.cfg), "arn:aws:iam::"+awsemu.AccountID+":role/controller"))
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	e.kube = fake.NewClientBuilder().WithScheme(scheme).WithStatusSubresource(&v1.EC2NodeClass{}).Build()
	e.admin, err = awscloud.New(e.cfg, awscloud.Options{ClusterName: clusterName, ClusterEndpoint: endpoint, ClusterCABundle: "Y2E=", Kube: e.kube})
	if err != nil {
		t.Fatal(err)
	}
	e.p, err = awscloud.New(cfg, awscloud.Options{ClusterName: clusterName, ClusterEndpoint: endpoint, ClusterCABundle: "Y2E=", Kube: e.kube})
	if err != nil {
		t.Fatal(err)
	}
	e.adminCfg, e.cfg = e.cfg, cfg
	return e
}

// policyOptions are the policy's options for the test cluster.
func policyOptions() iampolicy.Options {
	return iampolicy.Options{Region: region, AccountID: awsemu.AccountID, ClusterName: clusterName,
		NodeRoleARN:   "arn:aws:iam::" + awsemu.AccountID + ":role/node-role",
		QueueARN:      "arn:aws:sqs:" + region + ":" + awsemu.AccountID + ":interruption",
		SSMParameters: []string{"/team/amis/*"}}
}

func clientKey(name string) client.ObjectKey { return client.ObjectKey{Name: name} }

func isDenied(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "UnauthorizedOperation" || strings.HasPrefix(ae.ErrorCode(), "AccessDenied"))
}

// The controller's own flows work under its policy: node-class resolution
// (instance profile), launch (launch template and fleet), read, terminate,
// and teardown.
func TestControllerFlowsUnderItsPolicy(t *testing.T) {
	e := underRole(t, nil)
	ctx := context.Background()
	nc := e.resolved(t, nodeClass("default"))
	out, err := e.p.Create(ctx, nodeClaim("default-abcde", in(corev1.LabelInstanceTypeStable, "m5.large", "c5.large")))
	if err != nil {
		t.Fatalf("launch under the controller policy: %v", err)
	}
	if _, err := e.p.Get(ctx, out.Status.ProviderID); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if _, err := e.p.List(ctx); err != nil {
		t.Fatalf("List: %v", err)
	}
	if err := e.p.Delete(ctx, out); err != nil {
		t.Fatalf("terminate: %v", err)
	}
	if _, err := e.p.DeleteLaunchTemplates(ctx, ""); err != nil {
		t.Fatalf("DeleteLaunchTemplates: %v", err)
	}
	if err := e.p.DeleteInstanceProfile(ctx, nc); err != nil {
		t.Fatalf("DeleteInstanceProfile: %v", err)
	}
}

// The policy keeps the controller inside its cluster: each call below is
// one the controller must never get to make, and the local cloud refuses
// it as AWS would.
func TestControllerPolicyRefusesWhatIsNotItsOwn(t *testing.T) {
	e := underRole(t, nil)
	ctx := context.Background()
	adminEC2 := ec2.NewFromConfig(e.adminCfg)
	nodeRole := "arn:aws:iam::" + awsemu.AccountID + ":role/node-role"
	// Someone else's instance, and a template of this cluster's to launch from.
	var subnet string
	e.emu.Do(func(w *awsemu.World) { subnet = w.EC2.Subnets[0].ID })
	run, err := adminEC2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(imageID(t, e)), InstanceType: ec2types.InstanceTypeM5Large,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnet)})
	if err != nil {
		t.Fatal(err)
	}
	foreign := aws.ToString(run.Instances[0].InstanceId)
	ctl := ec2.NewFromConfig(e.cfg)
	owned := []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeLaunchTemplate, Tags: []ec2types.Tag{{Key: aws.String("kubernetes.io/cluster/" + clusterName), Value: aws.String("owned")}}}}
	lt, err := ctl.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("tagged"), TagSpecifications: owned,
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(imageID(t, e))}})
	if err != nil {
		t.Fatalf("a launch template tagged for the cluster: %v", err)
	}
	admin := iam.NewFromConfig(e.adminCfg)
	if _, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("admin-role"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(e.cfg).CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("stolen"),
		Tags: []iamtypes.Tag{{Key: aws.String("kubernetes.io/cluster/" + clusterName), Value: aws.String("owned")}}}); err != nil {
		t.Fatalf("an instance profile tagged for the cluster: %v", err)
	}
	otherQueue, err := sqs.NewFromConfig(e.adminCfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("someone-elses")})
	if err != nil {
		t.Fatal(err)
	}
	fleet := func(tags []ec2types.Tag) error {
		_, err := ctl.CreateFleet(ctx, &ec2.CreateFleetInput{Type: ec2types.FleetTypeInstant,
			LaunchTemplateConfigs: []ec2types.FleetLaunchTemplateConfigRequest{{LaunchTemplateSpecification: &ec2types.FleetLaunchTemplateSpecificationRequest{
				LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId, Version: aws.String("$Latest")},
				Overrides: []ec2types.FleetLaunchTemplateOverridesRequest{{InstanceType: ec2types.InstanceTypeM5Large, SubnetId: aws.String(subnet)}}}},
			TargetCapacitySpecification: &ec2types.TargetCapacitySpecificationRequest{TotalTargetCapacity: aws.Int32(1), DefaultTargetCapacityType: ec2types.DefaultTargetCapacityTypeOnDemand},
			TagSpecifications:           []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: tags}}})
		return err
	}
	for name, call := range map[string]func() error{
		"terminate an instance not tagged for the cluster": func() error {
			_, err := ctl.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{foreign}})
			return err
		},
		"tag an instance not tagged for the cluster": func() error {
			_, err := ctl.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{foreign}, Tags: []ec2types.Tag{{Key: aws.String("kubernetes.io/cluster/" + clusterName), Value: aws.String("owned")}}})
			return err
		},
		"create a launch template without the cluster tag": func() error {
			_, err := ctl.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("untagged"),
				LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(imageID(t, e))}})
			return err
		},
		"launch a fleet without the cluster tag": func() error {
			return fleet([]ec2types.Tag{{Key: aws.String(v1.NodePoolTagKey), Value: aws.String("default")}})
		},
		"pass a role other than the node role": func() error {
			_, err := iam.NewFromConfig(e.cfg).AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("stolen"), RoleName: aws.String("admin-role")})
			return err
		},
		"read an SSM parameter outside the allowed paths": func() error {
			_, err := ssm.NewFromConfig(e.cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/secrets/db-password")})
			return err
		},
		"read a queue other than its own": func() error {
			_, err := sqs.NewFromConfig(e.cfg).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: otherQueue.QueueUrl})
			return err
		},
	} {
		if err := call(); !isDenied(err) {
			t.Errorf("%s: got %v, want an authorization failure", name, err)
		}
	}
	own, err := sqs.NewFromConfig(e.cfg).GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("interruption")})
	if err != nil {
		t.Fatalf("its own queue's URL: %v", err)
	}
	if _, err := sqs.NewFromConfig(e.cfg).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: own.QueueUrl}); err != nil {
		t.Errorf("reading its own queue: %v", err)
	}
	// The node role itself may be put in a profile (the controller's own
	// launches are TestControllerFlowsUnderItsPolicy).
	if _, err := iam.NewFromConfig(e.cfg).AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("stolen"), RoleName: aws.String("node-role")}); err != nil {
		t.Errorf("passing the node role (%s): %v", nodeRole, err)
	}
}

// imageID is an image the emulator offers.
func imageID(_ *testing.T, e *env) string {
	var id string
	e.emu.Do(func(w *awsemu.World) { id = w.EC2.Images[0].ID })
	return id
}
