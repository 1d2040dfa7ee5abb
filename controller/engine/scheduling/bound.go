package scheduling

import (
	"math"
	"slices"
)

// LowerBound is a true cost per hour that no plan placing in's pending
// pods on new nodes can beat: the yardstick plans are measured against.
//
// The bound charges each pod a share of a node's cost. For weights w over
// the resources a node has (cpu, memory, pod slots, GPUs and other
// extended resources) that sum to 1, a node of cost C whose pods use
// fractions f_r of its allocatable has Σ_pods Σ_r w_r·f_r(pod) ≤ 1, so
// charging each pod C·Σ_r w_r·f_r(pod) never charges a node more than it
// costs. The weights may differ per instance type, as the argument is per
// node: one weight vector is renormalised over the resources each type
// has, so a CPU-only type spends nothing on a GPU weight. Each pod is
// charged at the type where that is least, so the sum of charges is at
// most any plan's cost; the bound is the best such sum over a grid of
// weights (a restricted dual of the LP relaxation over instance types).
// On a burstable type a pod can also be charged rate·cpu + (C −
// rate·baseline)·Σ_r w_r·f_r, which its node's surplus pays for.
// Integrality, topology and limits are ignored, which only lowers the
// bound; pods that an existing node could host are charged nothing, and
// pods no pool can host are left out.
func LowerBound(in Input) (float64, error) {
	s, _, err := newSolver(in, Options{})
	if err != nil {
		return 0, err
	}
	b := s.boundInput()
	best := 0.0
	w := make([]float64, len(b.dims))
	// Finer grids for few resources; each grid has a few hundred points.
	steps := map[int]int{1: 1, 2: 20, 3: 10, 4: 10, 5: 6}[len(b.dims)]
	if steps == 0 {
		steps = 4
	}
	var walk func(d, left int)
	walk = func(d, left int) {
		if d == len(w)-1 {
			w[d] = float64(left) / float64(steps)
			best = max(best, b.total(w, false), b.total(w, true))
			return
		}
		for x := 0; x <= left; x++ {
			w[d] = float64(x) / float64(steps)
			walk(d+1, left-x)
		}
	}
	if len(w) > 0 {
		walk(0, steps)
	}
	if len(b.classes) == 1 {
		best = max(best, b.wholeNodes())
	}
	return best, nil
}

// wholeNodes is the least a plan can pay when every pod that needs new
// capacity is alike: the cheapest mix of whole nodes, each holding as many
// of the pods as fit it (coverCosts, as wholeNodeTarget plans). Shares of
// a node are not whole nodes: ten pods that fit three to a node need four,
// which the weighted bound above prices at 3⅓.
func (b *boundData) wholeNodes() float64 {
	c := b.classes[0]
	var fits []wholeFit
	for _, bo := range b.options {
		for _, u := range bo.uses {
			most := 0.0
			for _, x := range u.share {
				most = max(most, x)
			}
			if most <= 0 {
				continue
			}
			// Pods per node; the epsilon keeps an exact fit whole.
			if k := int(math.Floor(1/most + 1e-9)); k >= 1 {
				fits = append(fits, wholeFit{k: k, cost: u.fixed})
			}
		}
	}
	if least := coverCosts(c.n, fits)[c.n]; !math.IsInf(least, 1) {
		return least
	}
	return 0
}

// boundOption is an instance type of a pool as the bound sees it: its
// fixed cost, burst terms, and per resource the dual feasible function
// pods' shares of it are rounded by.
type boundOption struct {
	rate, base float64 // burst: $/vCPU-hour, baseline CPU left to pods (cores)
	alloc      []float64
	dff        []int // 0: shares are not rounded
	uses       []boundUse
	w          []float64 // scratch: the weights renormalised to this type
}

// boundUse is a class that may use an option.
type boundUse struct {
	class *boundClass
	// fixed is the node's cost without surplus, as cheap as the class's
	// requirements allow (a pinned zone may price it higher).
	fixed float64
	// share of each resource, as is and rounded by the option's dff
	share, rounded []float64
}

type boundClass struct {
	n     int
	cpu   float64 // cores
	least float64 // scratch: the least charge for the current weights
}

type boundData struct {
	// dims are the resource indices some pending pod requests.
	dims    []int
	classes []*boundClass
	options []*boundOption
}

