package status_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/controllers/nodeclass/status"
)

// pricesResolver resolves every node class as-is and reports the fallback
// episode the test sets.
type pricesResolver struct {
	episode uint64
}

func (*pricesResolver) ResolveNodeClass(context.Context, *v1.EC2NodeClass) error      { return nil }
func (*pricesResolver) DeleteInstanceProfile(context.Context, *v1.EC2NodeClass) error { return nil }
func (*pricesResolver) DeleteLaunchTemplates(context.Context, string) (int, error)    { return 0, nil }
func (r *pricesResolver) PricesEmbedded() (uint64, string) {
	if r.episode == 0 {
		return 0, ""
	}
	return r.episode, "on-demand prices are the embedded catalog's"
}

// Each node class hears of each fallback once, however often it is
// reconciled, and hears nothing while prices are AWS's.
func TestEmbeddedPricesAreToldOncePerFallback(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	a := &v1.EC2NodeClass{ObjectMeta: metav1.ObjectMeta{Name: "a", UID: "uid-a"}}
	b := &v1.EC2NodeClass{ObjectMeta: metav1.ObjectMeta{Name: "b", UID: "uid-b"}}
	kube := fake.NewClientBuilder().WithScheme(scheme).WithObjects(a, b).WithStatusSubresource(a, b).Build()
	recorder := events.NewFakeRecorder(10)
	resolver := &pricesResolver{}
	c := status.NewController(kube, resolver, clocktesting.NewFakeClock(time.Now()), recorder)
	reconcileAll := func() {
		t.Helper()
		for _, nc := range []*v1.EC2NodeClass{a, b} {
			if _, err := c.Reconcile(ctx, nc); err != nil {
				t.Fatal(err)
			}
		}
	}
	told := func() []string {
		var got []string
		for {
			select {
			case e := <-recorder.Events:
				got = append(got, e)
			default:
				return got
			}
		}
	}

	reconcileAll()
	if got := told(); len(got) != 0 {
		t.Fatalf("events while prices are AWS's: %q", got)
	}
	resolver.episode = 1
	reconcileAll()
	reconcileAll()
	got := told()
	if len(got) != 2 || !strings.HasPrefix(got[0], "Warning "+status.ReasonPricesEmbedded+" ") {
		t.Fatalf("first fallback, two node classes reconciled twice: events %q, want one Warning %s each", got, status.ReasonPricesEmbedded)
	}
	resolver.episode = 0
	reconcileAll()
	resolver.episode = 2
	reconcileAll()
	if got := told(); len(got) != 2 {
		t.Fatalf("second fallback: events %q, want one per node class", got)
	}
}
