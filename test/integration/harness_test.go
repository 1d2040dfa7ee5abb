// Package integration runs the nodewright binary as a real process against
// a fresh local cloud (control plane, AWS endpoint, node agent) and checks
// what it does through the same clients production uses.
package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/crds"
	"github.com/nodewright/nodewright/controller/operator"
	"github.com/nodewright/nodewright/test/harness"
	"github.com/nodewright/nodewright/test/localcloud"
)

// env is one local cloud with nodewright's CRDs, a node role, an
// EC2NodeClass and a NodePool, and the controller as a real process.
type env struct {
	t     *testing.T
	cloud *localcloud.Cloud
	kube  client.Client
	ec2   *ec2.Client
	ctrl  *harness.Controller
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
	if err := harness.CreateNodeRole(ctx, cloud, harness.NodeRole); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, cloud: cloud, kube: kube, ec2: ec2.NewFromConfig(cloud.AWSConfig())}
	e.apply(fmt.Sprintf(nodeClassYAML, cloud.ClusterName(), cloud.ClusterName()))
	e.apply(nodePool)
	e.ctrl = harness.StartController(t, cloud, extraEnv...)
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
		e.t.Fatalf("%s: not within %s (last error: %v)\ncontroller log tail:\n%s", what, timeout, last, e.ctrl.Tail(40))
	}
}

func (e *env) nodeClaims(ctx context.Context) []v1.NodeClaim {
	var list v1.NodeClaimList
	if err := e.kube.List(ctx, &list); err != nil {
		e.t.Fatal(err)
	}
	return list.Items
}

// calls formats the AWS endpoint's call counts since the last ResetCalls,
// by action.
func (e *env) calls(ctx context.Context) string {
	calls, err := e.cloud.Calls(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return calls.String()
}

// liveInstances lists the pending or running instances in the emulator.
func (e *env) liveInstances(ctx context.Context) []ec2types.Instance {
	live, err := e.liveInstancesErr(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return live
}

// liveInstancesErr is liveInstances for a watcher goroutine.
func (e *env) liveInstancesErr(ctx context.Context) ([]ec2types.Instance, error) {
	out, err := e.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}}}})
	if err != nil {
		return nil, err
	}
	var live []ec2types.Instance
	for _, r := range out.Reservations {
		live = append(live, r.Instances...)
	}
	return live, nil
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
