package scheduling

import (
	"fmt"
	"reflect"
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// simNode is a node in the simulation: an existing node, or a NodeClaim the
// plan opens. A new node keeps every instance type that still fits as an
// option, and narrows its requirements as pods join.
type simNode struct {
	name     string // its hostname domain
	existing *ExistingNode
	pool     *poolInfo

	labels map[string]string // existing nodes
	reqs   Requirements      // new nodes
	taints []corev1.Taint

	used vec
	// cap is what pods may use: an existing node's allocatable; a new
	// node's target option's, or (plain first-fit) its largest option's.
	cap     vec
	options []*optionInfo
	// target is the option a new node is sized for (cost-aware solves).
	target *optionInfo
	pods   []*podInfo
	ports  []hostPort
	closed bool

	// candidates caches, per topology key, the values the node could still
	// take under its own requirements; reset whenever it changes.
	candidates map[string][]string
	// compatible caches requirement checks per pod requirement id.
	compatible map[int]bool
	tolerated  map[int]bool

	// journaled: a Cluster what-if has saved this existing node's state.
	journaled bool
	// gone: a Cluster what-if has taken the existing node away.
	gone bool
}

// domain is the node's value for a topology key, or "" if not yet pinned.
func (n *simNode) domain(key string) string {
	if key == corev1.LabelHostname {
		return n.name
	}
	if n.existing != nil {
		return n.labels[key]
	}
	v, _ := n.reqs.Single(key)
	return v
}

// placement is a tentative admission of a pod onto a node.
type placement struct {
	reqs    Requirements      // new nodes: the narrowed requirements
	pins    map[string]string // topology keys the pod pins
	options []*optionInfo
	cap     vec
}

// admit checks whether pi can join n; on success it returns what would
// change. It runs for every (pod, node) pair tried, so failures allocate
// nothing and carry no reason: reasons are worked out once per pod, for pods
// that fit nowhere.
func (s *solver) admit(n *simNode, pi *podInfo) *placement {
	if !fitsWith(n.used, pi.req, n.cap) {
		return nil
	}
	if len(pi.hostPorts) > 0 && portsConflict(n.ports, pi.hostPorts) {
		return nil
	}
	ok, cached := n.tolerated[pi.tolID]
	if !cached {
		ok, _ = tolerates(pi.tolerations, n.taints)
		n.tolerated[pi.tolID] = ok
	}
	if !ok {
		return nil
	}
	s.internReqs(pi)
	var pl placement
	if n.existing != nil {
		ok, cached := n.compatible[pi.reqsID]
		if !cached {
			ok, _ = pi.reqs.SatisfiedBy(n.labels)
			n.compatible[pi.reqsID] = ok
		}
		if !ok {
			return nil
		}
	} else {
		pl.reqs = n.reqs
		if len(pi.reqs) > 0 {
			ok, cached := n.compatible[pi.reqsID]
			if !cached {
				c := n.pool.compatibleOptions(pi)
				ok = c.reason == "" && n.reqs.Conflict(pi.reqs) == ""
				n.compatible[pi.reqsID] = ok
			}
			if !ok {
				return nil
			}
			pl.reqs = n.reqs.Merge(pi.reqs)
		}
	}
	if reason := s.admitTopology(n, pi, &pl); reason != "" {
		return nil
	}
	if n.existing == nil {
		var reason string
		if pl, reason = s.narrowOptions(n, pi, pl); reason != "" {
			return nil
		}
	}
	// Only admitted pods pay for a heap copy.
	out := new(placement)
	*out = pl
	return out
}

// admitTopology checks spread and (anti-)affinity, pinning unpinned keys of
// a new node (the zone, typically) to a value that satisfies them.
func (s *solver) admitTopology(n *simNode, pi *podInfo, pl *placement) string {
	if len(pi.constraints) == 0 && len(pi.counts) == 0 {
		return ""
	}
	for _, c := range pi.constraints {
		key := c.group.key
		if d := pl.domain(n, key); d != "" {
			if !c.allowsFast(pi, d) {
				return c.group.desc
			}
			continue
		}
		if n.existing != nil {
			// The node lacks the topology label: it is in no domain.
			if c.group.kind == kindAntiAffinity {
				continue
			}
			return c.group.desc + ": node has no " + key + " label"
		}
		allowed := domainsAllowingAll(pi, key, c, c.allowedDomains(pi, s.candidates(n, pl.reqs, key)))
		if len(allowed) == 0 {
			return c.group.desc
		}
		s.pin(pl, key, allowed[0])
	}
	// A counted pod needs a known domain, or the counts would be wrong.
	for _, g := range pi.counts {
		if pl.domain(n, g.key) == "" && n.existing == nil {
			raw := s.candidates(n, pl.reqs, g.key)
			if len(raw) == 0 {
				return fmt.Sprintf("no value of %s for a pod counted by %s", g.key, g.desc)
			}
			cands := domainsAllowingAll(pi, g.key, nil, raw)
			if len(cands) == 0 {
				return "anti-affinity of pods already in every " + g.key + " it could use"
			}
			sort.SliceStable(cands, func(i, j int) bool { return g.counts[cands[i]] < g.counts[cands[j]] })
			s.pin(pl, g.key, cands[0])
		}
	}
	if ok, g := antiOwnersAllow(pi, n, pl); !ok {
		return "anti-affinity of pods already on the node (" + g.desc + ")"
	}
	return ""
}

// domainsAllowingAll keeps the domains of key that pi's other constraints
// on key (all but skip) and the anti-affinity of pods already there allow,
// so that pinning a new node for one term doesn't doom another. It copies
// rather than filters in place: domains may be a requirement's own values.
func domainsAllowingAll(pi *podInfo, key string, skip *constraint, domains []string) []string {
	var out []string
	for i, d := range domains {
		if domainAllows(pi, key, skip, d) {
			if out != nil {
				out = append(out, d)
			}
			continue
		}
		if out == nil {
			out = append(make([]string, 0, len(domains)), domains[:i]...)
		}
	}
	if out == nil {
		return domains
	}
	return out
}

func domainAllows(pi *podInfo, key string, skip *constraint, d string) bool {
	for _, c := range pi.constraints {
		if c != skip && c.group.key == key && !c.allowsFast(pi, d) {
			return false
		}
	}
	for _, g := range pi.counts {
		if g.kind == kindAntiAffinity && g.key == key && g.owners[d] > 0 {
			return false
		}
	}
	return true
}

// domain is the node's value for key as this placement would leave it.
func (pl *placement) domain(n *simNode, key string) string {
	if v, ok := pl.pins[key]; ok {
		return v
	}
	if n.existing != nil || key == corev1.LabelHostname {
		return n.domain(key)
	}
	v, _ := pl.reqs.Single(key)
	return v
}

func (s *solver) pin(pl *placement, key, value string) {
	if pl.pins == nil {
		pl.pins = map[string]string{}
	}
	pl.pins[key] = value
	pl.reqs = pl.reqs.Clone()
	pl.reqs.Add(&Requirement{Key: key, values: []string{value}, mustExist: true})
}

// candidates lists the values a new node could still take for key.
func (s *solver) candidates(n *simNode, reqs Requirements, key string) []string {
	// The node's own requirements are the common case: cache per key until
	// the node's options change.
	if sameRequirements(reqs, n.reqs) {
		if v, ok := n.candidates[key]; ok {
			return v
		}
		v := s.computeCandidates(n, reqs, key)
		if n.candidates == nil {
			n.candidates = map[string][]string{}
		}
		n.candidates[key] = v
		return v
	}
	return s.computeCandidates(n, reqs, key)
}

// sameRequirements reports whether two sets are the same map (not merely equal).
func sameRequirements(a, b Requirements) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer())
}

