package emptiness_test

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/controllers/disruption/emptiness"
	"github.com/nodewright/nodewright/controller/crds"
	"github.com/nodewright/nodewright/test/localcloud"
)

type env struct {
	t    *testing.T
	ctx  context.Context
	kube client.Client
	clk  *clocktesting.FakeClock
	c    *emptiness.Controller
	rec  *record.FakeRecorder
}

func setup(t *testing.T) *env {
	lc := localcloud.Start(t)
	ctx := context.Background()
	if err := crds.Install(ctx, lc.RESTConfig); err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1.AddToScheme(scheme)
	kube, err := client.New(lc.RESTConfig, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "default"}}
	if err := kube.Create(ctx, sa); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	clk := clocktesting.NewFakeClock(time.Now().Truncate(time.Second))
	rec := record.NewFakeRecorder(100)
	return &env{t: t, ctx: ctx, kube: kube, clk: clk, rec: rec, c: emptiness.NewController(kube, clk, rec)}
}

func (e *env) pool(name, after string, budgets ...v1.Budget) *v1.NodePool {
	np := &v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1.NodePoolSpec{
		Template: v1.NodeClaimTemplate{Spec: v1.NodeClaimTemplateSpec{
			NodeClassRef: &v1.NodeClassReference{Group: v1.Group, Kind: "EC2NodeClass", Name: "default"}}},
		Disruption: v1.Disruption{ConsolidationPolicy: v1.ConsolidationPolicyWhenEmpty, ConsolidateAfter: v1.NillableDuration(after), Budgets: budgets}}}
	if err := e.kube.Create(e.ctx, np); err != nil {
		e.t.Fatal(err)
	}
	return np
}

// node makes an initialized NodeClaim and its kwok Node.
func (e *env) node(pool, name string, annotations map[string]string) {
	nc := &v1.NodeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{v1.NodePoolLabelKey: pool},
		Finalizers: []string{v1.TerminationFinalizer}},
		Spec: v1.NodeClaimSpec{NodeClassRef: &v1.NodeClassReference{Group: v1.Group, Kind: "EC2NodeClass", Name: "default"}}}
	if err := e.kube.Create(e.ctx, nc); err != nil {
		e.t.Fatal(err)
	}
	nc.Status.ProviderID = "fake:///zone-a/" + name
	nc.Status.NodeName = name
	nc.SetCondition(v1.ConditionTypeInitialized, metav1.ConditionTrue, "", "")
	if err := e.kube.Status().Update(e.ctx, nc); err != nil {
		e.t.Fatal(err)
	}
	ann := map[string]string{"kwok.x-k8s.io/node": "fake"}
	for k, v := range annotations {
		ann[k] = v
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: ann, Labels: map[string]string{v1.NodePoolLabelKey: pool}},
		Spec: corev1.NodeSpec{ProviderID: nc.Status.ProviderID},
		Status: corev1.NodeStatus{Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourcePods: resource.MustParse("20")},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourcePods: resource.MustParse("20")}}}
	if err := e.kube.Create(e.ctx, node); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) pod(name, node string, owner *metav1.OwnerReference, annotations map[string]string) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Annotations: annotations},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "pause"}}}}
	if owner != nil {
		pod.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	if err := e.kube.Create(e.ctx, pod); err != nil {
		e.t.Fatal(err)
	}
	return pod
}

func (e *env) reconcile(pool string) time.Duration {
	var np v1.NodePool
	if err := e.kube.Get(e.ctx, client.ObjectKey{Name: pool}, &np); err != nil {
		e.t.Fatal(err)
	}
	res, err := e.c.Reconcile(e.ctx, &np)
	if err != nil {
		e.t.Fatal(err)
	}
	return res.RequeueAfter
}

func (e *env) deleting(names ...string) map[string]bool {
	out := map[string]bool{}
	for _, n := range names {
		var nc v1.NodeClaim
		if err := e.kube.Get(e.ctx, client.ObjectKey{Name: n}, &nc); err != nil {
			e.t.Fatal(err)
		}
		out[n] = !nc.DeletionTimestamp.IsZero()
	}
	return out
}

