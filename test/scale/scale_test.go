// Package scale is `make bench-scale`: the controller as a process on the
// local cloud, driven to hundreds of nodes and thousands of pods, with what
// it costs the controller (memory, CPU, apiserver requests, AWS calls).
// It asserts no figure: it prints a table and writes bench-scale.json.
package scale

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/crds"
	"github.com/nodewright/nodewright/controller/operator"
	"github.com/nodewright/nodewright/test/harness"
	"github.com/nodewright/nodewright/test/localcloud"
)

// shape is one Deployment of every step: its share of the step's pods and
// what each pod requests; spread pods spread over zones (DoNotSchedule).
type shape struct {
	name, cpu, memory string
	spread            bool
}

var shapes = []shape{
	{"xs", "100m", "128Mi", false},
	{"s", "250m", "512Mi", false},
	{"m", "500m", "1Gi", true},
	{"l", "1", "2Gi", false},
	{"xl", "2", "4Gi", true},
}

const scalePool = `
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
    # Karpenter's default policy, and its default budget (10%% of nodes).
    consolidationPolicy: WhenEmptyOrUnderutilized
    consolidateAfter: 30s
`

const scaleClass = `
apiVersion: nodewright.dev/v1
kind: EC2NodeClass
metadata: {name: default}
spec:
  role: ` + harness.NodeRole + `
  amiSelectorTerms: [{alias: al2023@latest}]
  subnetSelectorTerms: [{tags: {nodewright.dev/discovery: %s}}]
  securityGroupSelectorTerms: [{tags: {nodewright.dev/discovery: %[1]s}}]
`

// Step is one scale-up: its pods, from the first created to all Running.
type Step struct {
	Pods int `json:"pods"`
	// TotalPods is every bench pod after the step.
	TotalPods int `json:"totalPods"`
	// P50, P95 and Max are each pod's created → Running, by the watch.
	P50 Seconds `json:"p50"`
	P95 Seconds `json:"p95"`
	Max Seconds `json:"max"`
	// AllRunning is from the step's last pod created to its last Running.
	AllRunning Seconds `json:"allRunning"`
	// PodsCreated is from the step's Deployments created to its last pod
	// created: the ReplicaSet controller's share, not the controller's.
	PodsCreated    Seconds `json:"podsCreated"`
	Nodes          int     `json:"nodes"`
	DollarsPerHour float64 `json:"dollarsPerHour"`
	CreateFleet    int     `json:"createFleetCalls"`
	// APIRequests are the controller's own requests to the apiserver.
	APIRequests int `json:"apiserverRequests"`
}

// Steady is the controller idle at the final size.
type Steady struct {
	Window            Seconds `json:"window"`
	RSSMiB            float64 `json:"rssMiB"`
	PeakRSSMiB        float64 `json:"peakRssMiB"`
	HeapMiB           float64 `json:"heapInUseMiB"`
	PeakHeapMiB       float64 `json:"peakHeapInUseMiB"`
	CPUSecondsPerMin  float64 `json:"cpuSecondsPerMinute"`
	APIRequestsPerSec float64 `json:"apiserverRequestsPerSecond"`
	AWSCallsPerMin    float64 `json:"awsCallsPerMinute"`
	AWSCalls          string  `json:"awsCalls"`
}

// Interruptions is a burst of spot interruption warnings at full size.
type Interruptions struct {
	Nodes int `json:"nodes"`
	// Within is how long sending every warning took.
	Within    Seconds `json:"within"`
	Displaced int     `json:"displacedPods"`
	// P50, P95 and Max are from the first warning to each replacement pod
	// Running.
	P50 Seconds `json:"p50"`
	P95 Seconds `json:"p95"`
	Max Seconds `json:"max"`
	// AllRunning is from the first warning until every bench pod runs again
	// off the interrupted nodes; BeforeTermination says it came before the
	// instances' two-minute warning ran out.
	AllRunning        Seconds `json:"allRunning"`
	BeforeTermination bool    `json:"beforeTermination"`
	Replacements      int     `json:"replacementNodeClaims"`
	CreateFleet       int     `json:"createFleetCalls"`
}

