package disruptionplan

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

// MultiNodeCandidates caps the prefix multi-node consolidation searches.
const MultiNodeCandidates = 100

// DefaultSpotToSpotMinTypes is Options.SpotToSpotMinTypes when unset.
const DefaultSpotToSpotMinTypes = 15

// Methods lists every method in the order a pass tries them.
var Methods = []Method{MethodEmptiness, MethodDrift, MethodMultiNodeConsolidation, MethodSingleNodeConsolidation}

type evaluator struct {
	s       *Snapshot
	opts    Options
	res     *Result
	pools   map[string]*Pool
	cluster *scheduling.Cluster
	cands   []*candidate
	// left is how many more of a pool's nodes a reason may disrupt.
	left map[string]map[v1.DisruptionReason]int
	// taken: the pods of nodes being disrupted that are expected to move
	// onto each node.
	taken map[string][]*corev1.Pod
	// spent: pools whose budget windows were already looked at.
	spent map[string]bool
	// skipped: pools whose budgets cannot be evaluated, and why.
	skipped map[string]string
}

// Evaluate runs one disruption pass over the snapshot: the first method
// (in Methods order) that finds something to do decides, with one decision
// (emptiness: one per pool, each removing every empty node its budget
// allows).
//
// Candidates are initialized, not deleting nodes of a known pool. A node
// is never a candidate, for any method including drift, while it or one
// of its pods carries do-not-disrupt ("true", or a
// duration not yet elapsed since the pod started; any other value but
// "false" blocks too), while a PodDisruptionBudget allows no eviction of
// one of its pods, or while it runs a pod without a controller (daemonset
// and mirror pods excepted). Emptiness and consolidation further need the
// pool's policy and its consolidateAfter (since the last pod event, else
// creation; Never turns them off); drift does not, and waits until every
// pod has a home. Expiry is not planned here: the nodeclaim expiration
// controller deletes an expired claim whatever blocks disruption.
//
// Every what-if asks one scheduling.Cluster built at the start of the
// pass (after placing the pods of nodes already being disrupted, whose
// room no decision may count on). Pool limits are not part of the
// what-ifs (see scheduling.NodePoolFor); a decision whose replacements
// would take a pool past them is set aside afterwards (Result.OverLimit)
// and the next method is tried.
func Evaluate(s *Snapshot, opts Options) (*Result, error) {
	if opts.SpotToSpotMinTypes <= 0 {
		opts.SpotToSpotMinTypes = DefaultSpotToSpotMinTypes
	}
	e := &evaluator{s: s, opts: opts, res: &Result{}, pools: map[string]*Pool{}, left: map[string]map[v1.DisruptionReason]int{}, spent: map[string]bool{},
		skipped: map[string]string{}}
	for _, p := range s.Pools {
		e.pools[p.NodePool.Name] = p
	}
	e.budgets()
	e.classify()
	if len(e.cands) == 0 {
		return e.res, nil
	}
	if err := e.prepare(); err != nil {
		return nil, err
	}
	run := map[Method]func() ([]*Decision, error){
		MethodEmptiness:               e.emptiness,
		MethodDrift:                   e.drift,
		MethodMultiNodeConsolidation:  e.multiNode,
		MethodSingleNodeConsolidation: e.singleNode,
	}
	for _, m := range Methods {
		if len(opts.Methods) > 0 && !slices.Contains(opts.Methods, m) {
			continue
		}
		ds, err := run[m]()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m, err)
		}
		if ds = e.withinLimits(ds); len(ds) > 0 {
			e.res.Decisions = ds
			break
		}
	}
	return e.res, nil
}

