package scheduling

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	resourcehelper "k8s.io/component-helpers/resource"
	"k8s.io/klog/v2"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/utils/resources"
)

// podInfo is a pod compiled for the hot path: its requests as a vector, its
// node requirements, and the topology groups it is bound by or counts toward.
type podInfo struct {
	pod *corev1.Pod
	key string
	req vec

	// reqs are the effective node requirements at the current relaxation
	// level; reqsID identifies equal requirement sets for caching.
	reqs   Requirements
	reqsID int

	// required node affinity terms are ORed: terms[termIdx] is in use.
	terms   []Requirements
	termIdx int
	// volumeReqs come from bound volumes and always apply.
	volumeReqs Requirements
	// preferred node affinity terms not yet given up, heaviest first; the
	// first is treated as required.
	preferred []weightedTerm
	// required is the in-use required term alone (with the node selector and
	// volumes): what kube-scheduler counts as a spread's eligible domains.
	required Requirements

	tolerations []corev1.Toleration
	tolID       int
	// preferNoSchedule, while set, is the pod's tolerations once it gives
	// up avoiding PreferNoSchedule taints: kube-scheduler scores such nodes
	// last, and Karpenter tries untainted pools first
	// (preferences.go toleratePreferNoScheduleTaints).
	preferNoSchedule *relaxedTolerations

	hostPorts []hostPort
	// class is the pod's packing class (cost-aware solves).
	class *podClass

	// constraints bind this pod; counts are groups whose selector matches it.
	constraints []*constraint
	counts      []*topoGroup
	// relaxable constraints (preferred affinity, ScheduleAnyway spread), in
	// the order they are dropped.
	soft []*constraint
	// noNewNode: no pool can launch a node for the pod as it stands, so a
	// hostname spread has no empty node to count (solver.canOpen).
	noNewNode bool
	// reqKey is required as a string, for caches; reqKeyed says it is set.
	reqKey   string
	reqKeyed bool
}

// requiredKey names the in-use required term, for caches keyed by it.
func (pi *podInfo) requiredKey() string {
	if !pi.reqKeyed {
		pi.reqKey, pi.reqKeyed = pi.required.String(), true
	}
	return pi.reqKey
}

type relaxedTolerations struct {
	tolerations []corev1.Toleration
	tolID       int
}

// tolerateAllPreferNoSchedule is the toleration a pod gains when it stops
// avoiding PreferNoSchedule taints.
var tolerateAllPreferNoSchedule = corev1.Toleration{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectPreferNoSchedule}

type weightedTerm struct {
	weight int32
	reqs   Requirements
}

type hostPort struct {
	protocol corev1.Protocol
	ip       string
	port     int32
}

func podKey(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }

// requests are podRequests plus, for each CSI driver, the distinct claims
// the pod attaches through it, which count against the node's attach
// limit as kube-scheduler's NodeVolumeLimits counts them. A claim two pods
// share counts for each, which is never less than the node can take.
func (s *solver) requests(p *corev1.Pod) corev1.ResourceList {
	reqs := podRequests(p)
	if len(s.volumeDrivers) == 0 || len(p.Spec.Volumes) == 0 {
		return reqs
	}
	seen := map[string]bool{}
	for _, v := range p.Spec.Volumes {
		claim := ClaimName(p, v)
		if claim == "" {
			continue
		}
		key := p.Namespace + "/" + claim
		driver, ok := s.volumeDrivers[key]
		if !ok || seen[key] {
			continue
		}
		seen[key] = true
		name := resources.AttachLimit(driver)
		q := reqs[name]
		q.Add(*resourceOne())
		reqs[name] = q
	}
	return reqs
}

// ClaimName is the claim a volume uses: a persistentVolumeClaim's, or the
// one a generic ephemeral volume's template makes (<pod>-<volume>).
func ClaimName(p *corev1.Pod, v corev1.Volume) string {
	switch {
	case v.PersistentVolumeClaim != nil:
		return v.PersistentVolumeClaim.ClaimName
	case v.Ephemeral != nil:
		return p.Name + "-" + v.Name
	}
	return ""
}

// podRequests sums what the pod needs from a node: containers, restartable
// init containers (sidecars), the largest init container, and pod overhead,
// as kubelet admission does; plus one pod slot.
func podRequests(p *corev1.Pod) corev1.ResourceList {
	reqs := resourcehelper.PodRequests(requestsDefaulted(p), resourcehelper.PodResourcesOptions{})
	reqs[corev1.ResourcePods] = *resourceOne()
	return reqs
}

