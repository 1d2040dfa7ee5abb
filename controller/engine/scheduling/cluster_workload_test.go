package scheduling

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestSyntheticCluster(t *testing.T) {
	in := SyntheticCluster(200, 2000, 7)
	if got := len(in.Nodes); got != 200 {
		t.Fatalf("nodes = %d, want 200", got)
	}
	if !reflect.DeepEqual(in, SyntheticCluster(200, 2000, 7)) {
		t.Fatal("same seed gave a different cluster")
	}
	if reflect.DeepEqual(in.Nodes[0].Pods, SyntheticCluster(200, 2000, 8).Nodes[0].Pods) {
		t.Fatal("different seeds gave the same pods")
	}
	space := newResourceSpace()
	pods, spread, anti, nearlyEmpty, full := 0, 0, 0, 0, 0
	for _, n := range in.Nodes {
		if n.Labels[corev1.LabelHostname] != n.Name || n.Labels[corev1.LabelTopologyZone] == "" || n.NodePool != "default" {
			t.Fatalf("node %s labels %v", n.Name, n.Labels)
		}
		used := make(vec, len(space.names))
		for _, p := range n.Pods {
			pods++
			used.addInPlace(space.vector(podRequests(p)))
			if len(p.Spec.TopologySpreadConstraints) > 0 {
				spread++
			}
			if p.Spec.Affinity != nil && p.Spec.Affinity.PodAntiAffinity != nil {
				anti++
			}
			if len(p.OwnerReferences) != 1 || p.OwnerReferences[0].Kind != "ReplicaSet" || !Reschedulable(p) {
				t.Fatalf("pod %s owner %v", p.Name, p.OwnerReferences)
			}
		}
		capv := space.vector(n.Allocatable)
		if !fitsWith(used, make(vec, len(used)), capv) {
			t.Fatalf("node %s overcommitted: %v > %v", n.Name, used, capv)
		}
		switch u := float64(used[resCPU]) / float64(capv[resCPU]); {
		case u < 0.3:
			nearlyEmpty++
		case u > 0.8:
			full++
		}
	}
	if pods < 1900 || pods > 2000 {
		t.Errorf("pods = %d, want about 2000", pods)
	}
	if spread < pods/20 || spread > pods/6 {
		t.Errorf("spread pods = %d of %d, want about 10%%", spread, pods)
	}
	if anti < pods/50 || anti > pods/10 {
		t.Errorf("anti-affinity pods = %d of %d, want about 5%%", anti, pods)
	}
	if nearlyEmpty < 10 || full < 20 {
		t.Errorf("nearly empty %d, full %d of 200: utilisation should vary", nearlyEmpty, full)
	}
	t.Logf("pods %d spread %d anti %d nearly-empty %d full %d", pods, spread, anti, nearlyEmpty, full)
}
