package provisioning_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/controllers/provisioning"
	"github.com/nodewright/nodewright/controller/test"
	"github.com/nodewright/nodewright/controller/test/expectations"
)

// A pod that only a left-out pool can run gets its claim as soon as the
// pool's node class turns Ready, not a Retry later.
func TestNodeClassReadyTriggersBatch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lc, _, scheme, _ := startManager(ctx, t)
	direct, err := client.New(lc.RESTConfig, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}

	// A node class whose subnets resolved to nothing, and a pool on it.
	nc := test.EC2NodeClass(test.EC2NodeClassOptions{Name: "late"})
	expectations.ExpectCreated(ctx, t, direct, nc)
	meta.SetStatusCondition(&nc.Status.Conditions, metav1.Condition{Type: v1.ConditionTypeReady, Status: metav1.ConditionFalse,
		Reason: "NotReady", Message: "SubnetsReady not ready"})
	if err := direct.Status().Update(ctx, nc); err != nil {
		t.Fatal(err)
	}
	np := test.NodePool(test.NodePoolOptions{Name: "late", NodeClass: "late"})
	expectations.ExpectCreated(ctx, t, direct, np)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "default"}}
	if err := direct.Create(ctx, sa); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "waiting", Namespace: "default"}, Spec: corev1.PodSpec{
		SchedulerName: "nobody",
		Containers: []corev1.Container{{Name: "c", Image: "pause", Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}}}}
	if err := direct.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
		Reason: corev1.PodReasonUnschedulable, LastTransitionTime: metav1.Now()}}
	if err := direct.Status().Update(ctx, pod); err != nil {
		t.Fatal(err)
	}

	// 1. The batch leaves the pool out and says so on the pod.
	expectations.Eventually(t, 30*time.Second, "a NodePoolUnavailable event", func() bool {
		var events corev1.EventList
		_ = direct.List(ctx, &events, client.InNamespace("default"))
		for _, ev := range events.Items {
			if ev.Reason == provisioning.ReasonNodePoolUnavailable && ev.InvolvedObject.Name == "waiting" {
				return true
			}
		}
		return false
	})
	if claims := listClaims(t, ctx, direct); len(claims) != 0 {
		t.Fatalf("%d nodeclaims from a pool whose class is not ready", len(claims))
	}

	// 2. The class turns Ready: a claim follows well within Retry.
	meta.SetStatusCondition(&nc.Status.Conditions, metav1.Condition{Type: v1.ConditionTypeReady, Status: metav1.ConditionTrue, Reason: "Ready"})
	if err := direct.Status().Update(ctx, nc); err != nil {
		t.Fatal(err)
	}
	expectations.Eventually(t, provisioning.Retry/3, "a nodeclaim once the class is Ready", func() bool {
		return len(listClaims(t, ctx, direct)) == 1
	})
}

func listClaims(t *testing.T, ctx context.Context, kube client.Reader) []v1.NodeClaim {
	t.Helper()
	var claims v1.NodeClaimList
	if err := kube.List(ctx, &claims); err != nil {
		t.Fatal(err)
	}
	return claims.Items
}
