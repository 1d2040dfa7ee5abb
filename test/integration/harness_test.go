package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloud/aws/iampolicy"
	"github.com/nodewright/nodewright/controller/crds"
	"github.com/nodewright/nodewright/controller/operator"
	"github.com/nodewright/nodewright/test/localcloud"
	"github.com/nodewright/nodewright/test/localcloud/awsemu"
)

// env is one local cloud with nodewright's CRDs, a node role, an
// EC2NodeClass and a NodePool, and the controller as a real process.
type env struct {
	t     *testing.T
	cloud *localcloud.Cloud
	kube  client.Client
	ec2   *ec2.Client
	ctrl  *controllerProcess
}

// newEnv starts the local cloud and the controller; extraEnv (KEY=value)
// adds to or overrides the controller's environment.
func newEnv(t *testing.T, nodePool string, extraEnv ...string) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the local cloud and the controller")
	}
	cloud := localcloud.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := crds.Install(ctx, cloud.RESTConfig); err != nil {
		t.Fatal(err)
	}
	scheme, err := operator.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	kube, err := client.New(cloud.RESTConfig, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	cfg := cloud.AWSConfig()
	_, err = iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("nodewright-node"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, cloud: cloud, kube: kube, ec2: ec2.NewFromConfig(cfg)}
	e.apply(fmt.Sprintf(nodeClassYAML, cloud.ClusterName(), cloud.ClusterName()))
	e.apply(nodePool)
	e.ctrl = startController(t, cloud, extraEnv...)
	return e
}

const nodeClassYAML = `
apiVersion: nodewright.dev/v1
kind: EC2NodeClass
metadata: {name: default}
spec:
  amiSelectorTerms: [{alias: al2023@latest}]
  role: nodewright-node
  subnetSelectorTerms: [{tags: {nodewright.dev/discovery: %s}}]
  securityGroupSelectorTerms: [{tags: {nodewright.dev/discovery: %s}}]
`

const defaultNodePool = `
apiVersion: nodewright.dev/v1
kind: NodePool
metadata: {name: default}
spec:
  template:
    spec:
      nodeClassRef: {group: nodewright.dev, kind: EC2NodeClass, name: default}
      requirements:
      - {key: nodewright.dev/capacity-type, operator: In, values: [spot, on-demand]}
      - {key: nodewright.dev/instance-category, operator: In, values: [c, m, r]}
      - {key: nodewright.dev/instance-generation, operator: Gt, values: ["2"]}
  disruption:
    consolidationPolicy: WhenEmpty
    consolidateAfter: 30s
    # Budgets have their own tests; here empty nodes may all go at once.
    budgets: [{nodes: "100%"}]
`

// apply creates the objects in a YAML document stream.
func (e *env) apply(docs string) {
	e.t.Helper()
	for _, doc := range strings.Split(docs, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			e.t.Fatal(err)
		}
		var obj client.Object
		switch meta.Kind {
		case "EC2NodeClass":
			obj = &v1.EC2NodeClass{}
		case "NodePool":
			obj = &v1.NodePool{}
		default:
			e.t.Fatalf("apply: unsupported kind %s", meta.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			e.t.Fatal(err)
		}
		if err := e.kube.Create(context.Background(), obj); err != nil {
			e.t.Fatalf("creating %s %s: %v", meta.Kind, obj.GetName(), err)
		}
	}
}

// eventually polls cond (every 250 ms, or the given interval) until it
// holds or the timeout passes.
func (e *env) eventually(what string, timeout time.Duration, cond func(ctx context.Context) (bool, error), interval ...time.Duration) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	every := 250 * time.Millisecond
	if len(interval) > 0 {
		every = interval[0]
	}
	var last error
	err := wait.PollUntilContextCancel(ctx, every, true, func(ctx context.Context) (bool, error) {
		ok, err := cond(ctx)
		last = err
		return ok, nil
	})
	if err != nil {
		e.t.Fatalf("%s: not within %s (last error: %v)\ncontroller log tail:\n%s", what, timeout, last, e.ctrl.tail(40))
	}
}

func (e *env) nodeClaims(ctx context.Context) []v1.NodeClaim {
	var list v1.NodeClaimList
	if err := e.kube.List(ctx, &list); err != nil {
		e.t.Fatal(err)
	}
	return list.Items
}

// liveInstances counts pending or running instances in the emulator.
// calls formats the AWS endpoint's call counts since the last ResetCalls,
// by action.
func (e *env) calls(ctx context.Context) string {
	calls, err := e.cloud.Calls(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(calls)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, calls[k]))
	}
	return strings.Join(parts, " ")
}

