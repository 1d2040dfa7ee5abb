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

	"github.com/nodewright/nodewright/controller/controllers/provisioning"
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
	e.pendingPods("web", 3, "1")

	first, err := p.Schedule(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.NodeClaims) == 0 {
		t.Fatal("the first batch planned no nodeclaim for three pending pods")
	}
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
