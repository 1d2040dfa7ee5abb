package integration

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/controllers/provisioning"
)

// TestProvisioningLatency scales a deployment of 60 pods from zero and
// records, per pod, when the test first saw its NodeClaim created, its
// instance launched and the pod Running, from the moment of scaling. It
// logs p50 and p95; it asserts only that every pod ran.
func TestProvisioningLatency(t *testing.T) {
	e := newEnv(t, defaultNodePool)
	ctx := context.Background()
	const pods = 60
	if err := e.kube.Create(ctx, inflate("latency", 0, "250m", "256Mi")); err != nil {
		t.Fatal(err)
	}
	// Let the node class resolve first: its start-up is not provisioning latency.
	e.eventually("EC2NodeClass Ready", 30*time.Second, func(ctx context.Context) (bool, error) {
		var nc v1.EC2NodeClass
		err := e.kube.Get(ctx, client.ObjectKey{Name: "default"}, &nc)
		return err == nil && nc.Status.InstanceProfile != "", err
	})
	start := time.Now()
	e.scale("latency", pods)
	claimSeen, launchSeen, runningSeen := map[string]time.Duration{}, map[string]time.Duration{}, map[string]time.Duration{}
	e.eventually("all pods Running", 90*time.Second, func(ctx context.Context) (bool, error) {
		now := time.Since(start)
		claims := map[string]v1.NodeClaim{}
		for _, nc := range e.nodeClaims(ctx) {
			claims[nc.Name] = nc
		}
		var list corev1.PodList
		if err := e.kube.List(ctx, &list, client.InNamespace("default"), client.MatchingLabels{"app": "latency"}); err != nil {
			return false, err
		}
		for i := range list.Items {
			p := &list.Items[i]
			claimName := p.Annotations[provisioning.NominatedAnnotationKey]
			nc, hasClaim := claims[claimName]
			if _, ok := claimSeen[p.Name]; !ok && hasClaim {
				claimSeen[p.Name] = now
			}
			if _, ok := launchSeen[p.Name]; !ok && hasClaim && nc.Status.ProviderID != "" {
				launchSeen[p.Name] = now
			}
			if _, ok := runningSeen[p.Name]; !ok && p.Status.Phase == corev1.PodRunning && podReady(p) {
				runningSeen[p.Name] = now
			}
		}
		return len(runningSeen) == pods, nil
	}, 100*time.Millisecond)
	t.Logf("pod to NodeClaim created: %s; to instance launched: %s; to pod Running: %s (over %d pods; %d nodeclaims)",
		percentiles(claimSeen), percentiles(launchSeen), percentiles(runningSeen), pods, len(e.nodeClaims(ctx)))
	for _, msg := range []string{"took cluster snapshot", "found provisionable pods", "created nodeclaim", "launched instance", "registered node", "initialized"} {
		if lines := e.ctrl.Entries(msg); len(lines) > 0 {
			if ts, err := time.Parse("2006-01-02T15:04:05.000Z0700", fmt.Sprint(lines[0]["time"])); err == nil {
				extra := ""
				if d, ok := lines[0]["duration"]; ok {
					extra = fmt.Sprintf(" (took %v)", d)
				}
				t.Logf("first %q logged %s after scaling%s", msg, ts.Sub(start).Round(10*time.Millisecond), extra)
			}
		}
	}
}

func percentiles(m map[string]time.Duration) string {
	if len(m) == 0 {
		return "none seen"
	}
	var ds []time.Duration
	for _, d := range m {
		ds = append(ds, d)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	p := func(q float64) time.Duration { return ds[int(q*float64(len(ds)-1))].Round(10 * time.Millisecond) }
	return "p50 " + p(0.5).String() + ", p95 " + p(0.95).String() + " (n=" + itoa(len(ds)) + ")"
}

func itoa(n int) string { return strconv.Itoa(n) }
