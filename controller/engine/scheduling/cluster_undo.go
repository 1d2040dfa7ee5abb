package scheduling

// journal is the undo log of one what-if: everything a Cluster's shared
// solver state gains or loses while the what-if runs, so that rolling back
// costs as much as the what-if changed, not as much as the cluster holds.
type journal struct {
	entries []undoEntry
	nodes   []nodeSave
	caps    []capSave
	pools   []poolSave
	// spare holds used vectors of earlier what-ifs for reuse.
	spare []vec
}

type undoKind uint8

const (
	undoCount         undoKind = iota // counts[d] and total changed by delta
	undoOwner                         // owners[d] changed by delta
	undoDomainAdded                   // d joined domains
	undoDomainRemoved                 // d left domains
	undoZoneRef                       // zoneRefs[d] changed by delta
	undoDefiner                       // definers[g] changed by delta
	undoOnNode                        // onNode[n] changed by delta
)

type undoEntry struct {
	kind  undoKind
	g     *topoGroup
	d     string
	n     *simNode
	delta int
}

// nodeSave is an existing node as it was before the what-if placed pods
// on it (or hid it).
type nodeSave struct {
	n      *simNode
	used   vec
	ports  int
	closed bool
}

type capSave struct {
	n   *simNode
	dim int
	was int64
}

type poolSave struct {
	p         *poolInfo
	committed vec
	nodes     int
}

func (j *journal) add(e undoEntry) { j.entries = append(j.entries, e) }

// touch saves an existing node before its first change in this what-if.
func (j *journal) touch(n *simNode) {
	if n.journaled {
		return
	}
	n.journaled = true
	var used vec
	if k := len(j.spare); k > 0 {
		used, j.spare = j.spare[k-1], j.spare[:k-1]
	} else {
		used = make(vec, len(n.used))
	}
	copy(used, n.used)
	j.nodes = append(j.nodes, nodeSave{n: n, used: used, ports: len(n.ports), closed: n.closed})
}

// rollback undoes the what-if, newest change first.
func (j *journal) rollback(c *Cluster) {
	for i := len(j.entries) - 1; i >= 0; i-- {
		e := j.entries[i]
		switch e.kind {
		case undoCount:
			e.g.counts[e.d] -= e.delta
			e.g.total -= e.delta
		case undoOwner:
			e.g.owners[e.d] -= e.delta
		case undoDomainAdded:
			e.g.domains.Delete(e.d)
		case undoDomainRemoved:
			e.g.domains.Insert(e.d)
		case undoZoneRef:
			c.zoneRefs[e.d] -= e.delta
		case undoDefiner:
			c.definers[e.g] -= e.delta
		case undoOnNode:
			e.g.onNode[e.n] -= e.delta
		}
	}
	j.entries = j.entries[:0]
	for i := len(j.nodes) - 1; i >= 0; i-- {
		ns := j.nodes[i]
		copy(ns.n.used, ns.used)
		ns.n.ports = ns.n.ports[:ns.ports]
		ns.n.pods = nil
		ns.n.closed = ns.closed
		ns.n.journaled = false
		j.spare = append(j.spare, ns.used)
	}
	j.nodes = j.nodes[:0]
	for i := len(j.caps) - 1; i >= 0; i-- {
		j.caps[i].n.cap[j.caps[i].dim] = j.caps[i].was
	}
	j.caps = j.caps[:0]
	for _, ps := range j.pools {
		ps.p.committed, ps.p.nodes = ps.committed, ps.nodes
	}
	j.pools = j.pools[:0]
}
