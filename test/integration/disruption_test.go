package integration

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/catalog"
	"github.com/nodewright/nodewright/test/kubetest"
)

// disruptionPool is a NodePool named "default" with a short consolidateAfter.
// requirements and budgets are YAML list items indented for their place;
// an empty budgets leaves the API default.
func disruptionPool(policy, expireAfter, requirements, budgets string) string {
	out := fmt.Sprintf(`
apiVersion: nodewright.dev/v1
kind: NodePool
metadata: {name: default}
spec:
  template:
    spec:
      nodeClassRef: {group: nodewright.dev, kind: EC2NodeClass, name: default}
      expireAfter: %s
      requirements:
%s
  disruption:
    consolidationPolicy: %s
    consolidateAfter: 5s
`, expireAfter, requirements, policy)
	if budgets != "" {
		out += "    budgets:\n" + budgets
	}
	return out
}

// onDemandCMR lets the pool pick any current c, m or r type, on-demand only,
// so every node's price is the catalog's on-demand price.
const onDemandCMR = `      - {key: nodewright.dev/capacity-type, operator: In, values: [on-demand]}
      - {key: nodewright.dev/instance-category, operator: In, values: [c, m, r]}
      - {key: nodewright.dev/instance-generation, operator: Gt, values: ["2"]}
`

// onlyM5Large pins the pool to one on-demand type, so where pods land and
// what consolidation could do is predictable: m5.large has 2 vCPU, of
// which a little under 2 is allocatable.
const onlyM5Large = `      - {key: nodewright.dev/capacity-type, operator: In, values: [on-demand]}
      - {key: node.kubernetes.io/instance-type, operator: In, values: [m5.large]}
`

