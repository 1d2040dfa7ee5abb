package provisioning_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider/fake"
	"github.com/nodewright/nodewright/controller/controllers/provisioning"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/engine/scheduling/workloads"
	"github.com/nodewright/nodewright/controller/test"
	"github.com/nodewright/nodewright/controller/test/expectations"
	"github.com/nodewright/nodewright/controller/utils/nodepool"
	"github.com/nodewright/nodewright/test/kubetest"
)

type env struct {
	t        *testing.T
	ctx      context.Context
	kube     client.Client
	cfg      *rest.Config
	cloud    *fake.CloudProvider
	recorder *events.FakeRecorder
	p        *provisioning.Provisioner
}

func setup(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	lc := test.Start(t)
	kube := lc.Client
	e := &env{t: t, ctx: ctx, kube: kube, cfg: lc.RESTConfig, cloud: fake.New(workloads.SyntheticInstanceTypes(16)), recorder: events.NewFakeRecorder(1000)}
	e.p = provisioning.New(kube, e.cloud, clocktesting.NewFakeClock(time.Now()), e.recorder, provisioning.Options{})
	if err := kube.Create(ctx, test.EC2NodeClass(test.EC2NodeClassOptions{Name: "default"})); err != nil {
		t.Fatalf("creating nodeclass: %v", err)
	}
	// The service account controller may not have caught up yet.
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "default"}}
	if err := kube.Create(ctx, sa); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating service account: %v", err)
	}
	return e
}

func (e *env) nodePool(name string, limits corev1.ResourceList) *v1.NodePool {
	np := test.NodePool(test.NodePoolOptions{Name: name, Labels: map[string]string{"team": "a"}, Limits: limits})
	np.Spec.Template.ObjectMeta.Annotations = map[string]string{"note": "x"}
	np.Spec.Template.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "a", Effect: corev1.TaintEffectNoSchedule}}
	np.Spec.Template.Spec.StartupTaints = []corev1.Taint{{Key: "cni", Effect: corev1.TaintEffectNoSchedule}}
	np.Spec.Template.Spec.ExpireAfter = "24h"
	if err := e.kube.Create(e.ctx, np); err != nil {
		e.t.Fatalf("creating nodepool: %v", err)
	}
	return np
}

// pendingPods creates pods and marks them unschedulable as kube-scheduler would.
func (e *env) pendingPods(prefix string, n int, cpu string) []*corev1.Pod {
	var out []*corev1.Pod
	for i := 0; i < n; i++ {
		out = append(out, e.pendingPod(prefix+"-"+string(rune('a'+i)), cpu, nil))
	}
	return out
}

// pendingPod creates one pod, changed by mutate (when set) first, and
// marks it unschedulable.
func (e *env) pendingPod(name, cpu string, mutate func(*corev1.Pod)) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{
			Tolerations: []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists}},
			// An unknown scheduler leaves the condition to us.
			SchedulerName: "nobody",
			Containers: []corev1.Container{{Name: "c", Image: "pause", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse("256Mi")}}}}}}
	if mutate != nil {
		mutate(pod)
	}
	if err := e.kube.Create(e.ctx, pod); err != nil {
		e.t.Fatalf("creating pod: %v", err)
	}
	err := kubetest.UpdateStatus(e.ctx, e.kube, pod, func(pod *corev1.Pod) {
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, LastTransitionTime: metav1.Now()}}
	})
	if err != nil {
		e.t.Fatalf("marking pod unschedulable: %v", err)
	}
	return pod
}

func (e *env) claims() []v1.NodeClaim {
	var l v1.NodeClaimList
	if err := e.kube.List(e.ctx, &l); err != nil {
		e.t.Fatal(err)
	}
	return l.Items
}

func (e *env) events() []string {
	var out []string
	for {
		select {
		case ev := <-e.recorder.Events:
			out = append(out, ev)
		default:
			return out
		}
	}
}

