package provisioning_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/test/kubetest"
)

// boundPod is a running pod of node that tolerates the pool's taint.
func (e *env) boundPod(name, node, cpu string) {
	e.t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{NodeName: node,
			Tolerations: []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists}},
			Containers: []corev1.Container{{Name: "c", Image: "pause", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse("256Mi")}}}}}}
	if err := e.kube.Create(e.ctx, pod); err != nil {
		e.t.Fatal(err)
	}
}

// poolNode stores a Node of pool np; deleting leaves it deleting (held by a
// finalizer), cordoned marks it unschedulable.
func (e *env) poolNode(name string, np *v1.NodePool, deleting, cordoned bool) {
	e.t.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{v1.NodePoolLabelKey: np.Name, corev1.LabelHostname: name},
		Finalizers: []string{v1.TerminationFinalizer}}, Spec: corev1.NodeSpec{Unschedulable: cordoned}}
	if err := e.kube.Create(e.ctx, n); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = kubetest.Purge(e.ctx, e.kube, n) })
	if deleting {
		if err := e.kube.Delete(e.ctx, n); err != nil {
			e.t.Fatal(err)
		}
	}
}

// The pods of a deleting node get capacity before they are evicted, as
// Karpenter's provisioner gives pods of nodes marked for deletion, and
// only once: the next batch finds the new claim. A merely cordoned node's
// pods are not moved.
func TestPodsOfDeletingNodesGetCapacity(t *testing.T) {
	e := setup(t)
	np := e.nodePool("default", nil)
	e.poolNode("cordoned", np, false, true)
	e.boundPod("stays", "cordoned", "1")
	if _, err := e.p.Schedule(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.claims(); len(got) != 0 {
		t.Fatalf("%d claims for the pod of a cordoned node, want none", len(got))
	}
	e.poolNode("going", np, true, false)
	e.boundPod("moves", "going", "1")
	for i := 0; i < 2; i++ {
		if _, err := e.p.Schedule(e.ctx); err != nil {
			t.Fatal(err)
		}
		if got := e.claims(); len(got) != 1 {
			t.Fatalf("batch %d: %d claims for the pod of a deleting node, want 1", i+1, len(got))
		}
	}
}
