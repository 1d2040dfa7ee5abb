package lifecycle_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider"
	"github.com/nodewright/nodewright/controller/controllers/nodeclaim/lifecycle"
	"github.com/nodewright/nodewright/controller/test"
	"github.com/nodewright/nodewright/controller/test/expectations"
)

func TestLaunchSetsStatusLabelsAndFinalizer(t *testing.T) {
	f := newFixture(t, lifecycle.Options{})
	nc := f.create(func(nc *v1.NodeClaim) { nc.Labels["team"] = "a" })
	releaseClaim(t, nc)

	res := f.mustReconcile(nc)
	got := f.get(nc)
	if !controllerutil.ContainsFinalizer(got, v1.TerminationFinalizer) {
		t.Errorf("finalizers = %v, want %s", got.Finalizers, v1.TerminationFinalizer)
	}
	if len(f.cloud.Instances) != 1 {
		t.Fatalf("fake has %d instances, want 1", len(f.cloud.Instances))
	}
	inst := f.cloud.Instances[got.Status.ProviderID]
	if inst == nil {
		t.Fatalf("providerID %q is not the fake's instance", got.Status.ProviderID)
	}
	if got.Status.Allocatable.Cpu().String() != "2" || got.Status.Capacity.Memory().String() != "8Gi" {
		t.Errorf("capacity %v allocatable %v, want m5.large's", got.Status.Capacity, got.Status.Allocatable)
	}
	for k, want := range map[string]string{
		corev1.LabelInstanceTypeStable: "m5.large", corev1.LabelTopologyZone: "us-east-1a",
		v1.CapacityTypeLabelKey: v1.CapacityTypeOnDemand, "team": "a", v1.NodePoolLabelKey: nc.Labels[v1.NodePoolLabelKey],
	} {
		if got.Labels[k] != want {
			t.Errorf("label %s = %q, want %q", k, got.Labels[k], want)
		}
	}
	if condition(got, v1.ConditionTypeLaunched) != metav1.ConditionTrue || condition(got, v1.ConditionTypeRegistered) == metav1.ConditionTrue {
		t.Errorf("conditions = %+v, want Launched only", got.Status.Conditions)
	}
	// Waiting for the Node: back when registration would time out.
	if res.RequeueAfter != 15*time.Minute {
		t.Errorf("RequeueAfter = %v, want the 15m registration timeout", res.RequeueAfter)
	}
	// A second pass launches nothing more.
	f.mustReconcile(nc)
	if f.cloud.Calls["Create"] != 1 {
		t.Errorf("Create called %d times, want 1", f.cloud.Calls["Create"])
	}
}

// A reconcile on a copy of the claim that shows its label patch but not its
// status patch yet (a cache lagging the claim's own writes) launches
// nothing more: the launch is remembered.
func TestStaleClaimIsNotLaunchedAgain(t *testing.T) {
	f := newFixture(t, lifecycle.Options{})
	nc := f.create(nil)
	releaseClaim(t, nc)
	f.mustReconcile(nc)
	stale := f.get(nc)
	stale.Status = v1.NodeClaimStatus{}
	if _, err := f.ctrl.Reconcile(f.ctx, stale); err != nil {
		t.Fatal(err)
	}
	if f.cloud.Calls["Create"] != 1 {
		t.Errorf("Create called %d times, want 1: the stale copy launched again", f.cloud.Calls["Create"])
	}
	if got := f.get(nc); got.Status.ProviderID == "" || condition(got, v1.ConditionTypeLaunched) != metav1.ConditionTrue {
		t.Errorf("after the stale reconcile: providerID %q, conditions %+v", got.Status.ProviderID, got.Status.Conditions)
	}
}

