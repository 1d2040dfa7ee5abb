package localcloud

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/nodewright/nodewright/test/image"
)

const testUserData = `MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="BOUNDARY"

--BOUNDARY
Content-Type: application/node.eks.aws

apiVersion: node.eks.aws/v1alpha1
kind: NodeConfig
spec:
  cluster:
    name: localcloud
    apiServerEndpoint: %s
    certificateAuthority: Y2E=
    cidr: 10.96.0.0/16
  kubelet:
    config:
      maxPods: 20
    flags:
    - --node-labels=team=platform,nodewright.dev/nodepool=default
    - --register-with-taints=dedicated=batch:NoSchedule

--BOUNDARY--
`

// TestSpotFleetJoinsAndInterruptionFlows is the local AWS acceptance test:
// a spot fleet becomes Ready nodes, an injected interruption reaches an SQS
// queue through an EventBridge rule, and the instance and its node go away
// after the lead time. Every AWS call is the real SDK over HTTP.
func TestSpotFleetJoinsAndInterruptionFlows(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the local cloud")
	}
	c := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := c.AWSConfig()
	ec2c, sqsc, ebc := ec2.NewFromConfig(cfg), sqs.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg)
	cs := kubernetes.NewForConfigOrDie(c.RESTConfig)

	// Interruption plumbing first, so that the warning has somewhere to go.
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("interruptions")})
	must(t, err)
	attrs, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	must(t, err)
	queueARN := attrs.Attributes["QueueArn"]
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["events.amazonaws.com","sqs.amazonaws.com"]},"Action":"sqs:SendMessage","Resource":%q}]}`, queueARN)
	_, err = sqsc.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: q.QueueUrl, Attributes: map[string]string{"Policy": policy}})
	must(t, err)
	_, err = ebc.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("spot"), EventPattern: aws.String(`{"source":["aws.ec2"],"detail-type":["EC2 Spot Instance Interruption Warning"]}`)})
	must(t, err)
	_, err = ebc.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("spot"), Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(queueARN)}}})
	must(t, err)

	// 1. A launch template and a fleet of 3 spot m5.large across two subnets.
	subnets, err := ec2c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("tag:nodewright.dev/discovery"), Values: []string{c.ClusterName()}}}})
	must(t, err)
	if len(subnets.Subnets) < 2 {
		t.Fatalf("want discovery-tagged subnets in every zone, got %d", len(subnets.Subnets))
	}
	lt, err := ec2c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String("nodes"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{
			ImageId:  aws.String("ami-0a102300000000001"),
			UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf(testUserData, c.APIServerURL())))),
		},
	})
	must(t, err)
	fleet, err := ec2c.CreateFleet(ctx, &ec2.CreateFleetInput{
		Type: ec2types.FleetTypeInstant,
		TargetCapacitySpecification: &ec2types.TargetCapacitySpecificationRequest{
			TotalTargetCapacity: aws.Int32(3), DefaultTargetCapacityType: ec2types.DefaultTargetCapacityTypeSpot,
		},
		SpotOptions: &ec2types.SpotOptionsRequest{AllocationStrategy: ec2types.SpotAllocationStrategyPriceCapacityOptimized},
		LaunchTemplateConfigs: []ec2types.FleetLaunchTemplateConfigRequest{{
			LaunchTemplateSpecification: &ec2types.FleetLaunchTemplateSpecificationRequest{LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId, Version: aws.String("$Latest")},
			Overrides: []ec2types.FleetLaunchTemplateOverridesRequest{
				{InstanceType: ec2types.InstanceTypeM5Large, SubnetId: subnets.Subnets[0].SubnetId},
				{InstanceType: ec2types.InstanceTypeM5Large, SubnetId: subnets.Subnets[1].SubnetId},
			},
		}},
	})
	must(t, err)
	var ids []string
	for _, inst := range fleet.Instances {
		ids = append(ids, inst.InstanceIds...)
	}
	if len(ids) != 3 {
		t.Fatalf("fleet launched %d instances (errors %+v), want 3", len(ids), fleet.Errors)
	}

	// 2. Three running instances and three Ready nodes shaped by the userData.
	poll(ctx, t, "3 running instances", func() (bool, error) {
		out, err := ec2c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
		if err != nil {
			return false, err
		}
		running := 0
		for _, r := range out.Reservations {
			for _, i := range r.Instances {
				if i.State.Name == ec2types.InstanceStateNameRunning && i.InstanceLifecycle == ec2types.InstanceLifecycleTypeSpot {
					running++
				}
			}
		}
		return running == 3, nil
	})
	nodeFor := map[string]*corev1.Node{}
	poll(ctx, t, "3 Ready nodes", func() (bool, error) {
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "team=platform"})
		if err != nil {
			return false, err
		}
		for i := range nodes.Items {
			n := &nodes.Items[i]
			if ready(n) {
				nodeFor[n.Spec.ProviderID[strings.LastIndex(n.Spec.ProviderID, "/")+1:]] = n
			}
		}
		return len(nodeFor) == 3, nil
	})
	for _, n := range nodeFor {
		if n.Labels["node.kubernetes.io/instance-type"] != "m5.large" || n.Labels["nodewright.dev/nodepool"] != "default" || n.Labels["kubernetes.io/arch"] != "amd64" {
			t.Errorf("node %s labels %v", n.Name, n.Labels)
		}
		if pods := n.Status.Capacity[corev1.ResourcePods]; pods.Value() != 20 {
			t.Errorf("node %s pods capacity %s, want maxPods 20 from the userData", n.Name, pods.String())
		}
		if cpu := n.Status.Capacity[corev1.ResourceCPU]; cpu.Value() != 2 {
			t.Errorf("node %s cpu capacity %s, want 2", n.Name, cpu.String())
		}
		if !hasTaint(n, "dedicated", corev1.TaintEffectNoSchedule) {
			t.Errorf("node %s taints %v, want dedicated=batch:NoSchedule", n.Name, n.Spec.Taints)
		}
	}

	// 3. Interrupt one instance; the warning arrives on the queue.
	victim := ids[0]
	if err := c.InjectSpotInterruption(ctx, victim, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	msg, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 10, MaxNumberOfMessages: 10})
	must(t, err)
	if len(msg.Messages) != 1 {
		t.Fatalf("got %d messages, want the one interruption warning", len(msg.Messages))
	}
	var event struct {
		Source     string            `json:"source"`
		DetailType string            `json:"detail-type"`
		Resources  []string          `json:"resources"`
		Detail     map[string]string `json:"detail"`
	}
	must(t, json.Unmarshal([]byte(*msg.Messages[0].Body), &event))
	if event.DetailType != "EC2 Spot Instance Interruption Warning" || event.Detail["instance-id"] != victim || event.Detail["instance-action"] != "terminate" ||
		len(event.Resources) != 1 || !strings.HasSuffix(event.Resources[0], ":instance/"+victim) {
		t.Errorf("unexpected interruption event %+v", event)
	}

	// 4. After the lead time the instance terminates and its node goes.
	poll(ctx, t, "interrupted instance terminated", func() (bool, error) {
		out, err := ec2c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{victim}})
		if err != nil {
			return false, err
		}
		return out.Reservations[0].Instances[0].State.Name == ec2types.InstanceStateNameTerminated, nil
	})
	poll(ctx, t, "interrupted node deleted", func() (bool, error) {
		_, err := cs.CoreV1().Nodes().Get(ctx, nodeFor[victim].Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}

// TestSystemNodeRunsRealProcesses builds an image of /bin/sleep as the
// controller image layout: `up` pushes it to the registry and writes it by
// digest to the env file, and a Deployment of it on the system node
// becomes a real process pulled from the registry, gone once the
// Deployment is.
func TestSystemNodeRunsRealProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the local cloud")
	}
	dir := t.TempDir()
	idx, err := image.Build(image.Options{Version: "1.0", Entrypoint: "/sleep", Created: time.Unix(0, 0),
		Binaries: []image.Binary{{Platform: v1.Platform{OS: "linux", Architecture: runtime.GOARCH}, Path: "/bin/sleep"}}})
	must(t, err)
	layoutDir := filepath.Join(t.TempDir(), "image")
	digest, err := image.WriteLayout(layoutDir, idx, "1.0")
	must(t, err)
	c, err := Up(context.Background(), Options{Dir: dir, Progress: testWriter{t}, ImageLayout: layoutDir})
	must(t, err)
	t.Cleanup(func() { _ = c.Down() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if want := c.RegistryHost() + "/nodewright/nodewright@" + digest.String(); c.ControllerImage() != want {
		t.Fatalf("ControllerImage() = %q, want %q", c.ControllerImage(), want)
	}
	env, err := os.ReadFile(filepath.Join(dir, "env"))
	must(t, err)
	for _, line := range []string{`NODEWRIGHT_REGISTRY="` + c.RegistryHost() + `"`, `NODEWRIGHT_CONTROLLER_IMAGE="` + c.ControllerImage() + `"`} {
		if !strings.Contains(string(env), line) {
			t.Errorf("env file lacks %s:\n%s", line, env)
		}
	}
	cs := kubernetes.NewForConfigOrDie(c.RESTConfig)
	poll(ctx, t, "default service account", func() (bool, error) {
		_, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	labels := map[string]string{"app": "sleeper"}
	_, err = cs.AppsV1().Deployments("default").Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "sleeper", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers:   []corev1.Container{{Name: "sleep", Image: c.ControllerImage(), Args: []string{"4242"}}},
					Tolerations:  []corev1.Toleration{{Key: "CriticalAddonsOnly", Operator: corev1.TolerationOpExists}},
					NodeSelector: map[string]string{"eks.amazonaws.com/nodegroup": "system"},
				},
			},
		},
	}, metav1.CreateOptions{})
	must(t, err)
	awsPID := c.Process(AWS).PID
	var pid int
	poll(ctx, t, "a real sleep 4242 process", func() (bool, error) {
		pid = childWithArgs(awsPID, filepath.Join(dir, "podruntime", "images"), "/rootfs/sleep\x004242")
		return pid != 0, nil
	})
	poll(ctx, t, "pod Running", func() (bool, error) {
		pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=sleeper"})
		return err == nil && len(pods.Items) == 1 && pods.Items[0].Status.Phase == corev1.PodRunning, err
	})
	must(t, cs.AppsV1().Deployments("default").Delete(ctx, "sleeper", metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationForeground)}))
	poll(ctx, t, "process stopped", func() (bool, error) { return !pidRunning(pid), nil })
}

// TestRestartKeepsAWSState stops and starts the cloud in the same state
// directory: what was created through the SDK is still there.
func TestRestartKeepsAWSState(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the local cloud")
	}
	dir := t.TempDir()
	ctx := context.Background()
	c, err := Up(ctx, Options{Dir: dir, Progress: testWriter{t}})
	must(t, err)
	t.Cleanup(func() { _ = c.Down() })
	_, err = iam.NewFromConfig(c.AWSConfig()).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("kept"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	must(t, err)
	_, err = ec2.NewFromConfig(c.AWSConfig()).CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("kept"), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-0a102300000000001")}})
	must(t, err)
	must(t, c.Down())

	c, err = Up(ctx, Options{Dir: dir, Progress: testWriter{t}})
	must(t, err)
	t.Cleanup(func() { _ = c.Down() })
	if _, err := iam.NewFromConfig(c.AWSConfig()).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("kept")}); err != nil {
		t.Errorf("role lost across restart: %v", err)
	}
	lts, err := ec2.NewFromConfig(c.AWSConfig()).DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"kept"}})
	if err != nil || len(lts.LaunchTemplates) != 1 {
		t.Errorf("launch template lost across restart: %v", err)
	}
}

// childWithArgs finds a descendant process of parent whose NUL-separated
// cmdline starts with prefix and contains args.
func childWithArgs(parent int, prefix, args string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !strings.HasPrefix(string(cmd), prefix) || !strings.Contains(string(cmd), args) {
			continue
		}
		for p := pid; p > 1; p = ppid(p) {
			if p == parent {
				return pid
			}
		}
	}
	return 0
}

func ppid(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	var p int
	fmt.Sscanf(fields[1], "%d", &p)
	return p
}

func ready(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func hasTaint(n *corev1.Node, key string, effect corev1.TaintEffect) bool {
	for _, t := range n.Spec.Taints {
		if t.Key == key && t.Effect == effect {
			return true
		}
	}
	return false
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
