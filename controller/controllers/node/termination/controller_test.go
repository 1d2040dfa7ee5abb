package termination_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/controllers/node/termination"
	"github.com/nodewright/nodewright/controller/test/expectations"
	"github.com/nodewright/nodewright/controller/utils/index"
	"github.com/nodewright/nodewright/test/kubetest"
)

// Workloads leave first, then daemonsets, then critical pods; then the
// instance is terminated and the Node let go. A do-not-disrupt pod is
// evicted all the same: deleting a node is not voluntary disruption.
func TestDrainOrderThenTerminate(t *testing.T) {
	f := newFixture(t, nil)
	f.deployment("web", 2, map[string]string{v1.DoNotDisruptAnnotationKey: "true"})
	f.daemonSet("agent")
	f.criticalPod("critical")
	f.awaitRunning(map[string]int{"web": 2, "agent": 1, "critical": 1})
	f.deleteNode()

	if after := f.reconcile(); after <= 0 {
		t.Fatalf("RequeueAfter = %v while draining", after)
	}
	node, _ := f.getNode()
	if !hasTaint(node, v1.DisruptedTaintKey) {
		t.Errorf("taints = %v, want the disrupted taint", node.Spec.Taints)
	}
	pods := f.pods()
	if len(pods["web"]) > 0 && !deleting(pods["web"]) {
		t.Errorf("deployment pods not evicted in the first pass")
	}
	if len(pods["agent"]) != 1 || deleting(pods["agent"]) || len(pods["critical"]) != 1 || deleting(pods["critical"]) {
		t.Fatalf("daemonset or critical pod touched before the workload left: %v", pods)
	}

	// The evicted pods' replacements can't come back: the node is cordoned.
	expectations.Eventually(t, 30*time.Second, "deployment pods to leave", func() bool {
		f.reconcile()
		return len(f.pods()["web"]) == 0
	})
	pods = f.pods()
	if len(pods["critical"]) != 1 || deleting(pods["critical"]) {
		t.Fatal("critical pod evicted before the daemonset pod left")
	}
	expectations.Eventually(t, 30*time.Second, "daemonset pod to leave", func() bool {
		f.reconcile()
		return len(f.pods()["agent"]) == 0
	})
	expectations.Eventually(t, 30*time.Second, "critical pod to leave and the node to go", func() bool {
		if _, ok := f.getNode(); !ok {
			return true
		}
		f.reconcile()
		return false
	})
	if _, ok := f.cloud.Instances[f.instance.Status.ProviderID]; ok {
		t.Error("instance not terminated")
	}
	if f.cloud.Calls["Delete"] != 1 {
		t.Errorf("Delete called %d times, want 1", f.cloud.Calls["Delete"])
	}
}

// A budget that allows no disruption holds the drain, and the Node with
// it, until the budget is relaxed.
func TestPDBBlocksDrainUntilRelaxed(t *testing.T) {
	f := newFixture(t, nil)
	f.deployment("db", 2, nil)
	pdb := f.pdb("db", "db", 2)
	f.awaitRunning(map[string]int{"db": 2})
	expectations.Eventually(t, 30*time.Second, "the disruption controller to observe the budget", func() bool {
		got := &policyv1.PodDisruptionBudget{}
		f.must(env.Client.Get(f.ctx, client.ObjectKeyFromObject(pdb), got))
		return got.Status.ObservedGeneration == got.Generation && got.Status.CurrentHealthy == 2
	})
	f.deleteNode()

	// The controller reads time only from its clock, so stepping it stands
	// for the wait between passes.
	for range 3 {
		f.reconcile()
		f.clock.Step(500 * time.Millisecond)
	}
	pods := f.pods()["db"]
	if len(pods) != 2 {
		t.Fatalf("%d db pods left, want both kept by the budget", len(pods))
	}
	for _, p := range pods {
		if !p.DeletionTimestamp.IsZero() {
			t.Errorf("pod %s evicted despite the budget", p.Name)
		}
	}
	node, ok := f.getNode()
	if !ok || len(node.Finalizers) == 0 {
		t.Fatal("node released while its pods are held by a budget")
	}
	if _, ok := f.cloud.Instances[f.instance.Status.ProviderID]; !ok {
		t.Fatal("instance terminated while draining")
	}

	// kube-controller-manager writes the budget's status: a fresh read, and
	// again on a conflict.
	f.must(kubetest.Update(f.ctx, env.Client, pdb, func(p *policyv1.PodDisruptionBudget) {
		p.Spec.MinAvailable = ptr.To(intstr.FromInt32(0))
	}))
	expectations.Eventually(t, 60*time.Second, "the node to drain and go", func() bool {
		if _, ok := f.getNode(); !ok {
			return true
		}
		f.reconcile()
		return false
	})
	if _, ok := f.cloud.Instances[f.instance.Status.ProviderID]; ok {
		t.Error("instance not terminated")
	}
}