// prepare builds the what-if cluster once, from every node not already
// going away. The pods of nodes that are going away still need homes: they
// are placed first (one what-if on a cluster that still has those nodes),
// and where they land is taken, so that no decision counts on room that
// the drained pods (or a replacement launched for them) will fill.
func (e *evaluator) prepare() error {
	in := scheduling.Input{DaemonSets: e.s.DaemonSets, PodsElsewhere: slices.Clone(e.s.PodsElsewhere), VolumeRequirements: e.s.VolumeRequirements, VolumeDrivers: e.s.VolumeDrivers,
		NamespaceLabels: e.s.NamespaceLabels}
	for _, p := range e.s.Pools {
		// A skipped pool gets no replacements either: no decision touches it.
		if p.Scheduling != nil && p.NodePool.DeletionTimestamp.IsZero() && e.skipped[p.NodePool.Name] == "" {
			in.NodePools = append(in.NodePools, p.Scheduling)
		}
	}
	var leaving []string
	all := make([]*scheduling.ExistingNode, 0, len(e.s.Nodes))
	for _, n := range e.s.Nodes {
		all = append(all, &n.ExistingNode)
		if !n.Deleting {
			continue
		}
		for _, p := range n.Pods {
			if movable(p) {
				leaving = append(leaving, n.Name)
				break
			}
		}
	}
	taken := map[string][]*corev1.Pod{}
	placed := map[*corev1.Pod]bool{}
	if len(leaving) > 0 {
		withLeaving := in
		withLeaving.Nodes = all
		c, err := scheduling.NewCluster(withLeaving)
		if err != nil {
			return fmt.Errorf("preparing the cluster: %w", err)
		}
		res, err := c.Without(leaving, scheduling.Options{})
		if err != nil {
			return fmt.Errorf("placing the pods of nodes being disrupted: %w", err)
		}
		e.res.WhatIfs++
		for _, pl := range res.ExistingNodes {
			taken[pl.Node] = pl.Pods
			for _, p := range pl.Pods {
				placed[p] = true
			}
		}
	}
	e.taken = taken
	for _, n := range e.s.Nodes {
		if n.Deleting {
			for _, p := range n.Pods {
				if !placed[p] {
					in.PodsElsewhere = append(in.PodsElsewhere, scheduling.PodOnDomain{Pod: p, NodeLabels: n.Labels})
				}
			}
			continue
		}
		en := &n.ExistingNode
		if extra := taken[n.Name]; len(extra) > 0 {
			cp := *en
			cp.Pods = append(slices.Clone(en.Pods), extra...)
			en = &cp
		}
		in.Nodes = append(in.Nodes, en)
	}
	c, err := scheduling.NewCluster(in)
	if err != nil {
		return fmt.Errorf("preparing the cluster: %w", err)
	}
	e.cluster = c
	return nil
}

func (e *evaluator) without(names []string, opts scheduling.Options) (*scheduling.Result, error) {
	e.res.WhatIfs++
	return e.cluster.Without(names, opts)
}

func (e *evaluator) block(n *Node, reason string) {
	e.res.Blocked = append(e.res.Blocked, Blocked{Node: n.Name, Reason: reason})
}

func (e *evaluator) next(t time.Time) {
	if e.res.NextCheck.IsZero() || t.Before(e.res.NextCheck) {
		e.res.NextCheck = t
	}
}

func (e *evaluator) decision(m Method, r v1.DisruptionReason, cands []*candidate, res *scheduling.Result) *Decision {
	d := &Decision{Method: m, Reason: r, Placements: res.ExistingNodes}
	for _, c := range cands {
		d.Candidates = append(d.Candidates, c.node)
		d.PodsMoved += len(c.pods)
	}
	return d
}

// what says what the decision does: "replacing A with B; 4 pods move".
func (d *Decision) what() string {
	var b strings.Builder
	if len(d.Replacements) == 0 {
		b.WriteString("deleting " + describeNodes(d.Candidates))
	} else {
		b.WriteString("replacing " + describeNodes(d.Candidates) + " with ")
		parts := make([]string, len(d.Replacements))
		for i, p := range d.Replacements {
			o := p.Chosen()
			parts[i] = describe(o.InstanceType.Name, o.Offering.CapacityType, o.Cost.Total())
		}
		b.WriteString(strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, "; %d pods move", d.PodsMoved)
	return b.String()
}

func describe(instanceType, capacityType string, price float64) string {
	if instanceType == "" {
		instanceType = "unknown type"
	}
	if capacityType == "" {
		capacityType = "unknown capacity"
	}
	return fmt.Sprintf("%s (%s, $%s/h)", instanceType, capacityType, formatPrice(price))
}

func formatPrice(p float64) string { return fmt.Sprintf("%.4g", p) }

func describeNodes(nodes []*Node) string {
	if len(nodes) == 1 {
		n := nodes[0]
		return describe(n.InstanceType, n.CapacityType, n.Price)
	}
	total := 0.0
	types := map[string]int{}
	for _, n := range nodes {
		total += n.Price
		types[n.InstanceType]++
	}
	names := make([]string, 0, len(types))
	for t := range types {
		names = append(names, t)
	}
	sort.Strings(names)
	for i, t := range names {
		if types[t] > 1 {
			names[i] = fmt.Sprintf("%d×%s", types[t], t)
		}
	}
	return fmt.Sprintf("%d nodes (%s; $%s/h)", len(nodes), strings.Join(names, ", "), formatPrice(total))
}
