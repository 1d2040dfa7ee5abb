package lifecycle_test

import (
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

func TestRegistrationSyncsNodeAndInitializationWaits(t *testing.T) {
	f := newFixture(t, lifecycle.Options{})
	startup := corev1.Taint{Key: "example.com/cni-not-ready", Effect: corev1.TaintEffectNoSchedule}
	lasting := corev1.Taint{Key: "example.com/dedicated", Value: "batch", Effect: corev1.TaintEffectNoSchedule}
	nc := f.create(func(nc *v1.NodeClaim) {
		nc.Labels["team"] = "a"
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
	for k, want := range map[string]string{"team": "a", v1.NodeRegisteredLabelKey: "true", corev1.LabelInstanceTypeStable: "m5.large"} {
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
		got := &v1.NodeClaim{}
		if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(nc), got); err != nil {
			return
		}
		stored := got.DeepCopy()
		got.Finalizers = nil
		_ = env.Client.Patch(t.Context(), got, client.MergeFrom(stored))
		_ = env.Client.Delete(t.Context(), got)
	})
}
