package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/simulate"
	"github.com/nodewright/nodewright/controller/utils/index"
	"github.com/nodewright/nodewright/test/harness"
	"github.com/nodewright/nodewright/test/localcloud"
)

// The soak's limits: how long each invariant tolerates a state before it
// counts as broken. They follow from the controller's own timings (set for
// the soak in soakControllerEnv) plus a margin for a busy 2-core machine.
const (
	// pendingLimit: a pod a pool can host is Pending no longer (the 90 s).
	pendingLimit = 90 * time.Second
	// orphanLimit: garbage collection's grace (1 min) and interval (2 min),
	// plus a leader change.
	orphanLimit = 3*time.Minute + 45*time.Second
	// unregisteredLimit: REGISTRATION_TIMEOUT below, plus a leader change.
	unregisteredLimit = 90 * time.Second
	// stuckLimit: a node tainted for disruption, or a claim being deleted,
	// finishes within this; longer means a decision was dropped.
	stuckLimit = 3 * time.Minute
	// windowSlack: a decision taken just before the budget window opens may
	// taint its node a validation delay later.
	windowSlack = 10 * time.Second
)

// soakControllerEnv shortens the liveness timeouts so that a 3-minute soak
// sees them act.
var soakControllerEnv = []string{"REGISTRATION_TIMEOUT=45s"}

// soakPools: "default" takes spot and on-demand and consolidates
// underutilized nodes; "steady" is on-demand, tainted for the pods that
// need it, one node at a time and none during the window: the first two
// minutes of every four.
const soakPools = `
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
    consolidationPolicy: WhenEmptyOrUnderutilized
    consolidateAfter: 20s
    budgets: [{nodes: "30%"}]
---
apiVersion: nodewright.dev/v1
kind: NodePool
metadata: {name: steady}
spec:
  template:
    spec:
      nodeClassRef: {group: nodewright.dev, kind: EC2NodeClass, name: default}
      taints: [{key: dedicated, value: steady, effect: NoSchedule}]
      requirements:
      - {key: nodewright.dev/capacity-type, operator: In, values: [on-demand]}
      - {key: nodewright.dev/instance-category, operator: In, values: [c, m, r]}
      - {key: nodewright.dev/instance-generation, operator: Gt, values: ["2"]}
  disruption:
    consolidationPolicy: WhenEmptyOrUnderutilized
    consolidateAfter: 20s
    budgets:
    - {nodes: "1"}
    - {nodes: "0", schedule: "*/4 * * * *", duration: 2m}
`

// inSteadyWindow: the steady pool's budget window is open at t.
func inSteadyWindow(t time.Time) bool { return t.UTC().Minute()%4 < 2 }

// soak is one run: the cluster, the controllers, what was injected and
// what was seen.
type soak struct {
	t     *testing.T
	e     *env
	start time.Time

	mu         sync.Mutex
	ctrls      []*harness.Controller
	faults     map[string]int
	violations []string
	// first time each condition was seen, by key, to measure how long it lasts
	since    map[string]time.Time
	reported map[string]bool
	// every pod and claim seen, by name
	pods, claims map[string]bool
	// costRatio is the settled cluster's $/h over a fresh plan's
	costRatio float64
}

