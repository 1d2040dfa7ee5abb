package integration

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// conflicts returns the controller's log lines that report an update
// conflict ("the object has been modified"): a write that raced another
// and was logged as failed.
func (e *env) conflicts() []string {
	data, err := os.ReadFile(e.ctrl.Log)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, "the object has been modified") {
			out = append(out, line)
		}
	}
	return out
}

// TestCallsMadeOnce launches ten nodes at once and takes them away again:
// each instance is terminated with exactly one TerminateInstances call (the
// Node's termination and the claim's finalizer both reach the instance),
// and the launch burst logs no update conflicts.
func TestCallsMadeOnce(t *testing.T) {
	const nodes = 10
	e := newEnv(t, disruptionPool("WhenEmpty", "Never", onlyM5Large, `      - nodes: "100%"`+"\n"))
	ctx := context.Background()

	// 1500m fits one to an m5.large (a little under 2 vCPU allocatable).
	e.deploy("inflate", nodes, "1500m", 0)
	if n := len(e.nodeClaims(ctx)); n != nodes {
		t.Fatalf("%d NodeClaims for %d pods that need a node each", n, nodes)
	}
	if got := e.conflicts(); len(got) > 0 {
		t.Errorf("%d update conflicts logged during the launch burst, the first:\n%s", len(got), got[0])
	}

	if err := e.cloud.ResetCalls(ctx); err != nil {
		t.Fatal(err)
	}
	e.scale("inflate", 0)
	e.eventually("nodes and claims gone", 90*time.Second, func(ctx context.Context) (bool, error) {
		var list corev1.NodeList
		if err := e.kube.List(ctx, &list, client.HasLabels{v1.NodePoolLabelKey}); err != nil {
			return false, err
		}
		return len(list.Items) == 0 && len(e.nodeClaims(ctx)) == 0, nil
	})
	e.eventually("instances terminated", 15*time.Second, func(ctx context.Context) (bool, error) {
		return len(e.liveInstances(ctx)) == 0, nil
	})
	calls, err := e.cloud.Calls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("AWS calls while %d nodes went away: %s", nodes, calls)
	if got := calls["ec2:TerminateInstances"]; got != nodes {
		t.Errorf("%d TerminateInstances calls for %d instances, want one each", got, nodes)
	}
	if got := e.conflicts(); len(got) > 0 {
		t.Errorf("%d update conflicts logged, the first:\n%s", len(got), got[0])
	}
	for _, l := range e.ctrl.Entries("Reconciler error") {
		t.Logf("reconciler error: %v %v", l["controller"], l["error"])
	}
}
