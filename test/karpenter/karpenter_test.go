// Package karpenter runs real, unmodified Karpenter (aws/karpenter-provider-aws,
// built by `make test-karpenter` into bin/) against a fresh local cloud. It is
// a client that has run against real AWS for years: where it breaks here, the
// local cloud differs from AWS, and so would our own controller's view of it.
package karpenter

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/nodewright/nodewright/test/harness"
	"github.com/nodewright/nodewright/test/localcloud"
	"github.com/nodewright/nodewright/test/localcloud/awsemu"
)

var (
	nodeClassGVR = schema.GroupVersionResource{Group: "karpenter.k8s.aws", Version: "v1", Resource: "ec2nodeclasses"}
	nodePoolGVR  = schema.GroupVersionResource{Group: "karpenter.sh", Version: "v1", Resource: "nodepools"}
	nodeClaimGVR = schema.GroupVersionResource{Group: "karpenter.sh", Version: "v1", Resource: "nodeclaims"}
)

// env is a local cloud with Karpenter's CRDs, IAM role, interruption queue
// and rules, and Karpenter itself running as a process.
type env struct {
	t     *testing.T
	cloud *localcloud.Cloud
	kube  kubernetes.Interface
	dyn   dynamic.Interface
	ec2   *ec2.Client
	log   string
}

