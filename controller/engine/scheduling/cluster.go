package scheduling

import (
	"fmt"
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// Cluster is a solve input prepared once so that many what-if solves share
// the preparation: "if these nodes went away, where would their pods go?"
// Consolidation asks that question thousands of times per pass.
//
// NewCluster compiles pools, instance types, topology groups and every
// existing node with its pods into one solver. A what-if hides the removed
// nodes, takes their pods' counts out of topology, places the pods, and
// then rolls every change back from a journal, so its cost follows the pods
// it moves rather than the size of the cluster. A Cluster is not safe for
// concurrent use. NodePools' InUse is taken as given: a what-if does not
// credit the removed nodes back toward limits (nor does a plain solve).
type Cluster struct {
	in     Input
	s      *solver
	nodes  []*clusterNode
	byName map[string]int
	open   []*simNode // s.open as prepared, restored for each what-if

	// zoneRefs counts, per zone, the pools offering it and the existing
	// nodes labelled with it: zone-keyed groups know the zone as a domain
	// while either holds.
	zoneRefs map[string]int
	// definers counts the compiled pods (existing and elsewhere) whose terms
	// made each group; a group only non-reschedulable pods of removed nodes
	// made would not exist in a plain solve of the what-if.
	definers map[*topoGroup]int
	// defs lists each group's definitions in compile order, to rank groups
	// as a plain solve would list them.
	defs map[*topoGroup][]groupDef

	// alwaysActive: dimensions every plain solve has (cpu, memory, pods,
	// NodePool limits). fragile: other dimensions daemonsets request; a
	// what-if whose pods don't request them all is solved plainly, since
	// those requests could change which instance types are usable (and
	// would show in plan requests). Other inactive dimensions are zero in
	// every request and overhead, so they only matter on overcommitted nodes.
	alwaysActive []bool
	fragile      []int
	// overcommit lists existing nodes whose pods use more of a resource
	// than the node has.
	overcommit []capSave

	j journal
}

type clusterNode struct {
	sim     *simNode
	pods    []*clusterPod
	zone    string
	removed bool
}

type clusterPod struct {
	pod *corev1.Pod
	// proto is the pod compiled against the cluster (nil when it could not
	// be); what-ifs clone it.
	proto *podInfo
	// err is what a plain solve would report with the pod pending.
	err     error
	resched bool
	// recorded are the groups the pod was counted in as it ran; a plain
	// solve links existing pods before it compiles pods elsewhere, while
	// pending pods (proto.counts) see every group.
	recorded []*topoGroup
	// dims are the resource dimensions the pod names in its requests.
	dims []int
}

type groupDef struct {
	seq  int
	node int // -1: a pod elsewhere
}

// NewCluster prepares in. in.Pods are ignored: the pods a what-if
// reschedules are those of the nodes it removes. Errors a plain solve would
// report for any what-if (a NodePool's requirements, a daemonset pod) are
// reported here; a pod that can't be compiled fails the what-ifs that
// reschedule it.
func NewCluster(in Input) (*Cluster, error) {
	c := &Cluster{in: in, byName: make(map[string]int, len(in.Nodes)),
		zoneRefs: map[string]int{}, definers: map[*topoGroup]int{}, defs: map[*topoGroup][]groupDef{}}
	for i, n := range in.Nodes {
		if _, dup := c.byName[n.Name]; dup {
			return nil, fmt.Errorf("node %s is listed twice", n.Name)
		}
		c.byName[n.Name] = i
	}
	s := &solver{costAware: true, space: newResourceSpace(), topo: newTopology(), reqIDs: map[string]int{}, tolIDs: map[string]int{},
		preferNoScheduleTaints: hasPreferNoSchedule(in), volumeDrivers: in.VolumeDrivers}
	s.topo.nsLabels = in.NamespaceLabels
	c.s = s
	// Any pod may become pending, so vectors span every resource any pod
	// requests.
	podDims := make(map[*corev1.Pod]corev1.ResourceList)
	for _, n := range in.Nodes {
		for _, p := range n.Pods {
			reqs := s.requests(p)
			podDims[p] = reqs
			for r := range reqs {
				s.space.add(r)
			}
		}
	}
	for _, np := range in.NodePools {
		for r := range np.Limits {
			if r != "nodes" {
				s.space.add(r)
			}
		}
	}
	c.alwaysActive = make([]bool, len(s.space.names))
	c.alwaysActive[resCPU], c.alwaysActive[resMemory], c.alwaysActive[resPods] = true, true, true
	for _, np := range in.NodePools {
		for r := range np.Limits {
			if i, ok := s.space.index[r]; ok {
				c.alwaysActive[i] = true
			}
		}
	}

	var daemons []*podInfo
	fragile := map[int]bool{}
	for _, d := range in.DaemonSets {
		di, err := newPodInfo(d, s.space, nil)
		if err != nil {
			return nil, fmt.Errorf("daemonset pod %s: %w", podKey(d), err)
		}
		daemons = append(daemons, di)
		for r := range podRequests(d) {
			if i, ok := s.space.index[r]; ok && !c.alwaysActive[i] {
				fragile[i] = true
			}
		}
	}
	for i := range fragile {
		c.fragile = append(c.fragile, i)
	}
	sort.Ints(c.fragile)
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
			return nil, err
		}
		s.pools = append(s.pools, p)
	}
	s.offers = newOfferIndex(s.pools)
	c.seed(podDims)
	s.journal = &c.j
	s.topo.journal = &c.j
	return c, nil
}

