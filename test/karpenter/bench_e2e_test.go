package karpenter

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	smithymiddleware "github.com/aws/smithy-go/middleware"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/nodewright/nodewright/controller/crds"
	"github.com/nodewright/nodewright/test/harness"
	"github.com/nodewright/nodewright/test/localcloud"
	"github.com/nodewright/nodewright/test/localcloud/awsemu"
)

// TestBenchVsKarpenterE2E runs Karpenter and nodewright side by side, each
// on its own fresh local cloud started at the same moment, with equivalent
// NodePools and EC2NodeClasses and the same batch windows, and drives the
// same workloads on both at the same moments. It prints, per controller and
// workload, pod latency, NodeClaims, instances and their $/h, how long empty
// nodes take to go after scale to zero, and the AWS calls of each phase.
// It asserts no figure; it fails only when a controller does not run every
// pod, or does not take its nodes away after scale to zero.
func TestBenchVsKarpenterE2E(t *testing.T) {
	if os.Getenv("NODEWRIGHT_BENCH_E2E") == "" {
		t.Skip("a side-by-side benchmark of minutes: make bench-vs-karpenter-e2e")
	}
	results := &benchResults{byKey: map[string]*benchResult{}}
	step := newLockstep(2)
	sides := []struct {
		name  string
		start func(*testing.T) *benchSide
	}{{"karpenter", newKarpenterSide}, {"nodewright", newNodewrightSide}}
	t.Run("side-by-side", func(t *testing.T) {
		for _, sd := range sides {
			t.Run(sd.name, func(t *testing.T) {
				t.Parallel()
				defer step.leave()
				await := func(point string) {
					if !step.await(point) {
						t.Fatalf("the other controller's side stopped before %q", point)
					}
				}
				await("start the clouds")
				s := sd.start(t)
				await("both controllers ready")
				for _, w := range benchWorkloads {
					results.put(sd.name, w.id, s.run(w, await))
				}
			})
		}
	})
	fmt.Print(results.report(sides[0].name, sides[1].name))
}

// benchEnv is what both controllers are given, under the names both read:
// the same provisioning batch windows (both defaults, stated), and info
// logging.
var benchEnv = []string{"BATCH_IDLE_DURATION=1s", "BATCH_MAX_DURATION=10s", "LOG_LEVEL=info"}

const (
	benchScaleUpTimeout   = 3 * time.Minute
	benchScaleDownTimeout = 5 * time.Minute
	benchQueue            = "nodewright-interruption"
)

// The two pools ask for the same thing, each in its own label vocabulary:
// c, m and r instances of generation 3 or later, spot or on-demand, amd64
// or arm64; empty nodes go 30 s after they empty, all at once.
const benchKarpenterPool = `
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: default}
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
      requirements:
      - {key: karpenter.sh/capacity-type, operator: In, values: [spot, on-demand]}
      - {key: karpenter.k8s.aws/instance-category, operator: In, values: [c, m, r]}
      - {key: karpenter.k8s.aws/instance-generation, operator: Gt, values: ["2"]}
      - {key: kubernetes.io/arch, operator: In, values: [amd64, arm64]}
  disruption:
    consolidationPolicy: WhenEmpty
    consolidateAfter: 30s
    budgets: [{nodes: "100%"}]
`

const benchNodewrightPool = `
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
      - {key: kubernetes.io/arch, operator: In, values: [amd64, arm64]}
  disruption:
    consolidationPolicy: WhenEmpty
    consolidateAfter: 30s
    budgets: [{nodes: "100%"}]
`

const benchNodewrightClass = `
apiVersion: nodewright.dev/v1
kind: EC2NodeClass
metadata: {name: default}
spec:
  role: ` + harness.NodeRole + `
  amiSelectorTerms: [{alias: al2023@latest}]
  subnetSelectorTerms: [{tags: {nodewright.dev/discovery: %s}}]
  securityGroupSelectorTerms: [{tags: {nodewright.dev/discovery: %[1]s}}]
`

var (
	nwNodeClassGVR = schema.GroupVersionResource{Group: "nodewright.dev", Version: "v1", Resource: "ec2nodeclasses"}
	nwNodePoolGVR  = schema.GroupVersionResource{Group: "nodewright.dev", Version: "v1", Resource: "nodepools"}
	nwNodeClaimGVR = schema.GroupVersionResource{Group: "nodewright.dev", Version: "v1", Resource: "nodeclaims"}
)

