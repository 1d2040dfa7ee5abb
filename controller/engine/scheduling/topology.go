package scheduling

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
)

type topoKind int

const (
	kindSpread topoKind = iota
	kindAffinity
	kindAntiAffinity
)

func (k topoKind) String() string {
	return [...]string{"topology spread", "pod affinity", "pod anti-affinity"}[k]
}

// topoGroup counts, per topology domain, the pods a label selector matches.
// Pods with equal terms share one group, so counts are kept once.
type topoGroup struct {
	kind       topoKind
	key        string // topology key
	namespaces sets.Set[string]
	selector   labels.Selector
	// counts: pods matching the selector per domain (zone value or node id).
	counts map[string]int
	total  int
	// owners (anti-affinity): pods carrying the term, per domain, so that a
	// matching pod stays away from them too (the term is symmetric).
	owners map[string]int
	// domains known to exist for this key (zones offered, existing values).
	domains sets.Set[string]
	desc    string
}

// constraint binds one pod to a group.
type constraint struct {
	group      *topoGroup
	maxSkew    int
	minDomains int
	// honorAffinity: only domains the pod's node affinity allows count
	// toward the skew (nodeAffinityPolicy Honor, the default).
	honorAffinity bool
	// soft: preferred term or ScheduleAnyway spread. A soft anti-affinity
	// term binds only its own pod: kube-scheduler's symmetric check covers
	// required terms alone.
	soft bool
	// self is 1 when the pod matches the group's selector, so placing it
	// adds to its own domain's count (kube-scheduler's selfMatchNum).
	self int
}

type topology struct {
	groups map[string]*topoGroup
	list   []*topoGroup
	// journal, when set, records count changes for a Cluster to undo.
	journal *journal
}

func newTopology() *topology { return &topology{groups: map[string]*topoGroup{}} }

func (t *topology) group(kind topoKind, key, namespace string, nsList []string, sel *metav1.LabelSelector) (*topoGroup, error) {
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, err
	}
	ns := sets.New(nsList...)
	if ns.Len() == 0 {
		ns.Insert(namespace)
	}
	id := fmt.Sprintf("%d|%s|%s|%s", kind, key, strings.Join(sets.List(ns), ","), selector.String())
	if g, ok := t.groups[id]; ok {
		return g, nil
	}
	g := &topoGroup{kind: kind, key: key, namespaces: ns, selector: selector,
		counts: map[string]int{}, owners: map[string]int{}, domains: sets.New[string](),
		desc: fmt.Sprintf("%s on %s for %s", kind, key, selector.String())}
	t.groups[id] = g
	t.list = append(t.list, g)
	return g, nil
}

func (g *topoGroup) matches(p *corev1.Pod) bool {
	return g.namespaces.Has(p.Namespace) && g.selector.Matches(labels.Set(p.Labels))
}

