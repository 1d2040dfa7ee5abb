package provisioning_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/controllers/provisioning"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/test"
)

// A batch's nominations hold for the next batch while the pods'
// annotations are still being written: the second batch plans only the
// pods that became pending since, not those already waiting for a claim
// (which would book the claim's room twice), and the annotations land
// after.
func TestNominationsHoldBeforeTheirAnnotationsAreWritten(t *testing.T) {
	e := setup(t)
	e.nodePool("default", nil)
	release := make(chan struct{})
	held := make(chan struct{}, 100)
	base, err := client.NewWithWatch(e.cfg, client.Options{Scheme: test.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	slow := interceptor.NewClient(base, interceptor.Funcs{Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
		if _, ok := obj.(*corev1.Pod); ok {
			held <- struct{}{}
			<-release
		}
		return c.Patch(ctx, obj, patch, opts...)
	}})
	p := provisioning.New(slow, e.cloud, clocktesting.NewFakeClock(time.Now()), events.NewFakeRecorder(1000), provisioning.Options{})
	e.firstBatch(p)
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("no pod annotation was attempted")
	}
	e.pendingPods("api", 2, "1")
	second, err := p.Schedule(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var planned []string
	for _, nc := range second.NodeClaims {
		for _, pod := range nc.Pods {
			planned = append(planned, pod.Name)
		}
	}
	for _, n := range second.ExistingNodes {
		for _, pod := range n.Pods {
			planned = append(planned, pod.Name)
		}
	}
	if len(planned) != 2 || planned[0][:3] != "api" || planned[1][:3] != "api" {
		t.Fatalf("the second batch planned %v, want only the two api pods: the web pods wait for their claim", planned)
	}
	close(release)
	p.WaitNominations()
	var pods corev1.PodList
	if err := e.kube.List(e.ctx, &pods, client.InNamespace("default")); err != nil {
		t.Fatal(err)
	}
	for _, pod := range pods.Items {
		if pod.Annotations[provisioning.NominatedAnnotationKey] == "" {
			t.Errorf("pod %s not annotated after the nominations were written", pod.Name)
		}
	}
}

// A cache that has not shown a batch's NodeClaims yet: the next batch still
// counts them, so the pods nominated to them are not planned again. Once
// the claim has been missing for a while the apiserver is asked, and a
// claim that is gone stops counting.
func TestCreatedClaimsHoldBeforeTheCacheShowsThem(t *testing.T) {
	e := setup(t)
	e.nodePool("default", nil)
	base, err := client.NewWithWatch(e.cfg, client.Options{Scheme: test.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	lagging := interceptor.NewClient(base, interceptor.Funcs{List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
		if _, ok := list.(*v1.NodeClaimList); ok {
			return nil
		}
		return c.List(ctx, list, opts...)
	}})
	clk := clocktesting.NewFakeClock(time.Now())
	p := provisioning.New(base, e.cloud, clk, events.NewFakeRecorder(1000), provisioning.Options{Reader: lagging, APIReader: base})
	first := e.firstBatch(p)
	p.WaitNominations()
	second, err := p.Schedule(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(second.NodeClaims) != 0 {
		t.Fatalf("the second batch planned %d nodeclaims for pods nominated to claims the cache does not show yet", len(second.NodeClaims))
	}

	// Long unseen: the apiserver says the claim exists, so it still counts.
	clk.Step(time.Minute)
	snap, err := p.TakeSnapshot(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	name := ""
	for _, nc := range first.NodeClaims {
		for n, c := range snap.Claims {
			if c.Labels[v1.NodePoolLabelKey] == nc.NodePool {
				name = n
			}
		}
	}
	if name == "" || len(snap.Pending) != 0 {
		t.Fatalf("after a minute unseen: claims %v, %d pods pending; want the created claim and none", keys(snap.Claims), len(snap.Pending))
	}
	var ncs v1.NodeClaimList
	if err := base.List(e.ctx, &ncs); err != nil {
		t.Fatal(err)
	}
	for i := range ncs.Items {
		nc := &ncs.Items[i]
		nc.Finalizers = nil
		if err := base.Update(e.ctx, nc); err != nil {
			t.Fatal(err)
		}
		if err := base.Delete(e.ctx, nc); err != nil {
			t.Fatal(err)
		}
	}
	// Gone from the apiserver: the claim stops counting, and its pods are
	// pending again.
	snap, err = p.TakeSnapshot(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Claims) != 0 || len(snap.Pending) != 3 {
		t.Fatalf("after the claims were deleted: claims %v, %d pods pending; want none and 3", keys(snap.Claims), len(snap.Pending))
	}
}

// firstBatch makes three pending web pods and plans them, which must take
// a new claim.
func (e *env) firstBatch(p *provisioning.Provisioner) *scheduling.Result {
	e.t.Helper()
	e.pendingPods("web", 3, "1")
	first, err := p.Schedule(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(first.NodeClaims) == 0 {
		e.t.Fatal("the first batch planned no nodeclaim for three pending pods")
	}
	return first
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
