package scheduling

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// optionInfo is an instance type as one pool can use it: what pods may
// use once the daemonsets that would land on it are counted.
type optionInfo struct {
	// idx is the option's place in its pool's options.
	idx       int
	it        *InstanceType
	alloc     vec
	capacity  vec
	offerings []Offering // available ones only
	minPrice  float64
	// daemonCPU is what the pool's daemonsets request on it: it counts
	// toward a burstable type's surplus like any pod's.
	daemonCPU int64
	// zmask: per capacity type, the zones it is offered in (offermask.go).
	zmask [2]uint64
	// daemonPorts are the host ports the daemonsets that land on it take:
	// a pod wanting one of them needs another instance type or node.
	daemonPorts []hostPort
}

// portsFree reports whether pi's host ports are free on a new node of this
// option once its daemonsets run.
func (o *optionInfo) portsFree(pi *podInfo) bool {
	return len(pi.hostPorts) == 0 || !portsConflict(o.daemonPorts, pi.hostPorts)
}

// cost is the option's true $/h on its cheapest offering in pool p, with
// podCPU millicores of pods on it: instance, the pool's per-node costs, and
// any burst surplus.
func (o *optionInfo) cost(p *poolInfo, podCPU int64) float64 {
	return o.minPrice + p.nodeCost + o.it.Burst.Surplus(podCPU+o.daemonCPU)
}

// poolInfo is a NodePool compiled for the solve.
type poolInfo struct {
	np        *NodePool
	reqs      Requirements
	minValues map[string]int
	labelKeys sets.Set[string]
	// typeKeys caches typeHas's scans of the instance types.
	typeKeys map[string]bool
	options  []*optionInfo

	hasLimits  bool
	limits     vec // -1: unlimited
	limitNodes int // -1: unlimited
	committed  vec
	nodes      int

	// nodeCost is the $/h each node adds beyond its instance.
	nodeCost float64

	// caches keyed by pod requirement / toleration ids
	tolerated map[int]*corev1.Taint // nil value: tolerated
	compat    map[int]poolCompat
}

type poolCompat struct {
	merged  Requirements
	options []*optionInfo
	// has: by option idx, whether the option is in options.
	has    []bool
	reason string
}

func newPoolInfo(np *NodePool, space *resourceSpace, daemons []*podInfo) (*poolInfo, error) {
	reqs, err := NewRequirements(np.Requirements...)
	if err != nil {
		return nil, fmt.Errorf("nodepool %s: %w", np.Name, err)
	}
	reqs = reqs.Merge(LabelRequirements(np.Labels))
	reqs.Add(&Requirement{Key: v1.NodePoolLabelKey, values: []string{np.Name}, mustExist: true})
	if !np.NoKarpenterLabels {
		reqs.Add(&Requirement{Key: v1.KarpenterNodePoolLabelKey, values: []string{np.Name}, mustExist: true})
	}
	for k, n := range np.MinValues {
		if r, ok := reqs[k]; ok {
			c := *r
			c.MinValues = n
			reqs[k] = &c
		}
	}
	p := &poolInfo{np: np, reqs: reqs, minValues: np.MinValues, labelKeys: sets.New[string](),
		tolerated: map[int]*corev1.Taint{}, compat: map[int]poolCompat{}, limitNodes: -1, nodeCost: np.NodeCost.Total(),
		options: make([]*optionInfo, 0, len(np.InstanceTypes))}
	for k := range reqs {
		p.labelKeys.Insert(k)
	}
	p.labelKeys.Insert(corev1.LabelTopologyZone, v1.CapacityTypeLabelKey, corev1.LabelTopologyRegion, corev1.LabelHostname)

	for _, it := range np.InstanceTypes {
		if ok, _ := labelsCompatible(reqs, it.Labels, p.typeKey); !ok {
			continue
		}
		o := &optionInfo{it: it, alloc: space.capacity(it.Allocatable), offerings: make([]Offering, 0, len(it.Offerings))}
		o.capacity = o.alloc
		for _, off := range it.Offerings {
			if off.Available && offeringCompatible(reqs, off) {
				o.offerings = append(o.offerings, off)
			}
		}
		if len(o.offerings) == 0 {
			continue
		}
		slices.SortFunc(o.offerings, offeringCompare)
		o.minPrice = o.offerings[0].Price
		if len(daemons) > 0 {
			labels := mergeLabels(np.Labels, it.Labels, map[string]string{v1.NodePoolLabelKey: np.Name})
			for _, d := range daemons {
				if daemonLands(d, np, reqs, labels) {
					o.alloc = o.alloc.sub(d.req)
					o.daemonPorts = append(o.daemonPorts, d.hostPorts...)
				}
			}
		}
		o.daemonCPU = o.capacity[resCPU] - o.alloc[resCPU]
		usable := true
		for _, x := range o.alloc {
			if x < 0 {
				usable = false
			}
		}
		if usable {
			p.options = append(p.options, o)
		}
	}
	// Cheapest first: finalization and limit checks read options in order.
	slices.SortStableFunc(p.options, func(a, b *optionInfo) int {
		if c := cmp.Compare(a.minPrice, b.minPrice); c != 0 {
			return c
		}
		return strings.Compare(a.it.Name, b.it.Name)
	})
	for i, o := range p.options {
		o.idx = i
	}

	if len(np.Limits) > 0 {
		p.hasLimits = true
		p.limits = make(vec, len(space.names))
		for i := range p.limits {
			p.limits[i] = -1
		}
		for n, q := range np.Limits {
			if n == "nodes" {
				p.limitNodes = int(q.Value())
				continue
			}
			if i, ok := space.index[n]; ok {
				if n == corev1.ResourceCPU {
					p.limits[i] = q.MilliValue()
				} else {
					p.limits[i] = q.Value()
				}
			}
		}
		p.committed = space.vector(np.InUse)
		if q, ok := np.InUse["nodes"]; ok {
			p.nodes = int(q.Value())
		}
	}
	return p, nil
}

