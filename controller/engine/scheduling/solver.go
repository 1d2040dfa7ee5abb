package scheduling

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// MaxOptionTypes caps the instance types whose offerings a NodeClaim plan
// lists: enough for CreateFleet to fall back across pools, few enough to
// keep plans small. InstanceTypes still counts every type that fits.
const MaxOptionTypes = 60

type solver struct {
	// costAware: a pod joins a new node only when that is no dearer than a
	// node of its own; off, the solver is plain first-fit decreasing.
	costAware bool
	// byShape: pods are placed shape by shape, and new nodes are sized for
	// the pending pods of the opener's shape only.
	byShape bool

	space  *resourceSpace
	topo   *topology
	pools  []*poolInfo
	nodes  []*simNode
	open   []*simNode
	minReq vec

	reqIDs map[string]int
	tolIDs map[string]int
	// look is the demand ahead, for sizing new nodes (cost-aware solves).
	look *lookahead
	// offers numbers the zones, for offering masks.
	offers *offerIndex
	// closedSince counts nodes closed since the open list was compacted.
	closedSince int
	// preferNoScheduleTaints: some pool or node has a PreferNoSchedule
	// taint, so pods avoid them before they relax.
	preferNoScheduleTaints bool
	// volumeDrivers is Input.VolumeDrivers: the attach limits pods count
	// against.
	volumeDrivers map[string]string
	// canOpenByClass remembers canOpen per packing class key: the pools
	// do not change between a Cluster's what-ifs.
	canOpenByClass map[string]bool
	// whole memoises wholeNodeTarget's table per pool and requirements.
	whole map[lookKey]*wholeNodes

	// A Cluster's what-if solves share one solver: journal (when set)
	// records what placement changes so it can be rolled back; removed
	// counts the nodes the what-if hides, so new nodes are named as a plain
	// solve would name them.
	journal *journal
	removed int
}

// newSolver compiles the input: pods in placement order and classified,
// pools heaviest first, existing nodes seeded.
func newSolver(in Input, opts Options) (*solver, []*podInfo, error) {
	s := &solver{costAware: !opts.PlainFirstFitDecreasing, byShape: opts.ByShape, space: newResourceSpace(), topo: newTopology(), reqIDs: map[string]int{}, tolIDs: map[string]int{},
		preferNoScheduleTaints: hasPreferNoSchedule(in), volumeDrivers: in.VolumeDrivers}
	s.topo.nsLabels = in.NamespaceLabels
	requests := make([]corev1.ResourceList, len(in.Pods))
	for i, p := range in.Pods {
		requests[i] = s.requests(p)
		for n := range requests[i] {
			s.space.add(n)
		}
	}
	for _, np := range in.NodePools {
		for n := range np.Limits {
			if n != "nodes" {
				s.space.add(n)
			}
		}
	}

	pods := make([]*podInfo, 0, len(in.Pods))
	for i, p := range in.Pods {
		pi, err := newPodInfoWith(p, requests[i], s.space, in.VolumeRequirements)
		if err != nil {
			return nil, nil, fmt.Errorf("pod %s: %w", podKey(p), err)
		}
		if err := s.topo.compile(pi); err != nil {
			return nil, nil, fmt.Errorf("pod %s: %w", podKey(p), err)
		}
		pods = append(pods, pi)
	}
	var daemons []*podInfo
	for _, d := range in.DaemonSets {
		di, err := newPodInfo(d, s.space, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("daemonset pod %s: %w", podKey(d), err)
		}
		daemons = append(daemons, di)
	}
	sortedPools := append([]*NodePool(nil), in.NodePools...)
	sort.SliceStable(sortedPools, func(i, j int) bool {
		if sortedPools[i].Weight != sortedPools[j].Weight {
			return sortedPools[i].Weight > sortedPools[j].Weight
		}
		return sortedPools[i].Name < sortedPools[j].Name
	})
	for _, np := range sortedPools {
		p, err := newPoolInfo(np, s.space, daemons)
		if err != nil {
			return nil, nil, err
		}
		s.pools = append(s.pools, p)
	}

	s.offers = newOfferIndex(s.pools)
	s.seedExisting(in)
	for _, pi := range pods {
		s.topo.link(pi)
		s.internTolerations(pi)
	}
	s.order(pods)
	s.classify(pods)
	return s, pods, nil
}

// order notes the smallest request of each resource (what any node must
// have left to be worth trying) and sorts the pods largest first (by shape
// first, the least memory per CPU first, when packing by shape); ties by
// name keep the plan deterministic.
func (s *solver) order(pods []*podInfo) {
	s.minReq = make(vec, len(s.space.names))
	for i := range s.minReq {
		s.minReq[i] = -1
	}
	for _, pi := range pods {
		for i, x := range pi.req {
			if s.minReq[i] < 0 || x < s.minReq[i] {
				s.minReq[i] = x
			}
		}
	}
	for i := range s.minReq {
		s.minReq[i] = max(s.minReq[i], 0)
	}
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i].req, pods[j].req
		if s.byShape {
			if sa, sb := shapeOf(a), shapeOf(b); sa != sb {
				return sa < sb
			}
		}
		if a[resCPU] != b[resCPU] {
			return a[resCPU] > b[resCPU]
		}
		if a[resMemory] != b[resMemory] {
			return a[resMemory] > b[resMemory]
		}
		return pods[i].key < pods[j].key
	})
}

