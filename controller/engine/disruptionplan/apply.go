package disruptionplan

import (
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

// Apply carries a decision out on the snapshot as if it had completed at
// s.Now: the candidates are gone, each replacement is an initialized node
// (named by name(i)) on its plan's chosen offering holding the pods the plan
// put there, and moved pods run on the existing nodes the plan chose.
// Simulations (`nodewright simulate --consolidate`, the oscillation test)
// use it to run passes to a fixed point.
func (s *Snapshot) Apply(d *Decision, name func(i int) string) error {
	gone := map[string]bool{}
	for _, c := range d.Candidates {
		gone[c.Name] = true
	}
	byName := map[string]*Node{}
	kept := s.Nodes[:0:0]
	for _, n := range s.Nodes {
		if gone[n.Name] {
			continue
		}
		byName[n.Name] = n
		kept = append(kept, n)
	}
	for _, pl := range d.Placements {
		n := byName[pl.Node]
		if n == nil {
			return fmt.Errorf("placement on node %s, which is not in the snapshot", pl.Node)
		}
		// Copy, not append: the slice may be shared with a caller's input.
		pods := make([]*corev1.Pod, 0, len(n.Pods)+len(pl.Pods))
		n.Pods = append(append(pods, n.Pods...), pl.Pods...)
		n.LastPodEvent = s.Now
	}
	pools := map[string]*Pool{}
	for _, p := range s.Pools {
		pools[p.NodePool.Name] = p
	}
	for i, plan := range d.Replacements {
		n, err := replacementNode(plan, pools[plan.NodePool], name(i))
		if err != nil {
			return err
		}
		n.Created, n.LastPodEvent = s.Now, s.Now
		kept = append(kept, n)
	}
	s.Nodes = kept
	return nil
}

func replacementNode(plan *scheduling.NodeClaimPlan, pool *Pool, name string) (*Node, error) {
	if len(plan.Options) == 0 {
		return nil, fmt.Errorf("replacement in nodepool %s has no options", plan.NodePool)
	}
	o := plan.Chosen()
	labels := map[string]string{}
	var taints []corev1.Taint
	if pool != nil {
		for k, v := range pool.NodePool.Spec.Template.ObjectMeta.Labels {
			labels[k] = v
		}
		taints = pool.NodePool.Spec.Template.Spec.Taints
	}
	for k, v := range o.InstanceType.Labels {
		labels[k] = v
	}
	labels[corev1.LabelInstanceTypeStable] = o.InstanceType.Name
	labels[corev1.LabelTopologyZone] = o.Offering.Zone
	labels[v1.CapacityTypeLabelKey] = o.Offering.CapacityType
	labels[v1.NodePoolLabelKey] = plan.NodePool
	labels[corev1.LabelHostname] = name
	if pool == nil || pool.NodePool.Spec.KarpenterLabelsEnabled() {
		maps.Copy(labels, v1.KarpenterLabels(labels))
	}
	return &Node{
		ExistingNode: scheduling.ExistingNode{Name: name, Labels: labels, Taints: taints,
			Allocatable: o.InstanceType.Allocatable, Pods: append([]*corev1.Pod(nil), plan.Pods...), NodePool: plan.NodePool},
		NodeClaim: name, InstanceType: o.InstanceType.Name, Zone: o.Offering.Zone,
		CapacityType: o.Offering.CapacityType, Price: o.Cost.Total(), Initialized: true,
	}, nil
}

// Price is the snapshot's $/h: the sum of its nodes' prices.
func (s *Snapshot) Price() float64 {
	total := 0.0
	for _, n := range s.Nodes {
		total += n.Price
	}
	return total
}