func TestInsufficientCapacityDeletesClaimWithEvent(t *testing.T) {
	f := newFixture(t, lifecycle.Options{})
	nc := f.create(nil)
	f.cloud.NextError["Create"] = &cloudprovider.InsufficientCapacityError{Err: errors.New("no m5.large in us-east-1a")}

	if _, err := f.reconcile(nc); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	got := f.get(nc) // the finalizer keeps it until termination runs
	if got.DeletionTimestamp.IsZero() {
		t.Fatal("nodeclaim not deleted after insufficient capacity")
	}
	if c := got.GetCondition(v1.ConditionTypeLaunched); c == nil || c.Status != metav1.ConditionFalse || c.Reason != "InsufficientCapacity" {
		t.Errorf("Launched = %+v, want False/InsufficientCapacity", c)
	}
	select {
	case e := <-f.recorder.Events:
		if !strings.Contains(e, "Warning InsufficientCapacity") || !strings.Contains(e, "no m5.large in us-east-1a") {
			t.Errorf("event %q doesn't say why", e)
		}
	default:
		t.Error("no event published")
	}
	if len(f.cloud.Instances) != 0 {
		t.Errorf("instances = %d, want none", len(f.cloud.Instances))
	}
	// A deleting claim is termination's: lifecycle launches nothing.
	f.mustReconcile(nc)
	if f.cloud.Calls["Create"] != 1 {
		t.Errorf("Create called %d times on a deleting claim", f.cloud.Calls["Create"])
	}
	releaseClaim(t, nc)
}

func TestNodeClassNotReadyRequeues(t *testing.T) {
	f := newFixture(t, lifecycle.Options{})
	nc := f.create(nil)
	f.cloud.NextError["Create"] = &cloudprovider.NodeClassNotReadyError{Err: errors.New("AMIs not resolved")}
	res := f.mustReconcile(nc)
	if res.RequeueAfter <= 0 || res.RequeueAfter > 10*time.Second {
		t.Errorf("RequeueAfter = %v, want a short retry", res.RequeueAfter)
	}
	if c := f.get(nc).GetCondition(v1.ConditionTypeLaunched); c == nil || c.Reason != "NodeClassNotReady" {
		t.Errorf("Launched = %+v, want NodeClassNotReady", c)
	}
	f.mustReconcile(nc) // the class resolved
	if !f.get(nc).IsTrue(v1.ConditionTypeLaunched) {
		t.Error("not launched on retry")
	}
	releaseClaim(t, nc)
}

// TestAdoptedClaimTakesItsInstance: a claim that names a running instance
// (migrate --adopt) is launched by looking the instance up, not by
// creating one, and registers its node as any claim does.
func TestAdoptedClaimTakesItsInstance(t *testing.T) {
	f := newFixture(t, lifecycle.Options{})
	// The instance Karpenter launched.
	running, err := f.cloud.Create(f.ctx, test.NodeClaim(test.NodeClaimOptions{NodePool: "karpenter"}))
	if err != nil {
		t.Fatal(err)
	}
	creates := f.cloud.Calls["Create"]
	nc := f.create(func(nc *v1.NodeClaim) {
		nc.Annotations = map[string]string{v1.AdoptProviderIDAnnotationKey: running.Status.ProviderID}
	})
	f.mustReconcile(nc)
	got := f.get(nc)
	if c := got.GetCondition(v1.ConditionTypeLaunched); c == nil || c.Reason != "Adopted" || got.Status.ProviderID != running.Status.ProviderID {
		t.Fatalf("Launched %+v, providerID %q, want Adopted and %q", c, got.Status.ProviderID, running.Status.ProviderID)
	}
	if f.cloud.Calls["Create"] != creates || got.Labels[corev1.LabelInstanceTypeStable] == "" {
		t.Errorf("Create calls %d (want %d), labels %v", f.cloud.Calls["Create"], creates, got.Labels)
	}
	name := "adopted-" + got.Name
	if err := env.Client.Create(f.ctx, test.NodeFor(got, name)); err != nil {
		t.Fatal(err)
	}
	releaseNode(t, name)
	f.mustReconcile(nc)
	if got := f.get(nc); !got.IsTrue(v1.ConditionTypeRegistered) || got.Status.NodeName != name {
		t.Errorf("Registered %v, node %q", condition(got, v1.ConditionTypeRegistered), got.Status.NodeName)
	}
	releaseClaim(t, nc)

	// An instance that is gone is an error, retried until the launch timeout.
	gone := f.create(func(nc *v1.NodeClaim) {
		nc.Annotations = map[string]string{v1.AdoptProviderIDAnnotationKey: "aws:///us-east-1a/i-0000000000000dead"}
	})
	if _, err := f.reconcile(gone); err == nil || !strings.Contains(err.Error(), "adopted instance") {
		t.Errorf("reconcile of a claim whose instance is gone: %v", err)
	}
	releaseClaim(t, gone)
}