// liveClaims lists the NodeClaims, erroring rather than failing so it can
// run in a watcher goroutine.
func (e *env) liveClaims(ctx context.Context) ([]v1.NodeClaim, error) {
	var list v1.NodeClaimList
	if err := e.kube.List(ctx, &list); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// disrupting names the claims being taken away: deleted, or with their node
// cordoned by the disrupted taint.
func (e *env) disrupting(ctx context.Context) ([]string, error) {
	claims, err := e.liveClaims(ctx)
	if err != nil {
		return nil, err
	}
	var nodes corev1.NodeList
	if err := e.kube.List(ctx, &nodes); err != nil {
		return nil, err
	}
	tainted := map[string]bool{}
	for _, n := range nodes.Items {
		for _, t := range n.Spec.Taints {
			if t.MatchTaint(&v1.DisruptedNoScheduleTaint) {
				tainted[n.Name] = true
			}
		}
	}
	var out []string
	for _, nc := range claims {
		if !nc.DeletionTimestamp.IsZero() || (nc.Status.NodeName != "" && tainted[nc.Status.NodeName]) {
			out = append(out, nc.Name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// readyPods counts the app's Running, Ready pods that are not terminating.
func (e *env) readyPods(ctx context.Context, app string) (int, error) {
	var pods corev1.PodList
	if err := e.kube.List(ctx, &pods, client.InNamespace("default"), client.MatchingLabels{"app": app}); err != nil {
		return 0, err
	}
	n := 0
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp.IsZero() && p.Status.Phase == corev1.PodRunning && podReady(p) {
			n++
		}
	}
	return n, nil
}

// poolPrice is the $/h of the claims' offerings, on-demand from the same
// catalog the controller and the EC2 emulator price with; spot at the
// catalog's synthetic spot price.
func (e *env) poolPrice(claims []v1.NodeClaim) float64 {
	e.t.Helper()
	types, err := catalog.InstanceTypes()
	if err != nil {
		e.t.Fatal(err)
	}
	byName := map[string]catalog.InstanceType{}
	for _, it := range types {
		byName[it.Name] = it
	}
	total := 0.0
	for _, nc := range claims {
		name := nc.Labels[corev1.LabelInstanceTypeStable]
		it, ok := byName[name]
		if !ok {
			e.t.Fatalf("nodeclaim %s: instance type %q not in the catalog", nc.Name, name)
		}
		var p float64
		if nc.Labels[v1.CapacityTypeLabelKey] == v1.CapacityTypeSpot {
			p, ok = it.SyntheticSpotPrice(e.cloud.Region(), nc.Labels[corev1.LabelTopologyZone], time.Now())
		} else {
			p, ok = it.Price(e.cloud.Region())
		}
		if !ok {
			e.t.Fatalf("no price for %s", name)
		}
		total += p
	}
	return total
}

// settledClaims waits until every NodeClaim (exactly n of them, unless n
// is negative) is Initialized, and returns them. Pods can run on an
// instance's Node before the controller has written the launch to its
// claim: a busy apiserver delays that status patch.
func (e *env) settledClaims(n int) []v1.NodeClaim {
	e.t.Helper()
	var claims []v1.NodeClaim
	e.eventually("initialized nodeclaims", 30*time.Second, func(ctx context.Context) (bool, error) {
		claims = e.nodeClaims(ctx)
		for _, nc := range claims {
			if !nc.IsTrue(v1.ConditionTypeInitialized) {
				return false, nil
			}
		}
		return n < 0 || len(claims) == n, nil
	})
	return claims
}

func describeClaims(claims []v1.NodeClaim) string {
	var parts []string
	for _, nc := range claims {
		parts = append(parts, fmt.Sprintf("%s(%s %s)", nc.Name, nc.Labels[corev1.LabelInstanceTypeStable], nc.Labels[corev1.LabelTopologyZone]))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// watcher polls a check in the background and keeps the first violations.
type watcher struct {
	stop     chan struct{}
	done     chan struct{}
	mu       sync.Mutex
	failures []string
	polls    int
}

// watch runs check every interval until the returned watcher is stopped;
// check returns a non-empty string for a violation.
func watch(interval time.Duration, check func(ctx context.Context) string) *watcher {
	w := &watcher{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			msg := check(ctx)
			cancel()
			w.mu.Lock()
			w.polls++
			if msg != "" && len(w.failures) < 10 {
				w.failures = append(w.failures, time.Now().Format("15:04:05.000")+" "+msg)
			}
			w.mu.Unlock()
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

// finish stops the watcher and fails the test with what it saw.
func (w *watcher) finish(t *testing.T, what string) {
	t.Helper()
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.failures) > 0 {
		t.Errorf("%s violated:\n  %s", what, strings.Join(w.failures, "\n  "))
	}
	if w.polls < 5 {
		t.Errorf("%s checked only %d times", what, w.polls)
	}
}

// waitReady waits until the app has want Ready pods and nothing else.
func (e *env) waitReady(app string, want int, timeout time.Duration) {
	e.t.Helper()
	e.eventually(fmt.Sprintf("%d %s pods Running", want, app), timeout, func(ctx context.Context) (bool, error) {
		running, total := e.runningPods(ctx, app)
		return running == want && total == want, nil
	})
}

// TestDisruptionConsolidationKeepsPDB: scaling 30 one-CPU pods down to 8
// moves them to fewer or cheaper nodes, never below the PDB's bound.
func TestDisruptionConsolidationKeepsPDB(t *testing.T) {
	e := newEnv(t, disruptionPool("WhenEmptyOrUnderutilized", "720h", onDemandCMR, `    - {nodes: "100%"}
`))
	ctx := context.Background()
	if err := e.kube.Create(ctx, inflate("inflate", 30, "1", "1Gi")); err != nil {
		t.Fatal(err)
	}
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "inflate", Namespace: "default"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromString("80%")),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "inflate"}}}}
	if err := e.kube.Create(ctx, pdb); err != nil {
		t.Fatal(err)
	}
	e.waitReady("inflate", 30, 45*time.Second)
	claims := e.settledClaims(-1)
	before := e.poolPrice(claims)
	t.Logf("30 pods: %d nodes, $%.4f/h: %s", len(claims), before, describeClaims(claims))

	const replicas = 8
	bound := int(math.Ceil(0.8 * replicas))
	e.scale("inflate", replicas)
	ready := watch(100*time.Millisecond, func(ctx context.Context) string {
		n, err := e.readyPods(ctx, "inflate")
		if err != nil {
			return "" // a failed list is not a violation
		}
		if n < bound {
			return fmt.Sprintf("%d Ready inflate pods, the PDB allows no fewer than %d", n, bound)
		}
		return ""
	})
	var after float64
	var final []v1.NodeClaim
	e.eventually("the pool's $/h falls with every node Ready and none disrupting", 100*time.Second, func(ctx context.Context) (bool, error) {
		claims, err := e.liveClaims(ctx)
		if err != nil {
			return false, err
		}
		busy, err := e.disrupting(ctx)
		if err != nil || len(busy) > 0 {
			return false, err
		}
		for _, nc := range claims {
			if !meta.IsStatusConditionTrue(nc.Status.Conditions, v1.ConditionTypeReady) {
				return false, nil
			}
		}
		n, err := e.readyPods(ctx, "inflate")
		if err != nil || n != replicas {
			return false, err
		}
		after, final = e.poolPrice(claims), claims
		return after < before, nil
	}, time.Second)
	ready.finish(t, "the PDB bound on Ready pods")
	t.Logf("8 pods: %d nodes, $%.4f/h (was $%.4f/h): %s", len(final), after, before, describeClaims(final))
	var pdbNow policyv1.PodDisruptionBudget
	if err := e.kube.Get(ctx, client.ObjectKeyFromObject(pdb), &pdbNow); err != nil {
		t.Fatal(err)
	}
	if pdbNow.Status.DesiredHealthy != int32(bound) {
		t.Errorf("PDB desiredHealthy %d, the test assumed %d", pdbNow.Status.DesiredHealthy, bound)
	}
	if len(final) >= len(claims) && after >= before {
		t.Errorf("neither fewer nor cheaper nodes: %d nodes at $%.4f/h, was %d at $%.4f/h", len(final), after, len(claims), before)
	}
}

// TestDisruptionBudgetWindowBlocks: a budget of 0 nodes in a cron window
// that covers now keeps empty nodes; once the window closes they go.
func TestDisruptionBudgetWindowBlocks(t *testing.T) {
	e := newEnv(t, disruptionPool("WhenEmpty", "720h", onlyM5Large, ""))
	ctx := context.Background()
	if err := e.kube.Create(ctx, inflate("inflate", 3, "1500m", "1Gi")); err != nil {
		t.Fatal(err)
	}
	e.waitReady("inflate", 3, 45*time.Second)
	claims := e.settledClaims(-1)
	if len(claims) != 3 {
		t.Fatalf("%d nodes for three pods that each need most of an m5.large: %s", len(claims), describeClaims(claims))
	}

	// The window opened at the top of this minute and closes 35 s from
	// now; a second budget allows everything outside it.
	now := time.Now().UTC()
	opened := now.Truncate(time.Minute)
	closes := now.Add(35 * time.Second).Truncate(time.Second).Add(time.Second)
	// nodewright writes the pool's status: a fresh read, and again on a
	// conflict.
	np := &v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	err := kubetest.Update(ctx, e.kube, np, func(np *v1.NodePool) {
		np.Spec.Disruption.Budgets = []v1.Budget{
			{Nodes: "0", Schedule: ptr.To(fmt.Sprintf("%d %d * * *", opened.Minute(), opened.Hour())),
				Duration: &metav1.Duration{Duration: closes.Sub(opened)}},
			{Nodes: "100%"},
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("budget 0 from %s for %s (until %s)", opened.Format(time.TimeOnly), closes.Sub(opened), closes.Format(time.TimeOnly))

	// Every node empties; consolidateAfter is 5 s, so without the window
	// they would go within seconds.
	e.scale("inflate", 0)
	untouched := watch(250*time.Millisecond, func(ctx context.Context) string {
		busy, err := e.disrupting(ctx)
		if err != nil {
			return ""
		}
		claims, err := e.liveClaims(ctx)
		if err != nil {
			return ""
		}
		if len(busy) > 0 || len(claims) != 3 {
			return fmt.Sprintf("inside the window: %d claims, disrupting %v", len(claims), busy)
		}
		return ""
	})
	time.Sleep(time.Until(closes.Add(-2 * time.Second)))
	untouched.finish(t, "budget 0 inside its window")

	e.eventually("the empty nodes removed after the window", 45*time.Second, func(ctx context.Context) (bool, error) {
		claims, err := e.liveClaims(ctx)
		return err == nil && len(claims) == 0, err
	})
}

// TestDisruptionDoNotDisruptPod: a node whose pod carries do-not-disrupt
// stays while the pod runs, although its pod would fit elsewhere; once
// the pod goes the empty node goes too.
func TestDisruptionDoNotDisruptPod(t *testing.T) {
	e := newEnv(t, disruptionPool("WhenEmptyOrUnderutilized", "720h", onlyM5Large, `    - {nodes: "100%"}
`))
	ctx := context.Background()
	// Two 700m fillers and a third fill node B; both fillers carry the
	// annotation too, so B can't be the one consolidation removes.
	filler := inflate("filler", 2, "700m", "256Mi")
	filler.Spec.Template.Annotations = map[string]string{v1.DoNotDisruptAnnotationKey: "true"}
	if err := e.kube.Create(ctx, filler); err != nil {
		t.Fatal(err)
	}
	e.waitReady("filler", 2, 45*time.Second)
	// The keeper (700m) doesn't fit beside them: it gets node A.
	keeper := inflate("keeper", 1, "700m", "256Mi")
	keeper.Spec.Template.Annotations = map[string]string{v1.DoNotDisruptAnnotationKey: "true"}
	if err := e.kube.Create(ctx, keeper); err != nil {
		t.Fatal(err)
	}
	e.waitReady("keeper", 1, 45*time.Second)
	keeperPod := e.onlyPod(ctx, "keeper")
	claims := e.settledClaims(-1)
	if len(claims) != 2 {
		t.Fatalf("want 2 nodes (fillers, keeper), got %s", describeClaims(claims))
	}
	// One filler fewer: the keeper now fits beside the other, so A is
	// consolidatable but for the annotation.
	e.scale("filler", 1)
	e.waitReady("filler", 1, 20*time.Second)
	kept := watch(250*time.Millisecond, func(ctx context.Context) string {
		claims, err := e.liveClaims(ctx)
		if err != nil {
			return ""
		}
		busy, err := e.disrupting(ctx)
		if err != nil {
			return ""
		}
		var pod corev1.Pod
		if err := e.kube.Get(ctx, client.ObjectKeyFromObject(keeperPod), &pod); err != nil {
			return fmt.Sprintf("keeper pod: %v", err)
		}
		if len(claims) != 2 || len(busy) > 0 || pod.Spec.NodeName != keeperPod.Spec.NodeName {
			return fmt.Sprintf("%d claims, disrupting %v, keeper on %q (was %q)", len(claims), busy, pod.Spec.NodeName, keeperPod.Spec.NodeName)
		}
		return ""
	})
	time.Sleep(25 * time.Second) // consolidateAfter 5 s plus several passes
	kept.finish(t, "do-not-disrupt keeps the keeper's node")

	// The keeper goes: its node is empty and removed; the fillers' stays.
	e.scale("keeper", 0)
	e.eventually("the keeper's node removed", 45*time.Second, func(ctx context.Context) (bool, error) {
		err := e.kube.Get(ctx, client.ObjectKey{Name: keeperPod.Spec.NodeName}, &corev1.Node{})
		return apierrors.IsNotFound(err), nil
	})
	// The claim lets go of its finalizer only after its Node is gone, so it
	// may outlive the Node by a reconcile.
	e.eventually("the keeper's claim removed", 15*time.Second, func(ctx context.Context) (bool, error) {
		return len(e.nodeClaims(ctx)) <= 1, nil
	})
	if claims := e.nodeClaims(ctx); len(claims) != 1 {
		t.Errorf("after the keeper left: %s, want the fillers' node only", describeClaims(claims))
	}
}

func (e *env) onlyPod(ctx context.Context, app string) *corev1.Pod {
	e.t.Helper()
	var pods corev1.PodList
	if err := e.kube.List(ctx, &pods, client.InNamespace("default"), client.MatchingLabels{"app": app}); err != nil {
		e.t.Fatal(err)
	}
	if len(pods.Items) != 1 {
		e.t.Fatalf("%d %s pods, want 1", len(pods.Items), app)
	}
	return &pods.Items[0]
}

// bumpAMI points the AL2023 alias's x86_64 parameter at another AL2023
// x86_64 image, as a new EKS AMI release would, and touches the node
// class so its status is re-resolved now rather than at the next periodic
// resync (5 minutes). It returns the old and new image ids.
func (e *env) bumpAMI(ctx context.Context) (string, string) {
	e.t.Helper()
	var nc v1.EC2NodeClass
	if err := e.kube.Get(ctx, client.ObjectKey{Name: "default"}, &nc); err != nil {
		e.t.Fatal(err)
	}
	old := ""
	for _, a := range nc.Status.AMIs {
		for _, r := range a.Requirements {
			if r.Key == corev1.LabelArchStable && slices.Contains(r.Values, "amd64") {
				old = a.ID
			}
		}
	}
	if old == "" {
		e.t.Fatalf("no amd64 AMI in the node class status: %+v", nc.Status.AMIs)
	}
	cfg := e.cloud.AWSConfig()
	params := ssm.NewFromConfig(cfg)
	var param string
	pages := ssm.NewGetParametersByPathPaginator(params, &ssm.GetParametersByPathInput{Path: aws.String("/aws/service/eks/optimized-ami"), Recursive: aws.Bool(true)})
	for pages.HasMorePages() && param == "" {
		page, err := pages.NextPage(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, p := range page.Parameters {
			if aws.ToString(p.Value) == old && strings.HasSuffix(aws.ToString(p.Name), "/image_id") {
				param = aws.ToString(p.Name)
			}
		}
	}
	if param == "" {
		e.t.Fatalf("no SSM parameter holds %s", old)
	}
	images, err := e.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"},
		Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"amazon-eks-node-al2023-x86_64-standard-*"}}}})
	if err != nil {
		e.t.Fatal(err)
	}
	fresh := ""
	for _, im := range images.Images {
		if id := aws.ToString(im.ImageId); id != old && (fresh == "" || id < fresh) {
			fresh = id
		}
	}
	if fresh == "" {
		e.t.Fatalf("no other AL2023 x86_64 image than %s", old)
	}
	if _, err := params.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(param), Value: aws.String(fresh), Overwrite: aws.Bool(true)}); err != nil {
		e.t.Fatal(err)
	}
	patch := client.MergeFrom(nc.DeepCopy())
	if nc.Annotations == nil {
		nc.Annotations = map[string]string{}
	}
	nc.Annotations["test.nodewright.dev/touched"] = time.Now().Format(time.RFC3339Nano)
	if err := e.kube.Patch(ctx, &nc, patch); err != nil {
		e.t.Fatal(err)
	}
	e.eventually("the node class resolves the new AMI", 20*time.Second, func(ctx context.Context) (bool, error) {
		if err := e.kube.Get(ctx, client.ObjectKey{Name: "default"}, &nc); err != nil {
			return false, err
		}
		for _, a := range nc.Status.AMIs {
			if a.ID == fresh {
				return true, nil
			}
		}
		return false, nil
	})
	return old, fresh
}

