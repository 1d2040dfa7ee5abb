package integration

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/test/harness"
)

// TestRestartMidDisruptionResumes kills the controller (SIGKILL) while a
// drift replacement launches: after the replacement's NodeClaim exists and
// before the drifted node is deleted. The restarted controller takes the
// recorded decision up again: the drifted node goes once, the pod ends on
// the one replacement, and no Node is left tainted that is not going.
func TestRestartMidDisruptionResumes(t *testing.T) {
	e := newEnv(t, disruptionPool("WhenEmpty", "720h", onlyM5Large, `    - {nodes: "100%"}
`))
	ctx := context.Background()
	if err := e.kube.Create(ctx, inflate("inflate", 1, "1500m", "1Gi")); err != nil {
		t.Fatal(err)
	}
	e.waitReady("inflate", 1, 45*time.Second)
	claims := e.settledClaims(1)
	victim := claims[0]

	// Every replacement ever seen, and how often the victim was deleted
	// (a new deletion would show as a new deletionTimestamp on a new UID).
	replacements := map[string]bool{}
	deletions := map[string]bool{}
	seen := watch(100*time.Millisecond, func(ctx context.Context) string {
		cs, err := e.liveClaims(ctx)
		if err != nil {
			return ""
		}
		for _, nc := range cs {
			if nc.Annotations[v1.ReplacesAnnotationKey] != "" {
				replacements[nc.Name] = true
			}
			if nc.Name == victim.Name && !nc.DeletionTimestamp.IsZero() {
				deletions[string(nc.UID)+nc.DeletionTimestamp.String()] = true
			}
		}
		return ""
	})
	e.bumpAMI(ctx)

	// Kill the controller while the replacement launches.
	var rep string
	e.eventually("a replacement nodeclaim while the drifted node stays", 60*time.Second, func(ctx context.Context) (bool, error) {
		cs, err := e.liveClaims(ctx)
		if err != nil {
			return false, err
		}
		for _, nc := range cs {
			if nc.Name == victim.Name && !nc.DeletionTimestamp.IsZero() {
				return false, fmt.Errorf("the drifted node was deleted before the kill")
			}
		}
		for _, nc := range cs {
			if nc.Annotations[v1.ReplacesAnnotationKey] == victim.Name && !nc.IsTrue(v1.ConditionTypeInitialized) {
				rep = nc.Name
				return true, nil
			}
		}
		return false, nil
	}, 50*time.Millisecond)
	e.ctrl.Stop(9)
	var node corev1.Node
	if err := e.kube.Get(ctx, client.ObjectKey{Name: victim.Status.NodeName}, &node); err != nil {
		t.Fatal(err)
	}
	if !hasDisruptedTaint(&node) {
		t.Errorf("the drifted node %s was not tainted when its replacement launched", node.Name)
	}
	killed := e.ctrl
	e.ctrl = harness.StartController(t, e.cloud)

	e.eventually("the drifted node gone and the pod on the replacement", 90*time.Second, func(ctx context.Context) (bool, error) {
		var nc v1.NodeClaim
		err := e.kube.Get(ctx, client.ObjectKeyFromObject(&victim), &nc)
		if err == nil {
			return false, nil
		}
		if client.IgnoreNotFound(err) != nil {
			return false, err
		}
		var r v1.NodeClaim
		if err := e.kube.Get(ctx, client.ObjectKey{Name: rep}, &r); err != nil {
			return false, err
		}
		running, total := e.runningPods(ctx, "inflate")
		if running != 1 || total != 1 {
			return false, nil
		}
		p := e.onlyPod(ctx, "inflate")
		return p.Spec.NodeName == r.Status.NodeName, nil
	})
	time.Sleep(5 * time.Second) // a few passes of the restarted controller
	seen.finish(t, "watching the claims")
	if len(replacements) != 1 {
		t.Errorf("want exactly one replacement, saw %v", keys(replacements))
	}
	// A claim can be deleted and gone between two polls, so the watch may
	// miss the one deletion; the logs below count it exactly.
	if len(deletions) > 1 {
		t.Errorf("want the drifted claim deleted once, saw %d deletions", len(deletions))
	}
	// The new run took the recorded decision up; between the two runs the
	// drifted node was disrupted once.
	after := e.ctrl.Tail(5000)
	if !strings.Contains(after, "resuming disruption") {
		t.Errorf("the restarted controller did not resume the decision:\n%s", e.ctrl.Tail(40))
	}
	done := 0
	for _, line := range strings.Split(killed.Tail(5000)+"\n"+after, "\n") {
		if strings.Contains(line, "disrupted nodes") && strings.Contains(line, victim.Name) {
			done++
		}
	}
	if done != 1 {
		t.Errorf("the drifted node was disrupted %d times, want once", done)
	}
	// Nothing tainted that is not going.
	var nodes corev1.NodeList
	if err := e.kube.List(ctx, &nodes); err != nil {
		t.Fatal(err)
	}
	live, err := e.liveClaims(ctx)
	if err != nil {
		t.Fatal(err)
	}
	going := map[string]bool{}
	for _, nc := range live {
		going[nc.Status.NodeName] = !nc.DeletionTimestamp.IsZero()
		if id := nc.Annotations[v1.DisruptionCommandAnnotationKey]; id != "" {
			t.Errorf("claim %s still carries command %s", nc.Name, id)
		}
	}
	for i := range nodes.Items {
		n := &nodes.Items[i]
		if hasDisruptedTaint(n) && n.DeletionTimestamp.IsZero() && !going[n.Name] {
			t.Errorf("node %s is tainted but not going", n.Name)
		}
	}
}

func hasDisruptedTaint(n *corev1.Node) bool {
	for _, t := range n.Spec.Taints {
		if t.MatchTaint(&v1.DisruptedNoScheduleTaint) {
			return true
		}
	}
	return false
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