// podShape is one Deployment of a workload: replicas pause pods, each
// requesting cpu and memory.
type podShape struct {
	replicas int32
	cpu, mem string
}

type benchWorkload struct {
	id     string // the pods' bench label and the Deployments' name prefix
	title  string
	shapes []podShape
}

func (w benchWorkload) pods() int {
	n := 0
	for _, s := range w.shapes {
		n += int(s.replicas)
	}
	return n
}

var benchWorkloads = []benchWorkload{
	{id: "seed", title: "seed: 10 x 1 CPU/1.5Gi", shapes: []podShape{{10, "1", "1536Mi"}}},
	// 67.5 CPU and 122.5 GiB in six shapes, from CPU-heavy (2 CPU/1Gi) to
	// memory-heavy (1 CPU/4Gi).
	{id: "mixed", title: "mixed: 60 pods 250m-2 CPU, 256Mi-4Gi", shapes: []podShape{
		{10, "250m", "256Mi"}, {10, "500m", "1Gi"}, {10, "1", "2Gi"}, {10, "1", "4Gi"}, {10, "2", "1Gi"}, {10, "2", "4Gi"}}},
}

// benchSide is one controller on its own local cloud, observed the same way
// whichever controller it is.
type benchSide struct {
	t     *testing.T
	name  string
	cloud *localcloud.Cloud
	kube  kubernetes.Interface
	dyn   dynamic.Interface
	// ec2 is the benchmark's own client. own counts its calls, which
	// callsSinceReset takes out of the cloud's counts.
	ec2        *ec2.Client
	own        *callCounter
	nodeClaims schema.GroupVersionResource
	nodeClass  schema.GroupVersionResource
	poolLabel  string // the node label naming the node's NodePool
	pods       *harness.PodClock
	logTail    func(n int) string
}

func newKarpenterSide(t *testing.T) *benchSide {
	e := newEnv(t, benchEnv...)
	cluster := e.cloud.ClusterName()
	e.create(nodeClassGVR, fmt.Sprintf(nodeClassYAML, cluster, cluster))
	e.create(nodePoolGVR, benchKarpenterPool)
	s := newBenchSide(t, "karpenter", e.cloud, nodeClaimGVR, nodeClassGVR, "karpenter.sh/nodepool")
	s.logTail = func(n int) string { return tail(e.log, n) }
	s.awaitReady()
	return s
}

// newNodewrightSide sets up what the module would: CRDs, node role and an
// interruption queue fed by the same four rules as Karpenter's, and runs
// the controller with the role the module gives it.
func newNodewrightSide(t *testing.T) *benchSide {
	cloud := localcloud.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := crds.Install(ctx, cloud.RESTConfig); err != nil {
		t.Fatal(err)
	}
	if err := harness.CreateNodeRole(ctx, cloud, harness.NodeRole); err != nil {
		t.Fatal(err)
	}
	createInterruptionQueue(t, cloud, benchQueue, "nodewright-"+cloud.ClusterName())
	s := newBenchSide(t, "nodewright", cloud, nwNodeClaimGVR, nwNodeClassGVR, "nodewright.dev/nodepool")
	s.create(nwNodeClassGVR, fmt.Sprintf(benchNodewrightClass, cloud.ClusterName()))
	s.create(nwNodePoolGVR, benchNodewrightPool)
	// The production disruption validation delay, not the integration
	// suite's 2 s: Karpenter's is not configurable.
	ctrl := harness.StartController(t, cloud, slices.Concat(benchEnv, []string{"INTERRUPTION_QUEUE=" + benchQueue, "DISRUPTION_VALIDATION_DELAY=15s"})...)
	s.logTail = ctrl.Tail
	s.awaitReady()
	return s
}

func newBenchSide(t *testing.T, name string, cloud *localcloud.Cloud, nodeClaims, nodeClass schema.GroupVersionResource, poolLabel string) *benchSide {
	t.Helper()
	// client-go's default 5 QPS would slow the polls below, not the controllers.
	cfg := rest.CopyConfig(cloud.RESTConfig)
	cfg.QPS, cfg.Burst = 100, 200
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	own := &callCounter{n: map[string]int{}}
	awsCfg := cloud.AWSConfig()
	awsCfg.APIOptions = append(slices.Clone(awsCfg.APIOptions), own.middleware)
	s := &benchSide{t: t, name: name, cloud: cloud, kube: kube, dyn: dyn, ec2: ec2.NewFromConfig(awsCfg), own: own,
		nodeClaims: nodeClaims, nodeClass: nodeClass, poolLabel: poolLabel, logTail: func(int) string { return "" }}
	s.pods = harness.WatchPods(t, kube, "default", "bench")
	return s
}