func (s *solver) computeCandidates(n *simNode, reqs Requirements, key string) []string {
	if (key == corev1.LabelTopologyZone || key == v1.CapacityTypeLabelKey) && s.offers.ok {
		return s.offers.candidateValues(n.options, reqs, key)
	}
	if key == corev1.LabelTopologyZone || key == v1.CapacityTypeLabelKey {
		// A handful of values over many options: a small slice beats a set.
		var vals []string
		for _, o := range n.options {
			for _, off := range o.offerings {
				if !offeringCompatible(reqs, off) {
					continue
				}
				v := off.Zone
				if key == v1.CapacityTypeLabelKey {
					v = off.CapacityType
				}
				if !slices.Contains(vals, v) {
					vals = append(vals, v)
				}
			}
		}
		slices.Sort(vals)
		return vals
	}
	if r, ok := reqs[key]; ok && r.Finite() {
		return r.Values()
	}
	vals := sets.New[string]()
	for _, o := range n.options {
		if v, ok := o.it.Labels[key]; ok && (reqs[key] == nil || reqs[key].Has(v)) {
			vals.Insert(v)
		}
	}
	return sets.List(vals)
}

// narrowOptions keeps the options that still fit and match; it enforces
// minValues and the pool's limits.
func (s *solver) narrowOptions(n *simNode, pi *podInfo, pl placement) (placement, string) {
	// Every option already meets the node's requirements: only what this pod
	// adds (its own requirements and the keys it pins) needs checking.
	delta := len(pi.reqs) > 0 || len(pl.pins) > 0
	offerings := delta && (pi.reqs[corev1.LabelTopologyZone] != nil || pi.reqs[v1.CapacityTypeLabelKey] != nil || len(pl.pins) > 0)
	var zones uint64
	var cts [2]bool
	if offerings && s.offers.ok {
		zones, cts = s.offers.allowed(pl.reqs)
	}
	// The pool's options are already those its requirements allow, so the
	// pod's own label requirements come down to the pool's cached answer
	// for this requirement set.
	// A pin on an instance-type label (arch, say, for pod affinity keyed on
	// it) rules out the types with another value or none.
	var labelPins []string
	for k := range pl.pins {
		if k != corev1.LabelTopologyZone && k != v1.CapacityTypeLabelKey && k != corev1.LabelHostname {
			labelPins = append(labelPins, k)
		}
	}
	var compat []bool
	if len(pi.reqs) > 0 {
		c := n.pool.compatibleOptions(pi)
		if c.reason != "" {
			return pl, c.reason
		}
		compat = c.has
	}
	matches := func(o *optionInfo) bool {
		if !fitsWith(n.used, pi.req, o.alloc) || !o.portsFree(pi) {
			return false
		}
		if !delta {
			return true
		}
		if compat != nil && !compat[o.idx] {
			return false
		}
		for _, k := range labelPins {
			if v, ok := o.it.Labels[k]; ok && v != pl.pins[k] || !ok && n.pool.typeKey(k) {
				return false
			}
		}
		if !offerings {
			return true
		}
		if s.offers.ok {
			return o.offers(zones, cts)
		}
		for _, off := range o.offerings {
			if offeringCompatible(pl.reqs, off) {
				return true
			}
		}
		return false
	}
	// A sized node keeps its size: a pod that would rule its target out
	// looks elsewhere rather than reshape it.
	sized := s.costAware && n.target != nil
	if sized && !matches(n.target) {
		return pl, "rules out the instance type the node is sized for"
	}
	keep := n.options
	for i, o := range n.options {
		if !matches(o) {
			keep = make([]*optionInfo, i, len(n.options))
			copy(keep, n.options[:i])
			for _, o := range n.options[i+1:] {
				if matches(o) {
					keep = append(keep, o)
				}
			}
			break
		}
	}
	if len(keep) == 0 {
		return pl, "no instance type fits"
	}
	if reason := checkMinValues(n.pool, keep); reason != "" {
		return pl, reason
	}
	if n.pool.hasLimits {
		if reason := n.pool.limitDelta(n.options, keep, false); reason != "" {
			return pl, reason
		}
	}
	pl.options = keep
	if sized {
		pl.cap = n.cap
	} else {
		pl.cap = maxAlloc(keep, len(n.used))
	}
	return pl, ""
}