// TestSoak runs a changing workload against two controller replicas under
// leader election for SOAK_DURATION (default 3 m; `make soak` runs 30 m),
// injecting faults at random, and checks the invariants throughout. It
// prints a report and fails on any violation.
func TestSoak(t *testing.T) {
	duration := 3 * time.Minute
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("SOAK_DURATION=%q: %v", v, err)
		}
		duration = d
	}
	t.Setenv("INTERRUPTION_QUEUE", queueName)
	e := newEnv(t, soakPools, soakControllerEnv...)
	harness.InterruptionQueue(t, e.cloud, queueName)
	s := &soak{t: t, e: e, faults: map[string]int{}, since: map[string]time.Time{}, reported: map[string]bool{},
		pods: map[string]bool{}, claims: map[string]bool{}}
	s.ctrls = []*harness.Controller{e.ctrl, harness.StartController(t, e.cloud, soakControllerEnv...)}
	ctx := context.Background()
	s.workload(ctx)
	s.start = time.Now()
	seed := uint64(s.start.UnixNano())
	if v := os.Getenv("SOAK_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SOAK_SEED=%q: %v", v, err)
		}
		seed = n
	}
	t.Logf("soak for %s (seed %d; SOAK_SEED=%d replays its choices)", duration, seed, seed)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	loop := func(every time.Duration, f func(context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(every)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					f(ctx)
					cancel()
				}
			}
		}()
	}
	// One stream per loop, so a replay makes the same choices in the same
	// order whatever the timing; what they hit (which node) depends on the
	// cluster at the time.
	picker := func(stream uint64) func(int) int {
		rng := rand.New(rand.NewPCG(seed, stream))
		return rng.IntN
	}
	loop(2*time.Second, s.check)
	pickChange, pickFault := picker(1), picker(2)
	loop(15*time.Second, func(ctx context.Context) { s.changeWorkload(ctx, pickChange) })
	loop(6*time.Second, func(ctx context.Context) { s.injectFault(ctx, pickFault) })
	loop(75*time.Second, s.killLeader)
	restartAt := time.After(duration * 2 / 5)
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-stop:
		case <-restartAt:
			began := time.Now()
			if err := e.cloud.RestartAWS(context.Background()); err != nil {
				s.violation("", "restarting the AWS endpoint: %v", err)
				return
			}
			s.count("aws-endpoint-restart")
			t.Logf("AWS endpoint restarted in %s", time.Since(began).Round(100*time.Millisecond))
		}
	}()
	time.Sleep(duration)
	close(stop)
	wg.Wait()

	// Quiet: no more faults; the cluster must settle with every invariant
	// still held.
	if _, err := e.cloud.Inject(ctx, "faults/clear", nil); err != nil {
		t.Fatal(err)
	}
	s.healNodes(ctx)
	faultsEnded := time.Now()
	settled := s.settle(ctx, 4*time.Minute)
	s.finalChecks(ctx, settled, faultsEnded)
	s.report()
}

// workload creates what runs for the whole soak: web and api on the
// default pool (api spread over zones), a StatefulSet on zonal volumes, and
// on the steady pool a PDB-guarded deployment and do-not-disrupt pods.
func (s *soak) workload(ctx context.Context) {
	e := s.e
	create := func(obj client.Object) {
		if err := e.kube.Create(ctx, obj); err != nil {
			s.t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
		}
	}
	create(inflate("web", 6, "200m", "256Mi"))
	api := inflate("api", 3, "1", "1Gi")
	api.Spec.Template.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: corev1.LabelTopologyZone,
		WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: api.Spec.Selector}}
	create(api)
	steady := func(d *appsv1.Deployment) *appsv1.Deployment {
		d.Spec.Template.Spec.NodeSelector = map[string]string{v1.NodePoolLabelKey: "steady"}
		d.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Value: "steady", Effect: corev1.TaintEffectNoSchedule}}
		return d
	}
	create(steady(inflate("critical", 4, "500m", "512Mi")))
	create(&policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "critical", Namespace: "default"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(3)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "critical"}}}})
	pinned := steady(inflate("pinned", 2, "250m", "256Mi"))
	pinned.Spec.Template.Annotations = map[string]string{v1.DoNotDisruptAnnotationKey: "true"}
	create(pinned)
	s.statefulSet(ctx, create)
	for _, app := range []string{"web", "api", "critical", "pinned", "db"} {
		want := map[string]int{"web": 6, "api": 3, "critical": 4, "pinned": 2, "db": 2}[app]
		e.waitReady(app, want, 3*time.Minute)
	}
}

// statefulSet is "db": two replicas, each bound to a volume in one zone.
func (s *soak) statefulSet(ctx context.Context, create func(client.Object)) {
	zone := s.e.cloud.Region() + "b"
	zonalVolumes(create, zone, 2)
	db := inflate("db", 2, "500m", "512Mi")
	create(&appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default"},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To[int32](2), Selector: db.Spec.Selector, Template: db.Spec.Template,
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					StorageClassName: ptr.To("zonal"),
					Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				},
			}},
		},
	})
}