// awaitReady waits for the EC2NodeClass to be Ready and for the default
// service account, so that neither counts in the first workload's latency.
func (s *benchSide) awaitReady() {
	t := s.t
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		nc, err := s.dyn.Resource(s.nodeClass).Get(context.Background(), "default", metav1.GetOptions{})
		if err == nil && conditionTrue(nc, "Ready") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: EC2NodeClass not Ready within 2m (%v)\n%s", s.name, err, s.logTail(40))
		}
		time.Sleep(500 * time.Millisecond)
	}
	awaitDefaultServiceAccount(t, s.kube)
}

// create creates one object, retrying while its CRD is being established.
func (s *benchSide) create(gvr schema.GroupVersionResource, doc string) {
	s.t.Helper()
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
		s.t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := s.dyn.Resource(gvr).Create(context.Background(), obj, metav1.CreateOptions{})
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("creating %s %s: %v", gvr.Resource, obj.GetName(), err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// benchResult is one controller's figures for one workload.
type benchResult struct {
	pods, running int
	// latency is, per pod, from this process's watch first seeing the pod
	// to it first seeing the pod Running and Ready, sorted; serverLatency
	// the same from the pod's own timestamps (creationTimestamp to the
	// Ready condition's lastTransitionTime, whole seconds both).
	latency, serverLatency []time.Duration
	allRunning             time.Duration // from creating the Deployments to the last pod Running
	nodeClaims             int           // NodeClaims created during the scale-up
	instances              []launchedInstance
	scaleDown              time.Duration // from scaling to zero to no NodeClaim, node or live instance
	upCalls, downCalls     map[string]int
}

type launchedInstance struct {
	id, typ, zone, arch string
	spot, live          bool
	price               float64 // $/h: on-demand from the catalog, spot at launch from DescribeSpotPriceHistory
}

func (r *benchResult) perHour() float64 {
	total := 0.0
	for _, in := range r.instances {
		if in.live {
			total += in.price
		}
	}
	return total
}

// run scales w up from zero and back to zero, passing the scale-up and the
// scale-down points together with the other side.
func (s *benchSide) run(w benchWorkload, await func(point string)) *benchResult {
	t, ctx := s.t, context.Background()
	r := &benchResult{pods: w.pods()}
	before := map[string]bool{}
	for _, in := range s.instances(ctx, false) {
		before[aws.ToString(in.InstanceId)] = true
	}

	// 1. Scale up: every pod Running on a node of the pool.
	await(w.id + " scale-up")
	s.resetCalls()
	start := time.Now()
	for i, sh := range w.shapes {
		if _, err := s.kube.AppsV1().Deployments("default").Create(ctx, benchDeployment(w.id, i, sh), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	claims := map[string]bool{}
	for {
		for _, c := range s.listNodeClaims(ctx) {
			claims[c.GetName()] = true
		}
		r.running = s.runningOnPool(ctx, w.id)
		if r.running == r.pods {
			break
		}
		// The figures so far are still reported, and the scale to zero
		// still measured, so that the other side carries on.
		if time.Since(start) > benchScaleUpTimeout {
			t.Errorf("%s, %s: only %d of %d pods Running on its nodes after %s\n%s", s.name, w.id, r.running, r.pods, benchScaleUpTimeout, s.logTail(20))
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	r.allRunning = time.Since(start)
	t.Logf("%s, %s: %d of %d pods Running after %s", s.name, w.id, r.running, r.pods, secs(r.allRunning))
	r.upCalls = s.callsSinceReset()
	for _, c := range s.listNodeClaims(ctx) {
		claims[c.GetName()] = true
	}
	r.nodeClaims = len(claims)
	r.latency, r.serverLatency = s.pods.Latencies(w.id)
	for _, in := range s.instances(ctx, false) {
		if !before[aws.ToString(in.InstanceId)] {
			r.instances = append(r.instances, s.describe(ctx, in))
		}
	}
	slices.SortFunc(r.instances, func(a, b launchedInstance) int { return strings.Compare(a.typ+a.id, b.typ+b.id) })

	// 2. Scale to zero: no NodeClaim, node or live instance left.
	await(w.id + " scale-down")
	s.resetCalls()
	start = time.Now()
	for i := range w.shapes {
		name := fmt.Sprintf("%s-%d", w.id, i)
		if _, err := s.kube.AppsV1().Deployments("default").UpdateScale(ctx, name,
			&autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: autoscalingv1.ScaleSpec{Replicas: 0}},
			metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for {
		claims, nodes, live := len(s.listNodeClaims(ctx)), s.poolNodes(ctx), len(s.instances(ctx, true))
		if claims == 0 && len(nodes) == 0 && live == 0 {
			break
		}
		if time.Since(start) > benchScaleDownTimeout {
			t.Fatalf("%s, %s: %d NodeClaims, %d nodes and %d live instances left %s after scale to zero\n%s",
				s.name, w.id, claims, len(nodes), live, benchScaleDownTimeout, s.logTail(40))
		}
		time.Sleep(250 * time.Millisecond)
	}
	r.scaleDown = time.Since(start)
	r.downCalls = s.callsSinceReset()
	t.Logf("%s, %s: no node left %s after scale to zero", s.name, w.id, secs(r.scaleDown))
	for i := range w.shapes {
		if err := s.kube.AppsV1().Deployments("default").Delete(ctx, fmt.Sprintf("%s-%d", w.id, i), metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func benchDeployment(workload string, i int, sh podShape) *appsv1.Deployment {
	labels := map[string]string{"bench": workload, "shape": strconv.Itoa(i)}
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", workload, i), Namespace: "default"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(sh.replicas), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				TerminationGracePeriodSeconds: ptr.To[int64](0),
				Containers: []corev1.Container{{Name: "pause", Image: "registry.k8s.io/pause:3.10",
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceCPU: resource.MustParse(sh.cpu), corev1.ResourceMemory: resource.MustParse(sh.mem)}}}}}}}}
}

func (s *benchSide) listNodeClaims(ctx context.Context) []unstructured.Unstructured {
	l, err := s.dyn.Resource(s.nodeClaims).List(ctx, metav1.ListOptions{})
	if err != nil {
		s.t.Logf("%s: listing NodeClaims: %v", s.name, err)
		return []unstructured.Unstructured{{}}
	}
	return l.Items
}

// poolNodes are the names of the nodes carrying the pool label.
func (s *benchSide) poolNodes(ctx context.Context) map[string]bool {
	l, err := s.kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: s.poolLabel + "=default"})
	if err != nil {
		s.t.Logf("%s: listing nodes: %v", s.name, err)
		return map[string]bool{"?": true}
	}
	out := map[string]bool{}
	for _, n := range l.Items {
		out[n.Name] = true
	}
	return out
}

// runningOnPool counts the workload's pods Running and Ready on the pool's nodes.
func (s *benchSide) runningOnPool(ctx context.Context, workload string) int {
	pods, err := s.kube.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "bench=" + workload})
	if err != nil {
		return -1
	}
	nodes := s.poolNodes(ctx)
	n := 0
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.Status.Phase == corev1.PodRunning && harness.PodReady(p) && p.DeletionTimestamp == nil && nodes[p.Spec.NodeName] {
			n++
		}
	}
	return n
}