// ScaleDown is every Deployment scaled to a fraction, until consolidation
// stops changing the nodes.
type ScaleDown struct {
	FromPods      int     `json:"fromPods"`
	ToPods        int     `json:"toPods"`
	NodesBefore   int     `json:"nodesBefore"`
	NodesAfter    int     `json:"nodesAfter"`
	DollarsBefore float64 `json:"dollarsPerHourBefore"`
	DollarsAfter  float64 `json:"dollarsPerHourAfter"`
	// FixedPoint is from the scale-down to the last change of the node set.
	FixedPoint Seconds `json:"fixedPoint"`
	// LongestPass is the upper bound of the histogram bucket that holds the
	// slowest disruption pass; MeanPass their mean.
	LongestPass Seconds `json:"longestPassAtMost"`
	MeanPass    Seconds `json:"meanPass"`
	Passes      int     `json:"passes"`
}

// Report is bench-scale.json.
type Report struct {
	Date          time.Time      `json:"date"`
	Commit        string         `json:"commit,omitempty"`
	Steps         []Step         `json:"steps"`
	Steady        *Steady        `json:"steady,omitempty"`
	Interruptions *Interruptions `json:"interruptions,omitempty"`
	ScaleDown     *ScaleDown     `json:"scaleDown,omitempty"`
	// controllerLog is copied beside the figures: the test's own copy goes
	// with its temporary directory, and a failed phase is read from it.
	controllerLog string
}

// Seconds marshals as a number of seconds.
type Seconds float64

func secs(d time.Duration) Seconds { return Seconds(d.Round(10 * time.Millisecond).Seconds()) }