// changeWorkload scales web and api at random and starts a Job that
// finishes (kwok completes a Job's pods once they run).
func (s *soak) changeWorkload(ctx context.Context, pick func(int) int) {
	scale := func(name string, replicas int32) {
		d := &appsv1.Deployment{}
		if err := s.e.kube.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, d); err != nil {
			return
		}
		d.Spec.Replicas = ptr.To(replicas)
		if err := s.e.kube.Update(ctx, d); err == nil {
			s.count("scale " + name)
		}
	}
	scale("web", int32(2+pick(22)))
	scale("api", int32(1+pick(8)))
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "batch-", Namespace: "default"},
		Spec: batchv1.JobSpec{
			Parallelism: ptr.To[int32](3), Completions: ptr.To[int32](3), TTLSecondsAfterFinished: ptr.To[int32](5),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "batch"}},
				Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, TerminationGracePeriodSeconds: ptr.To[int64](0),
					Containers: []corev1.Container{{Name: "work", Image: "registry.k8s.io/pause:3.10",
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("512Mi")}}}}},
			},
		},
	}
	if err := s.e.kube.Create(ctx, job); err == nil {
		s.count("job")
	}
}

// injectFault injects one fault at random. Instance faults hit only the
// default pool's nodes: the steady pool's PDB and budget invariants are
// about voluntary disruption.
func (s *soak) injectFault(ctx context.Context, pick func(int) int) {
	claims, err := s.e.liveClaims(ctx)
	if err != nil {
		return
	}
	var targets []v1.NodeClaim
	for _, nc := range claims {
		if nc.Labels[v1.NodePoolLabelKey] == "default" && nc.Status.ProviderID != "" && nc.DeletionTimestamp.IsZero() {
			targets = append(targets, nc)
		}
	}
	kinds := []string{"spot-interruption", "rebalance", "scheduled-change", "ice", "api-errors", "never-join", "not-ready"}
	kind := kinds[pick(len(kinds))]
	var victim *v1.NodeClaim
	if len(targets) > 0 {
		victim = &targets[pick(len(targets))]
	}
	id := ""
	if victim != nil {
		id = index.InstanceID(victim.Status.ProviderID)
	}
	var injectErr error
	switch kind {
	case "spot-interruption", "rebalance", "scheduled-change":
		if victim == nil {
			return
		}
		route := map[string]string{"spot-interruption": "faults/spot-interruption", "rebalance": "faults/rebalance",
			"scheduled-change": "faults/scheduled-change"}[kind]
		_, injectErr = s.e.cloud.Inject(ctx, route, map[string]any{"instanceId": id, "leadSeconds": 120,
			"startInSeconds": 300, "code": "system-maintenance"})
	case "ice":
		if victim == nil {
			return
		}
		it, zone, ct := victim.Labels[corev1.LabelInstanceTypeStable], victim.Labels[corev1.LabelTopologyZone], victim.Labels[v1.CapacityTypeLabelKey]
		injectErr = s.e.cloud.InjectCapacity(ctx, it, zone, ct, false)
		time.AfterFunc(time.Minute, func() { _ = s.e.cloud.InjectCapacity(context.Background(), it, zone, ct, true) })
	case "api-errors":
		services := []string{"ec2:*", "sqs:*", "ssm:*", "iam:*", "pricing:*"}
		target := services[pick(len(services))]
		codes := []string{"", "InternalError"} // the service's throttling code, or a 5xx
		_, injectErr = s.e.cloud.Inject(ctx, "faults/api-errors", map[string]any{"target": target, "rate": 0.1 + float64(pick(11))/100,
			"code": codes[pick(len(codes))]})
		time.AfterFunc(30*time.Second, func() {
			_, _ = s.e.cloud.Inject(context.Background(), "faults/api-errors", map[string]any{"target": target, "rate": 0})
		})
	case "never-join":
		_, injectErr = s.e.cloud.Inject(ctx, "faults/never-join", map[string]any{"count": 1})
	case "not-ready":
		if victim == nil || victim.Status.NodeName == "" {
			return
		}
		node := victim.Status.NodeName
		injectErr = s.e.cloud.InjectNodeNotReady(ctx, node, false)
		time.AfterFunc(45*time.Second, func() { _ = s.e.cloud.InjectNodeNotReady(context.Background(), node, true) })
	}
	// A fault on an instance that went away meanwhile is no fault; the AWS
	// endpoint may be restarting.
	if injectErr == nil {
		s.count(kind)
	}
}

// killLeader SIGKILLs the replica holding the lease (the one whose
// controllers started) and starts a new one,
// so two replicas run again.
func (s *soak) killLeader(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, c := range s.ctrls {
		if c.Cmd == nil || len(c.Entries("Starting workers")) == 0 {
			continue
		}
		c.Stop(syscall.SIGKILL)
		s.ctrls[i] = harness.StartController(s.t, s.e.cloud, soakControllerEnv...)
		s.faults["leader SIGKILL"]++
		return
	}
}