// boundInput lists the classes that need new capacity and, per option, the
// classes that could use it, with their shares rounded.
func (s *solver) boundInput() *boundData {
	b := &boundData{}
	for r := range s.space.names {
		for _, c := range s.look.classes {
			if c.req[r] > 0 {
				b.dims = append(b.dims, r)
				break
			}
		}
	}
	byOption := map[*optionInfo]map[*poolInfo]*boundOption{}
	for _, c := range s.look.classes {
		pi := c.rep
		if s.fitsExisting(pi) {
			continue
		}
		bc := &boundClass{n: c.left, cpu: float64(c.req[resCPU]) / 1000}
		used := false
		for _, p := range s.pools {
			if !p.tolerates(pi) {
				continue
			}
			compat := p.compatibleOptions(pi)
			if compat.reason != "" {
				continue
			}
			zero := make(vec, len(pi.req))
			for _, o := range compat.options {
				price, ok := priceIn(o, compat.merged)
				if !ok || !fitsWith(zero, pi.req, o.alloc) {
					continue
				}
				if byOption[o] == nil {
					byOption[o] = map[*poolInfo]*boundOption{}
				}
				bo := byOption[o][p]
				if bo == nil {
					bo = &boundOption{alloc: make([]float64, len(b.dims)), dff: make([]int, len(b.dims)), w: make([]float64, len(b.dims))}
					for i, r := range b.dims {
						bo.alloc[i] = float64(o.alloc[r])
					}
					byOption[o][p] = bo
					b.options = append(b.options, bo)
				}
				if bst := o.it.Burst; bst != nil {
					bo.rate, bo.base = bst.SurplusPerVCPUHour, float64(bst.BaselineMilliCPU-o.daemonCPU)/1000
				}
				u := boundUse{class: bc, fixed: price + p.nodeCost, share: make([]float64, len(b.dims))}
				for i, r := range b.dims {
					if bo.alloc[i] > 0 {
						u.share[i] = float64(c.req[r]) / bo.alloc[i]
					}
				}
				bo.uses = append(bo.uses, u)
				used = true
			}
		}
		if used {
			b.classes = append(b.classes, bc)
		}
	}
	for _, bo := range b.options {
		for _, u := range bo.uses {
			if bo.rate > 0 && u.fixed-bo.rate*bo.base < 0 {
				bo.rate = 0
			}
		}
		for i := range bo.uses {
			bo.uses[i].rounded = slices.Clone(bo.uses[i].share)
		}
		for r := range bo.dff {
			bo.dff[r] = bestDFF(bo.uses, r)
			if k := bo.dff[r]; k > 0 {
				for i := range bo.uses {
					bo.uses[i].rounded[r] = dff(k, bo.uses[i].share[r])
				}
			}
		}
	}
	return b
}

// total is the bound for weights w, with shares rounded or as they are.
func (b *boundData) total(w []float64, rounded bool) float64 {
	for _, c := range b.classes {
		c.least = math.Inf(1)
	}
	for _, bo := range b.options {
		sum := 0.0
		for i, x := range w {
			if bo.alloc[i] > 0 {
				sum += x
			}
		}
		for i, x := range w {
			bo.w[i] = 0
			if bo.alloc[i] > 0 && sum > 0 {
				bo.w[i] = x / sum
			}
		}
		weigh := func(u *boundUse) float64 {
			sh := u.share
			if rounded {
				sh = u.rounded
			}
			v := 0.0
			for i, x := range bo.w {
				v += x * sh[i]
			}
			return v
		}
		// No node of the type can be fuller than all the demand that may use
		// it: dividing by that fill charges small demand for the whole node.
		fill := 0.0
		for i := range bo.uses {
			fill += float64(bo.uses[i].class.n) * weigh(&bo.uses[i])
		}
		fill = min(fill, 1)
		for i := range bo.uses {
			u := &bo.uses[i]
			share := 0.0 // weights on nothing the pods use charge nothing
			if fill > 0 {
				share = weigh(u) / fill
			}
			v := u.fixed * share
			if bo.rate > 0 {
				v = bo.rate*u.class.cpu + (u.fixed-bo.rate*bo.base)*share
			}
			u.class.least = min(u.class.least, v)
		}
	}
	total := 0.0
	for _, c := range b.classes {
		total += float64(c.n) * c.least
	}
	return total
}

// dff is the dual feasible function u_k of Fekete and Schepers: shares
// that sum to at most 1 still do after it. It rounds a pod that fits k
// times but not k+1 times up to 1/k of the node.
func dff(k int, x float64) float64 {
	y := float64(k+1) * x
	if y == math.Trunc(y) {
		return x
	}
	return math.Floor(y) / float64(k)
}

// bestDFF picks, for one resource of an option, the u_k that rounds its
// heaviest user's share to exactly its whole-pod fit, if that raises the
// demand's total share; 0 keeps shares as they are.
func bestDFF(uses []boundUse, r int) int {
	heaviest, weight := -1, 0.0
	for i, u := range uses {
		if v := float64(u.class.n) * u.share[r]; v > weight {
			heaviest, weight = i, v
		}
	}
	if heaviest < 0 {
		return 0
	}
	k := int(math.Floor(1 / uses[heaviest].share[r]))
	if k < 1 {
		return 0
	}
	before, after := 0.0, 0.0
	for _, u := range uses {
		before += float64(u.class.n) * u.share[r]
		after += float64(u.class.n) * dff(k, u.share[r])
	}
	if after <= before {
		return 0
	}
	return k
}

// fitsExisting reports whether some existing node could take pi by its
// free resources, taints and labels alone.
func (s *solver) fitsExisting(pi *podInfo) bool {
	for _, n := range s.nodes {
		if n.existing == nil || !fitsWith(n.used, pi.req, n.cap) {
			continue
		}
		if ok, _ := tolerates(pi.tolerations, n.taints); !ok {
			continue
		}
		if ok, _ := pi.reqs.SatisfiedBy(n.labels); ok {
			return true
		}
	}
	return false
}