// TestBenchScale drives SCALE_PODS pods (default 1 000) in steps of
// SCALE_STEP (default all at once) onto an empty cluster, then measures the
// controller idle for SCALE_STEADY (default 60s).
func TestBenchScale(t *testing.T) {
	if os.Getenv("NODEWRIGHT_BENCH_SCALE") == "" {
		t.Skip("a scale benchmark of minutes: make bench-scale")
	}
	total := envInt(t, "SCALE_PODS", 1000, 1)
	step := envInt(t, "SCALE_STEP", total, 1)
	steady := 60 * time.Second
	if v := os.Getenv("SCALE_STEADY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("SCALE_STEADY: %v", err)
		}
		steady = d
	}
	ctx := context.Background()
	cloud := localcloud.Start(t)
	if err := crds.Install(ctx, cloud.RESTConfig); err != nil {
		t.Fatal(err)
	}
	if err := harness.CreateNodeRole(ctx, cloud, harness.NodeRole); err != nil {
		t.Fatal(err)
	}
	// client-go's default 5 QPS would slow this test's reads, not the controller.
	cfg := rest.CopyConfig(cloud.RESTConfig)
	cfg.QPS, cfg.Burst = 200, 400
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	scheme, _ := operator.Scheme()
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	create(t, c, &v1.EC2NodeClass{}, fmt.Sprintf(scaleClass, cloud.ClusterName()))
	create(t, c, &v1.NodePool{}, scalePool)
	// SCALE_INTERRUPTIONS: a count of spot nodes to interrupt, "none", or
	// unset for a fifth of them (at most 200).
	interruptions := 0
	if v := os.Getenv("SCALE_INTERRUPTIONS"); v != "none" {
		interruptions = envInt(t, "SCALE_INTERRUPTIONS", 0, 1)
	}
	queue := ""
	if os.Getenv("SCALE_INTERRUPTIONS") != "none" {
		queue = "nodewright-interruption"
		harness.InterruptionQueue(t, cloud, queue)
	}
	port := freePort(t)
	// The controller's production timings, but for the log level; pprof
	// is served for a look at where a run's CPU and memory go.
	ctrl := harness.StartController(t, cloud, "LOG_LEVEL=info", fmt.Sprintf("METRICS_PORT=%d", port), "ENABLE_PROFILING=true",
		"BATCH_IDLE_DURATION=1s", "BATCH_MAX_DURATION=10s", "DISRUPTION_VALIDATION_DELAY=15s", "INTERRUPTION_QUEUE="+queue)
	t.Logf("controller: log %s, pprof http://127.0.0.1:%d/debug/pprof/", ctrl.Log, port)
	m := &monitor{pid: ctrl.Cmd.Process.Pid, metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", port)}
	stopSampling := m.sample(2 * time.Second)
	defer stopSampling()
	poll(t, "the EC2NodeClass Ready and the default service account", 2*time.Minute, func() bool {
		var nc v1.EC2NodeClass
		_, saErr := kube.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		if c.Get(ctx, client.ObjectKey{Name: "default"}, &nc) != nil || saErr != nil {
			return false
		}
		ready, _ := nc.Readiness()
		return ready == metav1.ConditionTrue
	})
	pods := harness.WatchPods(t, kube, "default", "scale")
	ec2c := ec2.NewFromConfig(cloud.AWSConfig())

	rep := &Report{Date: time.Now().UTC(), Commit: os.Getenv("SCALE_COMMIT"), controllerLog: ctrl.Log}
	defer rep.write(t)
	for done, i := 0, 0; done < total; i++ {
		n := min(step, total-done)
		workload := fmt.Sprintf("step-%d", i)
		if err := cloud.ResetCalls(ctx); err != nil {
			t.Fatal(err)
		}
		requestsBefore := m.apiRequests(t)
		for j, sh := range shapes {
			replicas := n / len(shapes)
			if j < n%len(shapes) {
				replicas++
			}
			if _, err := kube.AppsV1().Deployments("default").Create(ctx, deployment(workload, sh, int32(replicas)), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		deployed := time.Now()
		// Counted as Running now, not ever: consolidation may move pods
		// of the step before all of them run.
		poll(t, fmt.Sprintf("%d pods of %s Running", n, workload), 10*time.Minute, func() bool {
			return pods.Running(workload) >= n
		})
		lastRunning := time.Now()
		lastCreated := pods.Created(workload, n)
		allRunning := lastRunning.Sub(lastCreated)
		done += n
		watched, _ := pods.Latencies(workload)
		calls, err := cloud.Calls(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var claims v1.NodeClaimList
		if err := c.List(ctx, &claims); err != nil {
			t.Fatal(err)
		}
		s := Step{Pods: n, TotalPods: done, P50: secs(harness.Percentile(watched, 0.5)), P95: secs(harness.Percentile(watched, 0.95)),
			Max: secs(harness.Percentile(watched, 1)), AllRunning: secs(allRunning), PodsCreated: secs(lastCreated.Sub(deployed)), Nodes: len(claims.Items),
			DollarsPerHour: dollarsPerHour(t, ctrl, ec2c), CreateFleet: calls["ec2:CreateFleet"], APIRequests: m.apiRequests(t) - requestsBefore}
		rep.Steps = append(rep.Steps, s)
		t.Logf("%s: %d pods Running %s after the last was created; %d nodes, $%.2f/h", workload, n, allRunning.Round(100*time.Millisecond), s.Nodes, s.DollarsPerHour)
	}

	// Idle at the final size.
	if err := cloud.ResetCalls(ctx); err != nil {
		t.Fatal(err)
	}
	requestsBefore, cpuBefore, start := m.apiRequests(t), m.cpuSeconds(t), time.Now()
	time.Sleep(steady)
	window := time.Since(start)
	calls, err := cloud.Calls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	awsCalls := 0
	for _, n := range calls {
		awsCalls += n
	}
	rss, peakRSS, heap, peakHeap := m.memory()
	rep.Steady = &Steady{Window: secs(window), RSSMiB: rss, PeakRSSMiB: peakRSS, HeapMiB: heap, PeakHeapMiB: peakHeap,
		CPUSecondsPerMin:  (m.cpuSeconds(t) - cpuBefore) / window.Minutes(),
		APIRequestsPerSec: float64(m.apiRequests(t)-requestsBefore) / window.Seconds(),
		AWSCallsPerMin:    float64(awsCalls) / window.Minutes(), AWSCalls: calls.String()}

	b := &bench{t: t, kube: kube, c: c, cloud: cloud, ctrl: ctrl, m: m, ec2: ec2c, pods: pods, total: total}
	if queue != "" {
		rep.Interruptions = b.interrupt(ctx, interruptions)
	}
	if keep := os.Getenv("SCALE_DOWN_TO"); keep != "0" {
		frac := 0.2
		if keep != "" {
			f, err := strconv.ParseFloat(keep, 64)
			if err != nil || f <= 0 || f >= 1 {
				t.Fatalf("SCALE_DOWN_TO=%q: want a fraction between 0 and 1", keep)
			}
			frac = f
		}
		rep.ScaleDown = b.scaleDown(ctx, frac)
	}
}

// write prints the figures and writes them to SCALE_OUT
// (bench-scale.json): whatever phases ran, so a phase that fails does not
// lose the figures of those before it.
func (r *Report) write(t *testing.T) {
	fmt.Print(r.table())
	out := os.Getenv("SCALE_OUT")
	if out == "" {
		out = "bench-scale.json"
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Error(err)
		return
	}
	if err := os.WriteFile(out, append(data, '\n'), 0o644); err != nil {
		t.Error(err)
		return
	}
	abs, _ := filepath.Abs(out)
	fmt.Printf("figures written to %s\n", abs)
	if r.controllerLog == "" {
		return
	}
	logCopy := strings.TrimSuffix(abs, ".json") + "-controller.log"
	if data, err := os.ReadFile(r.controllerLog); err != nil {
		t.Error(err)
	} else if err := os.WriteFile(logCopy, data, 0o644); err != nil {
		t.Error(err)
	} else {
		fmt.Printf("controller log copied to %s\n", logCopy)
	}
}

func (r *Report) table() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "step\tpods\ttotal\tpods created in\tp50\tp95\tmax\tall Running\tnodes\t$/h\tCreateFleet\tapiserver requests")
	for i, s := range r.Steps {
		fmt.Fprintf(w, "%d\t%d\t%d\t%.1fs\t%.1fs\t%.1fs\t%.1fs\t%.1fs\t%d\t%.2f\t%d\t%d\n", i, s.Pods, s.TotalPods, s.PodsCreated, s.P50, s.P95, s.Max, s.AllRunning, s.Nodes, s.DollarsPerHour, s.CreateFleet, s.APIRequests)
	}
	w.Flush()
	if st := r.Steady; st != nil && len(r.Steps) > 0 {
		fmt.Fprintf(&b, "idle for %.0fs at %d pods: RSS %.0f MiB (peak %.0f), Go heap in use %.0f MiB (peak %.0f), CPU %.2f s/min, apiserver %.2f requests/s, AWS %.1f calls/min (%s)\n",
			st.Window, r.Steps[len(r.Steps)-1].TotalPods, st.RSSMiB, st.PeakRSSMiB, st.HeapMiB, st.PeakHeapMiB, st.CPUSecondsPerMin, st.APIRequestsPerSec, st.AWSCallsPerMin, st.AWSCalls)
	}
	if i := r.Interruptions; i != nil {
		fmt.Fprintf(&b, "%d spot interruptions sent in %.1fs, %d pods displaced: replacement Running p50 %.1fs, p95 %.1fs, max %.1fs after the warning; all Running %.1fs after it (before the instances terminate: %t); %d replacement nodes, %d CreateFleet calls\n",
			i.Nodes, i.Within, i.Displaced, i.P50, i.P95, i.Max, i.AllRunning, i.BeforeTermination, i.Replacements, i.CreateFleet)
	}
	if d := r.ScaleDown; d != nil {
		fmt.Fprintf(&b, "scale down %d -> %d pods: fixed point %.0fs after; nodes %d -> %d, $%.2f/h -> $%.2f/h; %d disruption passes, mean %.3fs, longest <= %.3fs\n",
			d.FromPods, d.ToPods, d.FixedPoint, d.NodesBefore, d.NodesAfter, d.DollarsBefore, d.DollarsAfter, d.Passes, d.MeanPass, d.LongestPass)
	}
	return b.String()
}

// deployment is one shape's pause pods of a step.
func deployment(workload string, sh shape, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"scale": workload, "shape": sh.name}
	spec := corev1.PodSpec{
		Containers: []corev1.Container{{Name: "pause", Image: "registry.k8s.io/pause:3.10",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse(sh.cpu), corev1.ResourceMemory: resource.MustParse(sh.memory)}}}},
		TerminationGracePeriodSeconds: ptr.To[int64](0),
	}
	if sh.spread {
		spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: corev1.LabelTopologyZone,
			WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: &metav1.LabelSelector{MatchLabels: labels}}}
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: workload + "-" + sh.name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(replicas), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec}},
	}
}