func (s *soak) count(kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[kind]++
}

// violation records a broken invariant once per key (empty: always).
func (s *soak) violation(key, format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if key != "" {
		if s.reported[key] {
			return
		}
		s.reported[key] = true
	}
	s.violations = append(s.violations, fmt.Sprintf("%6s  %s", time.Since(s.start).Round(time.Second), fmt.Sprintf(format, args...)))
}

// lasted reports how long cond has held for key, and forgets keys whose
// condition no longer holds (seen lists those that do, this round).
func (s *soak) lasted(key string, now time.Time, seen map[string]bool) time.Duration {
	seen[key] = true
	s.mu.Lock()
	defer s.mu.Unlock()
	first, ok := s.since[key]
	if !ok {
		s.since[key] = now
		return 0
	}
	return now.Sub(first)
}

// check evaluates every invariant once.
func (s *soak) check(ctx context.Context) {
	now := time.Now()
	seen := map[string]bool{}
	defer func() {
		s.mu.Lock()
		for k := range s.since {
			if !seen[k] {
				delete(s.since, k)
			}
		}
		s.mu.Unlock()
	}()
	s.checkProcesses()
	claims, err := s.e.liveClaims(ctx)
	if err != nil {
		return
	}
	var nodes corev1.NodeList
	var pods corev1.PodList
	if s.e.kube.List(ctx, &nodes) != nil || s.e.kube.List(ctx, &pods, client.InNamespace("default")) != nil {
		return
	}
	s.checkInstances(ctx, now, claims, seen)
	s.checkClaims(now, claims, &nodes, seen)
	s.checkPods(now, &pods, seen)
}

// checkProcesses: no replica and no process of the local cloud ended on
// its own, and no replica logged a panic.
func (s *soak) checkProcesses() {
	s.mu.Lock()
	ctrls := slices.Clone(s.ctrls)
	s.mu.Unlock()
	for _, c := range ctrls {
		if c.Exited() {
			s.violation("exit "+c.Log, "a controller replica exited: %s", c.Tail(5))
		}
		if len(c.Entries("Observed a panic")) > 0 {
			s.violation("panic "+c.Log, "a controller replica panicked: see %s", c.Log)
		}
	}
	for _, name := range []string{localcloud.Etcd, localcloud.APIServer, localcloud.ControllerManager, localcloud.Scheduler, localcloud.Kwok, localcloud.AWS} {
		if p := s.e.cloud.Process(name); p != nil && !p.Stopped && !p.Alive() {
			s.violation("exit "+name, "the local cloud's %s exited: %s", name, p.LogTail(5))
		}
	}
}

// checkInstances: no instance of the cluster without a NodeClaim for
// longer than garbage collection takes.
func (s *soak) checkInstances(ctx context.Context, now time.Time, claims []v1.NodeClaim, seen map[string]bool) {
	names := map[string]bool{}
	ids := map[string]bool{}
	for _, nc := range claims {
		names[nc.Name] = true
		if nc.Status.ProviderID != "" {
			ids[index.InstanceID(nc.Status.ProviderID)] = true
		}
	}
	instances, err := s.e.liveInstancesErr(ctx)
	if err != nil {
		return // the endpoint restarting, or an injected error
	}
	for _, inst := range instances {
		id := *inst.InstanceId
		claim := ""
		for _, t := range inst.Tags {
			if *t.Key == v1.NodeClaimTagKey {
				claim = *t.Value
			}
		}
		if ids[id] || names[claim] {
			continue
		}
		if d := s.lasted("orphan "+id, now, seen); d > orphanLimit {
			s.violation("orphan "+id, "instance %s (claim %q) has had no NodeClaim for %s", id, claim, d.Round(time.Second))
		}
	}
}

