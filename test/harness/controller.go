// Package harness runs nodewright's controller as a process on a local
// cloud, as users run it, for the suites that drive it from outside:
// test/integration and the end-to-end benchmark against Karpenter.
package harness

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/nodewright/nodewright/controller/iampolicy"
	"github.com/nodewright/nodewright/test/localcloud"
	"github.com/nodewright/nodewright/test/localcloud/awsemu"
)

// NodeRole is the node role the controller's policy lets it pass to
// instances; suites create it with CreateNodeRole and name it in their
// EC2NodeClass.
const NodeRole = "nodewright-node"

// CreateNodeRole creates the IAM role name that EC2 instances assume, as
// the module (or Karpenter's CloudFormation) does.
func CreateNodeRole(ctx context.Context, cloud *localcloud.Cloud, name string) error {
	_, err := iam.NewFromConfig(cloud.AWSConfig()).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	return err
}

// Controller is `bin/nodewright controller` run as users run it: a
// kubeconfig, an AWS endpoint and the cluster's name, nothing else.
type Controller struct {
	t testing.TB
	// Cmd is the running process; nil once stopped.
	Cmd *exec.Cmd
	// Log is the path of its JSON log (stdout and stderr).
	Log string
	// exited closes when the process ends, for whatever reason.
	exited chan struct{}
}

// StartController starts the controller on cloud and stops it when the
// test ends; extraEnv (KEY=value) adds to or overrides its environment.
func StartController(t testing.TB, cloud *localcloud.Cloud, extraEnv ...string) *Controller {
	t.Helper()
	bin, err := localcloud.DefaultBinDir()
	if err != nil {
		t.Fatal(err)
	}
	c := &Controller{t: t, Log: filepath.Join(t.TempDir(), "controller.log")}
	logFile, err := os.Create(c.Log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin, "nodewright"), "controller")
	cmd.Env = append(os.Environ(), cloud.AWSEnv()...)
	cmd.Env = append(cmd.Env, ControllerRoleEnv(t, cloud, extraEnv)...)
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
	c.Cmd = cmd
	c.exited = make(chan struct{})
	go func() { _ = cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		c.Stop(syscall.SIGTERM)
		logFile.Close()
		if t.Failed() {
			t.Logf("---- controller log tail (%s)\n%s", c.Log, c.Tail(60))
		}
	})
	return c
}

// ControllerRoleEnv runs the controller as the role the module creates, not
// the administrator: a role holding the controller policy for this cluster
// (and the interruption queue the test uses), whose session's temporary
// keys replace the administrator's. The local cloud enforces the policy, so
// every flow the suite drives proves it sufficient.
func ControllerRoleEnv(t testing.TB, cloud *localcloud.Cloud, extraEnv []string) []string {
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
		NodeRoleARN: "arn:aws:iam::" + awsemu.AccountID + ":role/" + NodeRole}
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

// Stop signals the controller and waits up to 15 s for it to exit before
// killing it. Stopping a stopped controller does nothing.
func (c *Controller) Stop(sig syscall.Signal) {
	if c.Cmd == nil || c.Cmd.Process == nil {
		return
	}
	_ = c.Cmd.Process.Signal(sig)
	select {
	case <-c.exited:
	case <-time.After(15 * time.Second):
		_ = c.Cmd.Process.Kill()
		<-c.exited
	}
	c.Cmd = nil
}

// Exited reports whether the process has ended without Stop: a crash.
func (c *Controller) Exited() bool {
	if c.Cmd == nil {
		return false
	}
	select {
	case <-c.exited:
		return true
	default:
		return false
	}
}

// Entries returns the controller's JSON log lines whose msg is msg.
func (c *Controller) Entries(msg string) []map[string]any {
	f, err := os.Open(c.Log)
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

// Tail returns the last n lines of the controller's log.
func (c *Controller) Tail(n int) string {
	data, _ := os.ReadFile(c.Log)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