// instances lists the cloud's instances: all of them, or only the live
// ones (pending, running, stopping or stopped; shutting-down is going).
func (s *benchSide) instances(ctx context.Context, liveOnly bool) []ec2types.Instance {
	in := &ec2.DescribeInstancesInput{}
	if liveOnly {
		in.Filters = []ec2types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}}}
	}
	var out []ec2types.Instance
	p := ec2.NewDescribeInstancesPaginator(s.ec2, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			s.t.Fatalf("%s: describing instances: %v", s.name, err)
		}
		for _, r := range page.Reservations {
			out = append(out, r.Instances...)
		}
	}
	return out
}

// describe prices an instance as the emulator does: on-demand at the
// catalog's price, spot at the price in effect in its zone when it
// launched, asked of DescribeSpotPriceHistory. Both clouds run the same
// synthetic spot price model and launch within the same minutes, so their
// prices compare.
func (s *benchSide) describe(ctx context.Context, in ec2types.Instance) launchedInstance {
	out := launchedInstance{id: aws.ToString(in.InstanceId), typ: string(in.InstanceType), arch: string(in.Architecture),
		spot: in.InstanceLifecycle == ec2types.InstanceLifecycleTypeSpot}
	if in.Placement != nil {
		out.zone = aws.ToString(in.Placement.AvailabilityZone)
	}
	if in.State != nil {
		out.live = in.State.Name == ec2types.InstanceStateNamePending || in.State.Name == ec2types.InstanceStateNameRunning
	}
	if !out.spot {
		cat, err := loadCatalog()
		if err != nil {
			s.t.Fatal(err)
		}
		it, ok := cat.ByName[out.typ]
		if !ok {
			s.t.Fatalf("%s: %s is not in the emulator's catalog", s.name, out.typ)
		}
		if out.price, ok = it.Price(s.cloud.Region()); !ok {
			s.t.Fatalf("%s: the catalog has no on-demand price for %s", s.name, out.typ)
		}
		return out
	}
	h, err := s.ec2.DescribeSpotPriceHistory(ctx, &ec2.DescribeSpotPriceHistoryInput{InstanceTypes: []ec2types.InstanceType{in.InstanceType},
		AvailabilityZone: aws.String(out.zone), ProductDescriptions: []string{"Linux/UNIX"}, StartTime: in.LaunchTime, EndTime: in.LaunchTime})
	if err != nil {
		s.t.Fatalf("%s: spot price of %s in %s: %v", s.name, out.typ, out.zone, err)
	}
	var at time.Time
	for _, p := range h.SpotPriceHistory {
		ts := aws.ToTime(p.Timestamp)
		if ts.After(aws.ToTime(in.LaunchTime)) || ts.Before(at) {
			continue
		}
		v, err := strconv.ParseFloat(aws.ToString(p.SpotPrice), 64)
		if err != nil {
			s.t.Fatalf("%s: spot price %q: %v", s.name, aws.ToString(p.SpotPrice), err)
		}
		out.price, at = v, ts
	}
	if at.IsZero() {
		s.t.Fatalf("%s: no spot price for %s in %s at %s", s.name, out.typ, out.zone, aws.ToTime(in.LaunchTime))
	}
	return out
}