// TestRegistrationWithoutKarpenterLabels: a claim of a pool with
// karpenterLabels off gives its node nodewright's keys alone.
func TestRegistrationWithoutKarpenterLabels(t *testing.T) {
	f := newFixture(t, lifecycle.Options{})
	nc := f.create(nil)
	f.mustReconcile(nc)
	name := "plain-" + f.get(nc).Name
	if err := env.Client.Create(f.ctx, test.NodeFor(f.get(nc), name)); err != nil {
		t.Fatal(err)
	}
	releaseNode(t, name)
	f.mustReconcile(nc)
	node := f.node(name)
	if node.Labels[v1.NodePoolLabelKey] == "" || node.Labels[v1.CapacityTypeLabelKey] == "" {
		t.Errorf("node labels %v lack nodewright's keys", node.Labels)
	}
	for k := range v1.KarpenterLabelAliases {
		if v, ok := node.Labels[k]; ok {
			t.Errorf("node has Karpenter's label %s=%s", k, v)
		}
	}
	releaseClaim(t, nc)
}

func TestRegistrationSyncsNodeAndInitializationWaits(t *testing.T) {
	f := newFixture(t, lifecycle.Options{})
	startup := corev1.Taint{Key: "example.com/cni-not-ready", Effect: corev1.TaintEffectNoSchedule}
	lasting := corev1.Taint{Key: "example.com/dedicated", Value: "batch", Effect: corev1.TaintEffectNoSchedule}
	nc := f.create(func(nc *v1.NodeClaim) {
		nc.Labels["team"] = "a"
		// As FromPlan marks a claim of a pool with karpenterLabels on.
		nc.Labels[v1.KarpenterNodePoolLabelKey] = nc.Labels[v1.NodePoolLabelKey]
		nc.Spec.Taints = []corev1.Taint{lasting}
		nc.Spec.StartupTaints = []corev1.Taint{startup}
	})
	f.mustReconcile(nc)
	launched := f.get(nc)

	// Before the Node exists the claim just waits.
	if launched.IsTrue(v1.ConditionTypeRegistered) {
		t.Fatal("registered without a node")
	}
	name := "reg-" + launched.Name
	if err := env.Client.Create(f.ctx, test.NodeFor(launched, name)); err != nil {
		t.Fatal(err)
	}
	releaseNode(t, name)
	f.mustReconcile(nc)

	got, node := f.get(nc), f.node(name)
	if !got.IsTrue(v1.ConditionTypeRegistered) || got.Status.NodeName != name {
		t.Errorf("Registered=%v nodeName=%q", condition(got, v1.ConditionTypeRegistered), got.Status.NodeName)
	}
	// Karpenter's keys too, for workloads that came from it.
	for k, want := range map[string]string{"team": "a", v1.NodeRegisteredLabelKey: "true", corev1.LabelInstanceTypeStable: "m5.large",
		"karpenter.sh/capacity-type": got.Labels[v1.CapacityTypeLabelKey], "karpenter.sh/nodepool": got.Labels[v1.NodePoolLabelKey]} {
		if want == "" {
			t.Errorf("the claim has no value for %s's nodewright key", k)
		}
		if node.Labels[k] != want {
			t.Errorf("node label %s = %q, want %q", k, node.Labels[k], want)
		}
	}
	if hasTaintKey(node, v1.UnregisteredTaintKey) {
		t.Error("unregistered taint still on the node")
	}
	if !hasTaintKey(node, lasting.Key) || !hasTaintKey(node, startup.Key) {
		t.Errorf("taints = %v, want the claim's taint and the startup taint", node.Spec.Taints)
	}
	if !controllerutil.ContainsFinalizer(node, v1.TerminationFinalizer) {
		t.Error("node has no termination finalizer")
	}
	if len(node.OwnerReferences) != 1 || node.OwnerReferences[0].UID != got.UID || node.OwnerReferences[0].Kind != "NodeClaim" {
		t.Errorf("owner references = %+v", node.OwnerReferences)
	}

	// kwok marks the node Ready, but the startup taint holds initialization.
	expectations.Eventually(t, 30*time.Second, "kwok to mark the node Ready", func() bool { return nodeReady(f.node(name)) })
	f.mustReconcile(nc)
	if c := f.get(nc).GetCondition(v1.ConditionTypeInitialized); c == nil || c.Status != metav1.ConditionFalse || c.Reason != "StartupTaintsPresent" {
		t.Fatalf("Initialized = %+v, want False/StartupTaintsPresent", c)
	}
	if condition(f.get(nc), v1.ConditionTypeReady) == metav1.ConditionTrue {
		t.Error("Ready before initialization")
	}

	// The CNI (say) removes its taint.
	node = f.node(name)
	stored := node.DeepCopy()
	var kept []corev1.Taint
	for _, tt := range node.Spec.Taints {
		if tt.Key != startup.Key {
			kept = append(kept, tt)
		}
	}
	// A taint the cluster puts on starting nodes (here the cloud controller
	// manager's) holds initialization too: kube-scheduler places nothing
	// while it is there. (kube-controller-manager would take a not-ready
	// taint off this Ready node before the test could look.)
	uninitialized := corev1.Taint{Key: "node.cloudprovider.kubernetes.io/uninitialized", Value: "true", Effect: corev1.TaintEffectNoSchedule}
	node.Spec.Taints = append(kept, uninitialized)
	if err := env.Client.Patch(f.ctx, node, client.MergeFrom(stored)); err != nil {
		t.Fatal(err)
	}
	f.mustReconcile(nc)
	if c := f.get(nc).GetCondition(v1.ConditionTypeInitialized); c == nil || c.Status != metav1.ConditionFalse || c.Reason != "EphemeralTaintsPresent" {
		t.Fatalf("Initialized = %+v, want False/EphemeralTaintsPresent", c)
	}
	node = f.node(name)
	stored = node.DeepCopy()
	node.Spec.Taints = kept
	if err := env.Client.Patch(f.ctx, node, client.MergeFrom(stored)); err != nil {
		t.Fatal(err)
	}
	f.mustReconcile(nc)
	got = f.get(nc)
	if !got.IsTrue(v1.ConditionTypeInitialized) || !got.IsTrue(v1.ConditionTypeReady) {
		t.Errorf("conditions = %+v, want Initialized and Ready", got.Status.Conditions)
	}
	if f.node(name).Labels[v1.NodeInitializedLabelKey] != "true" {
		t.Error("node not labelled initialized")
	}
	releaseClaim(t, nc)
}

