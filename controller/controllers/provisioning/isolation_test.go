package provisioning_test

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/controllers/provisioning"
	"github.com/nodewright/nodewright/controller/test"
	"github.com/nodewright/nodewright/controller/test/expectations"
)

// pool creates a NodePool on the named class, labelling its nodes tier=name.
func (e *env) pool(name, class string, weight int32) *v1.NodePool {
	e.t.Helper()
	np := test.NodePool(test.NodePoolOptions{Name: name, NodeClass: class, Weight: ptr.To(weight), Labels: map[string]string{"tier": name}})
	expectations.ExpectCreated(e.ctx, e.t, e.kube, np)
	return np
}

// unreadyClass creates an EC2NodeClass whose subnet selector matched
// nothing, as the status controller would record it.
func (e *env) unreadyClass(name string) {
	e.t.Helper()
	nc := test.EC2NodeClass(test.EC2NodeClassOptions{Name: name})
	expectations.ExpectCreated(e.ctx, e.t, e.kube, nc)
	set := func(typ string, status metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&nc.Status.Conditions, metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg})
	}
	set(v1.ConditionTypeSubnetsReady, metav1.ConditionFalse, "NotFound", "no subnet matches subnetSelectorTerms [{tags: k=nothing}]")
	set(v1.ConditionTypeReady, metav1.ConditionFalse, "NotReady", "SubnetsReady not ready")
	expectations.ExpectStatusUpdated(e.ctx, e.t, e.kube, nc)
}

// selecting makes a pending pod that only nodes labelled tier=value may run.
func (e *env) selecting(prefix, value string) *corev1.Pod {
	e.t.Helper()
	pod := e.pendingPods(prefix, 1, "100m")[0]
	// nodeSelector is immutable once created: recreate the pod with it.
	if err := e.kube.Delete(e.ctx, pod); err != nil {
		e.t.Fatal(err)
	}
	fresh := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: "default"}, Spec: pod.Spec}
	fresh.Spec.NodeSelector = map[string]string{"tier": value}
	if err := e.kube.Create(e.ctx, fresh); err != nil {
		e.t.Fatal(err)
	}
	fresh.Status.Conditions = pod.Status.Conditions
	if err := e.kube.Status().Update(e.ctx, fresh); err != nil {
		e.t.Fatal(err)
	}
	return fresh
}

// A pool that cannot launch (its node class is not ready, or its instance
// types cannot be listed) is left out of the batch: the other pools'
// pods still get claims, and a pod only the broken pool could run is told
// which pool and why.
func TestBrokenPoolLeftOutOfBatch(t *testing.T) {
	e := setup(t)
	e.unreadyClass("nosubnets")
	e.pool("good", "default", 10)
	// Heavier, so the solver would try it first.
	e.pool("broken", "nosubnets", 90)
	e.pool("failing", "default", 80)
	e.cloud.FailInstanceTypes("failing", errors.New("pricing unavailable"))

	plain := e.pendingPods("plain", 3, "500m")
	e.selecting("wants-broken", "broken")
	e.selecting("wants-failing", "failing")

	res, err := e.p.Schedule(e.ctx)
	if err != nil {
		t.Fatalf("batch failed for every pool: %v", err)
	}
	claims := e.claims()
	if len(claims) == 0 || len(res.NodeClaims) != len(claims) {
		t.Fatalf("claims %d, plan %d: want the good pool's", len(claims), len(res.NodeClaims))
	}
	for _, nc := range claims {
		if nc.Labels[v1.NodePoolLabelKey] != "good" {
			t.Errorf("nodeclaim %s is from nodepool %s, want good", nc.Name, nc.Labels[v1.NodePoolLabelKey])
		}
	}
	placed := map[string]bool{}
	for _, plan := range res.NodeClaims {
		for _, p := range plan.Pods {
			placed[p.Name] = true
		}
	}
	for _, p := range plain {
		if !placed[p.Name] {
			t.Errorf("pod %s got no nodeclaim", p.Name)
		}
	}
	if len(res.Unschedulable) != 2 {
		t.Fatalf("unschedulable %d, want the two pods only broken pools could run", len(res.Unschedulable))
	}

	evs := e.events()
	var unavailable []string
	for _, ev := range evs {
		if strings.Contains(ev, provisioning.ReasonNodePoolUnavailable) {
			unavailable = append(unavailable, ev)
		}
	}
	if len(unavailable) != 2 {
		t.Fatalf("want one %s event per pod only a left-out pool could run, got %q", provisioning.ReasonNodePoolUnavailable, unavailable)
	}
	all := strings.Join(unavailable, "\n")
	for _, want := range []string{
		"Nodepool broken could run this pod but cannot launch nodes: NodeClassNotReady: EC2NodeClass nosubnets not ready: SubnetsReady not ready: no subnet matches subnetSelectorTerms",
		"Nodepool failing could run this pod but cannot launch nodes: InstanceTypesUnavailable: pricing unavailable",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no event %q in %q", want, all)
		}
	}
}

// Replacement for interrupted nodes works around a broken pool too.
func TestReplaceLeavesBrokenPoolOut(t *testing.T) {
	e := setup(t)
	e.nodePool("default", nil)
	e.pool("broken", "default", 90)
	e.cloud.FailInstanceTypes("broken", errors.New("pricing unavailable"))
	e.node("doomed", "8")
	e.boundPods("work", "doomed", 2, "1", false)

	claims, err := e.p.Replace(e.ctx, []string{"doomed"})
	if err != nil {
		t.Fatalf("replace failed: %v", err)
	}
	if len(claims) != 1 || claims[0].Labels[v1.NodePoolLabelKey] != "default" {
		t.Fatalf("replacements %d, want one from nodepool default", len(claims))
	}
}