func (e *env) liveInstances(ctx context.Context) []ec2types.Instance {
	out, err := e.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}}}})
	if err != nil {
		e.t.Fatal(err)
	}
	var live []ec2types.Instance
	for _, r := range out.Reservations {
		live = append(live, r.Instances...)
	}
	return live
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// controllerProcess is `bin/nodewright controller` run as users run it: a
// kubeconfig, an AWS endpoint and the cluster's name, nothing else.
type controllerProcess struct {
	t   *testing.T
	cmd *exec.Cmd
	log string
}

func startController(t *testing.T, cloud *localcloud.Cloud, extraEnv ...string) *controllerProcess {
	t.Helper()
	bin, err := localcloud.DefaultBinDir()
	if err != nil {
		t.Fatal(err)
	}
	c := &controllerProcess{t: t, log: filepath.Join(t.TempDir(), "controller.log")}
	logFile, err := os.Create(c.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin, "nodewright"), "controller")
	cmd.Env = append(os.Environ(), cloud.AWSEnv()...)
	cmd.Env = append(cmd.Env, controllerRoleEnv(t, cloud, extraEnv)...)
	cmd.Env = append(cmd.Env, "KUBECONFIG="+cloud.Kubeconfig, "METRICS_PORT=0", "HEALTH_PROBE_PORT=0",
		"LEADER_ELECTION_NAMESPACE=default", "BATCH_IDLE_DURATION=500ms", "BATCH_MAX_DURATION=3s", "LOG_LEVEL=debug",
		"DISRUPTION_VALIDATION_DELAY=2s")
	// exec.Cmd keeps the last value of a repeated key.
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the controller: %v", err)
	}
	c.cmd = cmd
	t.Cleanup(func() {
		c.stop(syscall.SIGTERM)
		logFile.Close()
		if t.Failed() {
			t.Logf("---- controller log tail (%s)\n%s", c.log, c.tail(60))
		}
	})
	return c
}

// controllerRoleEnv runs the controller as the role the module creates, not
// the administrator: a role holding the controller policy for this cluster
// (and the interruption queue the test uses), whose session's temporary
// keys replace the administrator's. The local cloud enforces the policy, so
// every flow the suite drives proves it sufficient.
func controllerRoleEnv(t *testing.T, cloud *localcloud.Cloud, extraEnv []string) []string {
	t.Helper()
	ctx := context.Background()
	cfg := cloud.AWSConfig()
	queue := os.Getenv("INTERRUPTION_QUEUE")
	for _, kv := range extraEnv {
		if v, ok := strings.CutPrefix(kv, "INTERRUPTION_QUEUE="); ok {
			queue = v
		}
	}
	opts := iampolicy.Options{Region: cfg.Region, AccountID: awsemu.AccountID, ClusterName: cloud.ClusterName(),
		NodeRoleARN: "arn:aws:iam::" + awsemu.AccountID + ":role/nodewright-node"}
	if queue != "" {
		opts.QueueARN = "arn:aws:sqs:" + cfg.Region + ":" + awsemu.AccountID + ":" + queue
	}
	doc, err := iampolicy.Document(opts)
	if err != nil {
		t.Fatal(err)
	}
	c := iam.NewFromConfig(cfg)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + awsemu.AccountID + `:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("nodewright-controller"), AssumeRolePolicyDocument: aws.String(trust),
		MaxSessionDuration: aws.Int32(12 * 3600)}); err != nil && !strings.Contains(err.Error(), "EntityAlreadyExists") {
		t.Fatal(err)
	}
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("nodewright-controller"), PolicyName: aws.String("nodewright-controller"),
		PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	out, err := sts.NewFromConfig(cfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + awsemu.AccountID + ":role/nodewright-controller"),
		RoleSessionName: aws.String("integration"), DurationSeconds: aws.Int32(4 * 3600)})
	if err != nil {
		t.Fatal(err)
	}
	cr := out.Credentials
	return []string{"AWS_ACCESS_KEY_ID=" + aws.ToString(cr.AccessKeyId), "AWS_SECRET_ACCESS_KEY=" + aws.ToString(cr.SecretAccessKey),
		"AWS_SESSION_TOKEN=" + aws.ToString(cr.SessionToken)}
}

func (c *controllerProcess) stop(sig syscall.Signal) {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
	c.cmd = nil
}

// entries returns the controller's JSON log lines whose msg is msg.
func (c *controllerProcess) entries(msg string) []map[string]any {
	f, err := os.Open(c.log)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func (c *controllerProcess) tail(n int) string {
	data, _ := os.ReadFile(c.log)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
