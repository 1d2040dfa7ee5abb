package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// expiryPool expires nodes after expireAfter and gives their drain
// terminationGracePeriod; its budget allows no voluntary disruption.
func expiryPool(expireAfter, grace string) string {
	return fmt.Sprintf(`
apiVersion: nodewright.dev/v1
kind: NodePool
metadata: {name: default}
spec:
  template:
    spec:
      nodeClassRef: {group: nodewright.dev, kind: EC2NodeClass, name: default}
      expireAfter: %s
      terminationGracePeriod: %s
      requirements:
%s
  disruption:
    consolidationPolicy: WhenEmpty
    consolidateAfter: Never
    budgets: [{nodes: "0"}]
`, expireAfter, grace, onlyM5Large)
}

// TestExpiryIsForceful: a node past its expireAfter is replaced although
// its only pod is do-not-disrupt, a PodDisruptionBudget allows it no
// eviction and the pool's budget allows no disruption. The claim is
// deleted at expiry and a replacement launched at once; the drain honours
// the PDB until the terminationGracePeriod ends, then deletes the pod,
// which runs on the replacement.
func TestExpiryIsForceful(t *testing.T) {
	e := newEnv(t, expiryPool("1m", "20s"))
	ctx := context.Background()
	keeper := inflate("keeper", 1, "1500m", "1Gi")
	keeper.Spec.Template.Annotations = map[string]string{v1.DoNotDisruptAnnotationKey: "true"}
	if err := e.kube.Create(ctx, keeper); err != nil {
		t.Fatal(err)
	}
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "keeper", Namespace: "default"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "keeper"}}}}
	if err := e.kube.Create(ctx, pdb); err != nil {
		t.Fatal(err)
	}
	e.waitReady("keeper", 1, 45*time.Second)
	claims := e.settledClaims(1)
	first := claims[0]
	oldNode := e.onlyPod(ctx, "keeper").Spec.NodeName

	var deletedAt time.Time
	e.eventually("the expired claim deleted", 90*time.Second, func(ctx context.Context) (bool, error) {
		var nc v1.NodeClaim
		err := e.kube.Get(ctx, client.ObjectKeyFromObject(&first), &nc)
		if apierrors.IsNotFound(err) {
			deletedAt = time.Now()
			return true, nil
		}
		if err != nil || nc.DeletionTimestamp.IsZero() {
			return false, err
		}
		deletedAt = nc.DeletionTimestamp.Time
		return true, nil
	}, 250*time.Millisecond)
	age := deletedAt.Sub(first.CreationTimestamp.Time)
	t.Logf("nodeclaim %s deleted %s after creation", first.Name, age.Round(time.Second))
	if age < time.Minute-time.Second || age > time.Minute+20*time.Second {
		t.Errorf("deleted %s after creation, want about its expireAfter of 1m", age.Round(time.Second))
	}

	// Its pod gets capacity as soon as the claim is deleting, not when the
	// pod is finally evicted at the end of the grace period.
	e.eventually("a replacement claim while the PDB still holds the pod", 15*time.Second, func(ctx context.Context) (bool, error) {
		for _, nc := range e.nodeClaims(ctx) {
			if nc.Name != first.Name {
				return true, nil
			}
		}
		return false, nil
	})
	e.eventually("the keeper Running on another node, the old node gone", 90*time.Second, func(ctx context.Context) (bool, error) {
		if err := e.kube.Get(ctx, client.ObjectKey{Name: oldNode}, &corev1.Node{}); !apierrors.IsNotFound(err) {
			return false, nil
		}
		var pods corev1.PodList
		if err := e.kube.List(ctx, &pods, client.InNamespace("default"), client.MatchingLabels{"app": "keeper"}); err != nil {
			return false, err
		}
		for _, p := range pods.Items {
			if p.Spec.NodeName != "" && p.Spec.NodeName != oldNode && p.Status.Phase == corev1.PodRunning && podReady(&p) {
				return true, nil
			}
		}
		return false, nil
	})
	// The budget held the pod until the grace period: the old node lived
	// at least that long after its claim was deleted (and, with the pod
	// deleted at the deadline, not much longer).
	t.Logf("keeper moved %s after the claim was deleted", time.Since(deletedAt).Round(time.Second))
	if since := time.Since(deletedAt); since < 20*time.Second {
		t.Errorf("the keeper moved %s after the claim was deleted, before the 20s grace period: its PDB was not honoured", since.Round(time.Second))
	} else if since > 40*time.Second {
		t.Errorf("the keeper moved %s after the claim was deleted, long after the 20s grace period", since.Round(time.Second))
	}
}
