package provisioning_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/test/kubetest"
)

func (e *env) node(name, cpu string) {
	e.t.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{v1.NodePoolLabelKey: "default",
		corev1.LabelHostname: name, corev1.LabelTopologyZone: "zone-a"}}}
	if err := e.kube.Create(e.ctx, n); err != nil {
		e.t.Fatal(err)
	}
	err := kubetest.UpdateStatus(e.ctx, e.kube, n, func(n *corev1.Node) {
		n.Status.Allocatable = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse("16Gi"),
			corev1.ResourcePods: resource.MustParse("110")}
		n.Status.Capacity = n.Status.Allocatable
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) boundPods(prefix, node string, n int, cpu string, daemon bool) {
	e.t.Helper()
	for _, pod := range e.pendingPods(prefix, n, cpu) {
		// pendingPods created them; bind by recreating with nodeName.
		if err := e.kube.Delete(e.ctx, pod); err != nil {
			e.t.Fatal(err)
		}
		fresh := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: "default"}, Spec: pod.Spec}
		fresh.Spec.NodeName = node
		if daemon {
			fresh.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "ds", UID: "ds-uid", Controller: ptr.To(true)}}
		}
		if err := e.kube.Create(e.ctx, fresh); err != nil {
			e.t.Fatal(err)
		}
	}
}

func TestReplace(t *testing.T) {
	e := setup(t)
	e.nodePool("default", nil)
	e.node("doomed", "8")
	e.node("small", "1")
	e.boundPods("work", "doomed", 4, "1", false)
	e.boundPods("ds", "doomed", 1, "100m", true)

	claims, err := e.p.Replace(e.ctx, []string{"doomed"})
	if err != nil {
		t.Fatal(err)
	}
	if len(claims) != 1 {
		t.Fatalf("want 1 replacement nodeclaim, got %d", len(claims))
	}
	nc := claims[0]
	if nc.Annotations[v1.ReplacementForAnnotationKey] != "doomed" {
		t.Errorf("annotation = %q", nc.Annotations[v1.ReplacementForAnnotationKey])
	}
	// Four 1-CPU workload pods move (one would fit on "small" but the solver
	// packs); the daemonset pod does not count.
	cpu := nc.Spec.Resources.Requests[corev1.ResourceCPU]
	if cpu.MilliValue() < 3000 || cpu.MilliValue() > 4000 {
		t.Errorf("replacement requests %s CPU, want 3-4 (daemonset pod excluded)", cpu.String())
	}
	if len(e.claims()) != 1 {
		t.Errorf("want 1 nodeclaim in the cluster, got %d", len(e.claims()))
	}

	// The replacement is in flight: replacing again needs no new claim, the
	// pods fit on it.
	again, err := e.p.Replace(e.ctx, []string{"doomed"})
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Errorf("second Replace created %d nodeclaims, want 0", len(again))
	}

	// Nothing to move: no claim.
	none, err := e.p.Replace(e.ctx, []string{"small"})
	if err != nil || len(none) != 0 {
		t.Errorf("Replace of an empty node = %d claims, %v", len(none), err)
	}
}

// Two nodes replaced in one call: the pods of one fit on a node that
// stays, those of the other need a new claim. The claim names only the
// node whose pods it takes, so the first node need not wait for it.
func TestReplaceNamesOnlyTheNodesAClaimTakesPodsFrom(t *testing.T) {
	e := setup(t)
	e.nodePool("default", nil)
	e.node("big", "8")
	e.node("roomy", "4")
	e.node("tiny", "4")
	e.boundPods("work", "big", 6, "1", false)
	e.boundPods("small", "tiny", 1, "1", false)

	claims, err := e.p.Replace(e.ctx, []string{"big", "tiny"})
	if err != nil {
		t.Fatal(err)
	}
	if len(claims) == 0 {
		t.Fatal("no replacement nodeclaim for six 1-CPU pods that fit nowhere else")
	}
	for _, nc := range claims {
		if got := nc.Annotations[v1.ReplacementForAnnotationKey]; got != "big" {
			t.Errorf("claim %s replaces %q, want only \"big\": tiny's pod fits on roomy", nc.Name, got)
		}
	}
}
