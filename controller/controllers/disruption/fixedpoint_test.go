package disruption

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/test"
	"github.com/nodewright/nodewright/controller/test/expectations"
	"github.com/nodewright/nodewright/test/kubetest"
)

// TestStableWorkloadReachesAFixedPoint runs the real engine through the
// loop over three half-used kwok nodes while the test plays lifecycle and
// termination (launching replacements, removing deleted nodes; the
// Deployment and kube-scheduler move the pods). Consolidation packs the
// pods onto fewer nodes; after that, ten minutes of passes decide nothing.
func TestStableWorkloadReachesAFixedPoint(t *testing.T) {
	np := test.NodePool(test.NodePoolOptions{Name: "fixed-point"})
	np.Spec.Disruption = v1.Disruption{ConsolidationPolicy: v1.ConsolidationPolicyWhenEmptyOrUnderutilized,
		ConsolidateAfter: "30s", Budgets: []v1.Budget{{Nodes: "100%"}}}
	f := newFixture(t, np, nil)
	f.kwok = true
	for _, s := range []string{"a", "b", "c"} {
		f.node("fixed-point-" + s)
	}
	ns := f.deployment(3)
	if got := f.podNodes(ns); len(got) < 2 {
		t.Logf("kube-scheduler put the pods on %d node(s)", len(got))
	}

	decisions, completed := 0, 0
	settled := false
	for step := 0; step < 60 && !settled; step++ {
		f.clk.Step(10 * time.Second)
		r := f.pass()
		decisions += len(r.Proposed)
		completed += r.Completed
		for _, d := range r.Proposed {
			t.Logf("step %d: proposed %s %v: %s", step, d.Method, candidateNames(d), d.Message)
		}
		for _, d := range r.Dropped {
			t.Logf("step %d: dropped %s %v", step, d.Method, candidateNames(d))
		}
		f.settle(ns, 3)
		// Settled: a decision was carried out, and now a pass finds
		// nothing to do and nothing is under way.
		settled = completed > 0 && len(r.Proposed)+len(r.Dropped)+len(r.Started)+r.Completed == 0 && f.c.pending == nil && len(f.c.commands) == 0
	}
	if !settled {
		t.Fatalf("no fixed point within 10 minutes (%d decisions, %d carried out)", decisions, completed)
	}
	live := f.liveClaims()
	if live >= 3 {
		t.Fatalf("consolidation left %d nodes for 1.5 CPU of pods", live)
	}
	t.Logf("fixed point after %d decisions: %d node(s)", decisions, live)

	after := 0
	for range 60 {
		f.clk.Step(10 * time.Second)
		r := f.pass()
		after += len(r.Proposed) + len(r.Started)
		f.settle(ns, 3)
	}
	if after != 0 {
		t.Fatalf("a stable workload produced %d decisions after the fixed point", after)
	}
	if got := f.liveClaims(); got != live {
		t.Fatalf("nodes changed after the fixed point: %d, then %d", live, got)
	}
}

func (f *fixture) liveClaims() int {
	n := 0
	for _, nc := range f.claims() {
		if nc.DeletionTimestamp.IsZero() {
			n++
		}
	}
	return n
}

// podNodes counts the namespace's running pods by node.
func (f *fixture) podNodes(ns string) map[string]int {
	var pods corev1.PodList
	f.must(env.Client.List(f.ctx, &pods, client.InNamespace(ns)))
	out := map[string]int{}
	for _, p := range pods.Items {
		if p.Spec.NodeName != "" && p.DeletionTimestamp.IsZero() && p.Status.Phase == corev1.PodRunning {
			out[p.Spec.NodeName]++
		}
	}
	return out
}

func (f *fixture) awaitRunning(ns string, want int) {
	f.t.Helper()
	expectations.Eventually(f.t, 60*time.Second, "pods running", func() bool {
		n := 0
		for _, c := range f.podNodes(ns) {
			n += c
		}
		return n == want
	})
}

// settle plays lifecycle and termination for the pool: replacement claims
// become Initialized kwok nodes; deleted claims lose their node and pods
// (which the Deployment re-creates elsewhere) and then go.
func (f *fixture) settle(ns string, replicas int) {
	f.t.Helper()
	for name, nc := range f.claims() {
		switch {
		case !nc.DeletionTimestamp.IsZero():
			var pods corev1.PodList
			f.must(env.Client.List(f.ctx, &pods, client.MatchingFields{"spec.nodeName": name}))
			for i := range pods.Items {
				_ = env.Client.Delete(f.ctx, &pods.Items[i], client.GracePeriodSeconds(0))
			}
			_ = env.Client.Delete(f.ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}})
			f.must(client.IgnoreNotFound(kubetest.Update(f.ctx, env.Client, nc, func(nc *v1.NodeClaim) { nc.Finalizers = nil })))
		case nc.Status.ProviderID == "":
			f.register(nc)
		}
	}
	f.awaitRunning(ns, replicas)
}

// deployment runs replicas of a 500m-CPU pod on the pool's nodes, in a
// namespace of its own, and waits until they run.
func (f *fixture) deployment(replicas int32) string {
	f.t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: f.pool.Name + "-"}}
	f.must(env.Client.Create(f.ctx, ns))
	f.t.Cleanup(func() { _ = env.Client.Delete(f.ctx, ns) })
	labels := map[string]string{"app": "web"}
	f.must(env.Client.Create(f.ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns.Name},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				NodeSelector:                  map[string]string{v1.NodePoolLabelKey: f.pool.Name},
				AutomountServiceAccountToken:  ptr.To(false),
				TerminationGracePeriodSeconds: ptr.To[int64](0),
				Containers: []corev1.Container{{Name: "c", Image: "example.com/web:1", Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}}}},
			}}}}))
	f.awaitRunning(ns.Name, int(replicas))
	return ns.Name
}