// dollarsPerHour sums the price the controller logged at launch for each
// of its instances still running.
func dollarsPerHour(t *testing.T, ctrl *harness.Controller, c *ec2.Client) float64 {
	t.Helper()
	prices := map[string]float64{}
	for _, e := range ctrl.Entries("launched instance") {
		if id, ok := e["instance"].(string); ok {
			p, _ := e["price"].(float64)
			prices[id] = p
		}
	}
	pages := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag-key"), Values: []string{v1.NodePoolTagKey}},
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}}}})
	total := 0.0
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				total += prices[aws.ToString(in.InstanceId)]
			}
		}
	}
	return total
}

// monitor samples the controller process: its RSS from /proc, and its Go
// heap and apiserver requests from its metrics endpoint.
type monitor struct {
	pid     int
	metrics string

	mu                           sync.Mutex // guards the figures below
	rss, peakRSS, heap, peakHeap float64
}

func (m *monitor) sample(every time.Duration) (stop func()) {
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			rss, rssErr := m.rssMiB()
			families, metricsErr := m.scrape()
			m.mu.Lock()
			if rssErr == nil {
				m.rss, m.peakRSS = rss, max(m.peakRSS, rss)
			}
			if heap, ok := families["go_memstats_heap_inuse_bytes"]; metricsErr == nil && ok {
				m.heap, m.peakHeap = heap/(1<<20), max(m.peakHeap, heap/(1<<20))
			}
			m.mu.Unlock()
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(done) }
}