func TestInitializationWaitsForExtendedResources(t *testing.T) {
	f := newFixture(t, lifecycle.Options{})
	nc := f.create(func(nc *v1.NodeClaim) {
		nc.Spec.Requirements = []v1.NodeSelectorRequirementWithMinValues{{Key: corev1.LabelInstanceTypeStable, Operator: corev1.NodeSelectorOpIn, Values: []string{"g4dn.xlarge"}}}
		nc.Spec.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), "nvidia.com/gpu": resource.MustParse("1")}
	})
	f.mustReconcile(nc)
	launched := f.get(nc)
	node := test.NodeFor(launched, "gpu-"+launched.Name)
	delete(node.Status.Allocatable, "nvidia.com/gpu") // the device plugin hasn't started
	delete(node.Status.Capacity, "nvidia.com/gpu")
	if err := env.Client.Create(f.ctx, node); err != nil {
		t.Fatal(err)
	}
	releaseNode(t, node.Name)
	f.mustReconcile(nc)
	expectations.Eventually(t, 30*time.Second, "kwok to mark the node Ready", func() bool { return nodeReady(f.node(node.Name)) })
	f.mustReconcile(nc)
	if c := f.get(nc).GetCondition(v1.ConditionTypeInitialized); c == nil || c.Reason != "ResourcesNotRegistered" {
		t.Fatalf("Initialized = %+v, want ResourcesNotRegistered", c)
	}

	expectations.Eventually(t, 30*time.Second, "the gpu to be registered", func() bool {
		n := f.node(node.Name)
		stored := n.DeepCopy()
		n.Status.Capacity["nvidia.com/gpu"] = resource.MustParse("1")
		n.Status.Allocatable["nvidia.com/gpu"] = resource.MustParse("1")
		return env.Client.Status().Patch(f.ctx, n, client.MergeFrom(stored)) == nil
	})
	f.mustReconcile(nc)
	if !f.get(nc).IsTrue(v1.ConditionTypeInitialized) {
		t.Errorf("conditions = %+v, want Initialized", f.get(nc).Status.Conditions)
	}
	releaseClaim(t, nc)
}