// seed mirrors solver.seedExisting, keeping what a what-if needs to take a
// node back out: each pod's compiled form, which groups it defined, and
// how many sources keep each zone known.
func (c *Cluster) seed(podDims map[*corev1.Pod]corev1.ResourceList) {
	s, in := c.s, c.in
	for _, p := range s.pools {
		for _, o := range p.options {
			for _, off := range o.offerings {
				c.zoneRefs[off.Zone] = 1
			}
		}
	}
	seq := 0
	define := func(pi *podInfo, node int) {
		for _, con := range pi.constraints {
			c.definers[con.group]++
			c.defs[con.group] = append(c.defs[con.group], groupDef{seq: seq, node: node})
			seq++
		}
	}
	for i, en := range in.Nodes {
		n := &simNode{name: en.Name, existing: en, labels: nodeLabels(en.Labels), taints: en.Taints,
			cap: s.space.capacity(en.Allocatable), used: make(vec, len(s.space.names)),
			compatible: map[int]bool{}, tolerated: map[int]bool{}}
		cn := &clusterNode{sim: n, zone: en.Labels[corev1.LabelTopologyZone]}
		if cn.zone != "" {
			c.zoneRefs[cn.zone]++
		}
		for _, p := range en.Pods {
			cp := &clusterPod{pod: p, resched: Reschedulable(p)}
			for r := range podDims[p] {
				cp.dims = append(cp.dims, s.space.index[r])
			}
			cn.pods = append(cn.pods, cp)
			pi, err := newPodInfoWith(p, podDims[p], s.space, in.VolumeRequirements)
			if err != nil {
				cp.err = fmt.Errorf("pod %s: %w", podKey(p), err)
				continue
			}
			if err := s.topo.compile(pi); err != nil {
				cp.err = fmt.Errorf("pod %s: %w", podKey(p), err)
			}
			define(pi, i)
			cp.proto = pi
			n.used.addInPlace(pi.req)
			n.ports = append(n.ports, pi.hostPorts...)
		}
		for d, u := range n.used {
			if u > n.cap[d] {
				c.overcommit = append(c.overcommit, capSave{n: n, dim: d, was: n.cap[d]})
			}
		}
		c.nodes = append(c.nodes, cn)
		s.nodes = append(s.nodes, n)
		s.open = append(s.open, n)
	}
	links := newLinkCache(s.topo)
	for _, cn := range c.nodes {
		for _, cp := range cn.pods {
			if cp.proto == nil {
				continue
			}
			links.link(cp.proto)
			s.topo.record(cp.proto, cn.sim, cn.sim.domain)
			cp.recorded = append([]*topoGroup(nil), cp.proto.counts...)
			s.internTolerations(cp.proto)
			s.internReqs(cp.proto)
		}
	}
	for _, pe := range in.PodsElsewhere {
		pi, err := newPodInfo(pe.Pod, s.space, nil)
		if err != nil {
			continue
		}
		_ = s.topo.compile(pi)
		define(pi, -1)
		s.topo.link(pi)
		labels := pe.NodeLabels
		s.topo.record(pi, nil, func(key string) string { return labels[key] })
	}
	if len(in.PodsElsewhere) > 0 {
		links := newLinkCache(s.topo)
		for _, cn := range c.nodes {
			for _, cp := range cn.pods {
				if cp.proto != nil {
					links.link(cp.proto)
				}
			}
		}
	}
	for _, g := range s.topo.list {
		if g.key == corev1.LabelTopologyZone {
			for z := range c.zoneRefs {
				g.domains.Insert(z)
			}
		}
	}
	s.topo.addNodes(s.nodes)
	s.topo.discoverDomains(s.pools)
	c.open = append([]*simNode(nil), s.open...)
}

