package expiration_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/controllers/nodeclaim/expiration"
	"github.com/nodewright/nodewright/controller/test"
	"github.com/nodewright/nodewright/test/kubetest"
)

var env *test.Env

func TestMain(m *testing.M) { os.Exit(test.Main(m, &env)) }

// claim stores a claim of a pool whose budget allows no disruption,
// annotated do-not-disrupt, with expireAfter ttl and a finalizer so that
// deleting it leaves it visible.
func claim(t *testing.T, ctx context.Context, ttl v1.NillableDuration) *v1.NodeClaim {
	t.Helper()
	np := test.NodePool(test.NodePoolOptions{Budgets: []v1.Budget{{Nodes: "0"}}})
	np.Name, np.GenerateName = "", "expiry-"
	if err := env.Client.Create(ctx, np); err != nil {
		t.Fatal(err)
	}
	nc := test.NodeClaim(test.NodeClaimOptions{NodePool: np.Name})
	nc.Spec.ExpireAfter = ttl
	nc.Annotations = map[string]string{v1.DoNotDisruptAnnotationKey: "true"}
	nc.Finalizers = []string{v1.TerminationFinalizer}
	if err := env.Client.Create(ctx, nc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = kubetest.Purge(context.Background(), env.Client, nc)
		_ = env.Client.Delete(context.Background(), np)
	})
	return nc
}

func get(t *testing.T, ctx context.Context, nc *v1.NodeClaim) *v1.NodeClaim {
	t.Helper()
	got := &v1.NodeClaim{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(nc), got); err != nil {
		t.Fatal(err)
	}
	return got
}

// An expired claim is deleted although do-not-disrupt and a zero budget
// would block any voluntary disruption; before then the controller comes
// back exactly when it expires, and it says so once.
func TestExpiredClaimIsDeletedWhateverBlocksDisruption(t *testing.T) {
	ctx := context.Background()
	nc := claim(t, ctx, "1h")
	clk := clocktesting.NewFakeClock(nc.CreationTimestamp.Add(40 * time.Minute))
	rec := events.NewFakeRecorder(10)
	c := expiration.NewController(env.Client, clk, rec)

	res, err := c.Reconcile(ctx, get(t, ctx, nc))
	if err != nil {
		t.Fatal(err)
	}
	if res.RequeueAfter != 20*time.Minute {
		t.Errorf("RequeueAfter = %v before expiry, want 20m", res.RequeueAfter)
	}
	if !get(t, ctx, nc).DeletionTimestamp.IsZero() {
		t.Fatal("claim deleted before it expired")
	}

	clk.Step(20 * time.Minute)
	stale := get(t, ctx, nc)
	if _, err := c.Reconcile(ctx, stale); err != nil {
		t.Fatal(err)
	}
	if get(t, ctx, nc).DeletionTimestamp.IsZero() {
		t.Fatal("expired claim not deleted under do-not-disrupt and a zero budget")
	}
	// A second pass over the same stale copy, as a lagging cache would
	// give, neither fails nor says it again.
	if _, err := c.Reconcile(ctx, stale); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(rec.Events) > 0 {
		got = append(got, <-rec.Events)
	}
	if len(got) != 1 || !strings.Contains(got[0], expiration.ReasonExpired) {
		t.Errorf("events %q, want one %s", got, expiration.ReasonExpired)
	}
}

// "Never" keeps a claim however old.
func TestNeverExpires(t *testing.T) {
	ctx := context.Background()
	nc := claim(t, ctx, v1.Never)
	clk := clocktesting.NewFakeClock(nc.CreationTimestamp.Add(24 * 365 * time.Hour))
	res, err := expiration.NewController(env.Client, clk, events.NewFakeRecorder(10)).Reconcile(ctx, get(t, ctx, nc))
	if err != nil {
		t.Fatal(err)
	}
	if res.RequeueAfter != 0 || !get(t, ctx, nc).DeletionTimestamp.IsZero() {
		t.Errorf("claim with expireAfter Never: requeue %v, deleting %v", res.RequeueAfter, get(t, ctx, nc).DeletionTimestamp)
	}
}