func mergeLabels(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// offeringCompare orders offerings cheapest first, spot before on-demand
// at the same price, then by zone.
func offeringCompare(a, b Offering) int {
	if c := cmp.Compare(a.Price, b.Price); c != 0 {
		return c
	}
	if a.CapacityType != b.CapacityType {
		if a.CapacityType == v1.CapacityTypeSpot {
			return -1
		}
		return 1
	}
	return strings.Compare(a.Zone, b.Zone)
}

// hasLabelKey reports whether some node of the pool could carry label k:
// the template's, the well-known keys every node has, or an instance
// type's.
func (p *poolInfo) hasLabelKey(k string) bool { return p.labelKeys.Has(k) || p.typeHas(k) }

// typeKey reports whether k is a label key some of the pool's instance
// types set and its template does not: on a type without it, the node
// lacks it.
func (p *poolInfo) typeKey(k string) bool {
	if _, template := p.np.Labels[k]; template {
		return false
	}
	return p.typeHas(k)
}

// typeHas reports whether some of the pool's instance types set label k.
// The types are scanned for a key on its first ask, not at compile time:
// only requirements that a label exist ask, on a handful of keys.
func (p *poolInfo) typeHas(k string) bool {
	if has, ok := p.typeKeys[k]; ok {
		return has
	}
	has := false
	for _, it := range p.np.InstanceTypes {
		if _, has = it.Labels[k]; has {
			break
		}
	}
	if p.typeKeys == nil {
		p.typeKeys = map[string]bool{}
	}
	p.typeKeys[k] = has
	return has
}

// labelsCompatible checks the instance type's own labels against reqs. A
// key that instance types set (typeKeys) and this one lacks is absent on
// its nodes, as a GPU count is on a type with no GPU; other keys are left
// to the rest of the node's labels (zone, capacity type, the template's).
func labelsCompatible(reqs Requirements, labels map[string]string, typeKey func(string) bool) (bool, string) {
	// reqs is the shorter map: a pool constrains a handful of keys.
	for k, r := range reqs {
		v, ok := labels[k]
		if ok && !r.Has(v) || !ok && r.mustExist && typeKey(k) {
			return false, k
		}
	}
	return true, ""
}

// domains lists the values of key the pool's nodes can take: the zones and
// capacity types of its offerings, an instance-type label's values among
// its options, or the values its requirements and template allow.
func (p *poolInfo) domains(key string) []string {
	vals := sets.New[string]()
	switch {
	case key == corev1.LabelTopologyZone || key == v1.CapacityTypeLabelKey:
		for _, o := range p.options {
			for _, off := range o.offerings {
				if key == corev1.LabelTopologyZone {
					vals.Insert(off.Zone)
				} else {
					vals.Insert(off.CapacityType)
				}
			}
		}
	case p.typeKey(key):
		for _, o := range p.options {
			if v, ok := o.it.Labels[key]; ok {
				vals.Insert(v)
			}
		}
	default:
		if r, ok := p.reqs[key]; ok && r.Finite() {
			vals.Insert(r.Values()...)
		}
	}
	return sets.List(vals)
}

func offeringCompatible(reqs Requirements, off Offering) bool {
	if r, ok := reqs[corev1.LabelTopologyZone]; ok && !r.Has(off.Zone) {
		return false
	}
	if r, ok := reqs[v1.CapacityTypeLabelKey]; ok && !r.Has(off.CapacityType) {
		return false
	}
	return true
}

// daemonLands: would this daemonset's pod run on a node of the pool with
// these labels? Startup taints don't keep daemonsets off, as on a real node.
func daemonLands(d *podInfo, np *NodePool, poolReqs Requirements, labels map[string]string) bool {
	if ok, _ := toleratesEffects(d.tolerations, np.Taints, false); !ok {
		return false
	}
	for k, r := range d.reqs {
		if v, ok := labels[k]; ok {
			if !r.Has(v) {
				return false
			}
			continue
		}
		if pr, ok := poolReqs[k]; ok {
			if !compatible(r, pr) {
				return false
			}
			continue
		}
		if r.mustExist {
			return false
		}
	}
	return true
}

// compatibleOptions filters the pool's options for a pod's requirements,
// cached per distinct requirement set.
func (p *poolInfo) compatibleOptions(pi *podInfo) poolCompat {
	if c, ok := p.compat[pi.reqsID]; ok {
		return c
	}
	c := poolCompat{}
	if c.reason = p.templateConflict(pi); c.reason != "" {
		p.compat[pi.reqsID] = c
		return c
	}
	c.merged = p.reqs.Merge(pi.reqs)
	c.has = make([]bool, len(p.options))
	if len(pi.reqs) == 0 {
		// Options already meet the pool's requirements, offerings included.
		c.options = p.options
		for i := range c.has {
			c.has[i] = true
		}
		p.compat[pi.reqsID] = c
		return c
	}
	for _, o := range p.options {
		if ok, _ := labelsCompatible(c.merged, o.it.Labels, p.typeKey); !ok {
			continue
		}
		for _, off := range o.offerings {
			if offeringCompatible(c.merged, off) {
				c.options = append(c.options, o)
				c.has[o.idx] = true
				break
			}
		}
	}
	p.compat[pi.reqsID] = c
	return c
}

// templateConflict says why the pod's requirements rule out every node of
// the pool whatever its instance type ("" when they don't).
func (p *poolInfo) templateConflict(pi *podInfo) string {
	for _, k := range pi.reqs.Keys() {
		if !pi.reqs[k].Satisfiable() {
			return fmt.Sprintf("incompatible with nodepool %s: the pod's node selector, affinity and volumes allow no value of %s", p.np.Name, k)
		}
	}
	if key := p.reqs.Conflict(pi.reqs); key != "" {
		return fmt.Sprintf("incompatible with nodepool %s: requirement %s conflicts with %s", p.np.Name, pi.reqs[key], p.reqs[key])
	}
	// A new node's hostname is its instance's, not known when it is
	// planned, so no new node is one of a list of hostnames (Karpenter
	// gives each planned node a placeholder hostname to the same end).
	if r := pi.reqs[corev1.LabelHostname]; r != nil && r.Finite() && r.mustExist {
		return fmt.Sprintf("incompatible with nodepool %s: a new node's hostname is not known in advance, so it cannot be %s", p.np.Name, r)
	}
	for _, k := range pi.reqs.Keys() {
		if pi.reqs[k].mustExist && !p.hasLabelKey(k) {
			if k == v1.KarpenterNodePoolLabelKey {
				return fmt.Sprintf("incompatible with nodepool %s: the pod selects on Karpenter's label keys (karpenter.sh/*, karpenter.k8s.aws/*), which the pool's nodes do not carry with karpenterLabels off", p.np.Name)
			}
			return fmt.Sprintf("incompatible with nodepool %s: label %s is not set on its nodes", p.np.Name, k)
		}
	}
	return ""
}

// Compatible reports whether the pod could run on a node of the pool as far
// as the pool's template decides (its taints, requirements and labels),
// and otherwise why not. Instance types are not looked at, and the labels
// they would set (v1.WellKnownLabels) count as present: it answers for a
// pool whose instance types are unknown, such as one the provisioner left
// out of a batch because its node class is not ready. The checks are the
// solver's own, with the pod's preferences and required affinity terms
// relaxed as a solve would.
func Compatible(pod *corev1.Pod, np *NodePool) (bool, string, error) {
	space := newResourceSpace()
	pi, err := newPodInfo(pod, space, nil)
	if err != nil {
		return false, "", fmt.Errorf("pod %s: %w", podKey(pod), err)
	}
	// A PreferNoSchedule taint only makes a pool a last resort.
	if ok, t := toleratesEffects(pi.tolerations, np.Taints, false); !ok {
		return false, fmt.Sprintf("incompatible with nodepool %s: taint %s not tolerated", np.Name, taintString(t)), nil
	}
	withoutTypes := *np
	withoutTypes.InstanceTypes = nil
	p, err := newPoolInfo(&withoutTypes, space, nil)
	if err != nil {
		return false, "", err
	}
	p.labelKeys.Insert(v1.WellKnownLabels.UnsortedList()...)
	for {
		reason := p.templateConflict(pi)
		if reason == "" {
			return true, "", nil
		}
		if !pi.relax() {
			return false, reason, nil
		}
	}
}
