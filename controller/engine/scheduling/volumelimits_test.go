package scheduling

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodewright/nodewright/controller/utils/resources"
)

var ebsVolumes = resources.AttachLimit(resources.EBSCSIDriver)

// attaches sets how many EBS volumes a type's nodes can attach.
func attaches(n int) itOpt {
	return func(it *InstanceType) { it.Allocatable[ebsVolumes] = q(fmt.Sprint(n)) }
}

// ebsClaims maps each claim to the EBS CSI driver.
func ebsClaims(claims ...string) map[string]string {
	out := map[string]string{}
	for _, c := range claims {
		out["default/"+c] = resources.EBSCSIDriver
	}
	return out
}

// TestSolveAttachLimits: a node takes no more of a CSI driver's volumes
// than it can attach, as kube-scheduler's NodeVolumeLimits filter decides
// from the node's CSINode; a new node's limit is its instance type's.
func TestSolveAttachLimits(t *testing.T) {
	small := func(opts ...itOpt) []*InstanceType {
		return []*InstanceType{itype("small", "8", "16Gi", 110, 0.10, opts...)}
	}
	withVolume := func(name string) *corev1.Pod { return pod(name, "100m", "128Mi", pvc(name+"-data")) }
	fourDBs := pods(withVolume("a"), withVolume("b"), withVolume("c"), withVolume("d"))
	fourClaims := ebsClaims("a-data", "b-data", "c-data", "d-data")
	limited := existing("n1", zoneA, "8", "16Gi", running(withVolume("old")))
	limited.Allocatable[ebsVolumes] = q("1")
	runSolveCases(t, []solveCase{
		{name: "a node attaches two, so four volumes need two nodes",
			in:   Input{Pods: fourDBs, VolumeDrivers: fourClaims, NodePools: []*NodePool{pool("default", small(attaches(2)))}},
			want: []string{"claim default small zone-a on-demand: a b", "claim default small zone-a on-demand: c d"},
			check: func(t *testing.T, res *Result) {
				for _, nc := range res.NodeClaims {
					if got := nc.Requests[ebsVolumes]; got.Value() != 2 {
						t.Errorf("claim requests %s %s, want 2: the launch must pick a type that attaches them", got.String(), ebsVolumes)
					}
				}
			}},
		{name: "volumes of no known driver do not count",
			in:   Input{Pods: fourDBs, NodePools: []*NodePool{pool("default", small(attaches(2)))}},
			want: []string{"claim default small zone-a on-demand: a b c d"}},
		{name: "a type that publishes no limit has none",
			in:   Input{Pods: fourDBs, VolumeDrivers: fourClaims, NodePools: []*NodePool{pool("default", small())}},
			want: []string{"claim default small zone-a on-demand: a b c d"}},
		{name: "a claim two volumes of one pod name counts once",
			in: Input{Pods: pods(pod("a", "100m", "128Mi", pvc("shared"), pvc("shared"))), VolumeDrivers: ebsClaims("shared"),
				NodePools: []*NodePool{pool("default", small(attaches(1)))}},
			want: []string{"claim default small zone-a on-demand: a"}},
		{name: "a bigger type that attaches more is worth it",
			in: Input{Pods: pods(withVolume("a"), withVolume("b"), withVolume("c")), VolumeDrivers: ebsClaims("a-data", "b-data", "c-data"),
				NodePools: []*NodePool{pool("default", []*InstanceType{
					itype("one-volume", "8", "16Gi", 110, 0.10, attaches(1)), itype("many-volumes", "8", "16Gi", 110, 0.15, attaches(4))})}},
			want: []string{"claim default many-volumes zone-a on-demand: a b c"}},
		{name: "an existing node at its CSINode limit takes no more volumes",
			in: Input{Pods: pods(withVolume("a"), pod("b", "100m", "128Mi")), VolumeDrivers: ebsClaims("old-data", "a-data"),
				Nodes: []*ExistingNode{limited}, NodePools: []*NodePool{pool("default", small(attaches(2)))}},
			want: []string{"claim default small zone-a on-demand: a", "node n1: b"}},
		{name: "an existing node without a CSINode limit takes them",
			in: Input{Pods: pods(withVolume("a")), VolumeDrivers: ebsClaims("old-data", "a-data"),
				Nodes:     []*ExistingNode{existing("n1", zoneA, "8", "16Gi", running(withVolume("old")))},
				NodePools: []*NodePool{pool("default", small(attaches(2)))}},
			want: []string{"node n1: a"}},
		{name: "more volumes than any type attaches",
			in: Input{Pods: pods(pod("a", "100m", "128Mi", pvc("x"), pvc("y"), pvc("z"))), VolumeDrivers: ebsClaims("x", "y", "z"),
				NodePools: []*NodePool{pool("default", small(attaches(2)))}},
			check: func(t *testing.T, res *Result) {
				if len(res.NodeClaims) != 0 || len(res.Unschedulable) != 1 {
					t.Fatalf("want the pod unschedulable and no claim, got %v", summarize(res))
				}
				if r := res.Unschedulable[0].Reason; !strings.Contains(r, string(ebsVolumes)) {
					t.Errorf("reason %q does not name %s", r, ebsVolumes)
				}
			}},
	})
}
