package garbagecollection_test

import (
	"context"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider/fake"
	"github.com/nodewright/nodewright/controller/controllers/nodeclaim/garbagecollection"
	"github.com/nodewright/nodewright/controller/test"
	"github.com/nodewright/nodewright/controller/test/expectations"
	"github.com/nodewright/nodewright/test/kubetest"
)

var env *test.Env

func TestMain(m *testing.M) { os.Exit(test.Main(m, &env)) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// launch puts an instance in the fake as of the clock's now, for a claim
// that the cluster may or may not hold.
func launch(t *testing.T, cloud *fake.CloudProvider, clk *clocktesting.FakeClock, name string) *v1.NodeClaim {
	nc := test.NodeClaim(test.NodeClaimOptions{NodePool: "gc"})
	nc.Name, nc.UID, nc.CreationTimestamp = name, types.UID("uid-"+name), metav1.NewTime(clk.Now())
	out, err := cloud.Create(context.Background(), nc)
	must(t, err)
	return out
}

// store saves a launched claim (status included) holding the finalizer.
func store(t *testing.T, launched *v1.NodeClaim) *v1.NodeClaim {
	ctx := context.Background()
	nc := test.NodeClaim(test.NodeClaimOptions{NodePool: "gc"})
	nc.Name, nc.Finalizers = launched.Name, []string{v1.TerminationFinalizer}
	must(t, env.Client.Create(ctx, nc))
	stored := nc.DeepCopy()
	nc.Status.ProviderID = launched.Status.ProviderID
	nc.SetCondition(v1.ConditionTypeLaunched, metav1.ConditionTrue, "", "")
	must(t, env.Client.Status().Patch(ctx, nc, client.MergeFrom(stored)))
	t.Cleanup(func() {
		_ = kubetest.Purge(ctx, env.Client, &v1.NodeClaim{ObjectMeta: metav1.ObjectMeta{Name: nc.Name}})
	})
	return nc
}

func TestOrphanInstanceTerminatedAfterGracePeriod(t *testing.T) {
	ctx := context.Background()
	cloud := fake.New(test.InstanceTypes())
	clk := clocktesting.NewFakeClock(time.Now())
	gc := garbagecollection.NewController(env.Client, cloud, clk, garbagecollection.Options{})
	orphan := launch(t, cloud, clk, "gc-orphan")
	claimed := store(t, launch(t, cloud, clk, "gc-claimed"))

	res, err := gc.Reconcile(ctx)
	must(t, err)
	if res.RequeueAfter != 2*time.Minute {
		t.Errorf("RequeueAfter = %v, want the 2m interval", res.RequeueAfter)
	}
	if len(cloud.Instances) != 2 {
		t.Fatal("young orphan terminated within its grace period")
	}
	clk.Step(90 * time.Second)
	_, err = gc.Reconcile(ctx)
	must(t, err)
	if _, ok := cloud.Instances[orphan.Status.ProviderID]; ok {
		t.Error("orphan instance not terminated")
	}
	if _, ok := cloud.Instances[claimed.Status.ProviderID]; !ok {
		t.Error("claimed instance terminated")
	}
}

func TestClaimWhoseInstanceVanishedIsDeleted(t *testing.T) {
	ctx := context.Background()
	cloud := fake.New(test.InstanceTypes())
	clk := clocktesting.NewFakeClock(time.Now())
	gc := garbagecollection.NewController(env.Client, cloud, clk, garbagecollection.Options{})
	kept := store(t, launch(t, cloud, clk, "gc-kept"))
	vanishedInstance := launch(t, cloud, clk, "gc-vanished")
	vanished := store(t, vanishedInstance)
	node := test.NodeFor(vanished, "gc-vanished-node")
	must(t, env.Client.Create(ctx, node))
	must(t, cloud.Delete(ctx, vanishedInstance)) // a spot interruption, say
	gets := cloud.Calls["Get"]

	_, err := gc.Reconcile(ctx)
	must(t, err)
	// The list shows the kept claim's instance alive: only the vanished
	// one is looked up, so a sweep costs the same at 1 000 nodes.
	if n := cloud.Calls["Get"] - gets; n != 1 {
		t.Errorf("the sweep looked %d instances up one by one, want 1 (the vanished one)", n)
	}
	got := &v1.NodeClaim{}
	must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(vanished), got))
	if got.DeletionTimestamp.IsZero() {
		t.Error("claim of the vanished instance not deleted")
	}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(node), &corev1.Node{}); err == nil {
		t.Error("node of the vanished instance not deleted")
	}
	must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(kept), got))
	if !got.DeletionTimestamp.IsZero() {
		t.Error("claim with a live instance deleted")
	}
}

// Start sweeps on the clock's ticks.
func TestStartSweepsEveryInterval(t *testing.T) {
	cloud := fake.New(test.InstanceTypes())
	clk := clocktesting.NewFakeClock(time.Now())
	gc := garbagecollection.NewController(env.Client, cloud, clk, garbagecollection.Options{Interval: time.Minute, GracePeriod: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- gc.Start(ctx) }()
	expectations.Eventually(t, 30*time.Second, "the first sweep", func() bool { return clk.HasWaiters() })
	launch(t, cloud, clk, "gc-tick-orphan")
	clk.Step(time.Minute)
	expectations.Eventually(t, 30*time.Second, "the orphan to be swept", func() bool {
		list, _ := cloud.List(ctx)
		return len(list) == 0
	})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Start returned %v", err)
	}
}
