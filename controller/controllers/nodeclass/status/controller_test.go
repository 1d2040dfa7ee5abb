package status_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider/awscloud"
	"github.com/nodewright/nodewright/controller/controllers/nodeclass/status"
	"github.com/nodewright/nodewright/controller/test"
)

func TestStatusController(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local cloud")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	te := test.Start(t)
	cloud, kube := te.Cloud, te.Client
	cfg := cloud.AWSConfig()
	if _, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("node-role"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	clk := clocktesting.NewFakeClock(time.Now())
	provider, err := awscloud.New(cfg, awscloud.Options{ClusterName: "localcloud", ClusterEndpoint: cloud.RESTConfig.Host, Kube: kube, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	c := status.NewController(kube, provider, clk, events.NewFakeRecorder(100))

	nc := &v1.EC2NodeClass{
		ObjectMeta: metav1.ObjectMeta{Name: "default"},
		Spec: v1.EC2NodeClassSpec{
			SubnetSelectorTerms:        []v1.SubnetSelectorTerm{{Tags: map[string]string{"nodewright.dev/discovery": "localcloud"}}},
			SecurityGroupSelectorTerms: []v1.SecurityGroupSelectorTerm{{Tags: map[string]string{"nodewright.dev/discovery": "localcloud"}}},
			AMISelectorTerms:           []v1.AMISelectorTerm{{Alias: "al2023@latest"}},
			Role:                       "node-role",
		},
	}
	if err := kube.Create(ctx, nc); err != nil {
		t.Fatal(err)
	}
	res, err := c.Reconcile(ctx, nc)
	if err != nil {
		t.Fatal(err)
	}
	if res.RequeueAfter != 5*time.Minute {
		t.Errorf("requeue after %v, want 5m for a ready node class", res.RequeueAfter)
	}
	got := &v1.EC2NodeClass{}
	if err := kube.Get(ctx, client.ObjectKey{Name: "default"}, got); err != nil {
		t.Fatal(err)
	}
	if !meta.IsStatusConditionTrue(got.Status.Conditions, v1.ConditionTypeReady) || len(got.Status.Subnets) != 3 ||
		len(got.Status.AMIs) != 5 || got.Status.InstanceProfile == "" {
		t.Fatalf("status %+v", got.Status)
	}
	if len(got.Finalizers) != 1 || got.Finalizers[0] != v1.TerminationFinalizer {
		t.Errorf("finalizers %v", got.Finalizers)
	}
	profile := got.Status.InstanceProfile

	// A node class whose subnets match nothing is not Ready, and says why.
	bad := nc.DeepCopy()
	bad.ObjectMeta = metav1.ObjectMeta{Name: "bad"}
	bad.Status = v1.EC2NodeClassStatus{}
	bad.Spec.SubnetSelectorTerms = []v1.SubnetSelectorTerm{{Tags: map[string]string{"nodewright.dev/discovery": "foo"}}}
	if err := kube.Create(ctx, bad); err != nil {
		t.Fatal(err)
	}
	if res, err := c.Reconcile(ctx, bad); err != nil || res.RequeueAfter != time.Minute {
		t.Fatalf("reconcile bad = %v, %v", res, err)
	}
	if err := kube.Get(ctx, client.ObjectKey{Name: "bad"}, bad); err != nil {
		t.Fatal(err)
	}
	cond := meta.FindStatusCondition(bad.Status.Conditions, v1.ConditionTypeSubnetsReady)
	if cond == nil || cond.Message != "no subnet matches subnetSelectorTerms [tags nodewright.dev/discovery=foo]" {
		t.Errorf("SubnetsReady = %+v", cond)
	}

	// Deleting the node class deletes the profile, then lets it go.
	if err := kube.Delete(ctx, got); err != nil {
		t.Fatal(err)
	}
	if err := kube.Get(ctx, client.ObjectKey{Name: "default"}, got); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Reconcile(ctx, got); err != nil {
		t.Fatal(err)
	}
	if err := kube.Get(ctx, client.ObjectKey{Name: "default"}, got); err == nil {
		t.Errorf("node class still exists with finalizers %v", got.Finalizers)
	}
	if _, err := iam.NewFromConfig(cfg).GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(profile)}); err == nil {
		t.Errorf("instance profile %s survived its node class", profile)
	}

	// Wiring: a manager running the controller resolves a new node class.
	// Controller names are unique per process: -count=N starts this
	// manager N times.
	mgr, err := manager.New(cloud.RESTConfig, manager.Options{Scheme: test.Scheme(), Metrics: metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0", Controller: config.Controller{SkipNameValidation: ptr.To(true)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := status.NewController(mgr.GetClient(), provider, clk, events.NewFakeRecorder(100)).Register(ctx, mgr); err != nil {
		t.Fatal(err)
	}
	go func() { _ = mgr.Start(ctx) }()
	wired := nc.DeepCopy()
	wired.ObjectMeta = metav1.ObjectMeta{Name: "wired"}
	wired.Status = v1.EC2NodeClassStatus{}
	if err := kube.Create(ctx, wired); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := kube.Get(ctx, client.ObjectKey{Name: "wired"}, wired); err == nil &&
			meta.IsStatusConditionTrue(wired.Status.Conditions, v1.ConditionTypeReady) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("manager never resolved the node class: %+v", wired.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
