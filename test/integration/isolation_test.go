package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/controllers/provisioning"
)

// brokenBesideGood is the default pool plus a heavier pool on an
// EC2NodeClass whose subnet selector matches nothing.
const brokenBesideGood = defaultNodePool + `
---
apiVersion: nodewright.dev/v1
kind: EC2NodeClass
metadata: {name: nosubnets}
spec:
  amiSelectorTerms: [{alias: al2023@latest}]
  role: nodewright-node
  subnetSelectorTerms: [{tags: {nodewright.dev/discovery: no-such-cluster}}]
  securityGroupSelectorTerms: [{tags: {nodewright.dev/discovery: no-such-cluster}}]
---
apiVersion: nodewright.dev/v1
kind: NodePool
metadata: {name: broken}
spec:
  weight: 90
  template:
    metadata:
      labels: {tier: broken}
    spec:
      nodeClassRef: {group: nodewright.dev, kind: EC2NodeClass, name: nosubnets}
      requirements:
      - {key: nodewright.dev/instance-category, operator: In, values: [c, m, r]}
`

// TestBrokenNodeClassIsolated: a pool whose node class cannot resolve
// (and that would be tried first) holds up no other pool. Its NodePool
// says why, and a pod only it could run is told so.
func TestBrokenNodeClassIsolated(t *testing.T) {
	e := newEnv(t, brokenBesideGood)
	ctx := context.Background()

	// 1. The broken pool's conditions name the node class's reason.
	e.eventually("nodepool broken NodeClassReady=False with the class's reason", 30*time.Second, func(ctx context.Context) (bool, error) {
		var np v1.NodePool
		if err := e.kube.Get(ctx, client.ObjectKey{Name: "broken"}, &np); err != nil {
			return false, err
		}
		c := np.GetCondition(v1.ConditionTypeNodeClassReady)
		ready := np.GetCondition(v1.ConditionTypeReady)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == v1.ReasonNodeClassNotReady &&
			strings.Contains(c.Message, "no subnet matches subnetSelectorTerms") &&
			ready != nil && ready.Status == metav1.ConditionFalse, nil
	})
	e.eventually("nodepool default Ready", 30*time.Second, func(ctx context.Context) (bool, error) {
		var np v1.NodePool
		if err := e.kube.Get(ctx, client.ObjectKey{Name: "default"}, &np); err != nil {
			return false, err
		}
		c := np.GetCondition(v1.ConditionTypeReady)
		return c != nil && c.Status == metav1.ConditionTrue, nil
	})

	// 2. Six pods run, all on the good pool's nodes.
	if err := e.kube.Create(ctx, inflate("inflate", 6, "1", "1.5Gi")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	e.eventually("6 inflate pods Running", 45*time.Second, func(ctx context.Context) (bool, error) {
		running, _ := e.runningPods(ctx, "inflate")
		return running == 6, nil
	})
	t.Logf("6 pods Running %s after creation", time.Since(start).Round(100*time.Millisecond))
	var pods corev1.PodList
	if err := e.kube.List(ctx, &pods, client.InNamespace("default"), client.MatchingLabels{"app": "inflate"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		var node corev1.Node
		if err := e.kube.Get(ctx, client.ObjectKey{Name: p.Spec.NodeName}, &node); err != nil {
			t.Fatal(err)
		}
		if pool := node.Labels[v1.NodePoolLabelKey]; pool != "default" {
			t.Errorf("pod %s runs on node %s of nodepool %q, want default", p.Name, node.Name, pool)
		}
	}
	for _, nc := range e.nodeClaims(ctx) {
		if pool := nc.Labels[v1.NodePoolLabelKey]; pool != "default" {
			t.Errorf("nodeclaim %s is from nodepool %s", nc.Name, pool)
		}
	}
	if len(e.ctrl.Entries("leaving nodepool out of provisioning")) == 0 {
		t.Errorf("no log line says the broken pool was left out:\n%s", e.ctrl.Tail(30))
	}

	// 3. A pod only the broken pool could run stays pending, and says why.
	only := inflate("only-broken", 1, "1", "1.5Gi")
	only.Spec.Template.Spec.NodeSelector = map[string]string{"tier": "broken"}
	if err := e.kube.Create(ctx, only); err != nil {
		t.Fatal(err)
	}
	e.eventually("a NodePoolUnavailable event naming the pool and the class's reason", 30*time.Second, func(ctx context.Context) (bool, error) {
		var events corev1.EventList
		if err := e.kube.List(ctx, &events, client.InNamespace("default")); err != nil {
			return false, err
		}
		for _, ev := range events.Items {
			if ev.Reason == provisioning.ReasonNodePoolUnavailable && strings.HasPrefix(ev.InvolvedObject.Name, "only-broken-") &&
				strings.Contains(ev.Message, "Nodepool broken") && strings.Contains(ev.Message, "no subnet matches subnetSelectorTerms") {
				return true, nil
			}
		}
		return false, nil
	})
	if running, _ := e.runningPods(ctx, "only-broken"); running != 0 {
		t.Errorf("%d only-broken pods running", running)
	}
	// The six stay where they are: the pending pod disturbed nothing.
	if running, _ := e.runningPods(ctx, "inflate"); running != 6 {
		t.Errorf("%d inflate pods running after the broken pod, want 6", running)
	}

	// 4. After scale-down the good pool's empty nodes go, under a zero
	// budget whose day-name window is closed now: before budget schedules
	// took day names, every disruption pass failed on it.
	closedDay := strings.ToLower(time.Now().UTC().AddDate(0, 0, 3).Weekday().String()[:3])
	patch := fmt.Sprintf(`{"spec":{"disruption":{"consolidateAfter":"0s","budgets":[{"nodes":"0","schedule":"0 0 * * %s","duration":"1h"},{"nodes":"100%%"}]}}}`, closedDay)
	pool := &v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	if err := e.kube.Patch(ctx, pool, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		t.Fatal(err)
	}
	t.Logf("default pool: budget 0 in the window \"0 0 * * %s\" (1 h), 100%% otherwise", closedDay)
	e.scale("inflate", 0)
	if err := e.kube.Delete(ctx, only); err != nil {
		t.Fatal(err)
	}
	e.eventually("the good pool's empty nodes removed", 90*time.Second, func(ctx context.Context) (bool, error) {
		claims, err := e.liveClaims(ctx)
		return err == nil && len(claims) == 0, err
	})
	for _, nc := range e.nodeClaims(ctx) {
		if nc.Labels[v1.NodePoolLabelKey] == "broken" {
			t.Errorf("nodeclaim %s from the broken pool", nc.Name)
		}
	}
}