var loadCatalog = sync.OnceValues(awsemu.LoadCatalog)

func (s *benchSide) resetCalls() {
	s.own.take()
	if err := s.cloud.ResetCalls(context.Background()); err != nil {
		s.t.Fatal(err)
	}
}

// callsSinceReset is the cloud's count of AWS calls per "service:Action"
// since resetCalls, less the benchmark's own: the controller's calls, and
// the node agent's if it makes any, alike on both clouds.
func (s *benchSide) callsSinceReset() map[string]int {
	calls, err := s.cloud.Calls(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	for k, n := range s.own.take() {
		calls[k] -= n
		if calls[k] <= 0 {
			delete(calls, k)
		}
	}
	return calls
}

// callCounter counts an AWS client's requests per "service:Action", retries
// included, as the emulator counts them.
type callCounter struct {
	mu sync.Mutex // guards n
	n  map[string]int
}

func (c *callCounter) middleware(st *smithymiddleware.Stack) error {
	return st.Finalize.Add(smithymiddleware.FinalizeMiddlewareFunc("benchCallCounter",
		func(ctx context.Context, in smithymiddleware.FinalizeInput, next smithymiddleware.FinalizeHandler) (smithymiddleware.FinalizeOutput, smithymiddleware.Metadata, error) {
			c.mu.Lock()
			c.n[strings.ToLower(awsmiddleware.GetServiceID(ctx))+":"+awsmiddleware.GetOperationName(ctx)]++
			c.mu.Unlock()
			return next.HandleFinalize(ctx, in)
		}), smithymiddleware.After)
}

// take returns the counts and zeroes them.
func (c *callCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

// lockstep lets the sides pass named points together, so that the clouds
// start, and each workload scales up and down, at the same moment on both.
// A side that stops (its test failed) releases the others, whose await
// then reports false.
type lockstep struct {
	mu      sync.Mutex // guards arrived and left
	cond    *sync.Cond
	parties int
	arrived map[string]int
	left    int
}

func newLockstep(parties int) *lockstep {
	l := &lockstep{parties: parties, arrived: map[string]int{}}
	l.cond = sync.NewCond(&l.mu)
	return l
}

func (l *lockstep) await(point string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.arrived[point]++
	l.cond.Broadcast()
	for l.arrived[point] < l.parties && l.left == 0 {
		l.cond.Wait()
	}
	return l.arrived[point] >= l.parties
}

func (l *lockstep) leave() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.left++
	l.cond.Broadcast()
}

type benchResults struct {
	mu    sync.Mutex // guards byKey
	byKey map[string]*benchResult
}

func (b *benchResults) put(side, workload string, r *benchResult) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.byKey[side+"/"+workload] = r
}

