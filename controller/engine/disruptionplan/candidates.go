package disruptionplan

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// PodDeletionCostAnnotationKey ranks pods of a ReplicaSet for scale-down;
// disruption reads it as how much a pod minds being moved.
const PodDeletionCostAnnotationKey = "controller.kubernetes.io/pod-deletion-cost"

// mirrorPodAnnotationKey marks the API mirror of a static pod.
const mirrorPodAnnotationKey = "kubernetes.io/config.mirror"

// candidate is a node some method may disrupt.
type candidate struct {
	node *Node
	pool *Pool
	// pods must move if the node goes: not daemonset, mirror or terminal.
	pods []*corev1.Pod
	cost float64
	// empty / underutilized: consolidation may take the node (policy and
	// consolidateAfter allow it).
	empty, underutilized bool
}

func (c *candidate) score() float64 { return c.node.Price / (1 + c.cost) }

type pdbSelector struct {
	namespace, name string
	selector        labels.Selector
}

// classify finds the candidates, recording why the others are blocked and
// when the earliest of them may become one.
func (e *evaluator) classify() {
	var pdbs []pdbSelector
	for _, pdb := range e.s.PDBs {
		if pdb.Status.DisruptionsAllowed > 0 {
			continue
		}
		sel := labels.Nothing()
		if pdb.Spec.Selector != nil {
			if s, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err == nil {
				sel = s
			}
		}
		pdbs = append(pdbs, pdbSelector{namespace: pdb.Namespace, name: pdb.Name, selector: sel})
	}
	now := e.s.Now
	for _, n := range e.s.Nodes {
		if n.NodeClaim == "" || n.NodePool == "" || n.Deleting {
			continue
		}
		pool := e.pools[n.NodePool]
		switch {
		case pool == nil:
			e.block(n, fmt.Sprintf("nodepool %s not found", n.NodePool))
			continue
		case e.skipped[n.NodePool] != "":
			e.block(n, fmt.Sprintf("nodepool %s %s", n.NodePool, e.skipped[n.NodePool]))
			continue
		case !n.Initialized:
			e.block(n, "not initialized")
			continue
		case n.DoNotDisrupt:
			e.block(n, "node has "+v1.DoNotDisruptAnnotationKey)
			continue
		}
		c := &candidate{node: n, pool: pool}
		if reason := e.podsOf(c, pdbs); reason != "" {
			e.block(n, reason)
			continue
		}
		c.cost = disruptionCost(c, now)

		d := pool.NodePool.Spec.Disruption
		policy := d.ConsolidationPolicy
		if policy == "" {
			policy = v1.ConsolidationPolicyWhenEmptyOrUnderutilized
		}
		after, ok := d.ConsolidateAfter.Duration()
		if d.ConsolidateAfter == "" {
			after, ok = 0, true
		}
		consolidatable := false
		if ok {
			since := n.LastPodEvent
			if since.IsZero() {
				since = n.Created
			}
			if at := since.Add(after); at.After(now) {
				e.next(at)
			} else {
				consolidatable = true
			}
		}
		if consolidatable {
			c.empty = len(c.pods) == 0
			c.underutilized = len(c.pods) > 0 && policy == v1.ConsolidationPolicyWhenEmptyOrUnderutilized
		}
		if !c.empty && !c.underutilized && n.Drifted == "" {
			if ok && !consolidatable {
				e.block(n, fmt.Sprintf("consolidateAfter %s not elapsed", d.ConsolidateAfter))
			}
			continue
		}
		e.cands = append(e.cands, c)
	}
	// The cheapest disruptions that save the most come first.
	sort.SliceStable(e.cands, func(i, j int) bool {
		a, b := e.cands[i], e.cands[j]
		if sa, sb := a.score(), b.score(); sa != sb {
			return sa > sb
		}
		return a.node.Name < b.node.Name
	})
}

// podsOf collects the pods that must move, or says which pod keeps the
// node where it is.
func (e *evaluator) podsOf(c *candidate, pdbs []pdbSelector) string {
	now := e.s.Now
	for _, p := range c.node.Pods {
		if !movable(p) {
			continue
		}
		if key, v, ok := v1.DoNotDisrupt(p.Annotations); ok {
			d, err := time.ParseDuration(v)
			switch {
			case v == "false":
			case err != nil:
				return fmt.Sprintf("pod %s/%s has %s", p.Namespace, p.Name, key)
			default:
				start := p.CreationTimestamp.Time
				if p.Status.StartTime != nil {
					start = p.Status.StartTime.Time
				}
				if until := start.Add(d); until.After(now) {
					e.next(until)
					return fmt.Sprintf("pod %s/%s has %s for %s", p.Namespace, p.Name, key, v)
				}
			}
		}
		for _, pdb := range pdbs {
			if pdb.namespace == p.Namespace && pdb.selector.Matches(labels.Set(p.Labels)) {
				return fmt.Sprintf("pod %s/%s is protected by PodDisruptionBudget %s (no disruptions allowed)", p.Namespace, p.Name, pdb.name)
			}
		}
		if metav1.GetControllerOf(p) == nil {
			return fmt.Sprintf("pod %s/%s has no controller to recreate it", p.Namespace, p.Name)
		}
		c.pods = append(c.pods, p)
	}
	return ""
}

// movable: the pod would need a new home if its node went away.
func movable(p *corev1.Pod) bool {
	if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return false
	}
	if _, ok := p.Annotations[mirrorPodAnnotationKey]; ok {
		return false
	}
	if o := metav1.GetControllerOf(p); o != nil && o.Kind == "DaemonSet" {
		return false
	}
	return true
}

// disruptionCost weighs what moving the node's pods costs: one per pod,
// more for high priority or deletion cost, less for pods that say they
// mind less. Older nodes are cheaper to disrupt (down to half after 30
// days): they are likelier to be replaced soon anyway.
func disruptionCost(c *candidate, now time.Time) float64 {
	cost := 0.0
	for _, p := range c.pods {
		pc := 1.0
		if v, ok := p.Annotations[PodDeletionCostAnnotationKey]; ok {
			if x, err := strconv.ParseFloat(v, 64); err == nil {
				pc += clamp(x/math.Exp2(27), -1, 1)
			}
		}
		if p.Spec.Priority != nil {
			pc += clamp(float64(*p.Spec.Priority)/math.Exp2(25), -1, 1)
		}
		cost += max(pc, 0)
	}
	age := now.Sub(c.node.Created)
	if c.node.Created.IsZero() || age < 0 {
		age = 0
	}
	return cost * (1 - 0.5*min(age.Hours()/(30*24), 1))
}

func clamp(x, lo, hi float64) float64 { return min(max(x, lo), hi) }