// TestDisruptionDriftOneAtATime: a new AMI drifts every node; with a budget
// of one they are replaced one by one and all end on the new image.
func TestDisruptionDriftOneAtATime(t *testing.T) {
	e := newEnv(t, disruptionPool("WhenEmpty", "720h", onlyM5Large, `    - {nodes: "1"}
`))
	ctx := context.Background()
	if err := e.kube.Create(ctx, inflate("inflate", 3, "1500m", "1Gi")); err != nil {
		t.Fatal(err)
	}
	e.waitReady("inflate", 3, 45*time.Second)
	claims := e.settledClaims(3)
	originals := map[string]bool{}
	for _, nc := range claims {
		originals[nc.Name] = true
	}
	old, fresh := e.bumpAMI(ctx)
	for _, nc := range claims {
		if nc.Status.ImageID != old {
			t.Fatalf("nodeclaim %s on %q before the bump, want %s; all: %s", nc.Name, nc.Status.ImageID, old, describeClaims(claims))
		}
	}
	t.Logf("AMI %s -> %s", old, fresh)

	var mu sync.Mutex
	drifted := map[string]string{}
	oneAtATime := watch(100*time.Millisecond, func(ctx context.Context) string {
		claims, err := e.liveClaims(ctx)
		if err != nil {
			return ""
		}
		mu.Lock()
		for _, nc := range claims {
			if c := meta.FindStatusCondition(nc.Status.Conditions, v1.ConditionTypeDrifted); c != nil && c.Status == metav1.ConditionTrue {
				drifted[nc.Name] = c.Reason + ": " + c.Message
			}
		}
		mu.Unlock()
		busy, err := e.disrupting(ctx)
		if err != nil {
			return ""
		}
		if len(busy) > 1 {
			return fmt.Sprintf("%d nodes disrupted at once: %v", len(busy), busy)
		}
		return ""
	})
	e.eventually("every node replaced on the new AMI", 110*time.Second, func(ctx context.Context) (bool, error) {
		claims, err := e.liveClaims(ctx)
		if err != nil || len(claims) != 3 {
			return false, err
		}
		for _, nc := range claims {
			if originals[nc.Name] || nc.Status.ImageID != fresh || !meta.IsStatusConditionTrue(nc.Status.Conditions, v1.ConditionTypeReady) {
				return false, nil
			}
		}
		running, _ := e.runningPods(ctx, "inflate")
		return running == 3, nil
	}, time.Second)
	oneAtATime.finish(t, "budget of one node")
	mu.Lock()
	defer mu.Unlock()
	for name := range originals {
		msg, ok := drifted[name]
		if !ok {
			t.Errorf("nodeclaim %s was replaced without being seen Drifted", name)
			continue
		}
		if !strings.HasPrefix(msg, "AMIDrifted: ") || !strings.Contains(msg, old) {
			t.Errorf("nodeclaim %s Drifted %q, want AMIDrifted naming %s", name, msg, old)
		}
	}
}