func TestLaunchTimeoutDeletesClaim(t *testing.T) {
	f := newFixture(t, lifecycle.Options{LaunchTimeout: 2 * time.Minute})
	nc := f.create(nil)
	f.cloud.NextError["Create"] = errors.New("throttled")
	if _, err := f.reconcile(nc); err == nil || !strings.Contains(err.Error(), "throttled") {
		t.Fatalf("reconcile error = %v, want the launch failure", err)
	}
	if !f.get(nc).DeletionTimestamp.IsZero() {
		t.Fatal("deleted before the launch timeout")
	}
	f.clock.Step(3 * time.Minute)
	f.mustReconcile(nc)
	if f.get(nc).DeletionTimestamp.IsZero() {
		t.Error("not deleted after the launch timeout")
	}
	if f.cloud.Calls["Create"] != 1 {
		t.Errorf("Create called %d times, want no launch after the timeout", f.cloud.Calls["Create"])
	}
	releaseClaim(t, nc)
}

func TestRegistrationTimeoutDeletesClaim(t *testing.T) {
	f := newFixture(t, lifecycle.Options{})
	nc := f.create(nil)
	f.mustReconcile(nc)
	f.clock.Step(10 * time.Minute)
	if res := f.mustReconcile(nc); res.RequeueAfter != 5*time.Minute {
		t.Errorf("RequeueAfter = %v, want the 5m left", res.RequeueAfter)
	}
	if !f.get(nc).DeletionTimestamp.IsZero() {
		t.Fatal("deleted before the registration timeout")
	}
	f.clock.Step(5 * time.Minute)
	f.mustReconcile(nc)
	if f.get(nc).DeletionTimestamp.IsZero() {
		t.Error("not deleted after the registration timeout")
	}
	select {
	case e := <-f.recorder.Events:
		if !strings.Contains(e, "RegistrationTimeout") {
			t.Errorf("event = %q", e)
		}
	default:
		t.Error("no event")
	}
	releaseClaim(t, nc)
}

func hasTaintKey(n *corev1.Node, key string) bool {
	for _, t := range n.Spec.Taints {
		if t.Key == key {
			return true
		}
	}
	return false
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// releaseClaim drops the finalizer so the shared cluster stays clean.
func releaseClaim(t *testing.T, nc *v1.NodeClaim) {
	t.Cleanup(func() {
		// Not t.Context(): it is canceled before cleanups run.
		ctx := context.Background()
		got := &v1.NodeClaim{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(nc), got); err != nil {
			return
		}
		stored := got.DeepCopy()
		got.Finalizers = nil
		_ = env.Client.Patch(ctx, got, client.MergeFrom(stored))
		_ = env.Client.Delete(ctx, got)
	})
}