// requestsDefaulted is the pod as the API server stores it: a container
// that sets a limit but no request for a resource requests its limit
// (SetDefaults_Pod, pkg/apis/core/v1/defaults.go). Pods read from the API
// server already are; DaemonSet templates and simulate's input are not.
// The pod itself is returned when nothing needs defaulting.
func requestsDefaulted(p *corev1.Pod) *corev1.Pod {
	needs := func(cs []corev1.Container) bool {
		for i := range cs {
			for n := range cs[i].Resources.Limits {
				if _, ok := cs[i].Resources.Requests[n]; !ok {
					return true
				}
			}
		}
		return false
	}
	if !needs(p.Spec.Containers) && !needs(p.Spec.InitContainers) {
		return p
	}
	fill := func(cs []corev1.Container) []corev1.Container {
		out := make([]corev1.Container, len(cs))
		for i, c := range cs {
			out[i] = c
			if len(c.Resources.Limits) == 0 {
				continue
			}
			reqs := make(corev1.ResourceList, len(c.Resources.Limits))
			for n, q := range c.Resources.Limits {
				reqs[n] = q
			}
			for n, q := range c.Resources.Requests {
				reqs[n] = q
			}
			out[i].Resources.Requests = reqs
		}
		return out
	}
	cp := *p
	cp.Spec.Containers = fill(p.Spec.Containers)
	cp.Spec.InitContainers = fill(p.Spec.InitContainers)
	return &cp
}

func newPodInfo(p *corev1.Pod, space *resourceSpace, volumes map[string][]corev1.NodeSelectorRequirement) (*podInfo, error) {
	return newPodInfoWith(p, podRequests(p), space, volumes)
}

// newPodInfoWith is newPodInfo for requests already summed.
func newPodInfoWith(p *corev1.Pod, requests corev1.ResourceList, space *resourceSpace, volumes map[string][]corev1.NodeSelectorRequirement) (*podInfo, error) {
	pi := &podInfo{pod: p, key: podKey(p), tolerations: p.Spec.Tolerations}
	pi.req = space.vector(requests)

	base := LabelRequirements(p.Spec.NodeSelector)
	if needsKarpenterLabels(p) {
		base.Add(karpenterLabelsRequired())
	}
	pi.volumeReqs = Requirements{}
	for _, v := range p.Spec.Volumes {
		claim := ClaimName(p, v)
		if claim == "" {
			continue
		}
		vr, err := NewRequirements(volumes[p.Namespace+"/"+claim]...)
		if err != nil {
			return nil, fmt.Errorf("volume %s: %w", v.Name, err)
		}
		pi.volumeReqs = pi.volumeReqs.Merge(vr)
	}
	base = base.Merge(pi.volumeReqs)

	if a := p.Spec.Affinity; a != nil && a.NodeAffinity != nil {
		if req := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution; req != nil {
			for _, term := range req.NodeSelectorTerms {
				r, err := NewRequirements(term.MatchExpressions...)
				if err != nil {
					return nil, fmt.Errorf("required node affinity: %w", err)
				}
				if requiresKarpenterKey(term.MatchExpressions) {
					r.Add(karpenterLabelsRequired())
				}
				pi.terms = append(pi.terms, base.Merge(r))
			}
		}
		for _, pref := range a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			r, err := NewRequirements(pref.Preference.MatchExpressions...)
			if err != nil {
				return nil, fmt.Errorf("preferred node affinity: %w", err)
			}
			if requiresKarpenterKey(pref.Preference.MatchExpressions) {
				r.Add(karpenterLabelsRequired())
			}
			pi.preferred = append(pi.preferred, weightedTerm{weight: pref.Weight, reqs: r})
		}
		// The heaviest term is tried alone first, then the next, as
		// Karpenter relaxes them (preferences.go removePreferredNodeAffinityTerm):
		// two terms together may be unsatisfiable where each alone is not.
		sort.SliceStable(pi.preferred, func(i, j int) bool { return pi.preferred[i].weight > pi.preferred[j].weight })
	}
	if len(pi.terms) == 0 {
		pi.terms = []Requirements{base}
	}
	for _, c := range p.Spec.Containers {
		for _, port := range c.Ports {
			if port.HostPort > 0 {
				proto := port.Protocol
				if proto == "" {
					proto = corev1.ProtocolTCP
				}
				pi.hostPorts = append(pi.hostPorts, hostPort{protocol: proto, ip: port.HostIP, port: port.HostPort})
			}
		}
	}
	pi.rebuildReqs()
	return pi, nil
}