// seedExisting turns existing nodes into candidates and counts their pods
// (and pods elsewhere) toward topology.
func (s *solver) seedExisting(in Input) {
	zones := sets.New[string]()
	for _, p := range s.pools {
		for _, o := range p.options {
			for _, off := range o.offerings {
				zones.Insert(off.Zone)
			}
		}
	}
	for _, en := range in.Nodes {
		n := &simNode{name: en.Name, existing: en, labels: nodeLabels(en.Labels), taints: en.Taints,
			cap: s.space.capacity(en.Allocatable), used: make(vec, len(s.space.names)),
			compatible: map[int]bool{}, tolerated: map[int]bool{}}
		if z := en.Labels[corev1.LabelTopologyZone]; z != "" {
			zones.Insert(z)
		}
		for _, p := range en.Pods {
			pi, err := newPodInfoWith(p, s.requests(p), s.space, in.VolumeRequirements)
			if err != nil {
				continue
			}
			_ = s.topo.compile(pi)
			n.used.addInPlace(pi.req)
			n.ports = append(n.ports, pi.hostPorts...)
			n.pods = append(n.pods, pi)
		}
		s.nodes = append(s.nodes, n)
		s.open = append(s.open, n)
	}
	// Existing pods are linked after every group is known.
	for _, n := range s.nodes {
		for _, pi := range n.pods {
			s.topo.link(pi)
			s.topo.record(pi, n, n.domain)
		}
		n.pods = nil // the plan lists only new placements
	}
	for _, pe := range in.PodsElsewhere {
		pi, err := newPodInfo(pe.Pod, s.space, nil)
		if err != nil {
			continue
		}
		_ = s.topo.compile(pi)
		s.topo.link(pi)
		labels := pe.NodeLabels
		s.topo.record(pi, nil, func(key string) string { return labels[key] })
	}
	for _, g := range s.topo.list {
		if g.key == corev1.LabelTopologyZone {
			g.domains = g.domains.Union(zones)
		}
	}
	s.topo.addNodes(s.nodes)
	s.topo.discoverDomains(s.pools)
}

// canOpen reports whether some pool could launch a node for pi, its
// limits aside.
func (s *solver) canOpen(pi *podInfo) bool {
	s.internReqs(pi)
	zero := make(vec, len(s.space.names))
	for _, p := range s.pools {
		if !p.tolerates(pi) {
			continue
		}
		if c := p.compatibleOptions(pi); c.reason == "" && len(fittingOptions(pi, c.options, zero)) > 0 {
			return true
		}
	}
	return false
}

// fittingOptions are the options an empty node of which takes pi (zero is
// its empty usage).
func fittingOptions(pi *podInfo, options []*optionInfo, zero vec) []*optionInfo {
	fitting := make([]*optionInfo, 0, len(options))
	for _, o := range options {
		if fitsWith(zero, pi.req, o.alloc) && o.portsFree(pi) {
			fitting = append(fitting, o)
		}
	}
	return fitting
}

// openNode opens a NodeClaim for pi in the first pool that can host it; it
// returns nil on success, else each pool's reason.
func (s *solver) openNode(pi *podInfo) []string {
	if len(s.pools) == 0 {
		return []string{"no NodePool can launch nodes"}
	}
	var reasons []string
	s.internReqs(pi)
	for _, p := range s.pools {
		if !p.tolerates(pi) {
			reasons = append(reasons, fmt.Sprintf("incompatible with nodepool %s: taint %s not tolerated", p.np.Name, taintString(p.tolerated[pi.tolID])))
			continue
		}
		c := p.compatibleOptions(pi)
		if c.reason != "" {
			reasons = append(reasons, c.reason)
			continue
		}
		zero := make(vec, len(s.space.names))
		fitting := fittingOptions(pi, c.options, zero)
		if len(fitting) == 0 {
			reasons = append(reasons, s.noInstanceTypeReason(p, pi, c.options))
			continue
		}
		n := &simNode{name: fmt.Sprintf("nodeclaim-%d", len(s.nodes)-s.removed), pool: p, reqs: c.merged, taints: p.np.Taints,
			used: zero, options: fitting, cap: maxAlloc(fitting, len(zero)),
			compatible: map[int]bool{pi.reqsID: true}, tolerated: map[int]bool{pi.tolID: true}}
		if p.hasLimits {
			if reason := p.limitDelta(nil, fitting, true); reason != "" {
				reasons = append(reasons, reason)
				continue
			}
			// Count the node before admit: admit prices moving it from its
			// cheapest option to the one the pod leaves (a pinned zone may
			// rule the cheapest out), and that must be checked against a
			// total that includes the node.
			p.committed = p.committed.add(fitting[0].capacity)
			p.nodes++
		}
		pl := s.admit(n, pi)
		if pl == nil {
			reasons = append(reasons, fmt.Sprintf("nodepool %s: %s", p.np.Name, s.explain(n, pi)))
			if p.hasLimits {
				p.committed = p.committed.sub(fitting[0].capacity)
				p.nodes--
			}
			continue
		}
		if s.costAware {
			if n.target = s.chooseTarget(p, pl, pi, s.demand(p, pi)); n.target != nil {
				pl.cap = n.target.alloc
			}
		}
		s.nodes = append(s.nodes, n)
		s.open = append(s.open, n)
		s.commit(n, pi, pl)
		return nil
	}
	return reasons
}

