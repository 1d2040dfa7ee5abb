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
	// id is the group's place in topology.list.
	id         int
	kind       topoKind
	key        string // topology key
	namespaces sets.Set[string]
	// nsSelector, when set, also admits pods of namespaces whose labels it
	// matches (nsLabels); everything matches an empty one.
	nsSelector labels.Selector
	nsLabels   map[string]map[string]string
	selector   labels.Selector
	// counts: pods matching the selector per domain (zone value or node id).
	counts map[string]int
	total  int
	// owners (anti-affinity): pods carrying the term, per domain, so that a
	// matching pod stays away from them too (the term is symmetric).
	owners map[string]int
	// domains known to exist for this key (zones offered, existing values).
	domains sets.Set[string]
	// fixed are the domains the pools offer (discoverDomains): they stay
	// known when no pod is counted there.
	fixed sets.Set[string]
	// taints, per domain a pool offers, are the taint sets of the pools
	// offering it; a nil set means some pool offers it untainted. A spread
	// with nodeTaintsPolicy Honor counts only domains the pod tolerates.
	taints map[string][][]corev1.Taint
	// nodes are the existing nodes in each domain (spread groups): a
	// domain counts for a pod when one of them would take it, as
	// kube-scheduler counts domains, though no pod matches there.
	nodes map[string][]*simNode
	// existing are the existing nodes, for a hostname spread, whose
	// domains are the nodes themselves.
	existing []*simNode
	// onNode counts the pods counted in counts per existing node, so that
	// a spread can leave out the nodes it does not count, as kube-scheduler
	// counts only pods on the nodes its inclusion policies admit.
	onNode map[*simNode]int
	// views caches, per pod requirements and tolerations, which existing
	// nodes a spread counts.
	views map[viewKey]*nodeView
	desc  string
}

// offer records that a pool with these taints offers domain d.
func (g *topoGroup) offer(d string, taints []corev1.Taint) {
	g.domains.Insert(d)
	g.fixed.Insert(d)
	sets, known := g.taints[d]
	switch {
	case !known || len(taints) == 0:
		g.taints[d] = [][]corev1.Taint{taints}
	case len(sets[0]) > 0:
		g.taints[d] = append(sets, taints)
	}
}

// tolerable reports whether some pool offers d with taints the pod
// tolerates (NoSchedule and NoExecute ones, as kube-scheduler's
// nodeTaintsPolicy reads them). Domains no pool offers count as untainted.
func (g *topoGroup) tolerable(d string, pi *podInfo) bool {
	sets, known := g.taints[d]
	if !known {
		return true
	}
	for _, ts := range sets {
		if ok, _ := toleratesEffects(pi.tolerations, ts, false); ok {
			return true
		}
	}
	return false
}

// constraint binds one pod to a group.
type constraint struct {
	group      *topoGroup
	maxSkew    int
	minDomains int
	// honorAffinity: only domains the pod's node affinity allows count
	// toward the skew (nodeAffinityPolicy Honor, the default).
	honorAffinity bool
	// honorTaints: only domains offered with taints the pod tolerates count
	// (nodeTaintsPolicy Honor; the default is Ignore).
	honorTaints bool
	// soft: preferred term or ScheduleAnyway spread. A soft anti-affinity
	// term binds only its own pod: kube-scheduler's symmetric check covers
	// required terms alone.
	soft bool
	// self is 1 when the pod matches the group's selector, so placing it
	// adds to its own domain's count (kube-scheduler's selfMatchNum).
	self int
	// cachedView is the group's view for the pod's required term viewTerm
	// and tolerations viewTol: view runs for every node a pod is tried on.
	cachedView        *nodeView
	viewTerm, viewTol int
}

type topology struct {
	groups map[string]*topoGroup
	list   []*topoGroup
	// nsLabels are the namespaces' labels, for pod affinity terms that
	// select namespaces by label.
	nsLabels map[string]map[string]string
	// journal, when set, records count changes for a Cluster to undo.
	journal *journal
}

func newTopology() *topology { return &topology{groups: map[string]*topoGroup{}} }

// group returns the group counting, per domain of key, the pods sel
// matches in the namespaces given: nsList and those nsSel matches, or the
// pod's own namespace when neither is given (the PodAffinityTerm rules).
func (t *topology) group(kind topoKind, key, namespace string, nsList []string, nsSel, sel *metav1.LabelSelector) (*topoGroup, error) {
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, err
	}
	var nsSelector labels.Selector
	if nsSel != nil {
		if nsSelector, err = metav1.LabelSelectorAsSelector(nsSel); err != nil {
			return nil, fmt.Errorf("namespace selector: %w", err)
		}
	}
	// Nodes carry a deprecated topology label with the same value as its
	// stable one, so both name the same domains.
	key = normalizedKey(key)
	ns := sets.New(nsList...)
	if ns.Len() == 0 && nsSelector == nil {
		ns.Insert(namespace)
	}
	nsID := strings.Join(sets.List(ns), ",")
	if nsSelector != nil {
		nsID += "|" + nsSelector.String()
	}
	id := fmt.Sprintf("%d|%s|%s|%s", kind, key, nsID, selector.String())
	if g, ok := t.groups[id]; ok {
		return g, nil
	}
	g := &topoGroup{id: len(t.list), kind: kind, key: key, namespaces: ns, nsSelector: nsSelector, nsLabels: t.nsLabels, selector: selector,
		counts: map[string]int{}, owners: map[string]int{}, domains: sets.New[string](),
		fixed: sets.New[string](), taints: map[string][][]corev1.Taint{},
		desc: fmt.Sprintf("%s on %s for %s", kind, key, selector.String())}
	t.groups[id] = g
	t.list = append(t.list, g)
	return g, nil
}