// needsKarpenterLabels reports whether kube-scheduler puts p only on a
// node that carries one of Karpenter's keys: its node selector names one,
// or a DoNotSchedule spread or a required pod affinity term has one as
// its topology key (a node without the key is in no domain). Required
// node affinity terms are ORed, so each says so for itself.
func needsKarpenterLabels(p *corev1.Pod) bool {
	karpenter := func(key string) bool {
		_, ok := v1.KarpenterLabelAliases[key]
		return ok
	}
	for k := range p.Spec.NodeSelector {
		if karpenter(k) {
			return true
		}
	}
	for _, tsc := range p.Spec.TopologySpreadConstraints {
		if tsc.WhenUnsatisfiable == corev1.DoNotSchedule && karpenter(tsc.TopologyKey) {
			return true
		}
	}
	if a := p.Spec.Affinity; a != nil && a.PodAffinity != nil {
		for _, term := range a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			if karpenter(term.TopologyKey) {
				return true
			}
		}
	}
	return false
}

// rebuildReqs recomputes the effective requirements after a relaxation.
func (pi *podInfo) rebuildReqs() {
	pi.required = pi.terms[pi.termIdx]
	pi.reqs = pi.required
	pi.reqKeyed = false
	if len(pi.preferred) > 0 {
		pi.reqs = pi.reqs.Merge(pi.preferred[0].reqs)
	}
	pi.reqsID = -1
}

// relax gives up one preference. Required node affinity terms are ORed,
// so the next term is tried first, with every preference still on, as
// Karpenter does (preferences.go removeRequiredNodeAffinityTerm comes
// first); once all terms fail, it drops the heaviest preferred node
// affinity term still tried, then soft topology constraints, then
// PreferNoSchedule taints stop keeping it off, each time from the first
// required term again. Unlike Karpenter, a term is never dropped for good:
// a term that failed only with a preference on may take the pod once it is
// gone. It reports false when nothing is left.
func (pi *podInfo) relax() bool {
	switch {
	case pi.termIdx+1 < len(pi.terms):
		pi.termIdx++
	case len(pi.preferred) > 0:
		pi.preferred = pi.preferred[1:]
		pi.termIdx = 0
	case len(pi.soft) > 0:
		drop := pi.soft[len(pi.soft)-1]
		pi.soft = pi.soft[:len(pi.soft)-1]
		for i, c := range pi.constraints {
			if c == drop {
				pi.constraints = append(pi.constraints[:i:i], pi.constraints[i+1:]...)
				break
			}
		}
		if pi.termIdx == 0 {
			return true // the requirements are as they were
		}
		pi.termIdx = 0
	case pi.preferNoSchedule != nil:
		pi.tolerations, pi.tolID = pi.preferNoSchedule.tolerations, pi.preferNoSchedule.tolID
		pi.preferNoSchedule = nil
		pi.termIdx = 0
	default:
		return false
	}
	pi.rebuildReqs()
	return true
}

// tolerates reports the first taint the pod doesn't tolerate, if any. A
// PreferNoSchedule taint counts like any other: pods avoid it until they
// relax (podInfo.preferNoSchedule).
func tolerates(tolerations []corev1.Toleration, taints []corev1.Taint) (bool, *corev1.Taint) {
	return toleratesEffects(tolerations, taints, true)
}

// toleratesEffects is tolerates, with PreferNoSchedule taints ignored
// unless preferNoSchedule: the DaemonSet controller places its pods on
// nodes with such taints.
func toleratesEffects(tolerations []corev1.Toleration, taints []corev1.Taint, preferNoSchedule bool) (bool, *corev1.Taint) {
	for i := range taints {
		t := &taints[i]
		if !preferNoSchedule && t.Effect == corev1.TaintEffectPreferNoSchedule {
			continue
		}
		ok := false
		for j := range tolerations {
			// Comparison operators (Gt/Lt tolerations) are alpha in 1.37: off, as on EKS.
			if tolerations[j].ToleratesTaint(klog.Background(), t, false) {
				ok = true
				break
			}
		}
		if !ok {
			return false, t
		}
	}
	return true, nil
}

func taintString(t *corev1.Taint) string {
	if t.Value == "" {
		return fmt.Sprintf("%s:%s", t.Key, t.Effect)
	}
	return fmt.Sprintf("%s=%s:%s", t.Key, t.Value, t.Effect)
}

func portsConflict(a, b []hostPort) bool {
	for _, x := range a {
		for _, y := range b {
			if x.port == y.port && x.protocol == y.protocol && (x.ip == y.ip || x.ip == "" || y.ip == "" || x.ip == "0.0.0.0" || y.ip == "0.0.0.0") {
				return true
			}
		}
	}
	return false
}

// requirementSummary names a pod's requirements the way users write them.
func requirementSummary(r Requirements) string {
	var parts []string
	for _, k := range r.Keys() {
		s := r[k].String()
		s = strings.TrimPrefix(s, "nodewright.dev/")
		s = strings.TrimPrefix(s, "kubernetes.io/")
		s = strings.TrimPrefix(s, "node.kubernetes.io/")
		s = strings.TrimPrefix(s, "topology.kubernetes.io/")
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}