// report is the side-by-side table, then each result's instances and
// AWS calls by action.
func (b *benchResults) report(sides ...string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out strings.Builder
	fmt.Fprintf(&out, "\nnodewright vs Karpenter, end to end on two local clouds started together (%s)\n\n", strings.Join(benchEnv, " "))
	tw := tabwriter.NewWriter(&out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tcontroller\tpods\tp50\tp95\tall Running\tNodeClaims\tinstances (spot+od)\t$/h\tempty→gone\tAWS calls up\tdown\t")
	for _, w := range benchWorkloads {
		for _, side := range sides {
			r, ok := b.byKey[side+"/"+w.id]
			if !ok {
				fmt.Fprintf(tw, "%s\t%s\t%s\t\t\t\t\t\t\t\t\t\t\n", w.id, side, "no result")
				continue
			}
			spot := 0
			for _, in := range r.instances {
				if in.spot {
					spot++
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d (%d+%d)\t%.4f\t%s\t%d\t%d\t\n", w.id, side, podCount(r),
				secs(harness.Percentile(r.latency, 0.5)), secs(harness.Percentile(r.latency, 0.95)), secs(r.allRunning), r.nodeClaims,
				len(r.instances), spot, len(r.instances)-spot, r.perHour(), secs(r.scaleDown), total(r.upCalls), total(r.downCalls))
		}
	}
	tw.Flush()
	out.WriteString(`
p50/p95: pod pending -> Running, from this process's pod watch seeing the pod
  created to it seeing the pod Running and Ready (millisecond clock; the pods'
  own creationTimestamp -> Ready times, whole seconds, are below as "server").
pods: n/m when only n of m pods ran within the scale-up timeout (` + benchScaleUpTimeout.String() + `; the
  test fails); all Running is then the timeout.
all Running: from creating the Deployments to the last pod Running.
instances: launched during the scale-up; $/h: those still running then, on-demand
  at the catalog price, spot at DescribeSpotPriceHistory's price at launch.
empty→gone: from scaling to zero to no NodeClaim, no node and no live instance
  (consolidateAfter 30s is the floor).
AWS calls: the controller's requests the cloud counted in each phase, less the
  benchmark's own.
`)
	for _, w := range benchWorkloads {
		for _, side := range sides {
			r, ok := b.byKey[side+"/"+w.id]
			if !ok {
				continue
			}
			fmt.Fprintf(&out, "\n%s, %s (%s):\n", side, w.id, w.title)
			fmt.Fprintf(&out, "  pending -> Running: watched max %s; server p50 %s p95 %s\n", secs(harness.Percentile(r.latency, 1)),
				secs(harness.Percentile(r.serverLatency, 0.5)), secs(harness.Percentile(r.serverLatency, 0.95)))
			var ins []string
			for _, in := range r.instances {
				ct := "od"
				if in.spot {
					ct = "spot"
				}
				gone := ""
				if !in.live {
					gone = " (gone)"
				}
				ins = append(ins, fmt.Sprintf("%s %s %s %s $%.4f%s", in.typ, in.arch, ct, in.zone, in.price, gone))
			}
			fmt.Fprintf(&out, "  instances: %s\n", strings.Join(ins, ", "))
			fmt.Fprintf(&out, "  calls up:   %s\n", byAction(r.upCalls))
			fmt.Fprintf(&out, "  calls down: %s\n", byAction(r.downCalls))
		}
	}
	return out.String()
}

// podCount is "10", or "56/60" when not every pod ran.
func podCount(r *benchResult) string {
	if r.running == r.pods {
		return strconv.Itoa(r.pods)
	}
	return fmt.Sprintf("%d/%d", r.running, r.pods)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

func total(calls map[string]int) int {
	n := 0
	for _, v := range calls {
		n += v
	}
	return n
}

func byAction(calls map[string]int) string { return localcloud.Calls(calls).String() }