// Without simulates removing the named nodes: their reschedulable pods
// (not daemonset-owned, not terminal) are placed onto the remaining nodes
// and, where those are full, onto new NodeClaims. The result equals Solve
// of the input without those nodes and with their pods pending. A name
// listed twice counts once.
func (c *Cluster) Without(names []string, opts Options) (*Result, error) {
	idx := make([]int, 0, len(names))
	for _, name := range names {
		i, ok := c.byName[name]
		if !ok {
			for _, j := range idx {
				c.nodes[j].removed = false
				c.nodes[j].sim.gone = false
			}
			return nil, fmt.Errorf("node %s is not in the cluster", name)
		}
		if c.nodes[i].removed {
			continue
		}
		c.nodes[i].removed = true
		c.nodes[i].sim.gone = true
		idx = append(idx, i)
	}
	defer func() {
		for _, i := range idx {
			c.nodes[i].removed = false
			c.nodes[i].sim.gone = false
		}
	}()

	var pending []*clusterPod
	active := append([]bool(nil), c.alwaysActive...)
	for _, i := range idx {
		for _, cp := range c.nodes[i].pods {
			if !cp.resched {
				continue
			}
			if cp.err != nil {
				return nil, cp.err
			}
			pending = append(pending, cp)
			for _, d := range cp.dims {
				active[d] = true
			}
		}
	}
	for _, d := range c.fragile {
		if !active[d] {
			return c.plainWithout(idx, opts)
		}
	}

	s := c.s
	defer c.j.rollback(c)
	defer func() {
		s.nodes = s.nodes[:len(c.nodes)]
		s.removed = 0
		s.costAware = true
	}()
	for _, p := range s.pools {
		c.j.pools = append(c.j.pools, poolSave{p: p, committed: p.committed, nodes: p.nodes})
	}
	s.costAware = !opts.PlainFirstFitDecreasing
	s.removed = len(idx)
	s.closedSince = 0
	// A plain solve has no inactive dimension, so a node overcommitted only
	// there is no fuller for it.
	for _, oc := range c.overcommit {
		if !active[oc.dim] && oc.n.cap[oc.dim] < oc.n.used[oc.dim] {
			c.j.caps = append(c.j.caps, capSave{n: oc.n, dim: oc.dim, was: oc.n.cap[oc.dim]})
			oc.n.cap[oc.dim] = oc.n.used[oc.dim]
		}
	}
	for _, i := range idx {
		c.takeOut(c.nodes[i])
	}

	pods := make([]*podInfo, len(pending))
	var rank map[*topoGroup]int
	for k, cp := range pending {
		pi := cp.proto.clone()
		for _, g := range cp.proto.counts {
			if c.definers[g] > 0 {
				pi.counts = append(pi.counts, g)
			}
		}
		if len(pi.counts) > 1 {
			if rank == nil {
				rank = c.rank(pending)
			}
			sort.Slice(pi.counts, func(a, b int) bool { return rank[pi.counts[a]] < rank[pi.counts[b]] })
		}
		pods[k] = pi
	}

	s.order(pods)
	s.classify(pods)

	s.open = append(s.open[:0], c.open...)
	res := &Result{}
	s.placeAll(pods, res)
	s.finish(res)
	return res, nil
}