func maxAlloc(options []*optionInfo, n int) vec {
	out := make(vec, n)
	for _, o := range options {
		for i, x := range o.alloc {
			if x > out[i] {
				out[i] = x
			}
		}
	}
	return out
}

func checkMinValues(p *poolInfo, options []*optionInfo) string {
	for key, min := range p.minValues {
		vals := sets.New[string]()
		for _, o := range options {
			if key == corev1.LabelInstanceTypeStable {
				vals.Insert(o.it.Name)
			} else if v, ok := o.it.Labels[key]; ok {
				vals.Insert(v)
			}
		}
		if vals.Len() < min {
			return fmt.Sprintf("minValues: %s needs %d values, only %d instance-type options left", key, min, vals.Len())
		}
	}
	return ""
}

// limitDelta checks that moving a node's cheapest option from before to
// after (or adding a node, when opening) keeps the pool within its limits.
func (p *poolInfo) limitDelta(before, after []*optionInfo, opening bool) string {
	if opening && p.limitNodes >= 0 && p.nodes+1 > p.limitNodes {
		return fmt.Sprintf("nodepool %s limit reached: nodes %d of %d", p.np.Name, p.nodes, p.limitNodes)
	}
	next := p.committed.add(after[0].capacity)
	if !opening {
		next = next.sub(before[0].capacity)
	}
	for i, lim := range p.limits {
		if lim >= 0 && next[i] > lim {
			return fmt.Sprintf("nodepool %s limit reached", p.np.Name)
		}
	}
	return ""
}

func (s *solver) commit(n *simNode, pi *podInfo, pl *placement) {
	if s.journal != nil && n.existing != nil {
		s.journal.touch(n)
	}
	// Keep the demand ahead's view of open room current.
	tracked := s.look != nil && s.look.spare != nil
	if tracked && (n.existing != nil || len(n.pods) > 0) {
		s.look.spare = s.look.spare.sub(s.spareOf(n))
	}
	defer func() {
		if tracked {
			s.look.spare.addInPlace(s.spareOf(n))
		}
	}()
	if n.existing == nil {
		if n.pool.hasLimits {
			n.pool.committed = n.pool.committed.add(pl.options[0].capacity).sub(n.options[0].capacity)
		}
		if len(pl.reqs) != len(n.reqs) || len(pi.reqs) > 0 || len(pl.pins) > 0 {
			n.compatible = map[int]bool{}
		}
		// The values a node could still take depend only on its
		// requirements and options: most joins change neither.
		if !sameRequirements(pl.reqs, n.reqs) || len(pl.options) != len(n.options) {
			n.candidates = nil
		}
		n.reqs, n.options, n.cap = pl.reqs, pl.options, pl.cap
		if !s.costAware {
			// Joined at a premium (placeAnywhere): no longer sized.
			n.target = nil
		}
	}
	n.used.addInPlace(pi.req)
	n.pods = append(n.pods, pi)
	n.ports = append(n.ports, pi.hostPorts...)
	s.topo.record(pi, n, n.domain)
	if !n.closed && !fitsWith(n.used, s.minReq, n.cap) {
		n.closed = true
		s.closedSince++
	}
}