func TestKarpenterRunsUnmodified(t *testing.T) {
	if os.Getenv("NODEWRIGHT_KARPENTER") == "" {
		t.Skip("runs real Karpenter: make test-karpenter")
	}
	// Registered first, so it runs last: after the log tails a failure
	// dumps, where the tail of a CI log shows it.
	var unexpected []string
	t.Cleanup(func() {
		for _, line := range unexpected {
			t.Logf("Karpenter logged an error real AWS would not cause: %s", line)
		}
	})
	e := newEnv(t)
	ctx := context.Background()

	// 1. Its EC2NodeClass resolves subnets, security groups, AMIs and an
	// instance profile, and becomes Ready.
	// The NodePool comes once the class is Ready: before its status lists
	// subnets, Karpenter's disruption pass logs "no subnets found" for a
	// pool that uses it, a start-up race of Karpenter's own, which a
	// loaded machine loses.
	e.create(nodeClassGVR, fmt.Sprintf(nodeClassYAML, e.cloud.ClusterName(), e.cloud.ClusterName()))
	e.eventually("EC2NodeClass Ready", 2*time.Minute, func() bool {
		nc, err := e.dyn.Resource(nodeClassGVR).Get(ctx, "default", metav1.GetOptions{})
		return err == nil && conditionTrue(nc, "Ready")
	})
	e.create(nodePoolGVR, nodePoolYAML)

	// 2. Ten pods of 1 CPU / 1.5 GiB run on nodes Karpenter launched.
	e.resetCalls()
	deployInflate(t, e.kube, 10)
	e.eventually("10 inflate pods Running on Karpenter's nodes", 3*time.Minute, func() bool {
		return e.runningOnKarpenterNodes(ctx) == 10
	})
	e.logCalls("the scale-up")
	claims := e.nodeClaims(ctx)
	t.Logf("Karpenter launched %d NodeClaims: %s", len(claims), describeClaims(claims))

	// 3. A spot interruption: the node is drained and replaced, its instance
	// terminated, and the pods run again.
	victim, ok := firstSpot(claims)
	if !ok {
		t.Fatalf("no spot NodeClaim to interrupt among %s", describeClaims(claims))
	}
	instanceID := instanceIDOf(victim)
	if err := e.cloud.InjectSpotInterruption(ctx, instanceID, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	e.eventually("the interrupted NodeClaim is gone and its instance terminated", 3*time.Minute, func() bool {
		_, err := e.dyn.Resource(nodeClaimGVR).Get(ctx, victim.GetName(), metav1.GetOptions{})
		return err != nil && e.instanceState(ctx, instanceID) == ec2types.InstanceStateNameTerminated
	})
	e.eventually("10 inflate pods Running again", 3*time.Minute, func() bool {
		return e.runningOnKarpenterNodes(ctx) == 10
	})

	// 4. Scale to zero: every node goes and every instance is terminated.
	e.resetCalls()
	if err := e.kube.AppsV1().Deployments("default").Delete(ctx, "inflate", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.eventually("no NodeClaims and no live instances", 4*time.Minute, func() bool {
		return len(e.nodeClaims(ctx)) == 0 && len(e.liveInstances(ctx)) == 0
	})
	e.logCalls("the scale to zero")

	// 5. Every AWS error it logged is one real AWS returns in these flows.
	unexpected = e.unexpectedErrors()
	if len(unexpected) > 0 {
		t.Errorf("Karpenter logged %d errors real AWS would not cause (listed at the end)", len(unexpected))
	}
}

// newEnv starts a local cloud and Karpenter on it; extraEnv (KEY=value)
// adds to or overrides Karpenter's environment.
func newEnv(t *testing.T, extraEnv ...string) *env {
	t.Helper()
	bin, err := localcloud.DefaultBinDir()
	if err != nil {
		t.Fatal(err)
	}
	karpenter := filepath.Join(bin, "karpenter-controller")
	if _, err := os.Stat(karpenter); err != nil {
		t.Fatalf("%s: run `make test-karpenter`, which builds it", karpenter)
	}
	cloud := localcloud.Start(t)
	kube, err := kubernetes.NewForConfig(cloud.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cloud.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, cloud: cloud, kube: kube, dyn: dyn, ec2: ec2.NewFromConfig(cloud.AWSConfig())}

	// Karpenter's own CRDs, applied as its chart does, with kubectl.
	kubectl := exec.Command(filepath.Join(bin, "kubectl"), "--kubeconfig", cloud.Kubeconfig, "apply", "--server-side", "-f", filepath.Join(bin, "karpenter-crds"))
	if out, err := kubectl.CombinedOutput(); err != nil {
		t.Fatalf("applying Karpenter's CRDs: %v\n%s", err, out)
	}
	e.eventually("Karpenter's CRDs established", time.Minute, func() bool {
		_, err := dyn.Resource(nodePoolGVR).List(context.Background(), metav1.ListOptions{})
		return err == nil
	})
	e.awsResources()
	e.startKarpenter(karpenter, extraEnv)
	return e
}

// awsResources makes what Karpenter's getting-started CloudFormation makes:
// the node role, and the interruption queue with its policy and the four
// EventBridge rules that feed it.
func (e *env) awsResources() {
	cluster := e.cloud.ClusterName()
	if err := harness.CreateNodeRole(context.Background(), e.cloud, "KarpenterNodeRole-"+cluster); err != nil {
		e.t.Fatalf("creating the node role: %v", err)
	}
	createInterruptionQueue(e.t, e.cloud, cluster, "Karpenter-"+cluster)
}

// createInterruptionQueue makes an interruption queue named queue, its
// policy, and the four EventBridge rules (named rulePrefix-...) that feed it,
// as Karpenter's getting-started CloudFormation does; nodewright's module
// makes the same.
func createInterruptionQueue(t testing.TB, cloud *localcloud.Cloud, queue, rulePrefix string) {
	t.Helper()
	ctx, cfg := context.Background(), cloud.AWSConfig()
	q, err := sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(queue),
		Attributes: map[string]string{"MessageRetentionPeriod": "300", "SqsManagedSseEnabled": "true"}})
	if err != nil {
		t.Fatalf("creating the interruption queue: %v", err)
	}
	queueARN := fmt.Sprintf("arn:aws:sqs:%s:%s:%s", cfg.Region, awsemu.AccountID, queue)
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Id":"EC2InterruptionPolicy","Statement":[`+
		`{"Effect":"Allow","Principal":{"Service":["events.amazonaws.com","sqs.amazonaws.com"]},"Action":"sqs:SendMessage","Resource":%q},`+
		`{"Sid":"DenyHTTP","Effect":"Deny","Action":"sqs:*","Resource":%q,"Condition":{"Bool":{"aws:SecureTransport":false}},"Principal":"*"}]}`,
		queueARN, queueARN)
	if _, err := sqs.NewFromConfig(cfg).SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: q.QueueUrl,
		Attributes: map[string]string{"Policy": policy}}); err != nil {
		t.Fatalf("setting the queue policy: %v", err)
	}
	eb := eventbridge.NewFromConfig(cfg)
	for name, pattern := range map[string]string{
		"ScheduledChangeRule":     `{"source":["aws.health"],"detail-type":["AWS Health Event"]}`,
		"SpotInterruptionRule":    `{"source":["aws.ec2"],"detail-type":["EC2 Spot Instance Interruption Warning"]}`,
		"RebalanceRule":           `{"source":["aws.ec2"],"detail-type":["EC2 Instance Rebalance Recommendation"]}`,
		"InstanceStateChangeRule": `{"source":["aws.ec2"],"detail-type":["EC2 Instance State-change Notification"]}`,
	} {
		rule := rulePrefix + "-" + name
		if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(rule), EventPattern: aws.String(pattern)}); err != nil {
			t.Fatalf("creating rule %s: %v", rule, err)
		}
		if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule),
			Targets: []ebtypes.Target{{Id: aws.String("KarpenterInterruptionQueueTarget"), Arn: aws.String(queueARN)}}}); err != nil {
			t.Fatalf("targeting rule %s: %v", rule, err)
		}
	}
}