// linkCache is topology.link for many pods sharing label sets (the
// replicas of one workload): a pod's groups depend only on its namespace
// and labels, so each distinct set is matched against every group once.
type linkCache struct {
	t    *topology
	seen map[string][]*topoGroup
	key  []byte
}

func newLinkCache(t *topology) *linkCache {
	return &linkCache{t: t, seen: map[string][]*topoGroup{}}
}

func (lc *linkCache) link(pi *podInfo) {
	p := pi.pod
	keys := make([]string, 0, len(p.Labels))
	for k := range p.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lc.key = append(lc.key[:0], p.Namespace...)
	for _, k := range keys {
		lc.key = append(lc.key, 0)
		lc.key = append(lc.key, k...)
		lc.key = append(lc.key, 0)
		lc.key = append(lc.key, p.Labels[k]...)
	}
	groups, ok := lc.seen[string(lc.key)]
	if !ok {
		lc.t.link(pi)
		lc.seen[string(lc.key)] = append([]*topoGroup(nil), pi.counts...)
		return
	}
	pi.counts = append(pi.counts[:0], groups...)
	for _, con := range pi.constraints {
		con.self = 0
		if slices.Contains(pi.counts, con.group) {
			con.self = 1
		}
	}
}

// clone copies what placing a pod changes, sharing what it only reads.
func (pi *podInfo) clone() *podInfo {
	out := *pi
	out.class = nil
	out.counts = nil
	if len(pi.constraints) > 0 {
		out.constraints = make([]*constraint, len(pi.constraints))
		for i, con := range pi.constraints {
			cc := *con
			out.constraints[i] = &cc
		}
		if len(pi.soft) > 0 {
			out.soft = make([]*constraint, len(pi.soft))
			for i, sc := range pi.soft {
				for k, con := range pi.constraints {
					if con == sc {
						out.soft[i] = out.constraints[k]
					}
				}
			}
		}
	}
	return &out
}

// plainWithout is the reference: a full solve of the input without the
// nodes. It serves what-ifs the prepared solver can't reproduce exactly.
func (c *Cluster) plainWithout(idx []int, opts Options) (*Result, error) {
	in := c.in
	in.Pods = nil
	removed := make(map[int]bool, len(idx))
	for _, i := range idx {
		removed[i] = true
		for _, p := range c.in.Nodes[i].Pods {
			if Reschedulable(p) {
				in.Pods = append(in.Pods, p)
			}
		}
	}
	in.Nodes = make([]*ExistingNode, 0, len(c.in.Nodes))
	for i, n := range c.in.Nodes {
		if !removed[i] {
			in.Nodes = append(in.Nodes, n)
		}
	}
	return SolveWith(in, opts)
}

// Reschedulable reports whether a pod on a removed node must find a new
// home: daemonset pods die with their node and terminal pods need none.
func Reschedulable(p *corev1.Pod) bool {
	if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return false
	}
	for _, o := range p.OwnerReferences {
		if o.Kind == "DaemonSet" && o.Controller != nil && *o.Controller {
			return false
		}
	}
	return true
}
