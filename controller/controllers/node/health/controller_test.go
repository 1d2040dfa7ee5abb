package health_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/controllers/node/health"
	"github.com/nodewright/nodewright/controller/operator/options"
	"github.com/nodewright/nodewright/controller/test"
	"github.com/nodewright/nodewright/test/kubetest"
)

var env *test.Env

func TestMain(m *testing.M) { os.Exit(test.Main(m, &env)) }

// The operator's default is the package's.
func TestDefaultPoliciesAreTheOperatorDefault(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	(&options.Options{}).AddFlags(fs)
	if os.Getenv("REPAIR_POLICIES") == "" && fs.Lookup("repair-policies").DefValue != health.DefaultPolicies {
		t.Errorf("--repair-policies default %q, want %q", fs.Lookup("repair-policies").DefValue, health.DefaultPolicies)
	}
}

type fixture struct {
	t        *testing.T
	ctx      context.Context
	clock    *clocktesting.FakeClock
	recorder *events.FakeRecorder
	ctrl     *health.Controller
	pool     *v1.NodePool
	since    time.Time
	nodes    []*corev1.Node
	claims   []*v1.NodeClaim
}

// newFixture stores a pool of size Nodes (not run by kwok, so their
// conditions are the test's), the first unhealthy of them Ready=False
// since the fixture's start, each with its NodeClaim, and a controller
// whose clock starts then, with a 30m toleration for Ready=False.
func newFixture(t *testing.T, size, unhealthy int) *fixture {
	ctx := context.Background()
	f := &fixture{t: t, ctx: ctx, recorder: events.NewFakeRecorder(100), since: time.Now().Truncate(time.Second)}
	f.clock = clocktesting.NewFakeClock(f.since)
	policies, err := health.ParsePolicies("Ready=False:30m,Ready=Unknown:30m")
	f.must(err)
	f.ctrl = health.NewController(env.Client, f.clock, f.recorder, policies)
	f.pool = test.NodePool(test.NodePoolOptions{})
	f.pool.Name, f.pool.GenerateName = "", "repair-"
	f.must(env.Client.Create(ctx, f.pool))
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), f.pool) })
	for i := 0; i < size; i++ {
		providerID := fmt.Sprintf("aws:///us-east-1a/i-%s%d", f.pool.Name, i)
		nc := test.NodeClaim(test.NodeClaimOptions{NodePool: f.pool.Name})
		nc.Finalizers = []string{v1.TerminationFinalizer}
		f.must(env.Client.Create(ctx, nc))
		nc.Status.ProviderID = providerID
		f.must(env.Client.Status().Update(ctx, nc))
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", f.pool.Name, i), Labels: map[string]string{v1.NodePoolLabelKey: f.pool.Name}},
			Spec:       corev1.NodeSpec{ProviderID: providerID},
		}
		f.must(env.Client.Create(ctx, node))
		// The control plane's node lifecycle controller writes new Nodes too
		// (taints), so the status goes in as a patch, not an update.
		base := node.DeepCopy()
		status := corev1.ConditionTrue
		if i < unhealthy {
			status = corev1.ConditionFalse
		}
		node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status,
			LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.NewTime(f.since)}}
		f.must(env.Client.Status().Patch(ctx, node, client.MergeFrom(base)))
		f.nodes, f.claims = append(f.nodes, node), append(f.claims, nc)
		t.Cleanup(func() {
			_ = kubetest.Purge(context.Background(), env.Client, nc)
			_ = kubetest.Purge(context.Background(), env.Client, node)
		})
	}
	return f
}

func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) reconcile(i int) time.Duration {
	f.t.Helper()
	n := &corev1.Node{}
	f.must(env.Client.Get(f.ctx, client.ObjectKeyFromObject(f.nodes[i]), n))
	res, err := f.ctrl.Reconcile(f.ctx, n)
	f.must(err)
	return res.RequeueAfter
}

func (f *fixture) deleting(i int) bool {
	f.t.Helper()
	nc := &v1.NodeClaim{}
	f.must(env.Client.Get(f.ctx, client.ObjectKeyFromObject(f.claims[i]), nc))
	return !nc.DeletionTimestamp.IsZero()
}

func (f *fixture) events(reason string) []string {
	var out []string
	for len(f.recorder.Events) > 0 {
		if e := <-f.recorder.Events; strings.Contains(e, reason) {
			out = append(out, e)
		}
	}
	return out
}

// A NotReady node is repaired once its toleration is over, not before;
// one unhealthy node of three (33%) is within 20% rounded up.
func TestRepairAfterToleration(t *testing.T) {
	f := newFixture(t, 3, 1)
	f.clock.Step(29 * time.Minute)
	if after := f.reconcile(0); after != time.Minute {
		t.Errorf("RequeueAfter = %v a minute before the toleration ends, want 1m", after)
	}
	if f.deleting(0) {
		t.Fatal("repaired within its toleration")
	}
	f.clock.Step(time.Minute)
	f.reconcile(0)
	if !f.deleting(0) {
		t.Fatal("not repaired after its toleration")
	}
	if got := f.events(health.ReasonUnhealthy); len(got) != 1 {
		t.Errorf("Unhealthy events %q, want one", got)
	}
	if f.reconcile(1); f.deleting(1) {
		t.Error("healthy node repaired")
	}
}

// Two unhealthy nodes of five (40%) are more than 20%: repair stops for
// the pool, which gets a warning event, and is tried again later.
func TestRepairBlockedAboveTwentyPercent(t *testing.T) {
	f := newFixture(t, 5, 2)
	f.clock.Step(31 * time.Minute)
	if after := f.reconcile(0); after != health.BlockedRetry {
		t.Errorf("RequeueAfter = %v while blocked, want %v", after, health.BlockedRetry)
	}
	if f.deleting(0) || f.deleting(1) {
		t.Fatal("repaired with 2 of 5 nodes unhealthy")
	}
	got := f.events(health.ReasonRepairBlocked)
	if len(got) != 1 || !strings.Contains(got[0], "2 of 5 nodes are unhealthy") {
		t.Errorf("NodeRepairBlocked events %q, want one naming 2 of 5", got)
	}
}
