package scheduling

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// finish turns the simulation's nodes into the plan.
func (s *solver) finish(res *Result) {
	for _, n := range s.nodes {
		if len(n.pods) == 0 {
			continue
		}
		pods := make([]*corev1.Pod, len(n.pods))
		for i, pi := range n.pods {
			pods[i] = pi.pod
		}
		if n.existing != nil {
			res.ExistingNodes = append(res.ExistingNodes, &ExistingPlacement{Node: n.name, Pods: pods})
			continue
		}
		plan := s.claimPlan(n, pods)
		res.NodeClaims = append(res.NodeClaims, plan)
		res.Cost = res.Cost.Add(plan.Chosen().Cost)
	}
	res.TotalPrice = res.Cost.Total()
}

// claimPlan lists a new node's offerings by true cost, cheapest first.
func (s *solver) claimPlan(n *simNode, pods []*corev1.Pod) *NodeClaimPlan {
	plan := &NodeClaimPlan{NodePool: n.pool.np.Name, Pods: pods, InstanceTypes: len(n.options), Taints: n.pool.np.Taints}
	var all []Option
	var types []string
	sawFixed := false
	for i, o := range n.options {
		// Options are in order of their cheapest offering, and only burst
		// surplus can move a later one ahead of an earlier one: once the
		// first MaxOptionTypes and a type without surplus are in, every
		// cheaper alternative is.
		if i >= MaxOptionTypes && sawFixed {
			break
		}
		sawFixed = sawFixed || o.it.Burst == nil
		types = append(types, o.it.Name)
		cpu := n.used[resCPU] + o.daemonCPU
		for _, off := range o.offerings {
			if offeringCompatible(n.reqs, off) {
				all = append(all, Option{InstanceType: o.it, Offering: off, Cost: NodeCostOf(o.it, off, n.pool.np.NodeCost, cpu)})
			}
		}
	}
	// True cost, then type name, then spot first, then zone: a total order
	// on distinct offerings, so an unstable sort gives the one answer,
	// and without reflection (what-if sweeps finish thousands of plans).
	slices.SortFunc(all, func(a, b Option) int {
		if x, y := a.Cost.Total(), b.Cost.Total(); x != y {
			if x < y {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a.InstanceType.Name, b.InstanceType.Name); c != 0 {
			return c
		}
		return offeringCompare(a.Offering, b.Offering)
	})
	plan.Options = all
	plan.Requirements = n.reqs.Clone()
	plan.Requirements.Add(&Requirement{Key: corev1.LabelInstanceTypeStable, values: uniqueSorted(types), mustExist: true})
	chosen := plan.Options[0]
	for _, o := range n.options {
		if o.it == chosen.InstanceType {
			overhead := s.space.capacity(o.it.Allocatable).sub(o.alloc)
			plan.Requests = s.space.list(n.used.add(overhead))
			break
		}
	}
	return plan
}
