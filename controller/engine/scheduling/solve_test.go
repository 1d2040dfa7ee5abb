package scheduling

import (
	"fmt"
	"math"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// catalog: three amd64 sizes, on-demand in zones a-c, priced by size.
func catalog() []*InstanceType {
	return []*InstanceType{
		itype("small", "2", "4Gi", 10, 0.10),
		itype("medium", "4", "8Gi", 20, 0.20),
		itype("large", "8", "16Gi", 40, 0.40),
	}
}

func defaultPool(opts ...poolOpt) *NodePool { return pool("default", catalog(), opts...) }

const (
	zoneKey = corev1.LabelTopologyZone
	archKey = corev1.LabelArchStable
	itKey   = corev1.LabelInstanceTypeStable
	ctKey   = v1.CapacityTypeLabelKey
)

func TestSolveResources(t *testing.T) {
	gpuTypes := func() []*InstanceType {
		return append(catalog(),
			itype("gpu-4x", "4", "16Gi", 20, 1.00, alloc("nvidia.com/gpu", "1")),
			itype("arm-small", "2", "4Gi", 10, 0.08, arch("arm64")))
	}
	runSolveCases(t, []solveCase{
		{name: "smallest type that fits",
			in:   Input{Pods: pods(pod("a", "1", "1Gi")), NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: a"}},
		{name: "pods share a node while it fits, then a second node",
			in:   Input{Pods: replicas(3, "p", "900m", "1Gi"), NodePools: []*NodePool{pool("default", catalog()[:1])}},
			want: []string{"claim default small zone-a on-demand: p-0 p-1", "claim default small zone-a on-demand: p-2"}},
		{name: "largest init container counts when above the containers",
			in:   Input{Pods: pods(pod("a", "1", "1Gi", initContainer("3", "1Gi", false))), NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default medium zone-a on-demand: a"}},
		{name: "init container below the containers adds nothing",
			in:   Input{Pods: pods(pod("a", "1500m", "1Gi", initContainer("1", "1Gi", false))), NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: a"}},
		{name: "sidecar init container adds to the containers",
			in:   Input{Pods: pods(pod("a", "1", "1Gi", initContainer("1500m", "1Gi", true))), NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default medium zone-a on-demand: a"},
			check: func(t *testing.T, res *Result) {
				got := res.NodeClaims[0].Requests[corev1.ResourceCPU]
				if got.MilliValue() != 2500 {
					t.Errorf("claim cpu requests = %s, want 2500m", got.String())
				}
			}},
		{name: "pod overhead counts",
			in:   Input{Pods: pods(pod("a", "1900m", "1Gi", overhead("cpu", "250m"))), NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default medium zone-a on-demand: a"}},
		{name: "memory alone can force a bigger type",
			in:   Input{Pods: pods(pod("a", "100m", "5Gi")), NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default medium zone-a on-demand: a"}},
		{name: "gpu pod gets the gpu type",
			in:   Input{Pods: pods(pod("train", "1", "1Gi", requests("nvidia.com/gpu", "1"))), NodePools: []*NodePool{pool("default", gpuTypes())}},
			want: []string{"claim default gpu-4x zone-a on-demand: train"}},
		{name: "pod without gpu never pays for a gpu type",
			in:   Input{Pods: pods(pod("web", "3", "1Gi")), NodePools: []*NodePool{pool("default", gpuTypes())}},
			want: []string{"claim default medium zone-a on-demand: web"},
			check: func(t *testing.T, res *Result) {
				if want := []string{"gpu-4x", "large", "medium"}; !reflect.DeepEqual(optionTypes(res.NodeClaims[0]), want) {
					t.Errorf("options %v, want %v", optionTypes(res.NodeClaims[0]), want)
				}
			}},
		{name: "two gpu pods need two single-gpu nodes",
			in:   Input{Pods: replicas(2, "train", "1", "1Gi", requests("nvidia.com/gpu", "1")), NodePools: []*NodePool{pool("default", gpuTypes())}},
			want: []string{"claim default gpu-4x zone-a on-demand: train-0", "claim default gpu-4x zone-a on-demand: train-1"}},
		{name: "gpu and arch nobody offers: reason names both and the nodepool",
			in: Input{Pods: pods(pod("x", "", "", requests("nvidia.com/gpu", "2"), nodeSelector(archKey, "arm64"))),
				NodePools: []*NodePool{pool("default", gpuTypes())}},
			want: []string{"unschedulable x: no instance type satisfies nvidia.com/gpu=2 and arch In [arm64] in nodepool default"}},
		{name: "too big for every type",
			in:   Input{Pods: pods(pod("x", "16", "1Gi")), NodePools: []*NodePool{defaultPool()}},
			want: []string{"unschedulable x: no instance type satisfies cpu=16, memory=1Gi in nodepool default"}},
		{name: "pod slots cap a node",
			in: Input{Pods: replicas(3, "p", "100m", "100Mi"),
				NodePools: []*NodePool{pool("default", []*InstanceType{itype("few-slots", "8", "16Gi", 2, 0.1)})}},
			want: []string{"claim default few-slots zone-a on-demand: p-0 p-1", "claim default few-slots zone-a on-demand: p-2"}},
		{name: "pod slots cap an existing node",
			in: Input{Pods: replicas(2, "p", "100m", "100Mi"), Nodes: []*ExistingNode{existing("n1", zoneA, "8", "16Gi", nodePods("1"))},
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: p-1", "node n1: p-0"}},
		{name: "no nodepool",
			in:   Input{Pods: pods(pod("x", "1", "1Gi"))},
			want: []string{"unschedulable x: no NodePool can launch nodes"}},
	})
}

func TestSolveNodeSelectionAndAffinity(t *testing.T) {
	armCatalog := func() []*InstanceType {
		return append(catalog(), itype("arm-medium", "4", "8Gi", 20, 0.15, arch("arm64")))
	}
	runSolveCases(t, []solveCase{
		{name: "nodeSelector on an instance-type label",
			in:   Input{Pods: pods(pod("a", "1", "1Gi", nodeSelector(archKey, "arm64"))), NodePools: []*NodePool{pool("default", armCatalog())}},
			want: []string{"claim default arm-medium zone-a on-demand: a"}},
		{name: "nodeSelector on a nodepool label picks that pool",
			in: Input{Pods: pods(pod("ml", "1", "1Gi", nodeSelector("team", "ml")), pod("web", "7500m", "1Gi")),
				NodePools: []*NodePool{defaultPool(), pool("gpu", []*InstanceType{itype("large", "8", "16Gi", 40, 0.4)}, poolLabels("team", "ml"))}},
			want: []string{"claim default large zone-a on-demand: web", "claim gpu large zone-a on-demand: ml"}},
		{name: "nodeSelector on a label no node gets",
			in:   Input{Pods: pods(pod("x", "1", "1Gi", nodeSelector("team", "ml"))), NodePools: []*NodePool{defaultPool()}},
			want: []string{"unschedulable x: incompatible with nodepool default: label team is not set on its nodes"}},
		{name: "nodeSelector conflicting with the pool's requirement names the key",
			in: Input{Pods: pods(pod("x", "1", "1Gi", nodeSelector(archKey, "arm64"))),
				NodePools: []*NodePool{pool("default", armCatalog(), poolReqs(nsr(archKey, opIn, "amd64")))}},
			want: []string{"unschedulable x: incompatible with nodepool default: requirement kubernetes.io/arch In [arm64] conflicts with kubernetes.io/arch In [amd64]"}},
		{name: "NotIn is met by a node without the label, Exists is not",
			in: Input{Pods: pods(
				pod("notin", "1", "1Gi", requiredTerms(term(nsr("team", opNotIn, "ml")))),
				pod("exists-notin", "1", "1Gi", requiredTerms(term(nsr("team", opExists), nsr("team", opNotIn, "ml"))))),
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: notin",
				"unschedulable exists-notin: incompatible with nodepool default: label team is not set on its nodes"}},
		{name: "Gt on an integer instance label",
			in: Input{Pods: pods(pod("a", "100m", "100Mi", requiredTerms(term(nsr(v1.InstanceCPULabel, opGt, "4"))))),
				NodePools: []*NodePool{pool("default", []*InstanceType{
					itype("small", "2", "4Gi", 10, 0.1, itLabel(v1.InstanceCPULabel, "2")),
					itype("large", "8", "16Gi", 40, 0.4, itLabel(v1.InstanceCPULabel, "8"))})}},
			want: []string{"claim default large zone-a on-demand: a"}},
		{name: "required affinity: second term used when the first can't be met",
			in: Input{Pods: pods(pod("a", "1", "1Gi", requiredTerms(
				term(nsr(archKey, opIn, "arm64")),
				term(nsr(zoneKey, opIn, zoneB))))),
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-b on-demand: a"}},
		{name: "required affinity: first term wins when it can be met",
			in: Input{Pods: pods(pod("a", "1", "1Gi", requiredTerms(
				term(nsr(zoneKey, opIn, zoneC)),
				term(nsr(zoneKey, opIn, zoneB))))),
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-c on-demand: a"}},
		{name: "required affinity: no term can be met",
			in: Input{Pods: pods(pod("a", "1", "1Gi", requiredTerms(
				term(nsr(archKey, opIn, "arm64")),
				term(nsr(archKey, opIn, "s390x"))))),
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"unschedulable a: no instance type satisfies cpu=1, memory=1Gi and arch In [s390x] in nodepool default"}},
		{name: "preferred affinity honoured when possible",
			in:   Input{Pods: pods(pod("a", "1", "1Gi", preferred(10, nsr(zoneKey, opIn, zoneC)))), NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-c on-demand: a"}},
		{name: "preferred affinity relaxed when it can't be met",
			in:   Input{Pods: pods(pod("a", "1", "1Gi", preferred(10, nsr(archKey, opIn, "arm64")))), NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: a"}},
		{name: "conflicting preferences: the lighter one is dropped",
			in: Input{Pods: pods(pod("a", "1", "1Gi", preferred(10, nsr(zoneKey, opIn, zoneB)), preferred(90, nsr(zoneKey, opIn, zoneC)))),
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-c on-demand: a"}},
		{name: "preferred affinity never overrides required",
			in: Input{Pods: pods(pod("a", "1", "1Gi", requiredTerms(term(nsr(zoneKey, opIn, zoneA, zoneB))), preferred(10, nsr(zoneKey, opIn, zoneC)))),
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: a"}},
	})
}

func TestSolveTaintsPortsVolumes(t *testing.T) {
	gpuTaint := taint("dedicated", "gpu", corev1.TaintEffectNoSchedule)
	runSolveCases(t, []solveCase{
		{name: "pool taint not tolerated names the taint",
			in:   Input{Pods: pods(pod("x", "1", "1Gi")), NodePools: []*NodePool{defaultPool(poolTaints(gpuTaint))}},
			want: []string{"unschedulable x: incompatible with nodepool default: taint dedicated=gpu:NoSchedule not tolerated"}},
		{name: "pool taint tolerated",
			in:   Input{Pods: pods(pod("x", "1", "1Gi", tolerate("dedicated", "gpu", corev1.TaintEffectNoSchedule))), NodePools: []*NodePool{defaultPool(poolTaints(gpuTaint))}},
			want: []string{"claim default small zone-a on-demand: x"}},
		{name: "toleration with the wrong value",
			in: Input{Pods: pods(pod("x", "1", "1Gi", tolerate("dedicated", "db", corev1.TaintEffectNoSchedule))),
				NodePools: []*NodePool{defaultPool(poolTaints(taint("dedicated", "gpu", corev1.TaintEffectNoExecute)))}},
			want: []string{"unschedulable x: incompatible with nodepool default: taint dedicated=gpu:NoExecute not tolerated"}},
		{name: "PreferNoSchedule never blocks",
			in:   Input{Pods: pods(pod("x", "1", "1Gi")), NodePools: []*NodePool{defaultPool(poolTaints(taint("spot", "", corev1.TaintEffectPreferNoSchedule)))}},
			want: []string{"claim default small zone-a on-demand: x"}},
		{name: "intolerant pod falls through the tainted heavy pool, tolerant pod uses it",
			in: Input{Pods: pods(pod("plain", "1", "1Gi"), pod("tolerant", "1500m", "1Gi", tolerate("dedicated", "", ""))),
				NodePools: []*NodePool{defaultPool(), pool("dedicated", catalog(), weight(10), poolTaints(gpuTaint))}},
			want: []string{"claim default small zone-a on-demand: plain", "claim dedicated small zone-a on-demand: tolerant"}},
		{name: "every pool's reason is given",
			in: Input{Pods: pods(pod("x", "16", "1Gi")),
				NodePools: []*NodePool{defaultPool(), pool("dedicated", catalog(), weight(10), poolTaints(gpuTaint))}},
			want: []string{"unschedulable x: incompatible with nodepool dedicated: taint dedicated=gpu:NoSchedule not tolerated; " +
				"no instance type satisfies cpu=16, memory=1Gi in nodepool default"}},
		{name: "existing node taint keeps intolerant pods off",
			in: Input{Pods: pods(pod("plain", "1", "1Gi"), pod("tolerant", "1", "1Gi", tolerate("dedicated", "gpu", corev1.TaintEffectNoSchedule))),
				Nodes:     []*ExistingNode{existing("n1", zoneA, "8", "16Gi", nodeTaints(gpuTaint))},
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: plain", "node n1: tolerant"}},
		{name: "same host port never shares a node",
			in:   Input{Pods: pods(pod("a", "100m", "100Mi", hostPortOpt(8080)), pod("b", "100m", "100Mi", hostPortOpt(8080)), pod("c", "100m", "100Mi", hostPortOpt(9090))), NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: a c", "claim default small zone-a on-demand: b"}},
		{name: "host port taken by a pod on an existing node",
			in: Input{Pods: pods(pod("a", "100m", "100Mi", hostPortOpt(8080)), pod("b", "100m", "100Mi", hostPortOpt(9090))),
				Nodes:     []*ExistingNode{existing("n1", zoneA, "8", "16Gi", running(pod("old", "100m", "100Mi", hostPortOpt(8080))))},
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: a", "node n1: b"}},
		{name: "bound volume pins the zone over a cheaper one",
			in: Input{Pods: pods(pod("db", "1", "1Gi", pvc("data"))),
				VolumeRequirements: map[string][]corev1.NodeSelectorRequirement{"default/data": {nsr(zoneKey, opIn, zoneB)}},
				NodePools: []*NodePool{pool("default", []*InstanceType{itype("small", "2", "4Gi", 10, 0, offerings(
					off(zoneA, od, 0.05), off(zoneB, od, 0.10), off(zoneC, od, 0.07)))})}},
			want: []string{"claim default small zone-b on-demand: db"}},
		{name: "volume claims are per namespace",
			in: Input{Pods: pods(pod("db", "1", "1Gi", pvc("data"), namespace("other"))),
				VolumeRequirements: map[string][]corev1.NodeSelectorRequirement{"default/data": {nsr(zoneKey, opIn, zoneB)}},
				NodePools:          []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: db"}},
		{name: "volume on an existing node's zone",
			in: Input{Pods: pods(pod("db", "1", "1Gi", pvc("data"))),
				VolumeRequirements: map[string][]corev1.NodeSelectorRequirement{"default/data": {nsr(zoneKey, opIn, zoneB)}},
				Nodes:              []*ExistingNode{existing("n-a", zoneA, "8", "16Gi"), existing("n-b", zoneB, "8", "16Gi")},
				NodePools:          []*NodePool{defaultPool()}},
			want: []string{"node n-b: db"}},
		{name: "volume zone against the pod's own zone names the key",
			in: Input{Pods: pods(pod("db", "1", "1Gi", pvc("data"), nodeSelector(zoneKey, zoneA))),
				VolumeRequirements: map[string][]corev1.NodeSelectorRequirement{"default/data": {nsr(zoneKey, opIn, zoneC)}},
				NodePools:          []*NodePool{defaultPool()}},
			want: []string{"unschedulable db: incompatible with nodepool default: the pod's node selector, affinity and volumes allow no value of topology.kubernetes.io/zone"}},
	})
}

func TestSolvePoolsLimitsDaemonSets(t *testing.T) {
	armTypes := func() []*InstanceType {
		return []*InstanceType{
			itype("amd-small", "2", "4Gi", 10, 0.20),
			itype("arm-small", "2", "4Gi", 10, 0.10, arch("arm64")),
		}
	}
	armDaemon := pod("arm-agent", "1", "512Mi", nodeSelector(archKey, "arm64"))
	runSolveCases(t, []solveCase{
		{name: "arm-only daemonset leaves amd64 types whole",
			in:   Input{Pods: pods(pod("a", "1500m", "1Gi")), DaemonSets: pods(armDaemon), NodePools: []*NodePool{pool("default", armTypes())}},
			want: []string{"claim default amd-small zone-a on-demand: a"},
			check: func(t *testing.T, res *Result) {
				if got := res.NodeClaims[0].Requests[corev1.ResourceCPU]; got.MilliValue() != 1500 {
					t.Errorf("amd64 claim requests cpu %s, want 1500m (no daemonset)", got.String())
				}
			}},
		{name: "arm daemonset counted on the arm type",
			in:   Input{Pods: pods(pod("a", "500m", "1Gi")), DaemonSets: pods(armDaemon), NodePools: []*NodePool{pool("default", armTypes())}},
			want: []string{"claim default arm-small zone-a on-demand: a"},
			check: func(t *testing.T, res *Result) {
				n := res.NodeClaims[0]
				if got := n.Requests[corev1.ResourceCPU]; got.MilliValue() != 1500 {
					t.Errorf("arm claim requests cpu %s, want 1500m (pod + daemonset)", got.String())
				}
				if got := n.Requests[corev1.ResourcePods]; got.Value() != 2 {
					t.Errorf("arm claim requests pods %s, want 2", got.String())
				}
			}},
		{name: "daemonset that doesn't tolerate the pool taint takes nothing",
			in: Input{Pods: pods(pod("a", "1500m", "1Gi", tolerate("dedicated", "", ""))), DaemonSets: pods(pod("agent", "1", "512Mi")),
				NodePools: []*NodePool{pool("default", catalog()[:1], poolTaints(taint("dedicated", "x", corev1.TaintEffectNoSchedule)))}},
			want: []string{"claim default small zone-a on-demand: a"}},
		{name: "daemonset everywhere pushes to a bigger type",
			in:   Input{Pods: pods(pod("a", "1500m", "1Gi")), DaemonSets: pods(pod("agent", "1", "512Mi")), NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default medium zone-a on-demand: a"}},
		{name: "cpu limit",
			in:   Input{Pods: replicas(3, "p", "1500m", "1Gi"), NodePools: []*NodePool{pool("default", catalog()[:1], limits("cpu", "4"))}},
			want: []string{"claim default small zone-a on-demand: p-0", "claim default small zone-a on-demand: p-1", "unschedulable p-2: nodepool default limit reached"}},
		{name: "memory limit",
			in:   Input{Pods: replicas(2, "p", "1500m", "1Gi"), NodePools: []*NodePool{pool("default", catalog()[:1], limits("memory", "6Gi"))}},
			want: []string{"claim default small zone-a on-demand: p-0", "unschedulable p-1: nodepool default limit reached"}},
		{name: "nodes limit",
			in:   Input{Pods: replicas(2, "p", "1500m", "1Gi"), NodePools: []*NodePool{pool("default", catalog()[:1], limits("nodes", "1"))}},
			want: []string{"claim default small zone-a on-demand: p-0", "unschedulable p-1: nodepool default limit reached: nodes 1 of 1"}},
		{name: "limit counts what the pool already runs",
			in:   Input{Pods: pods(pod("p", "1500m", "1Gi")), NodePools: []*NodePool{pool("default", catalog()[:1], limits("cpu", "4"), inUse("cpu", "3"))}},
			want: []string{"unschedulable p: nodepool default limit reached"}},
		{name: "limit keeps a node from growing past it",
			in: Input{Pods: replicas(2, "p", "1500m", "1Gi"),
				NodePools: []*NodePool{defaultPool(limits("cpu", "3"))}},
			want: []string{"claim default small zone-a on-demand: p-0", "unschedulable p-1: nodepool default limit reached"}},
		{name: "heavier pool first even when pricier",
			in: Input{Pods: pods(pod("a", "1", "1Gi")),
				NodePools: []*NodePool{defaultPool(), pool("reserved", []*InstanceType{itype("pricey", "2", "4Gi", 10, 1.0)}, weight(50))}},
			want: []string{"claim reserved pricey zone-a on-demand: a"}},
		{name: "falls back to a lighter pool when the heavier can't host the pod",
			in: Input{Pods: pods(pod("a", "1", "1Gi", nodeSelector(archKey, "amd64"))),
				NodePools: []*NodePool{defaultPool(), pool("arm", armTypes(), weight(50), poolReqs(nsr(archKey, opIn, "arm64")))}},
			want: []string{"claim default small zone-a on-demand: a"}},
		{name: "falls back to a lighter pool when the heavier hits its limit",
			in: Input{Pods: replicas(2, "p", "1500m", "1Gi"),
				NodePools: []*NodePool{defaultPool(), pool("reserved", catalog()[:1], weight(50), limits("nodes", "1"))}},
			want: []string{"claim reserved small zone-a on-demand: p-0", "claim default small zone-a on-demand: p-1"}},
		{name: "equal weights: by name",
			in:   Input{Pods: pods(pod("a", "1", "1Gi")), NodePools: []*NodePool{pool("zeta", catalog()), pool("alpha", catalog())}},
			want: []string{"claim alpha small zone-a on-demand: a"}},
		{name: "minValues keeps enough types on each node",
			in: Input{Pods: replicas(2, "p", "1500m", "1Gi"),
				NodePools: []*NodePool{defaultPool(poolReqs(nsr(itKey, opIn, "small", "medium", "large")), minValuesOpt(itKey, 3))}},
			want: []string{"claim default small zone-a on-demand: p-0", "claim default small zone-a on-demand: p-1"},
			check: func(t *testing.T, res *Result) {
				for _, n := range res.NodeClaims {
					if n.InstanceTypes != 3 {
						t.Errorf("claim keeps %d types, want 3", n.InstanceTypes)
					}
				}
			}},
		{name: "without minValues the two pods share a bigger node",
			in:   Input{Pods: replicas(2, "p", "1500m", "1Gi"), NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default medium zone-a on-demand: p-0 p-1"}},
		{name: "minValues unmet",
			in: Input{Pods: pods(pod("big", "3", "1Gi")),
				NodePools: []*NodePool{defaultPool(poolReqs(nsr(itKey, opIn, "small", "medium", "large")), minValuesOpt(itKey, 3))}},
			want: []string{"unschedulable big: nodepool default: minValues: node.kubernetes.io/instance-type needs 3 values, only 2 instance-type options left"}},
	})
}

func TestSolveExistingAndInFlight(t *testing.T) {
	inflight := &ExistingNode{Name: "nodeclaim-inflight", NodePool: "default",
		Labels: map[string]string{v1.NodePoolLabelKey: "default", zoneKey: zoneB, itKey: "medium", archKey: "amd64",
			corev1.LabelOSStable: "linux", ctKey: od},
		Allocatable: rl("cpu", "4", "memory", "8Gi", "pods", "20")}
	runSolveCases(t, []solveCase{
		{name: "existing node used before new capacity",
			in: Input{Pods: pods(pod("a", "1", "1Gi"), pod("b", "1", "1Gi")),
				Nodes: []*ExistingNode{existing("n1", zoneA, "4", "8Gi", running(pod("old", "1", "1Gi")))}, NodePools: []*NodePool{defaultPool()}},
			want: []string{"node n1: a b"}},
		{name: "existing node's running pods use its room",
			in: Input{Pods: pods(pod("a", "2", "1Gi"), pod("b", "1", "1Gi")),
				Nodes: []*ExistingNode{existing("n1", zoneA, "4", "8Gi", running(pod("old", "2", "1Gi")))}, NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: b", "node n1: a"}},
		{name: "existing node not matching the nodeSelector",
			in: Input{Pods: pods(pod("a", "1", "1Gi", nodeSelector(zoneKey, zoneB))),
				Nodes: []*ExistingNode{existing("n1", zoneA, "4", "8Gi")}, NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-b on-demand: a"}},
		{name: "in-flight nodeclaim takes pods before a new one",
			in: Input{Pods: replicas(3, "p", "1", "1Gi"),
				Nodes: []*ExistingNode{inflight}, NodePools: []*NodePool{defaultPool()}},
			want: []string{"node nodeclaim-inflight: p-0 p-1 p-2"}},
		{name: "in-flight nodeclaim overflow goes to a new claim",
			in: Input{Pods: replicas(5, "p", "1", "1Gi"),
				Nodes: []*ExistingNode{inflight}, NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: p-4", "node nodeclaim-inflight: p-0 p-1 p-2 p-3"}},
		{name: "only existing nodes, no room",
			in: Input{Pods: pods(pod("a", "8", "1Gi")),
				Nodes: []*ExistingNode{existing("n1", zoneA, "4", "8Gi")}},
			want: []string{"unschedulable a: no NodePool can launch nodes"}},
	})
}

func TestSolvePrice(t *testing.T) {
	mixed := func() *InstanceType {
		return itype("small", "2", "4Gi", 10, 0, offerings(
			off(zoneA, od, 0.30), off(zoneB, spot, 0.05), off(zoneC, od, 0.20), off(zoneC, spot, 0.25)))
	}
	unavailable := mixed()
	unavailable.Offerings[1].Available = false
	runSolveCases(t, []solveCase{
		{name: "cheapest offering wins: spot",
			in:   Input{Pods: pods(pod("a", "1", "1Gi")), NodePools: []*NodePool{pool("default", []*InstanceType{mixed()})}},
			want: []string{"claim default small zone-b spot: a"},
			check: func(t *testing.T, res *Result) {
				n := res.NodeClaims[0]
				var got []string
				for _, o := range n.Options {
					got = append(got, fmt.Sprintf("%s/%s/%.2f", o.Offering.Zone, o.Offering.CapacityType, o.Offering.Price))
				}
				want := []string{"zone-b/spot/0.05", "zone-c/on-demand/0.20", "zone-c/spot/0.25", "zone-a/on-demand/0.30"}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("options %v, want %v (cheapest first)", got, want)
				}
				if res.TotalPrice != 0.05 {
					t.Errorf("TotalPrice = %v, want 0.05", res.TotalPrice)
				}
			}},
		{name: "pod requires on-demand",
			in:   Input{Pods: pods(pod("a", "1", "1Gi", nodeSelector(ctKey, od))), NodePools: []*NodePool{pool("default", []*InstanceType{mixed()})}},
			want: []string{"claim default small zone-c on-demand: a"}},
		{name: "pool allows only on-demand",
			in:   Input{Pods: pods(pod("a", "1", "1Gi")), NodePools: []*NodePool{pool("default", []*InstanceType{mixed()}, poolReqs(nsr(ctKey, opIn, od)))}},
			want: []string{"claim default small zone-c on-demand: a"}},
		{name: "unavailable offering is skipped",
			in:   Input{Pods: pods(pod("a", "1", "1Gi")), NodePools: []*NodePool{pool("default", []*InstanceType{unavailable})}},
			want: []string{"claim default small zone-c on-demand: a"}},
		{name: "spot over on-demand at the same price",
			in: Input{Pods: pods(pod("a", "1", "1Gi")), NodePools: []*NodePool{pool("default", []*InstanceType{
				itype("small", "2", "4Gi", 10, 0, offerings(off(zoneA, od, 0.1), off(zoneB, spot, 0.1)))})}},
			want: []string{"claim default small zone-b spot: a"}},
		{name: "a bigger type wins when its offering is cheaper",
			in: Input{Pods: pods(pod("a", "1", "1Gi")), NodePools: []*NodePool{pool("default", []*InstanceType{
				itype("small", "2", "4Gi", 10, 0.10),
				itype("medium", "4", "8Gi", 20, 0, offerings(off(zoneA, spot, 0.08)))})}},
			want: []string{"claim default medium zone-a spot: a"}},
	})
}

func TestSolveDeterministic(t *testing.T) {
	build := func() Input {
		var ps []*corev1.Pod
		ps = append(ps, replicas(6, "web", "500m", "512Mi", podLabels("app", "web"), spread(zoneKey, 1, "app", "web"))...)
		ps = append(ps, replicas(4, "db", "1", "2Gi", podLabels("app", "db"), podAffinity(true, true, corev1.LabelHostname, "app", "db"))...)
		ps = append(ps, replicas(5, "batch", "250m", "256Mi", preferred(10, nsr(ctKey, opIn, spot)))...)
		ps = append(ps, pod("gpu", "1", "1Gi", requests("nvidia.com/gpu", "1")))
		types := append(catalog(), itype("gpu-4x", "4", "16Gi", 20, 1.0, alloc("nvidia.com/gpu", "1")),
			itype("spotty", "4", "8Gi", 20, 0, offerings(off(zoneA, spot, 0.07), off(zoneB, spot, 0.07))))
		return Input{Pods: ps, NodePools: []*NodePool{pool("default", types)},
			Nodes: []*ExistingNode{existing("n1", zoneC, "2", "4Gi", running(pod("old-web", "500m", "512Mi", podLabels("app", "web"))))}}
	}
	first, err := Solve(build())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		again, err := Solve(build())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(summarizeOrdered(first), summarizeOrdered(again)) {
			t.Fatalf("plans differ:\n%v\n%v", summarizeOrdered(first), summarizeOrdered(again))
		}
	}
	if len(first.Unschedulable) != 0 {
		t.Errorf("unexpected unschedulable pods: %v", summarize(first))
	}
}

// summarizeOrdered keeps the plan's own order and every option, so that
// determinism covers ordering too.
func summarizeOrdered(res *Result) []string {
	var out []string
	for _, n := range res.NodeClaims {
		line := fmt.Sprintf("claim %s [%s] %s:", n.NodePool, podNamesOrdered(n.Pods), n.Requirements)
		for _, o := range n.Options {
			line += fmt.Sprintf(" %s/%s/%s", o.InstanceType.Name, o.Offering.Zone, o.Offering.CapacityType)
		}
		out = append(out, line)
	}
	for _, e := range res.ExistingNodes {
		out = append(out, fmt.Sprintf("node %s [%s]", e.Node, podNamesOrdered(e.Pods)))
	}
	for _, u := range res.Unschedulable {
		out = append(out, u.Pod.Name+": "+u.Reason)
	}
	return out
}

func podNamesOrdered(ps []*corev1.Pod) string {
	s := ""
	for _, p := range ps {
		s += p.Name + " "
	}
	return s
}

// Ten alike pods: a small node holds 3 for $0.05 and a big one 7 for
// $0.118, so the cheapest rate per pod is the small node's, yet three of
// them leave a tenth pod for a fourth node ($0.20). One big and one small
// node host all ten for $0.168, and the plan must find it. (First-fit
// decreasing fills the huge node with all ten: $0.25.)
func TestAlikePodsGetTheCheapestMixOfWholeNodes(t *testing.T) {
	res, err := Solve(tenAlikePods())
	if err != nil {
		t.Fatal(err)
	}
	got := summarize(res)
	if len(res.NodeClaims) != 2 || math.Abs(res.TotalPrice-0.168) > 1e-9 {
		t.Fatalf("planned $%.3f/h on %d nodes, want $0.168 on big+small: %v", res.TotalPrice, len(res.NodeClaims), got)
	}
}

// tenAlikePods are ten 1-CPU pods over types that hold 3 ($0.05), 7
// ($0.118) and 16 ($0.25) of them.
func tenAlikePods() Input {
	types := []*InstanceType{
		itype("small", "3", "6Gi", 110, 0.05),
		itype("big", "7", "14Gi", 110, 0.118),
		itype("huge", "16", "32Gi", 110, 0.25),
	}
	return Input{Pods: replicas(10, "web", "1", "1Gi"), NodePools: []*NodePool{pool("default", types)}}
}

// Shapes are memory per vCPU in powers of two, below one GiB too.
func TestShapes(t *testing.T) {
	cpuHeavy := pod("a", "2", "1Gi")  // 0.5 GiB per vCPU
	memHeavy := pod("b", "1", "8Gi")  // 8
	cpuHeavy2 := pod("c", "4", "2Gi") // 0.5
	if podsOfManyShapes(pods(cpuHeavy, cpuHeavy2)) {
		t.Error("two pods of 0.5 GiB per vCPU are one shape")
	}
	if !podsOfManyShapes(pods(cpuHeavy, memHeavy)) {
		t.Error("0.5 and 8 GiB per vCPU are two shapes")
	}
	c, r := itype("c", "4", "8Gi", 110, 0.2), itype("r", "4", "32Gi", 110, 0.3)
	if manyShapes([]*NodePool{pool("p", []*InstanceType{c, itype("c2", "8", "16Gi", 110, 0.4)})}) {
		t.Error("types of 2 GiB per vCPU are one shape")
	}
	if !manyShapes([]*NodePool{pool("p", []*InstanceType{c}), pool("q", []*InstanceType{r})}) {
		t.Error("2 and 8 GiB per vCPU are two shapes, across pools too")
	}
}
