package workloads_test

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/engine/scheduling/workloads"
)

func TestSyntheticCluster(t *testing.T) {
	in := workloads.SyntheticCluster(200, 2000, 7)
	if got := len(in.Nodes); got != 200 {
		t.Fatalf("nodes = %d, want 200", got)
	}
	if !reflect.DeepEqual(in, workloads.SyntheticCluster(200, 2000, 7)) {
		t.Fatal("same seed gave a different cluster")
	}
	if reflect.DeepEqual(in.Nodes[0].Pods, workloads.SyntheticCluster(200, 2000, 8).Nodes[0].Pods) {
		t.Fatal("different seeds gave the same pods")
	}
	pods, spread, anti, nearlyEmpty, full := 0, 0, 0, 0, 0
	for _, n := range in.Nodes {
		if n.Labels[corev1.LabelHostname] != n.Name || n.Labels[corev1.LabelTopologyZone] == "" || n.NodePool != "default" {
			t.Fatalf("node %s labels %v", n.Name, n.Labels)
		}
		// What kubelet admission counts: CPU, memory and one pod slot each.
		var usedCPU, usedMem int64
		for _, p := range n.Pods {
			pods++
			reqs := resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{})
			usedCPU += reqs.Cpu().MilliValue()
			usedMem += reqs.Memory().Value()
			if len(p.Spec.TopologySpreadConstraints) > 0 {
				spread++
			}
			if p.Spec.Affinity != nil && p.Spec.Affinity.PodAntiAffinity != nil {
				anti++
			}
			if len(p.OwnerReferences) != 1 || p.OwnerReferences[0].Kind != "ReplicaSet" || !scheduling.Reschedulable(p) {
				t.Fatalf("pod %s owner %v", p.Name, p.OwnerReferences)
			}
		}
		capCPU, capMem, capPods := n.Allocatable.Cpu().MilliValue(), n.Allocatable.Memory().Value(), n.Allocatable.Pods().Value()
		if usedCPU > capCPU || usedMem > capMem || int64(len(n.Pods)) > capPods {
			t.Fatalf("node %s overcommitted: cpu %dm mem %d pods %d > %dm %d %d", n.Name, usedCPU, usedMem, len(n.Pods), capCPU, capMem, capPods)
		}
		switch u := float64(usedCPU) / float64(capCPU); {
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
