package counter_test

import (
	"context"
	"math"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider/fake"
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

	c := counter.NewController(kube, fake.New(test.InstanceTypes()))
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
	// The usage and limit gauges follow, one series per resource.
	for resourceName, want := range map[string]float64{"cpu": 2, "memory": 4 << 30, "nodes": 2} {
		if v := expectations.Metric(t, "nodewright_nodepool_usage", map[string]string{"nodepool": "default", "resource": resourceName}); v != want {
			t.Errorf("nodepool_usage{resource=%s} = %v, want %v", resourceName, v, want)
		}
	}
	if v := expectations.Metric(t, "nodewright_nodepool_usage", map[string]string{"nodepool": "elsewhere"}); v != 0 {
		t.Errorf("usage of a pool not reconciled: %v", v)
	}
}

// A pool's limits show beside its usage; a limit removed leaves no series.
func TestCounterLimitGauges(t *testing.T) {
	ctx := context.Background()
	kube := test.Start(t).Client
	np := test.NodePool(test.NodePoolOptions{Name: "limited"})
	np.Spec.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100")}
	expectations.ExpectCreated(ctx, t, kube, np)
	c := counter.NewController(kube, fake.New(test.InstanceTypes()))
	if _, err := c.Reconcile(ctx, np); err != nil {
		t.Fatal(err)
	}
	cpu := map[string]string{"nodepool": "limited", "resource": "cpu"}
	if v := expectations.Metric(t, "nodewright_nodepool_limit", cpu); v != 100 {
		t.Errorf("nodepool_limit{cpu} = %v, want 100", v)
	}
	np.Spec.Limits = nil
	if _, err := c.Reconcile(ctx, np); err != nil {
		t.Fatal(err)
	}
	if v := expectations.Metric(t, "nodewright_nodepool_limit", cpu); v != 0 {
		t.Errorf("nodepool_limit{cpu} = %v after the limit was removed, want no series", v)
	}
}

// The price gauge sums the offerings the pool's launched claims run on, by
// capacity type, and follows claims as they go.
func TestCounterPriceGauge(t *testing.T) {
	ctx := context.Background()
	kube := test.Start(t).Client
	np := test.NodePool(test.NodePoolOptions{Name: "priced"})
	expectations.ExpectCreated(ctx, t, kube, np)
	launched := func(typ, zone, providerID string) *v1.NodeClaim {
		nc := test.NodeClaim(test.NodeClaimOptions{NodePool: "priced", NodeClass: "default"})
		nc.Labels[corev1.LabelInstanceTypeStable] = typ
		nc.Labels[corev1.LabelTopologyZone] = zone
		nc.Labels[v1.CapacityTypeLabelKey] = v1.CapacityTypeOnDemand
		expectations.ExpectCreated(ctx, t, kube, nc)
		if providerID != "" {
			if err := kubetest.UpdateStatus(ctx, kube, nc, func(nc *v1.NodeClaim) { nc.Status.ProviderID = providerID }); err != nil {
				t.Fatal(err)
			}
		}
		return nc
	}
	// test.InstanceTypes: m5.large is 0.096 in us-east-1a and 10% more in us-east-1b.
	a := launched("m5.large", "us-east-1a", "aws:///us-east-1a/i-a")
	launched("m5.large", "us-east-1b", "aws:///us-east-1b/i-b")
	launched("m5.large", "us-east-1a", "")                        // not launched: not paid for
	launched("x9.unknown", "us-east-1a", "aws:///us-east-1a/i-x") // no price known: adds nothing

	c := counter.NewController(kube, fake.New(test.InstanceTypes()))
	onDemand := map[string]string{"nodepool": "priced", "capacity_type": v1.CapacityTypeOnDemand}
	spot := map[string]string{"nodepool": "priced", "capacity_type": v1.CapacityTypeSpot}
	expectPrice := func(labels map[string]string, want float64) {
		t.Helper()
		if got := expectations.Metric(t, "nodewright_nodepool_price_dollars_per_hour", labels); math.Abs(got-want) > 1e-9 {
			t.Errorf("nodepool_price_dollars_per_hour%v = %v, want %v", labels, got, want)
		}
	}
	if _, err := c.Reconcile(ctx, np); err != nil {
		t.Fatal(err)
	}
	expectPrice(onDemand, 0.096+0.096*1.1)
	expectPrice(spot, 0)

	if err := kube.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Reconcile(ctx, np); err != nil {
		t.Fatal(err)
	}
	expectPrice(onDemand, 0.096*1.1)
}