// checkClaims: claims register or go; disruption decisions finish; the
// steady pool's budgets hold; no node is replaced twice at once.
func (s *soak) checkClaims(now time.Time, claims []v1.NodeClaim, nodes *corev1.NodeList, seen map[string]bool) {
	tainted := map[string]bool{}
	for _, n := range nodes.Items {
		if hasDisruptedTaint(&n) {
			tainted[n.Name] = true
		}
	}
	replacements := map[string][]string{}
	steadyDisrupting := 0
	for _, nc := range claims {
		s.mu.Lock()
		s.claims[nc.Name] = true
		s.mu.Unlock()
		if !nc.IsTrue(v1.ConditionTypeRegistered) && nc.DeletionTimestamp.IsZero() {
			if d := s.lasted("unregistered "+nc.Name, now, seen); d > unregisteredLimit {
				s.violation("unregistered "+nc.Name, "nodeclaim %s has not registered for %s and was not deleted", nc.Name, d.Round(time.Second))
			}
		}
		if !nc.DeletionTimestamp.IsZero() {
			if d := s.lasted("deleting "+nc.Name, now, seen); d > stuckLimit {
				s.violation("deleting "+nc.Name, "nodeclaim %s has been terminating for %s", nc.Name, d.Round(time.Second))
			}
		}
		disrupting := tainted[nc.Status.NodeName] && nc.Status.NodeName != ""
		if disrupting && nc.DeletionTimestamp.IsZero() {
			if d := s.lasted("tainted "+nc.Name, now, seen); d > stuckLimit {
				s.violation("tainted "+nc.Name, "node of %s has carried the disrupted taint for %s with no deletion: a decision was dropped", nc.Name, d.Round(time.Second))
			}
		}
		if nc.DeletionTimestamp.IsZero() {
			for _, victim := range strings.Split(nc.Annotations[v1.ReplacesAnnotationKey], ",") {
				if victim != "" {
					replacements[victim] = append(replacements[victim], nc.Name)
				}
			}
		}
		// Voluntary disruption of the steady pool: only a registered node
		// (one that never joined goes by its liveness timeout, not a budget).
		if nc.Labels[v1.NodePoolLabelKey] == "steady" && nc.IsTrue(v1.ConditionTypeInitialized) && (disrupting || !nc.DeletionTimestamp.IsZero()) {
			steadyDisrupting++
			if s.lasted("steady "+nc.Name, now, seen) == 0 && inSteadyWindow(now.Add(-windowSlack)) && inSteadyWindow(now) {
				s.violation("window "+nc.Name, "steady node %s was disrupted inside its budget window (nodes: 0)", nc.Name)
			}
		}
	}
	if steadyDisrupting > 1 {
		s.violation(fmt.Sprintf("budget %d", now.Unix()/10), "%d steady nodes disrupted at once; the budget allows 1", steadyDisrupting)
	}
	for victim, reps := range replacements {
		if len(reps) > 1 {
			sort.Strings(reps)
			s.violation("replaced "+victim, "nodeclaim %s has %d live replacements: %s", victim, len(reps), strings.Join(reps, ", "))
		}
	}
}

// checkPods: nothing a pool can host stays Pending; the PDB's minimum
// holds.
func (s *soak) checkPods(now time.Time, pods *corev1.PodList, seen map[string]bool) {
	ready := 0
	for i := range pods.Items {
		p := &pods.Items[i]
		s.mu.Lock()
		s.pods[p.Name] = true
		s.mu.Unlock()
		if p.Labels["app"] == "critical" && p.DeletionTimestamp.IsZero() && p.Status.Phase == corev1.PodRunning && podReady(p) {
			ready++
		}
		if p.Spec.NodeName != "" || !p.DeletionTimestamp.IsZero() {
			continue
		}
		if d := now.Sub(p.CreationTimestamp.Time); d > pendingLimit {
			s.violation("pending "+p.Name, "pod %s has been Pending for %s", p.Name, d.Round(time.Second))
		}
	}
	if ready < 3 {
		if d := s.lasted("pdb", now, seen); d > 0 {
			s.violation(fmt.Sprintf("pdb %d", now.Unix()/30), "only %d critical pods ready, the PDB's minimum is 3", ready)
		}
	}
}

// healNodes takes the not-ready fault off every node.
func (s *soak) healNodes(ctx context.Context) {
	var nodes corev1.NodeList
	if err := s.e.kube.List(ctx, &nodes); err != nil {
		s.t.Fatal(err)
	}
	for _, n := range nodes.Items {
		if n.Annotations[localcloud.FaultAnnotation] != "" {
			_ = s.e.cloud.InjectNodeNotReady(ctx, n.Name, true)
		}
	}
}