// Past the pool's terminationGracePeriod pods are deleted, budget or not.
func TestTerminationGracePeriodForcesDeletion(t *testing.T) {
	grace := 5 * time.Minute
	f := newFixture(t, &grace)
	f.deployment("db", 1, nil)
	f.pdb("db", "db", 1)
	f.awaitRunning(map[string]int{"db": 1})
	f.deleteNode()

	f.reconcile()
	f.clock.Step(time.Second)
	f.reconcile()
	if pods := f.pods()["db"]; len(pods) != 1 || deleting(pods) {
		t.Fatalf("pod evicted within the grace period despite its budget: %v", pods)
	}
	f.clock.Step(grace + time.Second)
	f.reconcileUntilGone("the node to go after the grace period")
	if len(f.cloud.Instances) != 0 {
		t.Error("instance not terminated")
	}
}

// A pod whose own grace period would outrun the node's deadline is deleted
// that much early, so it still stops in time.
func TestPodDeletedEarlyEnoughToMeetDeadline(t *testing.T) {
	grace := 5 * time.Minute
	f := newFixture(t, &grace)
	f.deployment("slow", 1, nil, func(s *corev1.PodSpec) { s.TerminationGracePeriodSeconds = ptr.To[int64](120) })
	f.pdb("slow", "slow", 1)
	f.awaitRunning(map[string]int{"slow": 1})
	f.deleteNode()
	f.reconcile()
	f.clock.Step(2*time.Minute + 30*time.Second) // 2m30s left > 2m
	f.reconcile()
	if pods := f.pods()["slow"]; len(pods) != 1 || deleting(pods) {
		t.Fatalf("pod deleted with more than its grace period left: %v", pods)
	}
	f.clock.Step(time.Minute) // 1m30s left < 2m
	f.reconcile()
	if pods := f.pods()["slow"]; len(pods) != 0 && !deleting(pods) {
		t.Fatal("pod not deleted once its grace period reaches the node's deadline")
	}
}

// A Node not being deleted, or without the finalizer, is left alone.
func TestIgnoresLiveNodes(t *testing.T) {
	f := newFixture(t, nil)
	if after := f.reconcile(); after != 0 {
		t.Errorf("RequeueAfter = %v for a live node", after)
	}
	node, _ := f.getNode()
	if hasTaint(node, v1.DisruptedTaintKey) || f.cloud.Calls["Delete"] != 0 {
		t.Error("live node cordoned or terminated")
	}
}

func hasTaint(n *corev1.Node, key string) bool {
	for _, t := range n.Spec.Taints {
		if t.Key == key {
			return true
		}
	}
	return false
}

// volumeAttachment attaches a persistent volume to the fixture's node, as
// the attach-detach controller does for a CSI volume.
func (f *fixture) volumeAttachment(name string) *storagev1.VolumeAttachment {
	va := &storagev1.VolumeAttachment{ObjectMeta: metav1.ObjectMeta{Name: name + "-" + f.ns}, Spec: storagev1.VolumeAttachmentSpec{
		Attacher: "ebs.csi.aws.com", NodeName: f.node,
		Source: storagev1.VolumeAttachmentSource{PersistentVolumeName: ptr.To("pv-" + name + "-" + f.ns)}}}
	f.must(env.Client.Create(f.ctx, va))
	f.t.Cleanup(func() { _ = env.Client.Delete(context.Background(), va) })
	expectations.Eventually(f.t, 10*time.Second, "the cache to see "+va.Name, func() bool {
		var vas storagev1.VolumeAttachmentList
		f.must(cachedClient(f.t).List(f.ctx, &vas, client.MatchingFields{index.VolumeAttachmentNodeName: f.node}))
		return len(vas.Items) == 1
	})
	return va
}

// A drained node keeps its instance while a volume is still attached, so
// the volume is never left attached to a terminated instance; once it
// detaches, the instance and the Node go.
func TestVolumesDetachBeforeTermination(t *testing.T) {
	f := newFixture(t, nil)
	va := f.volumeAttachment("data")
	f.deleteNode()
	if after := f.reconcile(); after != termination.VolumeRetry {
		t.Fatalf("RequeueAfter = %v with a volume attached, want %v", after, termination.VolumeRetry)
	}
	f.clock.Step(time.Hour)
	f.reconcile()
	if f.cloud.Calls["Delete"] != 0 || len(f.cloud.Instances) == 0 {
		t.Fatal("instance terminated under an attached volume")
	}
	f.must(env.Client.Delete(f.ctx, va))
	f.reconcileUntilGone("the node to go once its volume detached")
	if len(f.cloud.Instances) != 0 {
		t.Error("instance not terminated after the volume detached")
	}
}

