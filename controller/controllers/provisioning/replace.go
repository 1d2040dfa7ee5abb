package provisioning

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

// Replace launches capacity for the reschedulable pods of nodes, as if those
// nodes were already gone: it solves the cluster without them, with their
// pods pending, and creates the NodeClaims the plan asks for. Pods that fit
// on the remaining nodes need no new claim. It returns the claims created,
// annotated with ReplacementForAnnotationKey; the nodes themselves are left
// alone, for the caller to drain once the replacements are up. Each claim
// names in v1.ReplacementForAnnotationKey the nodes whose pods it was
// planned for, so a node whose pods fit elsewhere need not wait for a
// claim that takes none of them.
func (p *Provisioner) Replace(ctx context.Context, nodes []string) ([]*v1.NodeClaim, error) {
	if len(nodes) == 0 {
		return nil, nil
	}
	logger := log.FromContext(ctx)
	snap, err := p.TakeSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	gone := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		gone[n] = true
	}
	var pending []*corev1.Pod
	kept := snap.Nodes[:0:0]
	for _, n := range snap.Nodes {
		if !gone[n.Name] {
			kept = append(kept, n)
			continue
		}
		for _, pod := range n.Pods {
			// Pods nominated to a claim of that name are not on the node yet.
			// Pods already being deleted are not coming back.
			if pod.Spec.NodeName == n.Name && pod.DeletionTimestamp.IsZero() && scheduling.Reschedulable(pod) {
				pending = append(pending, pod)
			}
		}
	}
	snap.Nodes = kept
	// A cordoned or deleting node is not in Nodes: its pods count only for
	// topology, under PodsElsewhere. They move too.
	elsewhere := snap.PodsElsewhere[:0:0]
	for _, pe := range snap.PodsElsewhere {
		if gone[pe.Pod.Spec.NodeName] {
			if pe.Pod.DeletionTimestamp.IsZero() && scheduling.Reschedulable(pe.Pod) {
				pending = append(pending, pe.Pod)
			}
			continue
		}
		elsewhere = append(elsewhere, pe)
	}
	snap.PodsElsewhere = elsewhere
	// Pods of deleting nodes: those of the nodes replaced move; the others
	// count for topology where they are.
	for _, pd := range snap.Deleting {
		if gone[pd.Pod.Spec.NodeName] {
			pending = append(pending, pd.Pod)
		} else {
			snap.PodsElsewhere = append(snap.PodsElsewhere, pd)
		}
	}
	if pending, err = p.volumeRequirements(ctx, snap, pending); err != nil {
		return nil, err
	}
	if len(pending) == 0 {
		logger.Info("no pods to replace", "nodes", nodes)
		return nil, nil
	}
	res, err := scheduling.Solve(p.input(snap, pending))
	if err != nil {
		return nil, fmt.Errorf("solving replacement of %d pods from %d nodes: %w", len(pending), len(nodes), err)
	}
	for _, u := range res.Unschedulable {
		p.recorder.Eventf(u.Pod, nil, corev1.EventTypeWarning, ReasonNodeClaimNotCreated, "Replace", "No replacement capacity: %s", u.Reason)
	}
	p.explainLeftOut(ctx, snap, res.Unschedulable)
	if len(res.Unschedulable) > 0 {
		logger.Info("replaced pods fit nowhere", "count", len(res.Unschedulable), "first", res.Unschedulable[0].Reason)
	}
	ncs, createErrs := p.createPlans(ctx, snap.poolsByName(), res.NodeClaims, func(nc *v1.NodeClaim, plan *scheduling.NodeClaimPlan) {
		if nc.Annotations == nil {
			nc.Annotations = map[string]string{}
		}
		nc.Annotations[v1.ReplacementForAnnotationKey] = strings.Join(sources(plan.Pods, gone), ",")
	})
	var out []*v1.NodeClaim
	var errs []string
	for i, plan := range res.NodeClaims {
		nc := ncs[i]
		if err := createErrs[i]; err != nil {
			errs = append(errs, fmt.Sprintf("creating replacement nodeclaim for nodepool %s: %v", plan.NodePool, err))
			continue
		}
		chosen := plan.Chosen()
		logger.Info("created replacement nodeclaim", "nodeclaim", nc.Name, "nodepool", plan.NodePool, "replaces", nc.Annotations[v1.ReplacementForAnnotationKey],
			"instanceTypes", plan.InstanceTypes, "cheapest", chosen.InstanceType.Name, "zone", chosen.Offering.Zone,
			"capacityType", chosen.Offering.CapacityType, "pods", len(plan.Pods))
		out = append(out, nc)
	}
	placed := 0
	for _, e := range res.ExistingNodes {
		placed += len(e.Pods)
	}
	logger.Info("replaced capacity", "nodes", len(nodes), "pods", len(pending), "onExistingNodes", placed,
		"nodeclaims", len(out), "unschedulable", len(res.Unschedulable))
	if len(errs) > 0 {
		return out, fmt.Errorf("replacing nodes %v: %s", nodes, strings.Join(errs, "; "))
	}
	return out, nil
}

// sources are the replaced nodes pods come from, in order of first pod.
func sources(pods []*corev1.Pod, gone map[string]bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, pod := range pods {
		if n := pod.Spec.NodeName; gone[n] && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
