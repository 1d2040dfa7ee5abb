package scheduling

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Packing for economies of scale. A NodeClaim is sized when it opens: it
// aims at the instance type that would host the pending pods it could take
// at the least true cost per unit of their demand, and later pods join it
// while they fit that type. Sizing for the demand ahead, not for the pod
// that opens the node, is what lets one c7g.4xlarge replace ten .large
// nodes: a join never has to pay for a step up in size on its own. At the
// end each claim still launches the cheapest type that fits what it got, so
// a claim sized for demand that went elsewhere shrinks back.
//
// The demand ahead is counted per podClass (pods alike in requests,
// requirements, tolerations and constraints): the classes a new node could
// host, less what their anti-affinity or spread keeps off one node.

// podClass is a set of pods alike for packing.
type podClass struct {
	rep  *podInfo
	req  vec
	left int // pods of the class not yet placed
	// perNode caps the class's pods on one node (hostname anti-affinity or
	// spread); 0: no cap.
	perNode int
	// zones, when the class spreads over zones: one node, being in one
	// zone, sees about left/zones of it.
	zones int
	// together: required hostname affinity to its own pods, so one node
	// must take them all.
	together bool
	// memo: a node that refuses one pod of the class refuses every later
	// one (no preference to relax, no spread or affinity that other
	// placements could satisfy), so skip counts the open nodes, from the
	// front, known to refuse the class.
	memo bool
	skip int
	// key is what makes pods one class; it outlives the class in
	// solver.canOpenByClass across a Cluster's what-ifs.
	key string
}

// share is how many of the class's pending pods one new node could take.
func (c *podClass) share() int {
	k := c.left
	if c.perNode > 0 {
		k = min(k, c.perNode)
	}
	if c.zones > 1 {
		k = min(k, (c.left+c.zones-1)/c.zones)
	}
	return k
}

type lookKey struct {
	pool   *poolInfo
	reqsID int
}

// lookahead holds a solve's pod classes, and per (pool, requirements of
// the pod opening a node) the classes such a node could host.
type lookahead struct {
	classes []*podClass
	compat  map[lookKey][]*podClass
	// extended marks resources beyond cpu, memory, pods and ephemeral
	// storage: demand for them (GPUs) only sizes nodes opened for it.
	extended []bool
	// spare is the room left on open nodes (existing ones, and new ones up
	// to the size they aim at): demand it can absorb needs no new node.
	// nil until the first node opens.
	spare vec
}

// classify groups the pods to place into classes; it runs after order, so
// every pod's tolerations are interned.
func (s *solver) classify(pods []*podInfo) {
	s.look = &lookahead{compat: map[lookKey][]*podClass{}, extended: make([]bool, len(s.space.names))}
	for i, n := range s.space.names {
		s.look.extended[i] = i > resPods && n != corev1.ResourceEphemeralStorage
	}
	byKey := map[string]*podClass{}
	var b strings.Builder
	for _, pi := range pods {
		s.internReqs(pi)
		b.Reset()
		b.WriteString(strconv.Itoa(pi.reqsID))
		b.WriteByte('|')
		b.WriteString(strconv.Itoa(pi.tolID))
		for _, x := range pi.req {
			b.WriteByte('|')
			b.WriteString(strconv.FormatInt(x, 10))
		}
		// What binds the pod, what it counts toward (its labels, for
		// others' constraints) and its host ports decide where it may go.
		for _, c := range pi.constraints {
			b.WriteString("|c")
			b.WriteString(strconv.Itoa(c.group.id))
		}
		for _, g := range pi.counts {
			b.WriteString("|g")
			b.WriteString(strconv.Itoa(g.id))
		}
		for _, hp := range pi.hostPorts {
			fmt.Fprintf(&b, "|p%s/%s/%d", hp.protocol, hp.ip, hp.port)
		}
		key := b.String()
		c, ok := byKey[key]
		if !ok {
			c = &podClass{rep: pi, req: pi.req, key: key}
			for _, con := range pi.constraints {
				if con.soft || con.self == 0 {
					continue
				}
				switch {
				case con.group.key == corev1.LabelHostname && con.group.kind == kindAntiAffinity:
					c.perNode = 1
				case con.group.key == corev1.LabelHostname && con.group.kind == kindSpread:
					c.perNode = con.maxSkew
				case con.group.key == corev1.LabelTopologyZone && con.group.kind == kindSpread:
					c.zones = max(1, con.group.domains.Len())
				case con.group.key == corev1.LabelHostname && con.group.kind == kindAffinity:
					c.together = true
				}
			}
			c.memo = len(pi.preferred) == 0 && len(pi.soft) == 0 && len(pi.terms) <= 1
			for _, con := range pi.constraints {
				c.memo = c.memo && con.group.kind == kindAntiAffinity
			}
			byKey[key] = c
			s.look.classes = append(s.look.classes, c)
		}
		c.left++
		pi.class = c
	}
}