// The volume wait ends with the termination grace period: the node's
// deadline is a deadline.
func TestGracePeriodEndsVolumeWait(t *testing.T) {
	grace := 5 * time.Minute
	f := newFixture(t, &grace)
	f.volumeAttachment("stuck")
	f.deleteNode()
	if after := f.reconcile(); after != termination.VolumeRetry {
		t.Fatalf("RequeueAfter = %v with a volume attached, want %v", after, termination.VolumeRetry)
	}
	f.clock.Step(grace + time.Second)
	f.reconcileUntilGone("the node to go after the grace period")
	if len(f.cloud.Instances) != 0 {
		t.Error("instance not terminated after the grace period")
	}
}

// stuckPod is a pod bound to the node that, once deleted, stays
// terminating (a finalizer nobody removes), as when its kubelet is gone.
// The node's kwok kubelet ends its grace period at once, so it counts as
// stuck a minute after its deletion.
func (f *fixture) stuckPod(name string) {
	spec := podSpec(f.node)
	spec.NodeName = f.node
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns, Finalizers: []string{"test.nodewright.dev/hold"}}, Spec: spec}
	expectations.Eventually(f.t, 30*time.Second, "creating pod "+name, func() bool {
		return env.Client.Create(f.ctx, pod.DeepCopy()) == nil
	})
	f.t.Cleanup(func() {
		_ = env.Client.Patch(context.Background(), pod, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`)))
	})
	f.must(env.Client.Delete(f.ctx, pod))
}

// The grace period is a hard deadline: at it the instance goes and the
// Node is let go with a pod stuck terminating, a pod its budget protects
// and a volume still attached, and that is said once, as an event.
func TestGracePeriodIsAHardDeadline(t *testing.T) {
	grace := 30 * time.Second
	f := newFixture(t, &grace)
	f.deployment("db", 1, nil)
	f.pdb("db", "db", 1)
	f.awaitRunning(map[string]int{"db": 1})
	f.stuckPod("stuck") // not yet stuck a minute at the node's deadline
	f.volumeAttachment("data")
	f.deleteNode()
	if after := f.reconcile(); after <= 0 {
		t.Fatal("node let go within its grace period")
	}
	f.clock.Step(grace + time.Second)
	f.reconcile()
	if _, ok := f.getNode(); ok {
		t.Fatal("node still there after its grace period")
	}
	if len(f.cloud.Instances) != 0 {
		t.Error("instance not terminated at the deadline")
	}
	// Left pods are deleted, so their deployments replace them at once.
	if pods := f.pods()["db"]; len(pods) != 0 && !deleting(pods) {
		t.Errorf("pod its budget protected not deleted at the deadline: %v", pods)
	}
	var got []string
	for len(f.recorder.Events) > 0 {
		if e := <-f.recorder.Events; strings.Contains(e, "TerminationGracePeriodElapsed") {
			got = append(got, e)
		}
	}
	if len(got) != 1 || !strings.Contains(got[0], "2 pods and 1 volume attachments left") {
		t.Errorf("deadline events %q, want one naming 2 pods and 1 volume attachment", got)
	}
}

// Without a grace period a pod stuck terminating holds the node only a
// minute past the end of its own grace period, as Karpenter's drain.
func TestStuckTerminatingPodStopsHoldingTheNode(t *testing.T) {
	f := newFixture(t, nil)
	f.stuckPod("stuck")
	f.deleteNode()
	if after := f.reconcile(); after != termination.DrainRetry {
		t.Fatalf("RequeueAfter = %v with a pod terminating, want %v", after, termination.DrainRetry)
	}
	f.clock.Step(2 * time.Minute)
	f.reconcileUntilGone("the node to go once its pod is stuck")
}

// The NodeClaim's own terminationGracePeriod bounds the drain even when
// its pool sets none.
func TestClaimGracePeriodCounts(t *testing.T) {
	f := newFixture(t, nil)
	nc := f.instance.DeepCopy()
	nc.ResourceVersion = ""
	nc.Spec.TerminationGracePeriod = &metav1.Duration{Duration: time.Minute}
	status := nc.Status
	f.must(env.Client.Create(f.ctx, nc))
	nc.Status = status
	f.must(env.Client.Status().Update(f.ctx, nc))
	t.Cleanup(func() { _ = kubetest.Purge(context.Background(), env.Client, nc) })
	f.stuckPod("stuck")
	f.deleteNode()
	f.reconcile()
	f.clock.Step(time.Minute + time.Second)
	f.reconcile()
	if _, ok := f.getNode(); ok {
		t.Fatal("node still there after its claim's grace period")
	}
}