// compile attaches the pod's topology spread and pod (anti-)affinity terms.
// Preferred terms and ScheduleAnyway spreads are soft: enforced until the
// pod can't be placed, then relaxed.
func (t *topology) compile(pi *podInfo) error {
	p := pi.pod
	for _, tsc := range p.Spec.TopologySpreadConstraints {
		g, err := t.group(kindSpread, tsc.TopologyKey, p.Namespace, nil, tsc.LabelSelector)
		if err != nil {
			return fmt.Errorf("topology spread: %w", err)
		}
		c := &constraint{group: g, maxSkew: int(tsc.MaxSkew), honorAffinity: tsc.NodeAffinityPolicy == nil || *tsc.NodeAffinityPolicy == corev1.NodeInclusionPolicyHonor}
		if tsc.MinDomains != nil {
			c.minDomains = int(*tsc.MinDomains)
		}
		pi.constraints = append(pi.constraints, c)
		if tsc.WhenUnsatisfiable == corev1.ScheduleAnyway {
			c.soft = true
			pi.soft = append(pi.soft, c)
		}
	}
	a := p.Spec.Affinity
	if a == nil {
		return nil
	}
	add := func(kind topoKind, term corev1.PodAffinityTerm, soft bool) error {
		if term.NamespaceSelector != nil && len(term.NamespaceSelector.MatchLabels)+len(term.NamespaceSelector.MatchExpressions) == 0 {
			// An empty namespace selector means every namespace; we only see
			// the namespaces of the pods at hand, which is what counts.
			term.Namespaces = nil
		}
		g, err := t.group(kind, term.TopologyKey, p.Namespace, term.Namespaces, term.LabelSelector)
		if err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		c := &constraint{group: g, soft: soft}
		pi.constraints = append(pi.constraints, c)
		if soft {
			pi.soft = append([]*constraint{c}, pi.soft...)
		}
		return nil
	}
	if a.PodAffinity != nil {
		for _, term := range a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			if err := add(kindAffinity, term, false); err != nil {
				return err
			}
		}
		for _, w := range a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			if err := add(kindAffinity, w.PodAffinityTerm, true); err != nil {
				return err
			}
		}
	}
	if a.PodAntiAffinity != nil {
		for _, term := range a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			if err := add(kindAntiAffinity, term, false); err != nil {
				return err
			}
		}
		for _, w := range a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			if err := add(kindAntiAffinity, w.PodAffinityTerm, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// link records which groups count the pod (its labels match their selector).
func (t *topology) link(pi *podInfo) {
	pi.counts = pi.counts[:0]
	for _, g := range t.list {
		if g.matches(pi.pod) {
			pi.counts = append(pi.counts, g)
		}
	}
	for _, c := range pi.constraints {
		c.self = 0
		if slices.Contains(pi.counts, c.group) {
			c.self = 1
		}
	}
}

// record counts a placed (or pre-existing) pod in its domains.
func (t *topology) record(pi *podInfo, domain func(key string) string) {
	for _, g := range pi.counts {
		if d := domain(g.key); d != "" {
			g.counts[d]++
			g.total++
			if t.journal != nil {
				t.journal.add(undoEntry{kind: undoCount, g: g, d: d, delta: 1})
				if !g.domains.Has(d) {
					t.journal.add(undoEntry{kind: undoDomainAdded, g: g, d: d})
				}
			}
			g.domains.Insert(d)
		}
	}
	for _, c := range pi.constraints {
		if c.group.kind == kindAntiAffinity && !c.soft {
			if d := domain(c.group.key); d != "" {
				c.group.owners[d]++
				if t.journal != nil {
					t.journal.add(undoEntry{kind: undoOwner, g: c.group, d: d, delta: 1})
				}
			}
		}
	}
}

// allowedDomains returns, for a constraint keyed on a label the node has not
// pinned yet, which of the candidate values would satisfy it. nil means any.
func (c *constraint) allowedDomains(pi *podInfo, candidates []string) []string {
	g := c.group
	var out []string
	switch g.kind {
	case kindSpread:
		minCount := c.minCount(pi)
		for _, d := range candidates {
			if g.counts[d]+c.self-minCount <= c.maxSkew {
				out = append(out, d)
			}
		}
		// Fill the emptiest domains first, so spreads stay level.
		sort.SliceStable(out, func(i, j int) bool { return g.counts[out[i]] < g.counts[out[j]] })
	case kindAffinity:
		if g.total == 0 {
			if g.matches(pi.pod) {
				return candidates
			}
			return nil
		}
		for _, d := range candidates {
			if g.counts[d] > 0 {
				out = append(out, d)
			}
		}
		sort.SliceStable(out, func(i, j int) bool { return g.counts[out[i]] > g.counts[out[j]] })
	case kindAntiAffinity:
		for _, d := range candidates {
			if g.counts[d] == 0 {
				out = append(out, d)
			}
		}
	}
	return out
}

// allowsFast checks a constraint against a node whose domain is known,
// without allocating: it runs for every (pod, node) pair the solver tries.
func (c *constraint) allowsFast(pi *podInfo, domain string) bool {
	g := c.group
	switch g.kind {
	case kindAffinity:
		if g.total == 0 {
			return g.matches(pi.pod)
		}
		return g.counts[domain] > 0
	case kindAntiAffinity:
		return g.counts[domain] == 0
	}
	// Spread on hostname: a new, empty node is always possible, so the
	// emptiest domain holds zero.
	if g.key == corev1.LabelHostname {
		return g.counts[domain]+c.self <= c.maxSkew
	}
	return g.counts[domain]+c.self-c.minCount(pi) <= c.maxSkew
}

// minCount is the smallest count among the domains eligible for pi (zero
// when fewer than minDomains exist).
func (c *constraint) minCount(pi *podInfo) int {
	g := c.group
	var r *Requirement
	if c.honorAffinity {
		r = pi.reqs[g.key]
	}
	eligible, lowest := 0, -1
	for d := range g.domains {
		if r != nil && !r.Has(d) {
			continue
		}
		eligible++
		if n := g.counts[d]; lowest < 0 || n < lowest {
			lowest = n
		}
	}
	if eligible < c.minDomains || lowest < 0 {
		return 0
	}
	return lowest
}

// antiOwnersAllow: no pod in the domain has an anti-affinity term matching pi.
func antiOwnersAllow(pi *podInfo, n *simNode, pl *placement) (bool, *topoGroup) {
	for _, g := range pi.counts {
		if g.kind == kindAntiAffinity {
			if d := pl.domain(n, g.key); d != "" && g.owners[d] > 0 {
				return false, g
			}
		}
	}
	return true, nil
}