// placed takes a pod out of the demand ahead, placed or not.
func (s *solver) placed(pi *podInfo) {
	if pi.class != nil && pi.class.left > 0 {
		pi.class.left--
	}
}

// demand sums the pending pods a node of pool p, opened for pi, could
// take: the classes compatible with the pool and pi's requirements, each up
// to its share. pi's own class includes pi.
func (s *solver) demand(p *poolInfo, pi *podInfo) vec {
	key := lookKey{pool: p, reqsID: pi.reqsID}
	list, ok := s.look.compat[key]
	if !ok {
		merged := p.compatibleOptions(pi).merged
		ext := s.needsExtended(pi.req)
		for _, c := range s.look.classes {
			if s.needsOtherResource(c.req, pi.req) || !p.tolerates(c.rep) {
				continue
			}
			// A node opened for a GPU is sized by the GPU demand alone: pods
			// without one may fill its gaps, but are not worth a bigger GPU
			// type.
			if ext && !s.needsExtended(c.req) {
				continue
			}
			if s.byShape && shapeOf(c.req) != shapeOf(pi.req) {
				continue
			}
			s.internReqs(c.rep)
			if p.compatibleOptions(c.rep).reason != "" || merged.Conflict(c.rep.reqs) != "" {
				continue
			}
			list = append(list, c)
		}
		s.look.compat[key] = list
	}
	others := make(vec, len(pi.req))
	for _, c := range list {
		k := int64(c.share())
		if k == 0 || c == pi.class {
			continue
		}
		for r, x := range c.req {
			others[r] += k * x
		}
	}
	// Pods of the opener's class fit no open node, as it did not; the rest
	// of the demand goes first to the room open nodes have left.
	spare := s.openSpare()
	own := int64(1)
	if pi.class != nil {
		own = int64(max(1, pi.class.share()))
	}
	d := make(vec, len(pi.req))
	for r, x := range pi.req {
		d[r] = own*x + max(0, others[r]-spare[r])
	}
	return d
}

// openSpare is the room open nodes have left, worked out on first use.
func (s *solver) openSpare() vec {
	if s.look.spare == nil {
		s.look.spare = make(vec, len(s.space.names))
		for _, n := range s.open {
			s.look.spare.addInPlace(s.spareOf(n))
		}
	}
	return s.look.spare
}

// spareOf is the room a node offers the demand ahead: none once closed,
// and none on a node not sized for any.
func (s *solver) spareOf(n *simNode) vec {
	out := make(vec, len(s.space.names))
	if n.closed || (n.existing == nil && n.target == nil) {
		return out
	}
	for r := range out {
		out[r] = max(0, n.cap[r]-n.used[r])
	}
	return out
}

func (s *solver) needsExtended(req vec) bool {
	for r, x := range req {
		if x > 0 && s.look.extended[r] {
			return true
		}
	}
	return false
}

func (s *solver) needsOtherResource(req, opener vec) bool {
	for r, x := range req {
		if x > 0 && opener[r] == 0 && s.look.extended[r] {
			return true
		}
	}
	return false
}

// chooseTarget picks, among the options a new node keeps after its first
// pod (all fit it; cheapest first), the one with the least true cost per
// unit of the demand d it can host; nil when none can host what must share
// the node (a hostname-affinity class). What an option hosts is counted in
// whole pods for the opener's class, which is the largest pending, and as
// a fluid share of what is left for the rest, which is smaller and fills
// gaps. Ties go to the larger share: fewer nodes for the same money.
func (s *solver) chooseTarget(p *poolInfo, pl *placement, pi *podInfo, d vec) *optionInfo {
	if c := pi.class; c != nil && len(s.look.classes) == 1 && c.perNode == 0 && c.zones <= 1 && !c.together && !p.hasLimits {
		return s.wholeNodeTarget(p, pl, pi, c.left)
	}
	n0 := 1
	if c := pi.class; c != nil {
		n0 = max(1, c.share())
	}
	rest := make(vec, len(d))
	for r, x := range d {
		rest[r] = max(0, x-int64(n0)*pi.req[r])
	}
	var best *optionInfo
	bestRate, bestShare := math.Inf(1), 0.0
	for _, o := range pl.options {
		price, ok := priceIn(o, pl.reqs)
		if !ok {
			continue
		}
		if price+p.nodeCost >= bestRate*(1+1e-9) {
			// Options are in order of their cheapest offering, and a rate is
			// at least the option's fixed cost: none further can win.
			if o.minPrice+p.nodeCost >= bestRate*(1+1e-9) {
				break
			}
			continue
		}
		k := podsPerNode(o, pi.req, n0)
		if pi.class != nil && pi.class.together && k < n0 {
			continue
		}
		fill := 1.0
		for r, x := range rest {
			if x > 0 && o.alloc[r] > 0 {
				fill = min(fill, float64(o.alloc[r]-int64(k)*pi.req[r])/float64(x))
			}
		}
		fill = max(fill, 0)
		share := 1.0
		for r, x := range d {
			if x > 0 && o.alloc[r] > 0 {
				share = min(share, (float64(int64(k)*pi.req[r])+fill*float64(rest[r]))/float64(x))
			}
		}
		cpu := int64(k)*pi.req[resCPU] + int64(fill*float64(rest[resCPU]))
		rate := (price + p.nodeCost + o.it.Burst.Surplus(cpu+o.daemonCPU)) / share
		if rate < bestRate*(1-1e-9) || (rate <= bestRate*(1+1e-9) && share > bestShare) {
			best, bestRate, bestShare = o, rate, share
		}
	}
	return best
}

