package scheduling

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// Cluster is a solve input prepared once so that many what-if solves share
// the preparation: "if these nodes went away, where would their pods go?"
// Consolidation asks that question thousands of times per pass.
type Cluster struct {
	in     Input
	byName map[string]*ExistingNode
}

// NewCluster prepares in. in.Pods are ignored: the pods a what-if
// reschedules are those of the nodes it removes.
func NewCluster(in Input) (*Cluster, error) {
	c := &Cluster{in: in, byName: make(map[string]*ExistingNode, len(in.Nodes))}
	for _, n := range in.Nodes {
		if _, dup := c.byName[n.Name]; dup {
			return nil, fmt.Errorf("node %s is listed twice", n.Name)
		}
		c.byName[n.Name] = n
	}
	return c, nil
}

// Without simulates removing the named nodes: their reschedulable pods
// (not daemonset-owned, not terminal) are placed onto the remaining nodes
// and, where those are full, onto new NodeClaims. The result equals Solve
// of the input without those nodes and with their pods pending.
func (c *Cluster) Without(names []string, opts Options) (*Result, error) {
	removed := make(map[string]bool, len(names))
	in := c.in
	in.Pods = nil
	for _, name := range names {
		n, ok := c.byName[name]
		if !ok {
			return nil, fmt.Errorf("node %s is not in the cluster", name)
		}
		removed[name] = true
		for _, p := range n.Pods {
			if Reschedulable(p) {
				in.Pods = append(in.Pods, p)
			}
		}
	}
	in.Nodes = make([]*ExistingNode, 0, len(c.in.Nodes))
	for _, n := range c.in.Nodes {
		if !removed[n.Name] {
			in.Nodes = append(in.Nodes, n)
		}
	}
	return SolveWith(in, opts)
}

// Reschedulable reports whether a pod on a removed node must find a new
// home: daemonset pods die with their node and terminal pods need none.
func Reschedulable(p *corev1.Pod) bool {
	if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return false
	}
	for _, o := range p.OwnerReferences {
		if o.Kind == "DaemonSet" && o.Controller != nil && *o.Controller {
			return false
		}
	}
	return true
}
