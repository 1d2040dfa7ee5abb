package scheduling

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	resourcehelper "k8s.io/component-helpers/resource"
	"k8s.io/klog/v2"
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
	// preferred node affinity terms still treated as required, by weight.
	preferred []weightedTerm

	tolerations []corev1.Toleration
	tolID       int

	hostPorts []hostPort
	// class is the pod's packing class (cost-aware solves).
	class *podClass

	// constraints bind this pod; counts are groups whose selector matches it.
	constraints []*constraint
	counts      []*topoGroup
	// relaxable constraints (preferred affinity, ScheduleAnyway spread), in
	// the order they are dropped.
	soft []*constraint
}

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

// podRequests sums what the pod needs from a node: containers, restartable
// init containers (sidecars), the largest init container, and pod overhead,
// as kubelet admission does; plus one pod slot.
func podRequests(p *corev1.Pod) corev1.ResourceList {
	reqs := resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{})
	reqs[corev1.ResourcePods] = *resourceOne()
	return reqs
}

func newPodInfo(p *corev1.Pod, space *resourceSpace, volumes map[string][]corev1.NodeSelectorRequirement) (*podInfo, error) {
	return newPodInfoWith(p, podRequests(p), space, volumes)
}

// newPodInfoWith is newPodInfo for requests already summed.
func newPodInfoWith(p *corev1.Pod, requests corev1.ResourceList, space *resourceSpace, volumes map[string][]corev1.NodeSelectorRequirement) (*podInfo, error) {
	pi := &podInfo{pod: p, key: podKey(p), tolerations: p.Spec.Tolerations}
	pi.req = space.vector(requests)

	base := LabelRequirements(p.Spec.NodeSelector)
	pi.volumeReqs = Requirements{}
	for _, v := range p.Spec.Volumes {
		if v.PersistentVolumeClaim == nil {
			continue
		}
		vr, err := NewRequirements(volumes[p.Namespace+"/"+v.PersistentVolumeClaim.ClaimName]...)
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
				pi.terms = append(pi.terms, base.Merge(r))
			}
		}
		for _, pref := range a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			r, err := NewRequirements(pref.Preference.MatchExpressions...)
			if err != nil {
				return nil, fmt.Errorf("preferred node affinity: %w", err)
			}
			pi.preferred = append(pi.preferred, weightedTerm{weight: pref.Weight, reqs: r})
		}
		// Heaviest preferences are kept longest: drop from the end.
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

// rebuildReqs recomputes the effective requirements after a relaxation.
func (pi *podInfo) rebuildReqs() {
	r := pi.terms[pi.termIdx]
	for _, pref := range pi.preferred {
		r = r.Merge(pref.reqs)
	}
	pi.reqs = r
	pi.reqsID = -1
}

// relax drops the weakest preference still in force: a preferred node
// affinity term first, then soft topology constraints, then it moves to the
// next required node affinity term. It reports false when nothing is left.
func (pi *podInfo) relax() bool {
	switch {
	case len(pi.preferred) > 0:
		pi.preferred = pi.preferred[:len(pi.preferred)-1]
	case len(pi.soft) > 0:
		drop := pi.soft[len(pi.soft)-1]
		pi.soft = pi.soft[:len(pi.soft)-1]
		for i, c := range pi.constraints {
			if c == drop {
				pi.constraints = append(pi.constraints[:i:i], pi.constraints[i+1:]...)
				break
			}
		}
		return true
	case pi.termIdx+1 < len(pi.terms):
		pi.termIdx++
	default:
		return false
	}
	pi.rebuildReqs()
	return true
}

// tolerates reports the first taint the pod doesn't tolerate, if any.
// PreferNoSchedule taints never block.
func tolerates(tolerations []corev1.Toleration, taints []corev1.Taint) (bool, *corev1.Taint) {
	for i := range taints {
		t := &taints[i]
		if t.Effect == corev1.TaintEffectPreferNoSchedule {
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