// wholeNodes is, for pods that are all alike, what each option costs with
// as many of them as fit it, and least[m]: the cheapest mix of whole nodes
// for m of them.
type wholeNodes struct {
	fits  []wholeFit
	least []float64
}

type wholeFit struct {
	o    *optionInfo
	k    int // pods per node
	cost float64
}

// wholeNodeTarget sizes a node when every pending pod is alike and free to
// share nodes (one Deployment scaled up, the commonest batch): it picks the
// option that starts the cheapest mix of whole nodes for all n pods, a
// covering knapsack solved exactly over the pod count. Sizing by the
// cheapest rate per pod instead filled three c6g.xlarge with nine of ten
// pods and paid a fourth node for the tenth, where one 2xlarge and one
// xlarge cost 8% less. Ties go to the option holding more pods.
func (s *solver) wholeNodeTarget(p *poolInfo, pl *placement, pi *podInfo, n int) *optionInfo {
	key := lookKey{pool: p, reqsID: pi.reqsID}
	w := s.whole[key]
	if w == nil || len(w.least) <= n {
		w = &wholeNodes{}
		for _, o := range pl.options {
			price, ok := priceIn(o, pl.reqs)
			if !ok {
				continue
			}
			if k := podsPerNode(o, pi.req, n); k >= 1 {
				w.fits = append(w.fits, wholeFit{o: o, k: k, cost: price + p.nodeCost + o.it.Burst.Surplus(int64(k)*pi.req[resCPU]+o.daemonCPU)})
			}
		}
		w.least = coverCosts(n, w.fits)
		if s.whole == nil {
			s.whole = map[lookKey]*wholeNodes{}
		}
		s.whole[key] = w
	}
	var best *optionInfo
	bestTotal, bestK := math.Inf(1), 0
	for _, f := range w.fits {
		total := f.cost + w.least[max(0, n-f.k)]
		if total < bestTotal*(1-1e-9) || (total <= bestTotal*(1+1e-9) && f.k > bestK) {
			best, bestTotal, bestK = f.o, total, f.k
		}
	}
	return best
}

// podsPerNode is how many pods requesting req an empty node of o holds, at
// most most.
func podsPerNode(o *optionInfo, req vec, most int) int {
	k := most
	for r, x := range req {
		if x > 0 {
			k = min(k, int(o.alloc[r]/x))
		}
	}
	return k
}

// coverCosts is least[m] for m up to n: the cheapest mix of whole nodes,
// each of a kind holding k alike pods at its cost, that hosts m of them (a
// covering knapsack, solved over the pod count); +Inf when none can.
func coverCosts(n int, fits []wholeFit) []float64 {
	least := make([]float64, n+1)
	for m := 1; m <= n; m++ {
		least[m] = math.Inf(1)
		for _, f := range fits {
			least[m] = min(least[m], f.cost+least[max(0, m-f.k)])
		}
	}
	return least
}

// priceIn is the option's cheapest offering that the node's requirements
// (a pinned zone, say) still allow.
func priceIn(o *optionInfo, reqs Requirements) (float64, bool) {
	for _, off := range o.offerings { // cheapest first
		if offeringCompatible(reqs, off) {
			return off.Price, true
		}
	}
	return 0, false
}

// tolerates reports whether pi tolerates the pool's taints, cached per
// toleration set.
func (p *poolInfo) tolerates(pi *podInfo) bool {
	taint, seen := p.tolerated[pi.tolID]
	if !seen {
		if ok, t := tolerates(pi.tolerations, p.np.Taints); !ok {
			taint = t
		}
		p.tolerated[pi.tolID] = taint
	}
	return taint == nil
}
