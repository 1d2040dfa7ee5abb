package counter_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/controllers/nodepool/counter"
	"github.com/nodewright/nodewright/controller/test"
	"github.com/nodewright/nodewright/controller/test/expectations"
	"github.com/nodewright/nodewright/test/kubetest"
)

func TestCounter(t *testing.T) {
	ctx := context.Background()
	kube := test.Start(t).Client
	ref := test.NodeClassRef("default")
	np := test.NodePool(test.NodePoolOptions{Name: "default"})
	expectations.ExpectCreated(ctx, t, kube, np)
	claim := func(name, pool, cpu, mem string) {
		nc := &v1.NodeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{v1.NodePoolLabelKey: pool}}, Spec: v1.NodeClaimSpec{NodeClassRef: ref}}
		if err := kube.Create(ctx, nc); err != nil {
			t.Fatal(err)
		}
		if cpu == "" {
			return // not launched yet
		}
		capacity := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}
		if err := kubetest.UpdateStatus(ctx, kube, nc, func(nc *v1.NodeClaim) { nc.Status.Capacity = capacity }); err != nil {
			t.Fatal(err)
		}
	}
	claim("a", "default", "2", "4Gi")
	claim("b", "default", "4", "8Gi")
	claim("c", "default", "", "")
	claim("other", "elsewhere", "64", "256Gi")

	c := counter.NewController(kube)
	if _, err := c.Reconcile(ctx, np); err != nil {
		t.Fatal(err)
	}
	var got v1.NodePool
	if err := kube.Get(ctx, client.ObjectKey{Name: "default"}, &got); err != nil {
		t.Fatal(err)
	}
	if got.Status.Nodes != 3 || got.Status.Resources.Cpu().Cmp(resource.MustParse("6")) != 0 || got.Status.Resources.Memory().Cmp(resource.MustParse("12Gi")) != 0 {
		t.Fatalf("status %+v", got.Status)
	}
	// Removing a claim lowers the sums.
	if err := kube.Delete(ctx, &v1.NodeClaim{ObjectMeta: metav1.ObjectMeta{Name: "b"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Reconcile(ctx, &got); err != nil {
		t.Fatal(err)
	}
	_ = kube.Get(ctx, client.ObjectKey{Name: "default"}, &got)
	if got.Status.Nodes != 2 || got.Status.Resources.Cpu().Cmp(resource.MustParse("2")) != 0 {
		t.Fatalf("after delete: %+v", got.Status)
	}
}