func (m *monitor) memory() (rss, peakRSS, heap, peakHeap float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rss, m.peakRSS, m.heap, m.peakHeap
}

// rssMiB reads VmRSS from /proc/PID/status.
func (m *monitor) rssMiB() (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", m.pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", m.pid)
}

// cpuSeconds is the process's user and system CPU time so far.
func (m *monitor) cpuSeconds(t *testing.T) float64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", m.pid))
	if err != nil {
		t.Fatal(err)
	}
	// The fields after the command's closing parenthesis; utime and stime
	// are the 14th and 15th of the line, in clock ticks (100 per second on Linux).
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100
}

// apiRequests is the controller's rest_client_requests_total, summed.
func (m *monitor) apiRequests(t *testing.T) int {
	t.Helper()
	families, err := m.scrape()
	if err != nil {
		t.Fatal(err)
	}
	return int(families["rest_client_requests_total"])
}

// scrape sums each metric family's samples in the Prometheus text format.
func (m *monitor) scrape() (map[string]float64, error) {
	resp, err := http.Get(m.metrics)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(line, '{'); i >= 0 && i < len(name) {
			name, rest = line[:i], line[strings.LastIndexByte(line, '}')+2:]
		}
		value, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
		if err == nil {
			out[name] += value
		}
	}
	return out, sc.Err()
}

func create(t *testing.T, c client.Client, obj client.Object, doc string) {
	t.Helper()
	if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}

func poll(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// envInt is a count of at least least from the environment, def when unset.
func envInt(t *testing.T, name string, def, least int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < least {
		t.Fatalf("%s=%q: want a whole number of at least %d", name, v, least)
	}
	return n
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