func TestProvisioner(t *testing.T) {
	e := setup(t)
	np := e.nodePool("default", nil)

	t.Run("batch of ten pods matches the engine's plan", func(t *testing.T) {
		pool := map[string]string{"nodepool": "default"}
		createdBefore := expectations.Metric(t, "nodewright_nodeclaims_created_total", pool)
		newBefore := expectations.Metric(t, "nodewright_provisioner_scheduling_decisions_total", map[string]string{"decision": "new"})
		solvesBefore := expectations.Metric(t, "nodewright_provisioner_solve_duration_seconds", nil)
		pods := e.pendingPods("web", 10, "650m")
		// The same input, solved directly.
		want, err := scheduling.Solve(scheduling.Input{Pods: pods, NodePools: []*scheduling.NodePool{
			nodepool.ForScheduling(np, e.cloud.Types)}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.p.Schedule(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		claims := e.claims()
		if len(claims) != len(want.NodeClaims) || len(res.NodeClaims) != len(want.NodeClaims) || len(claims) == 0 {
			t.Fatalf("claims %d, plan %d, want %d", len(claims), len(res.NodeClaims), len(want.NodeClaims))
		}
		var gotTypes, wantTypes []string
		for _, p := range want.NodeClaims {
			wantTypes = append(wantTypes, p.Chosen().InstanceType.Name)
		}
		for _, p := range res.NodeClaims {
			gotTypes = append(gotTypes, p.Chosen().InstanceType.Name)
		}
		if got := expectations.Metric(t, "nodewright_nodeclaims_created_total", pool) - createdBefore; got != float64(len(claims)) {
			t.Errorf("nodeclaims_created_total rose by %v, want %d", got, len(claims))
		}
		if got := expectations.Metric(t, "nodewright_provisioner_scheduling_decisions_total", map[string]string{"decision": "new"}) - newBefore; got != 10 {
			t.Errorf("scheduling_decisions_total{decision=new} rose by %v, want 10", got)
		}
		if got := expectations.Metric(t, "nodewright_provisioner_solve_duration_seconds", nil) - solvesBefore; got != 1 {
			t.Errorf("solve_duration_seconds observed %v solves, want 1", got)
		}
		sort.Strings(gotTypes)
		sort.Strings(wantTypes)
		if strings.Join(gotTypes, ",") != strings.Join(wantTypes, ",") {
			t.Errorf("cheapest types %v, want %v", gotTypes, wantTypes)
		}
		for _, nc := range claims {
			if !strings.HasPrefix(nc.Name, "default-") || len(nc.Name) != len("default-")+5 {
				t.Errorf("name %q", nc.Name)
			}
			if nc.Labels[v1.NodePoolLabelKey] != "default" || nc.Labels["team"] != "a" || nc.Annotations["note"] != "x" {
				t.Errorf("labels %v annotations %v", nc.Labels, nc.Annotations)
			}
			if len(nc.Finalizers) != 1 || nc.Finalizers[0] != v1.TerminationFinalizer {
				t.Errorf("finalizers %v", nc.Finalizers)
			}
			if nc.Spec.NodeClassRef.Name != "default" || nc.Spec.ExpireAfter != "24h" || len(nc.Spec.Taints) != 1 || len(nc.Spec.StartupTaints) != 1 {
				t.Errorf("spec %+v", nc.Spec)
			}
			var typeReq *v1.NodeSelectorRequirementWithMinValues
			for i, r := range nc.Spec.Requirements {
				if r.Key == corev1.LabelInstanceTypeStable {
					typeReq = &nc.Spec.Requirements[i]
				}
			}
			if typeReq == nil || typeReq.Operator != corev1.NodeSelectorOpIn || len(typeReq.Values) == 0 {
				t.Errorf("instance-type requirement %+v", typeReq)
			}
			if nc.Spec.Resources.Requests.Cpu().MilliValue() < 650 {
				t.Errorf("requests %v", nc.Spec.Resources.Requests)
			}
		}
		evs := e.events()
		nominated := 0
		for _, ev := range evs {
			if strings.Contains(ev, "Nominated for nodeclaim default-") {
				nominated++
			}
		}
		if nominated != 10 {
			t.Errorf("%d nominated events: %v", nominated, evs)
		}
		// A second batch sees the nominated pods as spoken for.
		res, err = e.p.Schedule(e.ctx)
		if err != nil || len(res.NodeClaims) != 0 || len(e.claims()) != len(claims) {
			t.Fatalf("second batch: %v, %+v", err, res)
		}
	})

	t.Run("pods that fit in-flight capacity get no new nodeclaim", func(t *testing.T) {
		before := len(e.claims())
		// Launch the claims so they carry allocatable, then add a small pod.
		for _, nc := range e.claims() {
			launched, err := e.cloud.Create(e.ctx, &nc)
			if err != nil {
				t.Fatal(err)
			}
			if err := kubetest.UpdateStatus(e.ctx, e.kube, &nc, func(nc *v1.NodeClaim) { nc.Status = launched.Status }); err != nil {
				t.Fatal(err)
			}
		}
		e.pendingPods("tiny", 1, "10m")
		res, err := e.p.Schedule(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.NodeClaims) != 0 || len(res.ExistingNodes) != 1 || len(e.claims()) != before {
			t.Fatalf("plan %+v, claims %d (was %d)", res, len(e.claims()), before)
		}
		e.p.WaitNominations()
		var pod corev1.Pod
		_ = e.kube.Get(e.ctx, client.ObjectKey{Namespace: "default", Name: "tiny-a"}, &pod)
		if pod.Annotations[provisioning.NominatedAnnotationKey] != res.ExistingNodes[0].Node {
			t.Errorf("tiny pod annotations %v", pod.Annotations)
		}
		e.events()
	})

	t.Run("a starting node's passing taints do not turn a pod away", func(t *testing.T) {
		// The node of a launched, uninitialized claim, with the taints a
		// starting node has: the cluster's and the claim's startup taint.
		nc := e.claims()[0]
		node := test.NodeFor(&nc, "starting-node")
		node.Spec.Taints = append(node.Spec.Taints, corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule})
		node.Spec.Taints = append(node.Spec.Taints, nc.Spec.Taints...)
		if err := e.kube.Create(e.ctx, node); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.kube.Delete(context.Background(), node) })
		before := len(e.claims())
		pod := e.pendingPod("pinned", "10m", func(p *corev1.Pod) {
			p.Spec.NodeSelector = map[string]string{corev1.LabelHostname: node.Name}
		})
		t.Cleanup(func() { _ = e.kube.Delete(context.Background(), pod) })
		res, err := e.p.Schedule(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.ExistingNodes) != 1 || res.ExistingNodes[0].Node != node.Name || len(e.claims()) != before {
			t.Fatalf("plan %+v, claims %d (was %d), want the pod on %s", res, len(e.claims()), before, node.Name)
		}
		e.events()
	})

	t.Run("impossible pod gets the engine's reason", func(t *testing.T) {
		before := len(e.claims())
		e.pendingPods("huge", 1, "500")
		res, err := e.p.Schedule(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Unschedulable) != 1 || len(e.claims()) != before {
			t.Fatalf("plan %+v", res)
		}
		evs := strings.Join(e.events(), "\n")
		if !strings.Contains(evs, provisioning.ReasonNodeClaimNotCreated) || !strings.Contains(evs, res.Unschedulable[0].Reason) {
			t.Errorf("events %q, reason %q", evs, res.Unschedulable[0].Reason)
		}
		var pod corev1.Pod
		_ = e.kube.Get(e.ctx, client.ObjectKey{Namespace: "default", Name: "huge-a"}, &pod)
		_ = e.kube.Delete(e.ctx, &pod)
	})

	t.Run("limits stop creation", func(t *testing.T) {
		// The default pool's usage (launched claims) already exceeds 1 cpu.
		err := kubetest.Update(e.ctx, e.kube, np, func(np *v1.NodePool) {
			np.Spec.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}
		})
		if err != nil {
			t.Fatal(err)
		}
		before := len(e.claims())
		e.pendingPods("capped", 2, "3")
		res, err := e.p.Schedule(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.NodeClaims) != 0 || len(e.claims()) != before || len(res.Unschedulable) != 2 {
			t.Fatalf("plan %+v", res)
		}
		evs := strings.Join(e.events(), "\n")
		if !strings.Contains(evs, provisioning.ReasonLimitReached) || !strings.Contains(evs, "limit reached") {
			t.Errorf("events %q", evs)
		}
	})
}

func TestNodeClassMissingSkipsPool(t *testing.T) {
	e := setup(t)
	np := e.nodePool("orphan", nil)
	if err := kubetest.Update(e.ctx, e.kube, np, func(np *v1.NodePool) { np.Spec.Template.Spec.NodeClassRef.Name = "missing" }); err != nil {
		t.Fatal(err)
	}
	e.pendingPods("p", 1, "100m")
	res, err := e.p.Schedule(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.NodeClaims) != 0 || len(res.Unschedulable) != 1 {
		t.Fatalf("plan %+v", res)
	}
}