// startKarpenter runs the controller outside the cluster, as its docs
// describe for development: the cloud's AWS and cluster settings, leader
// election in a namespace, and free ports for metrics and health. extraEnv
// (KEY=value) adds to or overrides that environment.
func (e *env) startKarpenter(bin string, extraEnv []string) {
	t := e.t
	e.log = filepath.Join(t.TempDir(), "karpenter.log")
	logFile, err := os.Create(e.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), e.cloud.AWSEnv()...)
	cmd.Env = append(cmd.Env, "KUBECONFIG="+e.cloud.Kubeconfig, "INTERRUPTION_QUEUE="+e.cloud.ClusterName(),
		"LEADER_ELECTION_NAMESPACE=default", fmt.Sprintf("METRICS_PORT=%d", freePort(t)), fmt.Sprintf("HEALTH_PROBE_PORT=%d", freePort(t)),
		"BATCH_IDLE_DURATION=1s", "BATCH_MAX_DURATION=5s", "LOG_LEVEL=debug", "FEATURE_GATES=SpotToSpotConsolidation=true")
	// exec.Cmd keeps the last value of a repeated key.
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Karpenter: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
		if t.Failed() {
			t.Logf("---- Karpenter log tail (%s)\n%s", e.log, tail(e.log, 80))
		}
	})
	// A panic at start-up shows within seconds.
	select {
	case err := <-exited:
		t.Fatalf("Karpenter exited at start-up: %v\n%s", err, tail(e.log, 40))
	case <-time.After(5 * time.Second):
	}
}

const nodeClassYAML = `
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata: {name: default}
spec:
  role: KarpenterNodeRole-%s
  amiSelectorTerms: [{alias: al2023@latest}]
  subnetSelectorTerms: [{tags: {nodewright.dev/discovery: %s}}]
  securityGroupSelectorTerms: [{tags: {nodewright.dev/discovery: %[2]s}}]
`

// nodePoolYAML is the integration suite's pool, in Karpenter's terms.
const nodePoolYAML = `
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: default}
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
      expireAfter: 720h
      requirements:
      - {key: karpenter.sh/capacity-type, operator: In, values: [spot, on-demand]}
      - {key: karpenter.k8s.aws/instance-category, operator: In, values: [c, m, r]}
      - {key: karpenter.k8s.aws/instance-generation, operator: Gt, values: ["2"]}
  disruption:
    consolidationPolicy: WhenEmpty
    consolidateAfter: 10s
    budgets: [{nodes: "100%"}]
`

// expectedErrors are the errors real AWS also gives Karpenter in these
// flows: looking a resource up before creating it, a dry run's success,
// an instance that is already gone, and the API server's own start-up races.
var expectedErrors = []*regexp.Regexp{
	regexp.MustCompile(`DryRunOperation`),
	regexp.MustCompile(`NoSuchEntity`),
	regexp.MustCompile(`InvalidLaunchTemplateName\.NotFoundException`),
	regexp.MustCompile(`InvalidInstanceID\.NotFound`),
	regexp.MustCompile(`the object has been modified`),
	regexp.MustCompile(`not found`),
}

func (e *env) resetCalls() {
	if err := e.cloud.ResetCalls(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// logCalls prints the AWS calls Karpenter made since resetCalls, by action,
// for comparison with nodewright's.
func (e *env) logCalls(what string) {
	calls, err := e.cloud.Calls(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Logf("AWS calls during %s: %s", what, calls)
}

// awsErrorCode picks an AWS error code out of a log line, as the SDK
// formats it ("api error Code: message").
var awsErrorCode = regexp.MustCompile(`api error ([A-Za-z.]+):`)

// unexpectedErrors are the log lines at ERROR level, or naming an AWS
// error, that match none of expectedErrors.
func (e *env) unexpectedErrors() []string {
	f, err := os.Open(e.log)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	var out []string
	levels, expected := map[string]int{}, map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var entry struct {
			Level string `json:"level"`
		}
		_ = json.Unmarshal([]byte(line), &entry)
		levels[entry.Level]++
		if entry.Level != "ERROR" && !awsErrorCode.MatchString(line) {
			continue
		}
		i := slices.IndexFunc(expectedErrors, func(r *regexp.Regexp) bool { return r.MatchString(line) })
		if i < 0 {
			out = append(out, line)
			continue
		}
		expected[expectedErrors[i].String()]++
	}
	// The scan proves something only if it read Karpenter's JSON lines.
	if levels["INFO"] == 0 {
		e.t.Errorf("read no INFO lines from Karpenter's log: levels %v", levels)
	}
	e.t.Logf("Karpenter log lines by level %v; expected errors seen %v", levels, expected)
	return out
}

func (e *env) create(gvr schema.GroupVersionResource, doc string) {
	e.t.Helper()
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.dyn.Resource(gvr).Create(context.Background(), obj, metav1.CreateOptions{}); err != nil {
		e.t.Fatalf("creating %s %s: %v", gvr.Resource, obj.GetName(), err)
	}
}

func (e *env) eventually(what string, timeout time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %s waiting for: %s", timeout, what)
		}
		time.Sleep(time.Second)
	}
	e.t.Logf("%s", what)
}