// settle waits, checking, until every pod runs and the claims stay the
// same for a minute (consolidation's fixed point), or the timeout.
func (s *soak) settle(ctx context.Context, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	last, stableSince := "", time.Now()
	for time.Now().Before(deadline) {
		s.check(ctx)
		claims, err := s.e.liveClaims(ctx)
		if err != nil {
			continue
		}
		var names []string
		for _, nc := range claims {
			names = append(names, nc.Name)
		}
		sort.Strings(names)
		key := strings.Join(names, ",")
		if key != last {
			last, stableSince = key, time.Now()
		}
		var pods corev1.PodList
		if err := s.e.kube.List(ctx, &pods, client.InNamespace("default")); err != nil {
			continue
		}
		pending := 0
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodPending {
				pending++
			}
		}
		if pending == 0 && time.Since(stableSince) > time.Minute {
			return true
		}
		time.Sleep(2 * time.Second)
	}
	return false
}

// finalChecks: once settled, consolidation must have reached its fixed
// point: simulate's consolidation, run offline on the same cluster with
// the same engine, finds nothing left to save. The cluster's $/h against a
// fresh plan for the same pods is reported beside it. Consolidation may not
// move a do-not-disrupt pod, so the nodes that hold one stay in that plan
// as they are.
func (s *soak) finalChecks(ctx context.Context, settled bool, faultsEnded time.Time) {
	if !settled {
		s.violation("", "the cluster did not settle (every pod Running, claims unchanged for a minute) within 4 minutes of the last fault")
		return
	}
	claims, err := s.e.liveClaims(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	var c *cluster
	var cons simulate.ConsolidationReport
	consolidate := func() {
		c = s.snapshot(ctx)
		cons = simulate.ConsolidationReport{}
		s.runSimulate(&cons, "--consolidate", "--pods", c.write("bound.yaml", c.pods(false)), "--nodes", c.write("nodes.yaml", c.nodes(false)))
	}
	consolidate()
	// The controller keeps interrupted and ICE'd offerings out for 3
	// minutes, which simulate cannot know: a saving that needs one of them
	// is the controller's to take once they are back.
	for cons.SavedPerHour > 0.01*cons.PricePerHour && time.Since(faultsEnded) < 4*time.Minute {
		s.t.Logf("simulate --consolidate would still save $%.4f/h; the controller may still avoid offerings that faults took out", cons.SavedPerHour)
		if !s.settle(ctx, 4*time.Minute) {
			break
		}
		if claims, err = s.e.liveClaims(ctx); err != nil {
			s.t.Fatal(err)
		}
		consolidate()
	}
	if cons.SavedPerHour > 0.01*cons.PricePerHour {
		var acts []string
		for _, a := range cons.Actions {
			acts = append(acts, a.Message)
		}
		s.violation("", "consolidation stopped short: simulate --consolidate would still save $%.4f/h of $%.4f/h: %s\n  the replicas' disruption decisions since the faults ended:\n    %s",
			cons.SavedPerHour, cons.PricePerHour, strings.Join(acts, "; "), strings.Join(s.decisions(faultsEnded), "\n    "))
	}

	var plan simulate.Report
	args := []string{"--pods", c.write("fresh.yaml", c.pods(true))}
	if held := c.nodes(true); len(held) > 0 {
		args = append(args, "--nodes", c.write("held.yaml", held))
	}
	s.runSimulate(&plan, args...)
	var blocked []string
	for _, b := range cons.Blocked {
		blocked = append(blocked, b.Node+": "+b.Reason)
	}
	s.t.Logf("simulate --consolidate on the settled cluster: $%.4f/h, %d actions, saves $%.4f/h; nodes it could not consider: %s",
		cons.PricePerHour, len(cons.Actions), cons.SavedPerHour, strings.Join(blocked, "; "))
	// Instance prices on both sides: poolPrice does not count volumes.
	have := s.e.poolPrice(claims)
	var kept []v1.NodeClaim
	for _, nc := range claims {
		if c.held[nc.Status.NodeName] {
			kept = append(kept, nc)
		}
	}
	want := s.e.poolPrice(kept)
	var planned []string
	for _, nc := range plan.NodeClaims {
		want += nc.Cost.Instance
		planned = append(planned, fmt.Sprintf("%s %s %s $%.4f, %d pods", nc.NodePool, nc.InstanceType, nc.CapacityType, nc.Cost.Instance, len(nc.Pods)))
	}
	if len(plan.Unschedulable) > 0 {
		s.violation("", "simulate left %d pods unschedulable: %s", len(plan.Unschedulable), plan.Unschedulable[0].Reason)
	}
	s.t.Logf("settled: %d nodes at $%.3f/h, a consolidation fixed point; a fresh plan: %d new nodes beside the %d that hold do-not-disrupt pods, $%.3f/h (%+.1f%%)\n  cluster:\n    %s\n  fresh plan (new nodes):\n    %s",
		len(claims), have, len(plan.NodeClaims), len(kept), want, 100*(have/want-1),
		strings.Join(s.describeNodes(ctx, claims), "\n    "), strings.Join(planned, "\n    "))
	s.mu.Lock()
	s.costRatio = have / want
	s.mu.Unlock()
}

// decisions are the live replicas' log lines about disruption decisions
// since t, oldest first: what the controller made of the cluster that
// simulate would still consolidate.
func (s *soak) decisions(t time.Time) []string {
	s.mu.Lock()
	ctrls := slices.Clone(s.ctrls)
	s.mu.Unlock()
	var out []string
	for _, c := range ctrls {
		for _, msg := range []string{"found disruption decision, validating", "dropping disruption decision", "disrupting nodes"} {
			for _, e := range c.Entries(msg) {
				at, err := time.Parse("2006-01-02T15:04:05.000Z0700", fmt.Sprint(e["time"]))
				if err != nil || at.Before(t) {
					continue
				}
				out = append(out, fmt.Sprintf("%s %s: %s %v why=%v", at.Format("15:04:05.000"), msg, e["method"], e["candidates"], e["why"]))
			}
		}
	}
	sort.Strings(out)
	return out
}

// describeNodes lists each claim's pool, offering and the apps of the
// pods on its node.
func (s *soak) describeNodes(ctx context.Context, claims []v1.NodeClaim) []string {
	var pods corev1.PodList
	_ = s.e.kube.List(ctx, &pods, client.InNamespace("default"))
	apps := map[string][]string{}
	for _, p := range pods.Items {
		apps[p.Spec.NodeName] = append(apps[p.Spec.NodeName], p.Labels["app"])
	}
	var out []string
	for _, nc := range claims {
		out = append(out, fmt.Sprintf("%s %s %s %s %v", nc.Labels[v1.NodePoolLabelKey], nc.Labels[corev1.LabelInstanceTypeStable],
			nc.Labels[v1.CapacityTypeLabelKey], nc.Labels[corev1.LabelTopologyZone], apps[nc.Status.NodeName]))
	}
	sort.Strings(out)
	return out
}

// cluster is the settled cluster as simulate reads it.
type cluster struct {
	t                            *testing.T
	dir                          string
	live                         []corev1.Pod
	others, nodeObjs, claimsObjs []client.Object
	// held names the nodes that hold a do-not-disrupt pod.
	held map[string]bool
}

func (s *soak) snapshot(ctx context.Context) *cluster {
	var pods corev1.PodList
	var nodes corev1.NodeList
	var claims v1.NodeClaimList
	var pvs corev1.PersistentVolumeList
	var pvcs corev1.PersistentVolumeClaimList
	var classes storagev1.StorageClassList
	var pdbs policyv1.PodDisruptionBudgetList
	for _, l := range []client.ObjectList{&pods, &nodes, &claims, &pvs, &pvcs, &classes, &pdbs} {
		if err := s.e.kube.List(ctx, l); err != nil {
			s.t.Fatal(err)
		}
	}
	c := &cluster{t: s.t, dir: s.t.TempDir(), held: map[string]bool{}}
	typed := func(obj client.Object, gvk schema.GroupVersionKind) client.Object {
		obj.GetObjectKind().SetGroupVersionKind(gvk)
		obj.SetManagedFields(nil)
		return obj
	}
	for _, p := range pods.Items {
		if p.Namespace != "default" || !p.DeletionTimestamp.IsZero() || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if _, pinned := p.Annotations[v1.DoNotDisruptAnnotationKey]; pinned && p.Spec.NodeName != "" {
			c.held[p.Spec.NodeName] = true
		}
		typed(&p, corev1.SchemeGroupVersion.WithKind("Pod"))
		c.live = append(c.live, p)
	}
	for i := range pvs.Items {
		c.others = append(c.others, typed(&pvs.Items[i], corev1.SchemeGroupVersion.WithKind("PersistentVolume")))
	}
	for i := range pvcs.Items {
		c.others = append(c.others, typed(&pvcs.Items[i], corev1.SchemeGroupVersion.WithKind("PersistentVolumeClaim")))
	}
	for i := range classes.Items {
		c.others = append(c.others, typed(&classes.Items[i], storagev1.SchemeGroupVersion.WithKind("StorageClass")))
	}
	for i := range pdbs.Items {
		c.others = append(c.others, typed(&pdbs.Items[i], policyv1.SchemeGroupVersion.WithKind("PodDisruptionBudget")))
	}
	for i := range nodes.Items {
		c.nodeObjs = append(c.nodeObjs, typed(&nodes.Items[i], corev1.SchemeGroupVersion.WithKind("Node")))
	}
	for i := range claims.Items {
		c.claimsObjs = append(c.claimsObjs, typed(&claims.Items[i], v1.SchemeGroupVersion.WithKind("NodeClaim")))
	}
	return c
}

// pods are the live pods and the objects beside them; fresh unbinds every
// pod a do-not-disrupt pod's node does not hold.
func (c *cluster) pods(fresh bool) []client.Object {
	var out []client.Object
	for _, p := range c.live {
		if fresh {
			if _, pinned := p.Annotations[v1.DoNotDisruptAnnotationKey]; !pinned {
				p.Spec.NodeName = ""
			}
			p.Status = corev1.PodStatus{}
		}
		out = append(out, &p)
	}
	return append(out, c.others...)
}

// nodes are the nodes and their claims; held keeps only those holding a
// do-not-disrupt pod.
func (c *cluster) nodes(held bool) []client.Object {
	var out []client.Object
	names := map[string]bool{}
	for _, n := range c.nodeObjs {
		if !held || c.held[n.GetName()] {
			out = append(out, n)
			names[n.GetName()] = true
		}
	}
	for _, o := range c.claimsObjs {
		if nc := o.(*v1.NodeClaim); names[nc.Status.NodeName] {
			out = append(out, nc)
		}
	}
	return out
}

// write puts objects in a YAML stream file of c's directory.
func (c *cluster) write(name string, objs []client.Object) string {
	var docs []string
	for _, o := range objs {
		data, err := yaml.Marshal(o)
		if err != nil {
			c.t.Fatal(err)
		}
		docs = append(docs, string(data))
	}
	path := filepath.Join(c.dir, name)
	if err := os.WriteFile(path, []byte(strings.Join(docs, "---\n")), 0o644); err != nil {
		c.t.Fatal(err)
	}
	return path
}

// runSimulate runs `nodewright simulate` with the soak's pools and decodes
// its JSON into out.
func (s *soak) runSimulate(out any, args ...string) {
	pools := filepath.Join(s.t.TempDir(), "pools.yaml")
	if err := os.WriteFile(pools, []byte(fmt.Sprintf(nodeClassYAML, s.e.cloud.ClusterName(), s.e.cloud.ClusterName())+"---\n"+soakPools), 0o644); err != nil {
		s.t.Fatal(err)
	}
	bin, err := localcloud.DefaultBinDir()
	if err != nil {
		s.t.Fatal(err)
	}
	args = append([]string{"simulate", "--nodepools", pools, "--region", s.e.cloud.Region(), "--output", "json"}, args...)
	data, err := exec.Command(filepath.Join(bin, "nodewright"), args...).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		s.t.Fatalf("nodewright %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	if err := json.Unmarshal(data, out); err != nil {
		s.t.Fatalf("reading simulate's output: %v\n%s", err, data)
	}
}

// report prints what was injected, what came and went, and every
// violation, and fails the test on any.
func (s *soak) report() {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "soak report after %s\n", time.Since(s.start).Round(time.Second))
	kinds := make([]string, 0, len(s.faults))
	for k := range s.faults {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(tw, "  injected or done\t%s\t%d\n", k, s.faults[k])
	}
	fmt.Fprintf(tw, "  pods seen\t%d\n", len(s.pods))
	fmt.Fprintf(tw, "  nodeclaims seen\t%d\n", len(s.claims))
	if s.costRatio > 0 {
		fmt.Fprintf(tw, "  $/h over a fresh plan\t%+.1f%%\n", 100*(s.costRatio-1))
	}
	fmt.Fprintf(tw, "  violations\t%d\n", len(s.violations))
	tw.Flush()
	s.t.Log("\n" + b.String())
	if len(s.violations) > 0 {
		s.t.Errorf("%d invariant violations:\n  %s", len(s.violations), strings.Join(s.violations, "\n  "))
	}
}
