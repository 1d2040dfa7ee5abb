package scale

import (
	"bufio"
	"context"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/utils/index"
	"github.com/nodewright/nodewright/test/harness"
	"github.com/nodewright/nodewright/test/localcloud"
)

// spotLead is the warning AWS gives before a spot instance terminates.
const spotLead = 120 * time.Second

// bench is the running benchmark, for the phases after the scale-up.
type bench struct {
	t     *testing.T
	kube  kubernetes.Interface
	c     client.Client
	cloud *localcloud.Cloud
	ctrl  *harness.Controller
	m     *monitor
	ec2   *ec2.Client
	pods  *harness.PodClock
	// total is how many bench pods the Deployments want now.
	total int
}

// interrupt sends spot interruption warnings as fast as the AWS endpoint
// takes them, to n spot nodes, or when n is 0 to a fifth of them and at
// most 200 (the 200 of a thousand nodes); then it waits until
// every bench pod runs again, and until the interrupted instances are gone.
func (b *bench) interrupt(ctx context.Context, n int) *Interruptions {
	t := b.t
	claims := b.claims(ctx)
	if n == 0 {
		spot := 0
		for _, nc := range claims {
			if nc.Labels[v1.CapacityTypeLabelKey] == v1.CapacityTypeSpot {
				spot++
			}
		}
		n = min(200, (spot+4)/5)
	}
	nodes := map[string]bool{}
	var ids []string
	for _, nc := range claims {
		if len(ids) == n {
			break
		}
		if nc.Labels[v1.CapacityTypeLabelKey] == v1.CapacityTypeSpot && nc.Status.NodeName != "" && nc.DeletionTimestamp.IsZero() {
			ids = append(ids, index.InstanceID(nc.Status.ProviderID))
			nodes[nc.Status.NodeName] = true
		}
	}
	if len(ids) == 0 {
		t.Log("no spot nodes to interrupt")
		return nil
	}
	displaced := 0
	for _, p := range b.benchPods(ctx) {
		if nodes[p.Spec.NodeName] {
			displaced++
		}
	}
	if err := b.cloud.ResetCalls(ctx); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	for _, id := range ids {
		if err := b.cloud.InjectSpotInterruption(ctx, id, spotLead); err != nil {
			t.Fatal(err)
		}
	}
	within := time.Since(t0)
	poll(t, "every bench pod Running off the interrupted nodes", 10*time.Minute, func() bool {
		running := 0
		for _, p := range b.benchPods(ctx) {
			if nodes[p.Spec.NodeName] || !p.DeletionTimestamp.IsZero() {
				return false
			}
			if p.Status.Phase == corev1.PodRunning && harness.PodReady(&p) {
				running++
			}
		}
		return running == b.total
	})
	allRunning := time.Since(t0)
	times, _ := b.pods.RunningAfter(t0)
	replacements := 0
	for _, nc := range b.claims(ctx) {
		if !nc.CreationTimestamp.Time.Before(t0.Truncate(time.Second)) {
			replacements++
		}
	}
	calls, err := b.cloud.Calls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := &Interruptions{Nodes: len(ids), Within: secs(within), Displaced: displaced,
		P50: secs(harness.Percentile(times, 0.5)), P95: secs(harness.Percentile(times, 0.95)), Max: secs(harness.Percentile(times, 1)),
		AllRunning: secs(allRunning), BeforeTermination: allRunning < spotLead, Replacements: replacements, CreateFleet: calls["ec2:CreateFleet"]}
	t.Logf("%d interruptions: all Running again %s after the first warning", len(ids), allRunning.Round(100*time.Millisecond))
	// The scale-down that follows should not see these instances go.
	poll(t, "the interrupted instances terminated and their claims gone", spotLead+3*time.Minute, func() bool {
		for _, nc := range b.claims(ctx) {
			if nodes[nc.Status.NodeName] {
				return false
			}
		}
		return true
	})
	return out
}