func TestEmptiness(t *testing.T) {
	e := setup(t)
	e.pool("p", "5m", v1.Budget{Nodes: "1"})
	e.node("p", "n1", nil)
	e.node("p", "n2", nil)
	e.node("p", "n3", map[string]string{v1.DoNotDisruptAnnotationKey: "true"})
	e.node("p", "n4", nil)
	// Daemonset pods don't make a node busy; a do-not-disrupt one blocks it.
	// The owner must exist or the garbage collector removes the pods; it
	// selects nothing and is not their controller, so it leaves them alone.
	daemonset := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default"}, Spec: appsv1.DaemonSetSpec{
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
			Spec: corev1.PodSpec{NodeSelector: map[string]string{"nowhere": "true"}, Containers: []corev1.Container{{Name: "c", Image: "pause"}}}}}}
	if err := e.kube.Create(e.ctx, daemonset); err != nil {
		t.Fatal(err)
	}
	ds := &metav1.OwnerReference{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "agent", UID: daemonset.UID, Controller: ptr.To(false)}
	e.pod("agent-n1", "n1", ds, nil)
	e.pod("agent-n4", "n4", ds, map[string]string{v1.DoNotDisruptAnnotationKey: "true"})

	if wait := e.reconcile("p"); wait != 5*time.Minute {
		t.Fatalf("first requeue %v, want 5m", wait)
	}
	// A pod lands on n2 during the wait, and leaves again a minute later.
	e.clk.Step(3 * time.Minute)
	busy := e.pod("web", "n2", nil, nil)
	e.reconcile("p")
	e.clk.Step(time.Minute)
	if err := e.kube.Delete(e.ctx, busy, client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	for {
		if err := e.kube.Get(e.ctx, client.ObjectKeyFromObject(busy), busy); apierrors.IsNotFound(err) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.reconcile("p")
	if got := e.deleting("n1", "n2", "n3", "n4"); got["n1"] || got["n2"] {
		t.Fatalf("deleted before consolidateAfter: %v", got)
	}
	e.clk.Step(time.Minute + time.Second)
	e.reconcile("p")
	if got := e.deleting("n1", "n2", "n3", "n4"); !got["n1"] || got["n2"] || got["n3"] || got["n4"] {
		t.Fatalf("after 5m: deleting %v, want only n1", got)
	}
	select {
	case ev := <-e.rec.Events:
		if want := "Normal DisruptionEmpty Empty: deleting node n1 after 5m1s"; ev != want {
			t.Errorf("event %q, want %q", ev, want)
		}
	default:
		t.Error("no event")
	}
	// n2's clock restarted when its pod left; once it has waited too, the
	// budget of one is still taken by n1, which hasn't finished terminating.
	e.clk.Step(5 * time.Minute)
	e.reconcile("p")
	if got := e.deleting("n2"); got["n2"] {
		t.Fatal("budget of 1 allowed a second deletion")
	}
	// n1 finishes terminating; n2 may go.
	var n1 v1.NodeClaim
	_ = e.kube.Get(e.ctx, client.ObjectKey{Name: "n1"}, &n1)
	n1.Finalizers = nil
	if err := e.kube.Update(e.ctx, &n1); err != nil {
		t.Fatal(err)
	}
	e.reconcile("p")
	if got := e.deleting("n2", "n3", "n4"); !got["n2"] || got["n3"] || got["n4"] {
		t.Fatalf("after n1 left: %v, want n2 only", got)
	}

	t.Run("budget of zero blocks", func(t *testing.T) {
		e.pool("zero", "0s", v1.Budget{Nodes: "0"})
		e.node("zero", "z1", nil)
		e.reconcile("zero")
		e.clk.Step(time.Hour)
		e.reconcile("zero")
		if got := e.deleting("z1"); got["z1"] {
			t.Fatal("deleted despite a budget of 0")
		}
	})
	t.Run("Never disables", func(t *testing.T) {
		e.pool("never", "Never")
		e.node("never", "v1", nil)
		e.reconcile("never")
		e.clk.Step(100 * time.Hour)
		e.reconcile("never")
		if got := e.deleting("v1"); got["v1"] {
			t.Fatal("deleted with consolidateAfter Never")
		}
	})
}
