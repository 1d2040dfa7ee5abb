package lifecycle_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider/fake"
	"github.com/nodewright/nodewright/controller/controllers/nodeclaim/lifecycle"
	"github.com/nodewright/nodewright/controller/test"
	"github.com/nodewright/nodewright/test/kubetest"
)

var env *test.Env

func TestMain(m *testing.M) { os.Exit(test.Main(m, &env)) }

// fixture is one test's controller over a fresh fake cloud and fake clock.
type fixture struct {
	t        *testing.T
	ctx      context.Context
	cloud    *fake.CloudProvider
	clock    *clocktesting.FakeClock
	recorder *events.FakeRecorder
	ctrl     *lifecycle.Controller
}

func newFixture(t *testing.T, opts lifecycle.Options) *fixture {
	f := &fixture{t: t, ctx: context.Background(), cloud: fake.New(test.InstanceTypes()),
		clock: clocktesting.NewFakeClock(time.Now().Truncate(time.Second)), recorder: events.NewFakeRecorder(50)}
	f.ctrl = lifecycle.NewController(env.Client, f.cloud, f.clock, f.recorder, opts)
	return f
}

// create stores a claim of a fresh pool and returns it as stored.
func (f *fixture) create(mutate func(*v1.NodeClaim)) *v1.NodeClaim {
	f.t.Helper()
	np := test.NodePool(test.NodePoolOptions{Name: ""})
	np.GenerateName = "lc-"
	if err := env.Client.Create(f.ctx, np); err != nil {
		f.t.Fatal(err)
	}
	nc := test.NodeClaim(test.NodeClaimOptions{NodePool: np.Name})
	if mutate != nil {
		mutate(nc)
	}
	if err := env.Client.Create(f.ctx, nc); err != nil {
		f.t.Fatal(err)
	}
	return nc
}

func (f *fixture) get(nc *v1.NodeClaim) *v1.NodeClaim {
	f.t.Helper()
	out := &v1.NodeClaim{}
	if err := env.Client.Get(f.ctx, client.ObjectKeyFromObject(nc), out); err != nil {
		f.t.Fatalf("getting nodeclaim %s: %v", nc.Name, err)
	}
	return out
}

// reconcile runs one pass on the stored claim, again on a write conflict
// (kwok heartbeats the Node), as the manager's requeue would.
func (f *fixture) reconcile(nc *v1.NodeClaim) (reconcile.Result, error) {
	f.t.Helper()
	for i := 0; ; i++ {
		res, err := f.ctrl.Reconcile(f.ctx, f.get(nc))
		if !apierrors.IsConflict(errors.Unwrap(err)) || i == 5 {
			return res, err
		}
	}
}

func (f *fixture) mustReconcile(nc *v1.NodeClaim) reconcile.Result {
	f.t.Helper()
	res, err := f.reconcile(nc)
	if err != nil {
		f.t.Fatalf("reconcile: %v", err)
	}
	return res
}

func (f *fixture) node(name string) *corev1.Node {
	f.t.Helper()
	n := &corev1.Node{}
	if err := env.Client.Get(f.ctx, client.ObjectKey{Name: name}, n); err != nil {
		f.t.Fatalf("getting node %s: %v", name, err)
	}
	return n
}

// releaseNode lets a registered Node go when the test ends.
func releaseNode(t *testing.T, name string) {
	t.Cleanup(func() {
		ctx := context.Background()
		_ = kubetest.Purge(ctx, env.Client, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}})
	})
}

func condition(nc *v1.NodeClaim, typ string) metav1.ConditionStatus {
	if c := nc.GetCondition(typ); c != nil {
		return c.Status
	}
	return ""
}
