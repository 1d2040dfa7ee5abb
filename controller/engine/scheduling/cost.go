package scheduling

import (
	"math"

	corev1 "k8s.io/api/core/v1"
)

// True cost: what a node costs the user per hour, which is what plans
// minimise and every price nodewright prints. Beyond the instance it counts
// the node's EBS volumes, the pool's per-node overhead, and for burstable
// types the surplus credits its CPU requests would spend.

// Burst is how a burstable type charges for CPU above its baseline in
// unlimited mode, the mode EKS launches burstable nodes in.
type Burst struct {
	// BaselineMilliCPU is vCPUs × the type's baseline share per vCPU.
	BaselineMilliCPU int64 `json:"baselineMilliCPU"`
	// SurplusPerVCPUHour is the $ per vCPU-hour of surplus credits.
	SurplusPerVCPUHour float64 `json:"surplusPerVCPUHour"`
}

// Surplus is the $/h a node of the type pays in surplus credits when its
// pods and daemonsets request cpuMilli: requests are taken as use, the
// only reading of use available before launch.
func (b *Burst) Surplus(cpuMilli int64) float64 {
	if b == nil || cpuMilli <= b.BaselineMilliCPU {
		return 0
	}
	return float64(cpuMilli-b.BaselineMilliCPU) / 1000 * b.SurplusPerVCPUHour
}

// NodeCost is what every node of a pool costs on top of its instance.
type NodeCost struct {
	// Volumes is the $/h of the node's EBS volumes (the node class's block
	// device mappings, or the default root volume).
	Volumes float64 `json:"volumes"`
	// Overhead is the pool's per-node cost (per-host licences, say).
	Overhead float64 `json:"overhead"`
}

// Total is the $/h every node of the pool adds.
func (c NodeCost) Total() float64 { return c.Volumes + c.Overhead }

// Cost is a node's true cost per hour, by part: what the plan minimises
// and every price nodewright prints.
type Cost struct {
	Instance     float64 `json:"instance"`
	Volumes      float64 `json:"volumes"`
	Overhead     float64 `json:"overhead"`
	BurstSurplus float64 `json:"burstSurplus"`
}

// Total is the node's $/h.
func (c Cost) Total() float64 { return c.Instance + c.Volumes + c.Overhead + c.BurstSurplus }

// Add sums two costs part by part.
func (c Cost) Add(o Cost) Cost {
	return Cost{Instance: c.Instance + o.Instance, Volumes: c.Volumes + o.Volumes, Overhead: c.Overhead + o.Overhead, BurstSurplus: c.BurstSurplus + o.BurstSurplus}
}

// NodeCostOf is the true cost of a node launched on offering off of it
// in a pool whose nodes cost nc each, with cpuMilli of CPU requested on it.
func NodeCostOf(it *InstanceType, off Offering, nc NodeCost, cpuMilli int64) Cost {
	return Cost{Instance: off.Price, Volumes: nc.Volumes, Overhead: nc.Overhead, BurstSurplus: it.Burst.Surplus(cpuMilli)}
}

// ExistingCost is the true cost of a running node of pool np: the price of
// its offering (the type's cheapest for the capacity type when the zone's is
// not listed; 0 when the type is unknown), the pool's per-node cost, and
// burst surplus at what its pods request.
func ExistingCost(np *NodePool, instanceType, zone, capacityType string, pods []*corev1.Pod) Cost {
	if np == nil {
		return Cost{}
	}
	var it *InstanceType
	price := -1.0
	for _, t := range np.InstanceTypes {
		if t.Name != instanceType {
			continue
		}
		it = t
		for _, off := range t.Offerings {
			if capacityType != "" && off.CapacityType != capacityType {
				continue
			}
			if off.Zone == zone {
				price = off.Price
				break
			}
			if price < 0 || off.Price < price {
				price = off.Price
			}
		}
		break
	}
	c := Cost{Volumes: np.NodeCost.Volumes, Overhead: np.NodeCost.Overhead, Instance: max(price, 0)}
	if it != nil && it.Burst != nil {
		var cpu int64
		for _, p := range pods {
			q := podRequests(p)[corev1.ResourceCPU]
			cpu += q.MilliValue()
		}
		c.BurstSurplus = it.Burst.Surplus(cpu)
	}
	return c
}

// Pricer prices nodes by the engine's own true-cost rule, for plans made
// elsewhere: Karpenter's, in the comparison benchmark, so both plans are
// priced alike (volumes, overhead, and surplus with daemonsets counted).
type Pricer struct {
	s     *solver
	pools map[string]*poolInfo
}

// NewPricer compiles in's pools and daemonsets.
func NewPricer(in Input) (*Pricer, error) {
	s, _, err := newSolver(Input{NodePools: in.NodePools, DaemonSets: in.DaemonSets, Pods: in.Pods}, Options{})
	if err != nil {
		return nil, err
	}
	p := &Pricer{s: s, pools: map[string]*poolInfo{}}
	for _, pi := range s.pools {
		p.pools[pi.np.Name] = pi
	}
	return p, nil
}

// Cheapest is the least true cost of a node of the pool that holds pods,
// over the offerings of the named types that reqs (zone, capacity type)
// allow. fits is false when no such type has room for the pods as the
// engine counts it; the cheapest offering is still priced then.
func (p *Pricer) Cheapest(pool string, types []string, reqs []corev1.NodeSelectorRequirement, pods []*corev1.Pod) (opt Option, fits, ok bool) {
	pi := p.pools[pool]
	if pi == nil {
		return Option{}, false, false
	}
	r, err := NewRequirements(reqs...)
	if err != nil {
		return Option{}, false, false
	}
	used := make(vec, len(p.s.space.names))
	for _, pod := range pods {
		used.addInPlace(p.s.space.vector(p.s.requests(pod)))
	}
	zero := make(vec, len(used))
	named := map[string]bool{}
	for _, t := range types {
		named[t] = true
	}
	best := math.Inf(1)
	for _, o := range pi.options {
		if !named[o.it.Name] {
			continue
		}
		room := fitsWith(zero, used, o.alloc)
		if fits && !room {
			continue
		}
		for _, off := range o.offerings {
			if !offeringCompatible(r, off) {
				continue
			}
			c := NodeCostOf(o.it, off, pi.np.NodeCost, used[resCPU]+o.daemonCPU)
			if (room && !fits) || c.Total() < best {
				opt, best, fits, ok = Option{InstanceType: o.it, Offering: off, Cost: c}, c.Total(), room, true
			}
		}
	}
	return opt, fits, ok
}
