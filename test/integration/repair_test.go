package integration

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// TestNodeRepair: a node whose kubelet stops reporting (the local cloud's
// not-ready fault: Ready turns Unknown) is repaired after the controller's
// toleration (10s here, REPAIR_POLICIES): its claim is deleted, the
// instance terminated, and its pod runs on a new node.
func TestNodeRepair(t *testing.T) {
	e := newEnv(t, disruptionPool("WhenEmpty", "720h", onlyM5Large, ""), "REPAIR_POLICIES=Ready=Unknown:10s,Ready=False:10s")
	ctx := context.Background()
	if err := e.kube.Create(ctx, inflate("inflate", 1, "1500m", "1Gi")); err != nil {
		t.Fatal(err)
	}
	e.waitReady("inflate", 1, 45*time.Second)
	sick := e.settledClaims(1)[0]
	node := e.onlyPod(ctx, "inflate").Spec.NodeName
	if err := e.cloud.InjectNodeNotReady(ctx, node, false); err != nil {
		t.Fatal(err)
	}
	var since time.Time
	e.eventually("the node Ready=Unknown", 20*time.Second, func(ctx context.Context) (bool, error) {
		var n corev1.Node
		if err := e.kube.Get(ctx, client.ObjectKey{Name: node}, &n); err != nil {
			return false, err
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionUnknown {
				since = c.LastTransitionTime.Time
				return true, nil
			}
		}
		return false, nil
	})
	// Not before the toleration.
	time.Sleep(time.Until(since.Add(8 * time.Second)))
	var nc v1.NodeClaim
	if err := e.kube.Get(ctx, client.ObjectKeyFromObject(&sick), &nc); err != nil || !nc.DeletionTimestamp.IsZero() {
		t.Fatalf("claim %s deleted (or gone: %v) within the 10s toleration", sick.Name, err)
	}
	e.eventually("the unhealthy node's claim deleted", 30*time.Second, func(ctx context.Context) (bool, error) {
		var nc v1.NodeClaim
		err := e.kube.Get(ctx, client.ObjectKeyFromObject(&sick), &nc)
		return apierrors.IsNotFound(err) || (err == nil && !nc.DeletionTimestamp.IsZero()), client.IgnoreNotFound(err)
	}, 250*time.Millisecond)
	e.eventually("the pod Running on a new node, the sick node gone", 90*time.Second, func(ctx context.Context) (bool, error) {
		if err := e.kube.Get(ctx, client.ObjectKey{Name: node}, &corev1.Node{}); !apierrors.IsNotFound(err) {
			return false, nil
		}
		p := e.pods(ctx, "inflate")
		return len(p) == 1 && p[0].Spec.NodeName != node && p[0].Status.Phase == corev1.PodRunning && podReady(&p[0]), nil
	})
}
