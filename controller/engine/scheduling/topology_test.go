package scheduling

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

const hostKey = corev1.LabelHostname

// full makes an existing node with no room left for the pending pods of
// these tests (cpu 500m, filled by the given pods).
func full(name, zone string, running_ ...*corev1.Pod) *ExistingNode {
	return existing(name, zone, "500m", "1Gi", running(running_...))
}

func TestSolvePodAffinity(t *testing.T) {
	runSolveCases(t, []solveCase{
		{name: "required hostname self-affinity packs one node",
			in:   Input{Pods: replicas(3, "w", "1", "1Gi", podLabels("app", "web"), podAffinity(false, true, hostKey, "app", "web")), NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default medium zone-a on-demand: w-0 w-1 w-2"}},
		{name: "required zone affinity to a pod on a full existing node",
			in: Input{Pods: pods(pod("a", "1", "1Gi", podAffinity(false, true, zoneKey, "app", "db"))),
				Nodes:     []*ExistingNode{full("n1", zoneB, pod("db", "250m", "100Mi", podLabels("app", "db")))},
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-b on-demand: a"}},
		{name: "required zone affinity to a pod elsewhere",
			in: Input{Pods: pods(pod("a", "1", "1Gi", podAffinity(false, true, zoneKey, "app", "db"))),
				PodsElsewhere: []PodOnDomain{{Pod: pod("db", "1", "1Gi", podLabels("app", "db")), NodeLabels: map[string]string{zoneKey: zoneC}}},
				NodePools:     []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-c on-demand: a"}},
		{name: "required hostname affinity to a pod on an existing node with room",
			in: Input{Pods: pods(pod("a", "1", "1Gi", podAffinity(false, true, hostKey, "app", "db"))),
				Nodes: []*ExistingNode{existing("n2", zoneA, "8", "16Gi"),
					existing("n1", zoneA, "2", "2Gi", running(pod("db", "250m", "100Mi", podLabels("app", "db"))))},
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"node n1: a"}},
		{name: "required hostname affinity to a pod on a full node",
			in: Input{Pods: pods(pod("a", "1", "1Gi", podAffinity(false, true, hostKey, "app", "db"))),
				Nodes:     []*ExistingNode{full("n1", zoneA, pod("db", "250m", "100Mi", podLabels("app", "db")))},
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"unschedulable a: nodepool default: pod affinity on kubernetes.io/hostname for app=db"}},
		{name: "required affinity to pods that don't exist",
			in:   Input{Pods: pods(pod("a", "1", "1Gi", podAffinity(false, true, zoneKey, "app", "db"))), NodePools: []*NodePool{defaultPool()}},
			want: []string{"unschedulable a: nodepool default: pod affinity on topology.kubernetes.io/zone for app=db"}},
		{name: "affinity is per namespace",
			in: Input{Pods: pods(pod("a", "1", "1Gi", podAffinity(false, true, zoneKey, "app", "db"))),
				PodsElsewhere: []PodOnDomain{{Pod: pod("db", "1", "1Gi", podLabels("app", "db"), namespace("other")), NodeLabels: map[string]string{zoneKey: zoneC}}},
				NodePools:     []*NodePool{defaultPool()}},
			want: []string{"unschedulable a: nodepool default: pod affinity on topology.kubernetes.io/zone for app=db"}},
		{name: "preferred affinity to pods that don't exist is relaxed",
			in:   Input{Pods: pods(pod("a", "1", "1Gi", podAffinity(false, false, zoneKey, "app", "db"))), NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: a"}},
		{name: "preferred affinity honoured",
			in: Input{Pods: pods(pod("a", "1", "1Gi", podAffinity(false, false, zoneKey, "app", "db"))),
				Nodes:     []*ExistingNode{full("n1", zoneB, pod("db", "250m", "100Mi", podLabels("app", "db")))},
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-b on-demand: a"}},
		{name: "affinity follows a pending pod placed first",
			in: Input{Pods: pods(pod("db", "1500m", "1Gi", podLabels("app", "db"), nodeSelector(zoneKey, zoneC)),
				pod("a", "1", "1Gi", podAffinity(false, true, zoneKey, "app", "db"))),
				NodePools: []*NodePool{pool("default", catalog()[:1])}},
			want: []string{"claim default small zone-c on-demand: db", "claim default small zone-c on-demand: a"}},
	})
}

func TestSolvePodAntiAffinity(t *testing.T) {
	runSolveCases(t, []solveCase{
		{name: "required hostname self anti-affinity: one pod per node",
			in: Input{Pods: replicas(3, "w", "100m", "100Mi", podLabels("app", "web"), podAffinity(true, true, hostKey, "app", "web")),
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: w-0", "claim default small zone-a on-demand: w-1", "claim default small zone-a on-demand: w-2"}},
		{name: "required zone self anti-affinity: one pod per zone, then none",
			in: Input{Pods: replicas(4, "w", "100m", "100Mi", podLabels("app", "web"), podAffinity(true, true, zoneKey, "app", "web")),
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: w-0", "claim default small zone-b on-demand: w-1", "claim default small zone-c on-demand: w-2",
				"unschedulable w-3: nodepool default: pod anti-affinity on topology.kubernetes.io/zone for app=web"}},
		{name: "preferred anti-affinity relaxed when no other node can open",
			in: Input{Pods: replicas(2, "w", "100m", "100Mi", podLabels("app", "web"), podAffinity(true, false, hostKey, "app", "web")),
				NodePools: []*NodePool{defaultPool(limits("nodes", "1"))}},
			want: []string{"claim default small zone-a on-demand: w-0 w-1"}},
		{name: "preferred anti-affinity honoured when possible",
			in: Input{Pods: replicas(2, "w", "100m", "100Mi", podLabels("app", "web"), podAffinity(true, false, hostKey, "app", "web")),
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: w-0", "claim default small zone-a on-demand: w-1"}},
		{name: "anti-affinity to a pod on an existing node",
			in: Input{Pods: pods(pod("a", "1", "1Gi", podAffinity(true, true, hostKey, "app", "db")), pod("b", "1", "1Gi")),
				Nodes:     []*ExistingNode{existing("n1", zoneA, "8", "16Gi", running(pod("db", "1", "1Gi", podLabels("app", "db"))))},
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: a", "node n1: b"}},
		{name: "zone anti-affinity to a pod in zone-a",
			in: Input{Pods: pods(pod("a", "1", "1Gi", podAffinity(true, true, zoneKey, "app", "db"))),
				Nodes:     []*ExistingNode{existing("n1", zoneA, "8", "16Gi", running(pod("db", "1", "1Gi", podLabels("app", "db"))))},
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-b on-demand: a"}},
		{name: "symmetric: an existing pod's hostname anti-affinity keeps a matching pod off its node",
			in: Input{Pods: pods(pod("b", "1", "1Gi", podLabels("app", "b")), pod("c", "1", "1Gi")),
				Nodes: []*ExistingNode{existing("n1", zoneA, "8", "16Gi", running(
					pod("owner", "1", "1Gi", podAffinity(true, true, hostKey, "app", "b"))))},
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: b", "node n1: c"}},
		{name: "symmetric: an existing pod's zone anti-affinity keeps a matching pod out of its zone",
			in: Input{Pods: pods(pod("b", "1", "1Gi", podLabels("app", "b"))),
				Nodes: []*ExistingNode{existing("n1", zoneA, "8", "16Gi", running(
					pod("owner", "1", "1Gi", podAffinity(true, true, zoneKey, "app", "b"))))},
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-b on-demand: b"}},
		{name: "symmetric: a pod elsewhere with zone anti-affinity",
			in: Input{Pods: pods(pod("b", "1", "1Gi", podLabels("app", "b"))),
				PodsElsewhere: []PodOnDomain{{Pod: pod("owner", "1", "1Gi", podAffinity(true, true, zoneKey, "app", "b")),
					NodeLabels: map[string]string{zoneKey: zoneA, hostKey: "gone"}}},
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-b on-demand: b"}},
		{name: "symmetric between pending pods",
			in: Input{Pods: pods(pod("a", "1500m", "1Gi", podLabels("app", "a"), podAffinity(true, true, hostKey, "app", "b")),
				pod("b", "100m", "100Mi", podLabels("app", "b"))),
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: a", "claim default small zone-a on-demand: b"}},
		{name: "symmetric zone between pending pods with the zone left open",
			in: Input{Pods: pods(pod("a", "1500m", "1Gi", podLabels("app", "a"), podAffinity(true, true, zoneKey, "app", "b")),
				pod("b", "100m", "100Mi", podLabels("app", "b"))),
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: a", "claim default small zone-b on-demand: b"}},
	})
}

func TestSolveTopologySpread(t *testing.T) {
	web := func(opts ...spreadOpt) []podOpt {
		return []podOpt{podLabels("app", "web"), spread(zoneKey, 1, "app", "web", opts...)}
	}
	webPods := func(n int, opts ...spreadOpt) []*corev1.Pod {
		return replicas(n, "w", "100m", "100Mi", web(opts...)...)
	}
	zonesAB := poolReqs(nsr(zoneKey, opIn, zoneA, zoneB))
	onlyA := poolReqs(nsr(zoneKey, opIn, zoneA))
	// A tainted, full node in zone-b makes zone-b a domain no pod can use.
	blockedB := existing("blocked", zoneB, "8", "16Gi", nodeTaints(taint("maintenance", "", corev1.TaintEffectNoSchedule)))
	runSolveCases(t, []solveCase{
		{name: "maxSkew 1 over three zones",
			in: Input{Pods: webPods(6), NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: w-0 w-3", "claim default small zone-b on-demand: w-1 w-4",
				"claim default small zone-c on-demand: w-2 w-5"}},
		{name: "maxSkew 2 lets two land before spreading",
			in: Input{Pods: replicas(4, "w", "100m", "100Mi", podLabels("app", "web"), spread(zoneKey, 2, "app", "web")),
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: w-0 w-1", "claim default small zone-b on-demand: w-2 w-3"}},
		{name: "pods on existing nodes count toward the spread",
			in: Input{Pods: replicas(2, "w", "250m", "100Mi", web()...),
				Nodes:     []*ExistingNode{full("n1", zoneA, pod("old-0", "250m", "100Mi", podLabels("app", "web")), pod("old-1", "250m", "100Mi", podLabels("app", "web")))},
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-b on-demand: w-0", "claim default small zone-c on-demand: w-1"}},
		{name: "pods of another namespace don't count",
			in: Input{Pods: replicas(2, "w", "250m", "100Mi", web()...),
				Nodes:     []*ExistingNode{full("n1", zoneA, pod("old-0", "500m", "100Mi", podLabels("app", "web"), namespace("other")))},
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: w-0", "claim default small zone-b on-demand: w-1"}},
		{name: "DoNotSchedule: an unusable zone still counts",
			in:   Input{Pods: webPods(2), Nodes: []*ExistingNode{blockedB}, NodePools: []*NodePool{defaultPool(onlyA)}},
			want: []string{"claim default small zone-a on-demand: w-0", "unschedulable w-1: nodepool default: topology spread on topology.kubernetes.io/zone for app=web"}},
		{name: "ScheduleAnyway: skew allowed when nothing else fits",
			in:   Input{Pods: webPods(2, scheduleAnyway), Nodes: []*ExistingNode{blockedB}, NodePools: []*NodePool{defaultPool(onlyA)}},
			want: []string{"claim default small zone-a on-demand: w-0 w-1"}},
		{name: "ScheduleAnyway still spreads when it can",
			in:   Input{Pods: webPods(3, scheduleAnyway), NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: w-0", "claim default small zone-b on-demand: w-1", "claim default small zone-c on-demand: w-2"}},
		{name: "two zones, no minDomains: the third pod goes back to zone-a",
			in:   Input{Pods: webPods(3), NodePools: []*NodePool{defaultPool(zonesAB)}},
			want: []string{"claim default small zone-a on-demand: w-0 w-2", "claim default small zone-b on-demand: w-1"}},
		{name: "minDomains 3 with two zones caps each zone at maxSkew",
			in: Input{Pods: webPods(3, minDomains(3)), NodePools: []*NodePool{defaultPool(zonesAB)}},
			want: []string{"claim default small zone-a on-demand: w-0", "claim default small zone-b on-demand: w-1",
				"unschedulable w-2: nodepool default: topology spread on topology.kubernetes.io/zone for app=web"}},
		{name: "minDomains met behaves as without",
			in:   Input{Pods: webPods(4, minDomains(3)), NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: w-0 w-3", "claim default small zone-b on-demand: w-1", "claim default small zone-c on-demand: w-2"}},
		{name: "nodeAffinityPolicy Honor: only zones the pod may use count",
			in: Input{Pods: replicas(3, "w", "100m", "100Mi", append(web(), requiredTerms(term(nsr(zoneKey, opIn, zoneA, zoneB))))...),
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: w-0 w-2", "claim default small zone-b on-demand: w-1"}},
		{name: "nodeAffinityPolicy Ignore: zone-c counts though the pod can't go there",
			in: Input{Pods: replicas(3, "w", "100m", "100Mi", append(web(ignoreAffinity), requiredTerms(term(nsr(zoneKey, opIn, zoneA, zoneB))))...),
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: w-0", "claim default small zone-b on-demand: w-1",
				"unschedulable w-2: nodepool default: topology spread on topology.kubernetes.io/zone for app=web"}},
		{name: "hostname spread maxSkew 1",
			in: Input{Pods: replicas(3, "w", "100m", "100Mi", podLabels("app", "web"), spread(hostKey, 1, "app", "web")),
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: w-0", "claim default small zone-a on-demand: w-1", "claim default small zone-a on-demand: w-2"}},
		{name: "hostname spread maxSkew 2",
			in: Input{Pods: replicas(4, "w", "100m", "100Mi", podLabels("app", "web"), spread(hostKey, 2, "app", "web")),
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: w-0 w-1", "claim default small zone-a on-demand: w-2 w-3"}},
		{name: "hostname spread counts pods on an existing node",
			in: Input{Pods: replicas(2, "w", "100m", "100Mi", podLabels("app", "web"), spread(hostKey, 1, "app", "web")),
				Nodes:     []*ExistingNode{existing("n1", zoneA, "8", "16Gi", running(pod("old", "100m", "100Mi", podLabels("app", "web"))))},
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: w-0", "claim default small zone-a on-demand: w-1"}},
		{name: "zone spread and a zone pin from a volume",
			in: Input{Pods: append(webPods(1), pod("db", "100m", "100Mi", append(web(), pvc("data"))...)),
				VolumeRequirements: map[string][]corev1.NodeSelectorRequirement{"default/data": {nsr(zoneKey, opIn, zoneC)}},
				NodePools:          []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: w-0", "claim default small zone-c on-demand: db"}},
	})
}

func TestSolveTopologyEdges(t *testing.T) {
	runSolveCases(t, []solveCase{
		{name: "spread selector that doesn't match the pod itself: the pod adds nothing to the skew",
			in: Input{Pods: pods(pod("client", "100m", "100Mi", spread(zoneKey, 1, "app", "web"))),
				Nodes:     []*ExistingNode{existing("n1", zoneA, "8", "16Gi", running(pod("web", "100m", "100Mi", podLabels("app", "web"))))},
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"node n1: client"}},
		{name: "a matching pod does add to the skew",
			in: Input{Pods: pods(pod("web-2", "100m", "100Mi", podLabels("app", "web"), spread(zoneKey, 1, "app", "web"))),
				Nodes:     []*ExistingNode{existing("n1", zoneA, "8", "16Gi", running(pod("web", "100m", "100Mi", podLabels("app", "web"))))},
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-b on-demand: web-2"}},
		{name: "hostname spread selector that doesn't match the pod itself",
			in: Input{Pods: pods(pod("client", "100m", "100Mi", spread(hostKey, 1, "app", "web"))),
				Nodes:     []*ExistingNode{existing("n1", zoneA, "8", "16Gi", running(pod("web", "100m", "100Mi", podLabels("app", "web"))))},
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"node n1: client"}},
		{name: "zone pinned by topology can't push a node past the pool's limit",
			in: Input{Pods: pods(pod("a", "1", "1Gi", podAffinity(true, true, zoneKey, "app", "db"))),
				PodsElsewhere: []PodOnDomain{{Pod: pod("db", "1", "1Gi", podLabels("app", "db")), NodeLabels: map[string]string{zoneKey: zoneB}}},
				NodePools: []*NodePool{pool("default", []*InstanceType{
					itype("small", "2", "4Gi", 10, 0, offerings(off(zoneB, od, 0.1))),
					itype("medium", "4", "8Gi", 20, 0.2),
				}, limits("cpu", "2"))}},
			want: []string{"unschedulable a: nodepool default: nodepool default limit reached"}},
	})
}

func TestSolveHostPortProtocols(t *testing.T) {
	udp := func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].Protocol = corev1.ProtocolUDP }
	onIP := func(ip string) podOpt { return func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].HostIP = ip } }
	runSolveCases(t, []solveCase{
		{name: "same port, different protocols share",
			in:   Input{Pods: pods(pod("a", "100m", "100Mi", hostPortOpt(53)), pod("b", "100m", "100Mi", hostPortOpt(53), udp)), NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: a b"}},
		{name: "same port on different host IPs share",
			in: Input{Pods: pods(pod("a", "100m", "100Mi", hostPortOpt(80), onIP("10.0.0.1")), pod("b", "100m", "100Mi", hostPortOpt(80), onIP("10.0.0.2"))),
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: a b"}},
		{name: "a wildcard host IP clashes with a specific one",
			in: Input{Pods: pods(pod("a", "100m", "100Mi", hostPortOpt(80), onIP("0.0.0.0")), pod("b", "100m", "100Mi", hostPortOpt(80), onIP("10.0.0.2"))),
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: a", "claim default small zone-a on-demand: b"}},
	})
}

func TestSolveTopologyMore(t *testing.T) {
	owner := func(zone string) PodOnDomain {
		return PodOnDomain{Pod: pod("owner", "1", "1Gi", podAffinity(true, true, zoneKey, "app", "b")), NodeLabels: map[string]string{zoneKey: zone}}
	}
	runSolveCases(t, []solveCase{
		{name: "pods elsewhere count toward zone spread",
			in: Input{Pods: replicas(2, "w", "100m", "100Mi", podLabels("app", "web"), spread(zoneKey, 1, "app", "web")),
				PodsElsewhere: []PodOnDomain{{Pod: pod("old", "1", "1Gi", podLabels("app", "web")), NodeLabels: map[string]string{zoneKey: zoneA}}},
				NodePools:     []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-b on-demand: w-0", "claim default small zone-c on-demand: w-1"},
			check: func(t *testing.T, res *Result) {
				n := claimWith(t, res, "w-0")
				if v, ok := n.Requirements.Single(zoneKey); !ok || v != zoneB {
					t.Errorf("claim requirements %s: want the zone pinned to zone-b", n.Requirements)
				}
				if v, ok := n.Requirements.Single("nodewright.dev/nodepool"); !ok || v != "default" {
					t.Errorf("claim requirements %s: want the nodepool label", n.Requirements)
				}
			}},
		{name: "second required term used when the first fails on anti-affinity",
			in: Input{Pods: pods(pod("a", "1", "1Gi", podAffinity(true, true, zoneKey, "app", "db"),
				requiredTerms(term(nsr(zoneKey, opIn, zoneA)), term(nsr(zoneKey, opIn, zoneC))))),
				PodsElsewhere: []PodOnDomain{{Pod: pod("db", "1", "1Gi", podLabels("app", "db")), NodeLabels: map[string]string{zoneKey: zoneA}}},
				NodePools:     []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-c on-demand: a"}},
		{name: "symmetric anti-affinity in the only zone",
			in: Input{Pods: pods(pod("b", "1", "1Gi", podLabels("app", "b"))), PodsElsewhere: []PodOnDomain{owner(zoneA)},
				NodePools: []*NodePool{defaultPool(poolReqs(nsr(zoneKey, opIn, zoneA)))}},
			want: []string{"unschedulable b: nodepool default: anti-affinity of pods already on the node (pod anti-affinity on topology.kubernetes.io/zone for app=b)"}},
		{name: "symmetric anti-affinity in every zone the pool offers",
			in: Input{Pods: pods(pod("b", "1", "1Gi", podLabels("app", "b"))), PodsElsewhere: []PodOnDomain{owner(zoneA), owner(zoneB)},
				NodePools: []*NodePool{defaultPool(poolReqs(nsr(zoneKey, opIn, zoneA, zoneB)))}},
			want: []string{"unschedulable b: nodepool default: anti-affinity of pods already in every topology.kubernetes.io/zone it could use"}},
		{name: "symmetric anti-affinity with a spread on the same key",
			in: Input{Pods: pods(pod("b", "1", "1Gi", podLabels("app", "b"), spread(zoneKey, 1, "app", "b"))), PodsElsewhere: []PodOnDomain{owner(zoneA)},
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-b on-demand: b"}},
		{name: "spread and anti-affinity on the same key agree on a zone",
			in: Input{Pods: pods(pod("w", "1", "1Gi", podLabels("app", "web"), spread(zoneKey, 1, "app", "web"), podAffinity(true, true, zoneKey, "app", "db"))),
				PodsElsewhere: []PodOnDomain{{Pod: pod("db", "1", "1Gi", podLabels("app", "db")), NodeLabels: map[string]string{zoneKey: zoneA}}},
				NodePools:     []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-b on-demand: w"}},
		{name: "existing node without a zone label can't serve a zone spread",
			in: Input{Pods: pods(pod("w", "1", "1Gi", podLabels("app", "web"), spread(zoneKey, 1, "app", "web"))),
				Nodes:     []*ExistingNode{existing("nozone", "", "8", "16Gi")},
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: w"}},
		{name: "existing node without a zone label is fine for zone anti-affinity",
			in: Input{Pods: pods(pod("w", "1", "1Gi", podLabels("app", "web"), podAffinity(true, true, zoneKey, "app", "web"))),
				Nodes:     []*ExistingNode{existing("nozone", "", "8", "16Gi")},
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"node nozone: w"}},
	})
}

func TestSolveDaemonSetOnPoolLabel(t *testing.T) {
	runSolveCases(t, []solveCase{
		{name: "daemonset selecting a pool label only reduces that pool",
			in: Input{Pods: pods(pod("ml", "1500m", "1Gi", nodeSelector("team", "ml")), pod("web", "1500m", "1Gi", nodeSelector("team", "web"))),
				DaemonSets: pods(pod("ml-agent", "1", "512Mi", nodeSelector("team", "ml"))),
				NodePools: []*NodePool{
					pool("ml", catalog(), poolLabels("team", "ml")),
					pool("web", catalog(), poolLabels("team", "web")),
				}},
			want: []string{"claim ml medium zone-a on-demand: ml", "claim web small zone-a on-demand: web"}},
	})
}