func (e *env) nodeClaims(ctx context.Context) []unstructured.Unstructured {
	l, err := e.dyn.Resource(nodeClaimGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil
	}
	return l.Items
}

// runningOnKarpenterNodes counts inflate pods Running on nodes carrying
// Karpenter's nodepool label.
func (e *env) runningOnKarpenterNodes(ctx context.Context) int {
	pods, err := e.kube.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=inflate"})
	if err != nil {
		return -1
	}
	n := 0
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil || p.Spec.NodeName == "" {
			continue
		}
		node, err := e.kube.CoreV1().Nodes().Get(ctx, p.Spec.NodeName, metav1.GetOptions{})
		if err == nil && node.Labels["karpenter.sh/nodepool"] == "default" {
			n++
		}
	}
	return n
}

func (e *env) liveInstances(ctx context.Context) []ec2types.Instance {
	out, err := e.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped", "shutting-down"}}}})
	if err != nil {
		e.t.Logf("describing instances: %v", err)
		return []ec2types.Instance{{}}
	}
	var live []ec2types.Instance
	for _, r := range out.Reservations {
		live = append(live, r.Instances...)
	}
	return live
}

func (e *env) instanceState(ctx context.Context, id string) ec2types.InstanceStateName {
	out, err := e.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil || len(out.Reservations) == 0 || len(out.Reservations[0].Instances) == 0 {
		return ""
	}
	return out.Reservations[0].Instances[0].State.Name
}

func conditionTrue(obj *unstructured.Unstructured, condType string) bool {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == condType {
			return m["status"] == string(metav1.ConditionTrue)
		}
	}
	return false
}

func firstSpot(claims []unstructured.Unstructured) (unstructured.Unstructured, bool) {
	for _, c := range claims {
		if c.GetLabels()["karpenter.sh/capacity-type"] == "spot" && instanceIDOf(c) != "" {
			return c, true
		}
	}
	return unstructured.Unstructured{}, false
}

// instanceIDOf reads the instance id out of a NodeClaim's providerID
// (aws:///us-east-1a/i-0123...).
func instanceIDOf(c unstructured.Unstructured) string {
	id, _, _ := unstructured.NestedString(c.Object, "status", "providerID")
	return id[strings.LastIndex(id, "/")+1:]
}

func describeClaims(claims []unstructured.Unstructured) string {
	var parts []string
	for _, c := range claims {
		l := c.GetLabels()
		parts = append(parts, fmt.Sprintf("%s (%s %s)", c.GetName(), l["node.kubernetes.io/instance-type"], l["karpenter.sh/capacity-type"]))
	}
	return strings.Join(parts, ", ")
}

// deployInflate creates Karpenter's getting-started workload: pause pods
// asking 1 CPU and 1.5 GiB each.
func deployInflate(t *testing.T, kube kubernetes.Interface, replicas int32) {
	t.Helper()
	ctx := context.Background()
	labels := map[string]string{"app": "inflate"}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "inflate", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(replicas), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				TerminationGracePeriodSeconds: ptr.To[int64](0),
				Containers: []corev1.Container{{Name: "inflate", Image: "registry.k8s.io/pause:3.10",
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1.5Gi")}}}}}}}}
	awaitDefaultServiceAccount(t, kube)
	if _, err := kube.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// awaitDefaultServiceAccount waits for the default namespace's service
// account, without which its pods are not admitted.
func awaitDefaultServiceAccount(t testing.TB, kube kubernetes.Interface) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := kube.CoreV1().ServiceAccounts("default").Get(context.Background(), "default", metav1.GetOptions{})
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no default service account: %v", err)
		}
		time.Sleep(time.Second)
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func tail(path string, n int) string {
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