func (g *topoGroup) matches(p *corev1.Pod) bool {
	if !g.namespaces.Has(p.Namespace) && (g.nsSelector == nil || !g.nsSelector.Matches(namespaceLabels(g.nsLabels, p.Namespace))) {
		return false
	}
	return g.selector.Matches(labels.Set(p.Labels))
}

// namespaceLabels are a namespace's labels; the API server gives every
// namespace kubernetes.io/metadata.name, so that one is known for any.
func namespaceLabels(all map[string]map[string]string, ns string) labels.Set {
	if l, ok := all[ns]; ok {
		return l
	}
	return labels.Set{corev1.LabelMetadataName: ns}
}

// compile attaches the pod's topology spread and pod (anti-)affinity terms.
// Preferred terms and ScheduleAnyway spreads are soft: enforced until the
// pod can't be placed, then relaxed.
func (t *topology) compile(pi *podInfo) error {
	p := pi.pod
	for _, tsc := range p.Spec.TopologySpreadConstraints {
		g, err := t.group(kindSpread, tsc.TopologyKey, p.Namespace, nil, nil, withMatchLabelKeys(tsc.LabelSelector, tsc.MatchLabelKeys, p.Labels))
		if err != nil {
			return fmt.Errorf("topology spread: %w", err)
		}
		c := &constraint{group: g, maxSkew: int(tsc.MaxSkew),
			honorAffinity: tsc.NodeAffinityPolicy == nil || *tsc.NodeAffinityPolicy == corev1.NodeInclusionPolicyHonor,
			honorTaints:   tsc.NodeTaintsPolicy != nil && *tsc.NodeTaintsPolicy == corev1.NodeInclusionPolicyHonor}
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
		g, err := t.group(kind, term.TopologyKey, p.Namespace, term.Namespaces, term.NamespaceSelector, term.LabelSelector)
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

// discoverDomains makes the domains the pools offer known to the spreads
// keyed on them before any pod lands there, with the taints they come with,
// as kube-scheduler knows every node's labels and Karpenter reads NodePools
// (topology.go buildDomainGroups). Without it a spread on capacity type or
// a custom label learns a domain only once a pod is counted in it, and
// piles every pod into the first.
func (t *topology) discoverDomains(pools []*poolInfo) {
	for _, g := range t.list {
		if g.kind != kindSpread || g.key == corev1.LabelHostname {
			continue
		}
		for _, p := range pools {
			for _, d := range p.domains(g.key) {
				g.offer(d, p.np.Taints)
			}
		}
	}
}

// withMatchLabelKeys adds to a spread's selector the pod's own value of
// each of its matchLabelKeys (a key the pod lacks is ignored), so that each
// revision of a Deployment spreads on its own. The API server merges them
// at admission in recent releases; doing it here again changes nothing for
// those pods and covers the rest (simulate's input, older clusters).
func withMatchLabelKeys(sel *metav1.LabelSelector, keys []string, podLabels map[string]string) *metav1.LabelSelector {
	if len(keys) == 0 || sel == nil {
		return sel
	}
	out := sel.DeepCopy()
	for _, k := range keys {
		if v, ok := podLabels[k]; ok {
			out.MatchExpressions = append(out.MatchExpressions, metav1.LabelSelectorRequirement{Key: k, Operator: metav1.LabelSelectorOpIn, Values: []string{v}})
		}
	}
	return out
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

// record counts a placed (or pre-existing) pod in its domains; n is the
// node it is on, nil for a pod on a node outside the solve.
func (t *topology) record(pi *podInfo, n *simNode, domain func(key string) string) {
	for _, g := range pi.counts {
		if d := domain(g.key); d != "" {
			g.counts[d]++
			g.total++
			if n != nil && n.existing != nil && g.kind == kindSpread {
				if g.onNode == nil {
					g.onNode = map[*simNode]int{}
				}
				g.onNode[n]++
				if t.journal != nil {
					t.journal.add(undoEntry{kind: undoOnNode, g: g, n: n, delta: 1})
				}
			}
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
			if c.count(d, pi)+c.self-minCount <= c.maxSkew {
				out = append(out, d)
			}
		}
		// Fill the emptiest domains first, so spreads stay level.
		sort.SliceStable(out, func(i, j int) bool { return c.count(out[i], pi) < c.count(out[j], pi) })
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
	// Spread on hostname: a new, empty node holds zero, as Karpenter
	// counts it, when some pool can launch one for the pod; otherwise
	// only the nodes there count, as kube-scheduler counts them.
	if g.key == corev1.LabelHostname && !pi.noNewNode {
		return c.count(domain, pi)+c.self <= c.maxSkew
	}
	return c.count(domain, pi)+c.self-c.minCount(pi) <= c.maxSkew
}

// minCount is the smallest count among the domains eligible for pi (zero
// when fewer than minDomains exist).
func (c *constraint) minCount(pi *podInfo) int {
	g := c.group
	if g.key == corev1.LabelHostname {
		return c.minHostCount(pi)
	}
	eligible, lowest := 0, -1
	for d := range g.domains {
		if !c.eligible(d, pi) {
			continue
		}
		eligible++
		if n := c.count(d, pi); lowest < 0 || n < lowest {
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