// noInstanceTypeReason says which requests and requirements no type meets,
// e.g. "no instance type satisfies nvidia.com/gpu=2 and arch In [arm64] in
// nodepool default", or that the pool has no type to offer any pod.
func (s *solver) noInstanceTypeReason(p *poolInfo, pi *podInfo, compatible []*optionInfo) string {
	if len(p.options) == 0 {
		if len(p.np.InstanceTypes) == 0 {
			return fmt.Sprintf("nodepool %s has no instance types to launch (is its node class ready?)", p.np.Name)
		}
		own := p.reqs.Clone()
		delete(own, v1.NodePoolLabelKey)
		delete(own, v1.KarpenterNodePoolLabelKey)
		return fmt.Sprintf("nodepool %s has no instance type to launch: none of its %d instance types meets its requirements (%s) with an available offering and room for its daemonsets",
			p.np.Name, len(p.np.InstanceTypes), requirementSummary(own))
	}
	zero := make(vec, len(s.space.names))
	for _, o := range compatible {
		if fitsWith(zero, pi.req, o.alloc) && !o.portsFree(pi) {
			return fmt.Sprintf("nodepool %s: the pod's host ports are taken by daemonsets on every instance type that fits it", p.np.Name)
		}
	}
	var what []string
	if r := s.space.describe(pi.req); r != "" {
		what = append(what, r)
	}
	if r := requirementSummary(pi.reqs); r != "" {
		what = append(what, r)
	}
	if len(what) == 0 {
		what = append(what, "one pod slot")
	}
	return fmt.Sprintf("no instance type satisfies %s in nodepool %s", strings.Join(what, " and "), p.np.Name)
}

func (s *solver) internReqs(pi *podInfo) {
	if pi.reqsID >= 0 {
		return
	}
	key := pi.reqs.String()
	id, ok := s.reqIDs[key]
	if !ok {
		id = len(s.reqIDs)
		s.reqIDs[key] = id
	}
	pi.reqsID = id
}

// explain says why pi can't join a fresh node; it repeats admit's checks
// with reasons, off the hot path.
func (s *solver) explain(n *simNode, pi *podInfo) string {
	pl := placement{reqs: n.reqs.Merge(pi.reqs)}
	if reason := s.admitTopology(n, pi, &pl); reason != "" {
		return reason
	}
	if _, reason := s.narrowOptions(n, pi, pl); reason != "" {
		return reason
	}
	return "does not fit"
}

// internTolerations numbers the pod's tolerations, so that taint checks are
// cached per distinct set, and prepares the set it relaxes to when some
// taint of the input is PreferNoSchedule and the pod does not already
// tolerate them all.
func (s *solver) internTolerations(pi *podInfo) {
	pi.tolID = s.tolerationID(pi.tolerations)
	pi.preferNoSchedule = nil
	if !s.preferNoScheduleTaints || slices.ContainsFunc(pi.tolerations, func(t corev1.Toleration) bool {
		return t.Key == "" && t.Operator == corev1.TolerationOpExists && (t.Effect == "" || t.Effect == corev1.TaintEffectPreferNoSchedule)
	}) {
		return
	}
	relaxed := append(slices.Clip(pi.tolerations), tolerateAllPreferNoSchedule)
	pi.preferNoSchedule = &relaxedTolerations{tolerations: relaxed, tolID: s.tolerationID(relaxed)}
}

func (s *solver) tolerationID(tolerations []corev1.Toleration) int {
	var b strings.Builder
	for _, t := range tolerations {
		fmt.Fprintf(&b, "%s|%s|%s|%s;", t.Key, t.Operator, t.Value, t.Effect)
	}
	key := b.String()
	id, ok := s.tolIDs[key]
	if !ok {
		id = len(s.tolIDs)
		s.tolIDs[key] = id
	}
	return id
}

// hasPreferNoSchedule reports whether a pool or node of the input has a
// PreferNoSchedule taint, which pods avoid until they relax.
func hasPreferNoSchedule(in Input) bool {
	isPNS := func(t corev1.Taint) bool { return t.Effect == corev1.TaintEffectPreferNoSchedule }
	for _, np := range in.NodePools {
		if slices.ContainsFunc(np.Taints, isPNS) {
			return true
		}
	}
	for _, n := range in.Nodes {
		if slices.ContainsFunc(n.Taints, isPNS) {
			return true
		}
	}
	return false
}
