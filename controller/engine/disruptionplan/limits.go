package disruptionplan

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// OverLimit is a decision that was not taken because its replacements
// would take a NodePool past spec.limits.
type OverLimit struct {
	Decision *Decision
	NodePool string
	Reason   string
}

// withinLimits keeps the decisions whose replacements fit their pools'
// limits; the others go to Result.OverLimit and their candidates to
// Blocked. The candidates are not credited back: they keep running (and
// counting) until their replacements are initialized, as Karpenter's
// scheduler counts every node of the pool, candidates included, against
// the limits a replacement must fit in. Decisions are checked in order, each
// taken one adding to the usage the next is checked against.
func (e *evaluator) withinLimits(ds []*Decision) []*Decision {
	usage := map[string]corev1.ResourceList{}
	var kept []*Decision
	for _, d := range ds {
		adds := map[string]corev1.ResourceList{}
		for _, plan := range d.Replacements {
			if len(plan.Options) == 0 {
				continue
			}
			a := adds[plan.NodePool]
			if a == nil {
				a = corev1.ResourceList{}
				adds[plan.NodePool] = a
			}
			addResources(a, plan.Chosen().InstanceType.Allocatable)
			addResources(a, corev1.ResourceList{"nodes": *resource.NewQuantity(1, resource.DecimalSI)})
		}
		reason, pool := "", ""
		for _, name := range sortedKeys(adds) {
			p := e.pools[name]
			if p == nil || len(p.NodePool.Spec.Limits) == 0 {
				continue
			}
			if usage[name] == nil {
				usage[name] = e.inUse(p)
			}
			if r := exceeds(p.NodePool.Spec.Limits, usage[name], adds[name]); r != "" {
				reason, pool = fmt.Sprintf("replacement would exceed nodepool %s limits: %s", name, r), name
				break
			}
		}
		if reason != "" {
			e.res.OverLimit = append(e.res.OverLimit, OverLimit{Decision: d, NodePool: pool, Reason: reason})
			for _, n := range d.Candidates {
				e.block(n, reason)
			}
			continue
		}
		for name, a := range adds {
			if usage[name] != nil {
				addResources(usage[name], a)
			}
		}
		kept = append(kept, d)
	}
	return kept
}

// inUse is what the pool's nodes count toward its limits: the larger of
// the counter's figure in status (capacity of launched nodes) and the
// snapshot's nodes of the pool (which include claims launched since the
// counter last ran), per resource.
func (e *evaluator) inUse(p *Pool) corev1.ResourceList {
	seen := corev1.ResourceList{}
	nodes := int64(0)
	for _, n := range e.s.Nodes {
		if n.NodePool != p.NodePool.Name {
			continue
		}
		nodes++
		addResources(seen, n.Allocatable)
	}
	seen["nodes"] = *resource.NewQuantity(nodes, resource.DecimalSI)
	status := p.NodePool.Status.Resources.DeepCopy()
	if status == nil {
		status = corev1.ResourceList{}
	}
	status["nodes"] = *resource.NewQuantity(p.NodePool.Status.Nodes, resource.DecimalSI)
	for k, q := range status {
		if have, ok := seen[k]; !ok || q.Cmp(have) > 0 {
			seen[k] = q
		}
	}
	return seen
}

// exceeds names the limits that usage plus add goes past, or "".
func exceeds(limits, usage, add corev1.ResourceList) string {
	var over []string
	for _, k := range sortedKeys(limits) {
		lim := limits[k]
		q, ok := add[k]
		if !ok {
			continue
		}
		next := usage[k].DeepCopy()
		next.Add(q)
		if next.Cmp(lim) > 0 {
			over = append(over, fmt.Sprintf("%s %s > %s", k, next.String(), lim.String()))
		}
	}
	return strings.Join(over, ", ")
}

func addResources(to, from corev1.ResourceList) {
	for k, q := range from {
		sum := to[k]
		sum.Add(q)
		to[k] = sum
	}
}

func sortedKeys[V any, K ~string](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