// TestDisruptionReplacementICEDrainsNothing: when every offering of the
// pool is out of capacity, a drifted node's replacement can't launch, and
// the node is neither cordoned nor drained.
func TestDisruptionReplacementICEDrainsNothing(t *testing.T) {
	e := newEnv(t, disruptionPool("WhenEmpty", "720h", onlyM5Large, `    - {nodes: "100%"}
`))
	ctx := context.Background()
	if err := e.kube.Create(ctx, inflate("inflate", 1, "1500m", "1Gi")); err != nil {
		t.Fatal(err)
	}
	e.waitReady("inflate", 1, 45*time.Second)
	claims := e.nodeClaims(ctx)
	if len(claims) != 1 {
		t.Fatalf("want 1 node, got %s", describeClaims(claims))
	}
	victim := claims[0]
	pod := e.onlyPod(ctx, "inflate")

	var nc v1.EC2NodeClass
	if err := e.kube.Get(ctx, client.ObjectKey{Name: "default"}, &nc); err != nil {
		t.Fatal(err)
	}
	for _, s := range nc.Status.Subnets {
		for _, ct := range []string{v1.CapacityTypeOnDemand, v1.CapacityTypeSpot} {
			if err := e.cloud.InjectCapacity(ctx, "m5.large", s.Zone, ct, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.bumpAMI(ctx)
	e.eventually("the node marked Drifted", 30*time.Second, func(ctx context.Context) (bool, error) {
		var got v1.NodeClaim
		if err := e.kube.Get(ctx, client.ObjectKeyFromObject(&victim), &got); err != nil {
			return false, err
		}
		return got.IsTrue(v1.ConditionTypeDrifted), nil
	})
	untouched := watch(250*time.Millisecond, func(ctx context.Context) string {
		busy, err := e.disrupting(ctx)
		if err != nil {
			return ""
		}
		var p corev1.Pod
		if err := e.kube.Get(ctx, client.ObjectKeyFromObject(pod), &p); err != nil {
			return fmt.Sprintf("the pod: %v", err)
		}
		// The replacement itself is deleted when its launch fails, and the
		// drifted node is tainted while it launches: only the drifted claim
		// being deleted, or its pod going, would be a drain.
		var got v1.NodeClaim
		if err := e.kube.Get(ctx, client.ObjectKeyFromObject(&victim), &got); err != nil {
			return fmt.Sprintf("the drifted claim: %v", err)
		}
		if !got.DeletionTimestamp.IsZero() || p.UID != pod.UID || !podReady(&p) {
			return fmt.Sprintf("disrupting %v, pod ready=%v", busy, podReady(&p))
		}
		return ""
	})
	e.eventually("a replacement launch refused for capacity", 40*time.Second, func(ctx context.Context) (bool, error) {
		return strings.Contains(e.ctrl.Tail(2000), "InsufficientInstanceCapacity"), nil
	}, time.Second)
	time.Sleep(10 * time.Second) // a few more passes, each failing the same way
	untouched.finish(t, "no drain without a replacement")
	var got v1.NodeClaim
	if err := e.kube.Get(ctx, client.ObjectKeyFromObject(&victim), &got); err != nil {
		t.Fatalf("the drifted node's claim: %v", err)
	}
	if got.Status.ImageID == "" || !got.DeletionTimestamp.IsZero() {
		t.Errorf("the drifted claim changed: %+v", got.Status)
	}
	// Each failed attempt rolls its taint back; a pass may have just taken
	// the next attempt, so wait for a moment with none in flight.
	e.eventually("the drifted node untainted between attempts", 30*time.Second, func(ctx context.Context) (bool, error) {
		var n corev1.Node
		if err := e.kube.Get(ctx, client.ObjectKey{Name: got.Status.NodeName}, &n); err != nil {
			return false, err
		}
		return !hasDisruptedTaint(&n), nil
	}, 100*time.Millisecond)
}
