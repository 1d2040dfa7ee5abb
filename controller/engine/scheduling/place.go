package scheduling

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// placeAll places the pods in order, then retries those that failed and
// whose required pod affinity or spread depends on where other pods go:
// pods placed after them may have made room, as for a pod requiring
// affinity to one placed later. Like Karpenter's queue, it goes round until
// a pass places none. A retry starts from the pod as it was before its
// first try, preferences whole. The pods left are res.Unschedulable.
func (s *solver) placeAll(pods []*podInfo, res *Result) {
	pristine := map[*podInfo]*podInfo{}
	for _, pi := range pods {
		if dependsOnOthers(pi.pod) {
			fresh := pi.clone()
			fresh.counts = pi.counts
			pristine[pi] = fresh
		}
	}
	var failed []*podInfo
	reasons := map[*podInfo]string{}
	for _, pi := range pods {
		if reason := s.place(pi); reason != "" {
			failed = append(failed, pi)
			reasons[pi] = reason
			continue
		}
		res.Order = append(res.Order, pi.pod)
	}
	for len(failed) > 0 {
		var still []*podInfo
		for _, pi := range failed {
			fresh, ok := pristine[pi]
			if !ok {
				still = append(still, pi)
				continue
			}
			again := fresh.clone()
			again.counts = fresh.counts
			pristine[again] = fresh
			if reason := s.place(again); reason != "" {
				still = append(still, again)
				reasons[again] = reason
				continue
			}
			res.Order = append(res.Order, again.pod)
		}
		if len(still) == len(failed) {
			failed = still
			break
		}
		failed = still
	}
	for _, pi := range failed {
		res.Unschedulable = append(res.Unschedulable, &Unschedulable{Pod: pi.pod, Reason: reasons[pi]})
	}
}

// dependsOnOthers: the pod has required pod (anti-)affinity or a
// DoNotSchedule spread, which other pods' placements can satisfy.
func dependsOnOthers(p *corev1.Pod) bool {
	for _, c := range p.Spec.TopologySpreadConstraints {
		if c.WhenUnsatisfiable == corev1.DoNotSchedule {
			return true
		}
	}
	a := p.Spec.Affinity
	return a != nil && (a.PodAffinity != nil && len(a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution) > 0 ||
		a.PodAntiAffinity != nil && len(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) > 0)
}

// place finds a home for one pod, relaxing its preferences as needed, and
// returns the reason it can't be placed, if so.
func (s *solver) place(pi *podInfo) string {
	defer s.placed(pi)
	c := pi.class
	memo := c != nil && c.memo && s.look != nil
	hostnameSpread := slices.ContainsFunc(pi.constraints, func(c *constraint) bool {
		return c.group.kind == kindSpread && c.group.key == corev1.LabelHostname && !c.soft
	})
	relaxed := false
	for {
		if hostnameSpread {
			pi.noNewNode = !s.canOpenFor(pi, relaxed)
		}
		start := 0
		if memo {
			start = c.skip
		}
		for i := start; i < len(s.open); i++ {
			n := s.open[i]
			if !n.closed {
				if pl := s.admit(n, pi); pl != nil {
					s.commit(n, pi, pl)
					s.compact()
					return ""
				}
			}
			if memo && i == c.skip {
				c.skip++
			}
		}
		reasons := s.openNode(pi)
		if reasons == nil {
			return ""
		}
		// No node of its own (limits, say): joining at a premium beats not running.
		if s.costAware && s.placeAnywhere(pi) {
			return ""
		}
		if !pi.relax() {
			return strings.Join(reasons, "; ")
		}
		// The class's memo holds for the pod as it was: a node that refused
		// it (for a PreferNoSchedule taint, say) may take it relaxed.
		memo, relaxed = false, true
	}
}

func (s *solver) placeAnywhere(pi *podInfo) bool {
	s.costAware = false
	defer func() { s.costAware = true }()
	for _, n := range s.open {
		if n.closed {
			continue
		}
		if pl := s.admit(n, pi); pl != nil {
			s.commit(n, pi, pl)
			s.compact()
			return true
		}
	}
	return false
}

// compact drops closed nodes from the open list once they are most of it.
// closedSince counts the nodes closed since the last compaction, so the
// check costs nothing per placement.
func (s *solver) compact() {
	if s.closedSince <= 64 || s.closedSince <= len(s.open)/2 {
		return
	}
	s.closedSince = 0
	kept := s.open[:0]
	for _, n := range s.open {
		if !n.closed {
			kept = append(kept, n)
		}
	}
	s.open = kept
	if s.look != nil {
		for _, c := range s.look.classes {
			c.skip = 0
		}
	}
}

// canOpenFor is canOpen, remembered per packing class for pods that have
// not relaxed (the class's pods are alike until then).
func (s *solver) canOpenFor(pi *podInfo, relaxed bool) bool {
	c := pi.class
	if c == nil || relaxed {
		return s.canOpen(pi)
	}
	ok, known := s.canOpenByClass[c.key]
	if !known {
		ok = s.canOpen(pi)
		if s.canOpenByClass == nil {
			s.canOpenByClass = map[string]bool{}
		}
		s.canOpenByClass[c.key] = ok
	}
	return ok
}
