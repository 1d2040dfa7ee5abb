package scheduling

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// Spreads count domains and pods as kube-scheduler's PodTopologySpread
// does: only on the existing nodes the pod's node inclusion policies
// admit. A nodeView is that set of nodes for one pod's requirements and
// tolerations, shared by the pods that have them.

type viewKey struct {
	required            string
	tolID               int
	honorAff, honorTain bool
}

// nodeView is the existing nodes as one pod's spread counts them, gone
// or not: a Cluster's what-ifs hide nodes without changing it.
type nodeView struct {
	// counted are, per domain, the nodes the spread counts.
	counted map[string][]*simNode
	// left are, per domain, the nodes it does not count.
	left map[string][]*simNode
}

// eligible reports whether domain d counts toward pi's spread, as
// kube-scheduler's PodTopologySpread counts domains: some existing node
// there, or some pool offering it for a new one, that the pod's node
// selector and required affinity admit (nodeAffinityPolicy Honor; never
// its preferred terms) and whose NoSchedule and NoExecute taints it
// tolerates (nodeTaintsPolicy Honor). A domain known only from the pods
// counted there is judged by its value alone.
func (c *constraint) eligible(d string, pi *podInfo) bool {
	g := c.group
	var r *Requirement
	if c.honorAffinity {
		r = pi.required[g.key]
	}
	offered := (r == nil || r.Has(d)) && (!c.honorTaints || g.tolerable(d, pi))
	if g.fixed.Has(d) && offered {
		return true
	}
	if len(g.nodes[d]) > 0 {
		return slices.ContainsFunc(c.view(pi).counted[d], func(n *simNode) bool { return !n.gone })
	}
	return offered && !g.fixed.Has(d)
}

// count is the pods the spread counts in d: those on the existing nodes
// it leaves out do not count, as kube-scheduler counts pods only on nodes
// its inclusion policies admit.
func (c *constraint) count(d string, pi *podInfo) int {
	g := c.group
	n := g.counts[d]
	if len(g.nodes[d]) == 0 || n == 0 {
		return n
	}
	for _, left := range c.view(pi).left[d] {
		n -= g.onNode[left]
	}
	return n
}

// view works out, once per pod requirements and tolerations, which
// existing nodes the spread counts for pi.
func (c *constraint) view(pi *podInfo) *nodeView {
	g := c.group
	if c.cachedView != nil && c.viewTerm == pi.termIdx && c.viewTol == pi.tolID {
		return c.cachedView
	}
	key := viewKey{required: pi.requiredKey(), tolID: pi.tolID, honorAff: c.honorAffinity, honorTain: c.honorTaints}
	v, ok := g.views[key]
	if !ok {
		v = c.newView(pi)
		if g.views == nil {
			g.views = map[viewKey]*nodeView{}
		}
		g.views[key] = v
	}
	c.cachedView, c.viewTerm, c.viewTol = v, pi.termIdx, pi.tolID
	return v
}

// minHostCount is minCount for a hostname spread where no new node can
// be had: the fewest matching pods on an existing node the spread counts.
func (c *constraint) minHostCount(pi *podInfo) int {
	g := c.group
	eligible, lowest := 0, -1
	for _, n := range c.view(pi).counted[""] {
		if n.gone {
			continue
		}
		eligible++
		if k := g.counts[n.name]; lowest < 0 || k < lowest {
			lowest = k
		}
	}
	if eligible < c.minDomains || lowest < 0 {
		return 0
	}
	return lowest
}

func (c *constraint) newView(pi *podInfo) *nodeView {
	g := c.group
	v := &nodeView{counted: map[string][]*simNode{}, left: map[string][]*simNode{}}
	nodes := g.nodes
	if g.key == corev1.LabelHostname {
		// One domain per node: the view lists them all under "".
		nodes = map[string][]*simNode{"": g.existing}
	}
	for d, nodes := range nodes {
		for _, n := range nodes {
			counted := true
			if c.honorAffinity {
				counted, _ = pi.required.SatisfiedBy(n.labels)
			}
			if counted && c.honorTaints {
				counted, _ = toleratesEffects(pi.tolerations, n.taints, false)
			}
			if counted {
				v.counted[d] = append(v.counted[d], n)
			} else {
				v.left[d] = append(v.left[d], n)
			}
		}
	}
	return v
}

// addNodes indexes the existing nodes by their domain in every spread
// group, once all groups are known.
func (t *topology) addNodes(nodes []*simNode) {
	for _, g := range t.list {
		if g.kind != kindSpread {
			continue
		}
		if g.key == corev1.LabelHostname {
			// A node per domain: indexed only if some pod needs it
			// (minHostCount), through the view.
			g.existing = nodes
			continue
		}
		for _, n := range nodes {
			if d := n.domain(g.key); d != "" {
				if g.nodes == nil {
					g.nodes = map[string][]*simNode{}
				}
				g.nodes[d] = append(g.nodes[d], n)
				g.domains.Insert(d)
			}
		}
	}
}
