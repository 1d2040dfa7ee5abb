package benchvs

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

// TrueCost prices Karpenter's plan by nodewright's own true-cost rule
// (scheduling.Pricer): each claim at the cheapest offering its options and
// zone/capacity-type requirements allow, with the pool's per-node costs and
// burst surplus at what its pods and daemonsets request. misfits counts
// claims whose cheapest option has no room for their pods as nodewright
// counts it (a difference in daemonset accounting, say); they are priced
// all the same.
func TrueCost(plan *Plan, in scheduling.Input) (total float64, misfits int, err error) {
	pr, err := scheduling.NewPricer(in)
	if err != nil {
		return 0, 0, err
	}
	pods := map[string]*corev1.Pod{}
	for _, p := range in.Pods {
		pods[PodID(p)] = p
	}
	for i, nc := range plan.NodeClaims {
		var on []*corev1.Pod
		for _, id := range nc.Pods {
			p, ok := pods[id]
			if !ok {
				return 0, 0, fmt.Errorf("karpenter claim %d holds pod %s, which is not in the input", i, id)
			}
			on = append(on, p)
		}
		var reqs []corev1.NodeSelectorRequirement
		for _, r := range nc.Requirements {
			if r.Key == corev1.LabelTopologyZone || r.Key == v1.CapacityTypeLabelKey {
				reqs = append(reqs, corev1.NodeSelectorRequirement{Key: r.Key, Operator: r.Operator, Values: r.Values})
			}
		}
		opt, fits, ok := pr.Cheapest(nc.NodePool, nc.InstanceTypes, reqs, on)
		if !ok {
			return 0, 0, fmt.Errorf("karpenter claim %d (pool %s, %d types) has no offering nodewright can price", i, nc.NodePool, len(nc.InstanceTypes))
		}
		if !fits {
			misfits++
		}
		total += opt.Cost.Total()
	}
	return total, misfits, nil
}
