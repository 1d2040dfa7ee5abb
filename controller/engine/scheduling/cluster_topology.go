package scheduling

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// takeOut hides a node and takes its pods out of topology, as if neither
// had ever been seen.
func (c *Cluster) takeOut(cn *clusterNode) {
	n, j := cn.sim, &c.j
	j.touch(n)
	n.closed = true
	for _, cp := range cn.pods {
		pi := cp.proto
		if pi == nil {
			continue
		}
		for _, g := range cp.recorded {
			if d := n.domain(g.key); d != "" {
				g.counts[d]--
				g.total--
				j.add(undoEntry{kind: undoCount, g: g, d: d, delta: -1})
				if g.onNode[n] > 0 {
					g.onNode[n]--
					j.add(undoEntry{kind: undoOnNode, g: g, n: n, delta: -1})
				}
				c.dropDomain(g, d)
			}
		}
		for _, con := range pi.constraints {
			if con.group.kind == kindAntiAffinity && !con.soft {
				if d := n.domain(con.group.key); d != "" {
					con.group.owners[d]--
					j.add(undoEntry{kind: undoOwner, g: con.group, d: d, delta: -1})
				}
			}
			if !cp.resched {
				c.definers[con.group]--
				j.add(undoEntry{kind: undoDefiner, g: con.group, delta: -1})
			}
		}
	}
	if z := cn.zone; z != "" {
		c.zoneRefs[z]--
		j.add(undoEntry{kind: undoZoneRef, d: z, delta: -1})
		if c.zoneRefs[z] == 0 {
			for _, g := range c.s.topo.list {
				if g.key == corev1.LabelTopologyZone {
					c.dropDomain(g, z)
				}
			}
		}
	}
}

// dropDomain forgets d for g once nothing keeps it known: no pod counted
// there, no node left there, and, for zones, no pool offering it.
func (c *Cluster) dropDomain(g *topoGroup, d string) {
	if g.counts[d] > 0 || !g.domains.Has(d) || g.fixed.Has(d) {
		return
	}
	if slices.ContainsFunc(g.nodes[d], func(n *simNode) bool { return !n.gone }) {
		return
	}
	if g.key == corev1.LabelTopologyZone && c.zoneRefs[d] > 0 {
		return
	}
	g.domains.Delete(d)
	c.j.add(undoEntry{kind: undoDomainRemoved, g: g, d: d})
}

// rank orders groups as a plain solve lists them: first those the pending
// pods define, in their order, then the rest by their first definition on
// a node still present.
func (c *Cluster) rank(pending []*clusterPod) map[*topoGroup]int {
	rank := map[*topoGroup]int{}
	for _, cp := range pending {
		for _, con := range cp.proto.constraints {
			if _, ok := rank[con.group]; !ok {
				rank[con.group] = len(rank)
			}
		}
	}
	const later = 1 << 40
	for _, g := range c.s.topo.list {
		if _, ok := rank[g]; ok {
			continue
		}
		for _, d := range c.defs[g] {
			if d.node < 0 || !c.nodes[d.node].removed {
				rank[g] = later + d.seq
				break
			}
		}
	}
	return rank
}