// scaleDown scales every bench Deployment to frac of its replicas and
// waits for consolidation's fixed point: the node set unchanged, and
// nothing being deleted, for quiet.
func (b *bench) scaleDown(ctx context.Context, frac float64) *ScaleDown {
	t := b.t
	const quiet = 90 * time.Second // consolidateAfter 30 s, a 10 s pass interval, a 15 s validation delay, and margin
	before := b.claims(ctx)
	out := &ScaleDown{FromPods: b.total, NodesBefore: len(before), DollarsBefore: dollarsPerHour(t, b.ctrl, b.ec2)}
	passesBefore := b.m.histogram(t, "nodewright_disruption_pass_duration_seconds")
	// Every Deployment in the namespace is the benchmark's.
	deps, err := b.kube.AppsV1().Deployments("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	to := 0
	for _, d := range deps.Items {
		n := int32(math.Ceil(float64(*d.Spec.Replicas) * frac))
		d.Spec.Replicas = ptr.To(n)
		if _, err := b.kube.AppsV1().Deployments("default").Update(ctx, &d, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		to += int(n)
	}
	b.total, out.ToPods = to, to
	start := time.Now()
	last, lastChange := "", start
	poll(t, "consolidation's fixed point after the scale-down", 20*time.Minute, func() bool {
		claims := b.claims(ctx)
		var names []string
		deleting := false
		for _, nc := range claims {
			names = append(names, nc.Name)
			deleting = deleting || !nc.DeletionTimestamp.IsZero()
		}
		sort.Strings(names)
		if key := strings.Join(names, ","); key != last {
			last, lastChange = key, time.Now()
		}
		return !deleting && time.Since(lastChange) >= quiet
	})
	out.FixedPoint = secs(lastChange.Sub(start))
	out.NodesAfter = len(b.claims(ctx))
	out.DollarsAfter = dollarsPerHour(t, b.ctrl, b.ec2)
	passes := b.m.histogram(t, "nodewright_disruption_pass_duration_seconds").minus(passesBefore)
	out.Passes, out.MeanPass = int(passes.count), secs(time.Duration(passes.mean()*float64(time.Second)))
	if longest := passes.maxBound(); !math.IsInf(longest, 1) {
		out.LongestPass = Seconds(longest)
	} else {
		t.Log("a disruption pass took longer than the histogram's last bucket")
	}
	t.Logf("scale down to %d pods: fixed point %s after, %d -> %d nodes", to, time.Duration(float64(out.FixedPoint)*float64(time.Second)), out.NodesBefore, out.NodesAfter)
	return out
}

func (b *bench) claims(ctx context.Context) []v1.NodeClaim {
	var list v1.NodeClaimList
	if err := b.c.List(ctx, &list); err != nil {
		b.t.Fatal(err)
	}
	return list.Items
}

func (b *bench) benchPods(ctx context.Context) []corev1.Pod {
	list, err := b.kube.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "scale"})
	if err != nil {
		b.t.Fatal(err)
	}
	return list.Items
}

// histogram is one Prometheus histogram's cumulative buckets, count and sum.
type histogram struct {
	buckets    map[float64]float64 // upper bound -> cumulative count
	count, sum float64
}

func (h histogram) minus(o histogram) histogram {
	out := histogram{buckets: map[float64]float64{}, count: h.count - o.count, sum: h.sum - o.sum}
	for le, n := range h.buckets {
		out.buckets[le] = n - o.buckets[le]
	}
	return out
}

func (h histogram) mean() float64 {
	if h.count == 0 {
		return 0
	}
	return h.sum / h.count
}

// maxBound is the smallest bucket bound that holds every observation: the
// slowest is at most this (+Inf when beyond the last bucket).
func (h histogram) maxBound() float64 {
	bounds := make([]float64, 0, len(h.buckets))
	for le := range h.buckets {
		bounds = append(bounds, le)
	}
	sort.Float64s(bounds)
	for _, le := range bounds {
		if h.buckets[le] >= h.count {
			return le
		}
	}
	return math.Inf(1)
}

// histogram reads a histogram without labels from the metrics endpoint.
func (m *monitor) histogram(t *testing.T, name string) histogram {
	t.Helper()
	resp, err := http.Get(m.metrics)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	h := histogram{buckets: map[float64]float64{}}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(line, name+`_bucket{le="`):
			le, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(fields[0], name+`_bucket{le="`), `"}`), 64)
			if err == nil {
				h.buckets[le] = v
			}
		case strings.HasPrefix(line, name+"_count"):
			h.count = v
		case strings.HasPrefix(line, name+"_sum"):
			h.sum = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return h
}
