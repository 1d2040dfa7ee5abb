package termination_test

import (
	"context"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider/fake"
	"github.com/nodewright/nodewright/controller/controllers/nodeclaim/termination"
	"github.com/nodewright/nodewright/controller/test"
	"github.com/nodewright/nodewright/controller/test/expectations"
	"github.com/nodewright/nodewright/test/kubetest"
)

var env *test.Env

func TestMain(m *testing.M) { os.Exit(test.Main(m, &env)) }

type fixture struct {
	t     *testing.T
	ctx   context.Context
	cloud *fake.CloudProvider
	ctrl  *termination.Controller
}

func newFixture(t *testing.T) *fixture {
	cloud := fake.New(test.InstanceTypes())
	return &fixture{t: t, ctx: context.Background(), cloud: cloud,
		ctrl: termination.NewController(env.Client, cloud, clocktesting.NewFakeClock(time.Now()))}
}

func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

// claim stores a claim holding the finalizer; launched ones get an
// instance in the fake and its status.
func (f *fixture) claim(launch bool) *v1.NodeClaim {
	f.t.Helper()
	nc := test.NodeClaim(test.NodeClaimOptions{NodePool: "nct"})
	nc.Finalizers = []string{v1.TerminationFinalizer}
	f.must(env.Client.Create(f.ctx, nc))
	// A test that fails midway must not leave a claim holding the finalizer.
	f.t.Cleanup(func() {
		_ = kubetest.Purge(context.Background(), env.Client, &v1.NodeClaim{ObjectMeta: metav1.ObjectMeta{Name: nc.Name}})
	})
	if launch {
		created, err := f.cloud.Create(f.ctx, nc)
		f.must(err)
		stored := nc.DeepCopy()
		nc.Status.ProviderID = created.Status.ProviderID
		nc.SetCondition(v1.ConditionTypeLaunched, metav1.ConditionTrue, "", "")
		f.must(env.Client.Status().Patch(f.ctx, nc, client.MergeFrom(stored)))
	}
	return nc
}

// get returns the stored claim, or nil once it is gone.
func (f *fixture) get(nc *v1.NodeClaim) *v1.NodeClaim {
	f.t.Helper()
	out := &v1.NodeClaim{}
	err := env.Client.Get(f.ctx, client.ObjectKeyFromObject(nc), out)
	if apierrors.IsNotFound(err) {
		return nil
	}
	f.must(err)
	return out
}

func (f *fixture) reconcile(nc *v1.NodeClaim) time.Duration {
	f.t.Helper()
	got := f.get(nc)
	if got == nil {
		f.t.Fatal("nodeclaim is gone")
	}
	res, err := f.ctrl.Reconcile(f.ctx, got)
	f.must(err)
	return res.RequeueAfter
}

func TestUnlaunchedClaimIsReleased(t *testing.T) {
	f := newFixture(t)
	nc := f.claim(false)
	pool := map[string]string{"nodepool": "nct"}
	before := expectations.Metric(t, "nodewright_nodeclaims_terminated_total", pool)
	f.must(env.Client.Delete(f.ctx, nc))
	f.reconcile(nc)
	if f.get(nc) != nil {
		t.Error("claim still there")
	}
	if got := expectations.Metric(t, "nodewright_nodeclaims_terminated_total", pool) - before; got != 1 {
		t.Errorf("nodeclaims_terminated_total rose by %v, want 1", got)
	}
	if f.cloud.Calls["Delete"] != 0 {
		t.Error("Delete called for a claim that never launched")
	}
}

func TestNodeGoesBeforeInstanceBeforeClaim(t *testing.T) {
	f := newFixture(t)
	nc := f.claim(true)
	nc = f.get(nc)
	node := test.NodeFor(nc, "nct-"+nc.Name)
	node.Finalizers = []string{v1.TerminationFinalizer} // node termination's, held here to watch the wait
	f.must(env.Client.Create(f.ctx, node))
	t.Cleanup(func() {
		_ = kubetest.Purge(context.Background(), env.Client, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node.Name}})
	})
	f.must(env.Client.Delete(f.ctx, nc))

	if after := f.reconcile(nc); after != termination.NodeWait {
		t.Errorf("RequeueAfter = %v, want %v while the node drains", after, termination.NodeWait)
	}
	got := &corev1.Node{}
	f.must(env.Client.Get(f.ctx, client.ObjectKeyFromObject(node), got))
	if got.DeletionTimestamp.IsZero() {
		t.Fatal("node not deleted")
	}
	f.reconcile(nc)
	if len(f.cloud.Instances) != 1 || f.get(nc) == nil {
		t.Fatal("instance or claim gone while the node still exists")
	}

	// Node termination finishes. kube-controller-manager and kwok write the
	// Node too, so this is a fresh read and a retry on conflict.
	f.must(kubetest.Update(f.ctx, env.Client, got, func(n *corev1.Node) { n.Finalizers = nil }))
	expectations.Eventually(t, 30*time.Second, "node to go", func() bool {
		return apierrors.IsNotFound(env.Client.Get(f.ctx, client.ObjectKeyFromObject(node), &corev1.Node{}))
	})
	if after := f.reconcile(nc); after != 0 {
		t.Errorf("RequeueAfter = %v after terminating", after)
	}
	if len(f.cloud.Instances) != 0 {
		t.Error("instance not terminated")
	}
	if f.get(nc) != nil {
		t.Error("claim not released")
	}
}

func TestInstanceAlreadyGoneIsSuccess(t *testing.T) {
	f := newFixture(t)
	nc := f.claim(true)
	f.cloud.Reset() // terminated behind our back
	f.must(env.Client.Delete(f.ctx, nc))
	f.reconcile(nc)
	if f.get(nc) != nil {
		t.Error("claim not released when its instance was already gone")
	}
	if f.cloud.Calls["Delete"] != 1 {
		t.Errorf("Delete called %d times, want 1", f.cloud.Calls["Delete"])
	}
}

func TestLiveClaimIgnored(t *testing.T) {
	f := newFixture(t)
	nc := f.claim(true)
	f.reconcile(nc)
	if f.cloud.Calls["Delete"] != 0 || f.get(nc) == nil {
		t.Error("live claim terminated")
	}
}
