package scheduling

import (
	"math"
)

// LowerBound is a true cost per hour that no plan placing in's pending
// pods on new nodes can beat: the yardstick plans are measured against.
//
// The bound charges each pod a share of a node's cost. For weights w over
// cpu, memory and pod slots that sum to 1, a node of cost C whose pods use
// fractions f_r of its allocatable has Σ_pods Σ_r w_r·f_r(pod) ≤ 1, so
// charging each pod C·Σ_r w_r·f_r(pod) never charges a node more than it
// costs. Each pod is charged at the type where that is least, so the sum
// of charges is at most any plan's cost; the bound is the best such sum
// over a grid of weights (a restricted dual of the LP relaxation over
// instance types). On a burstable type a pod can also be charged
// rate·cpu + (C − rate·baseline)·Σ_r w_r·f_r, which its node's surplus
// pays for. Integrality, topology and limits are ignored, which only
// lowers the bound; pods that an existing node could host are charged
// nothing, and pods no pool can host are left out.
func LowerBound(in Input) (float64, error) {
	s, _, err := newSolver(in, Options{})
	if err != nil {
		return 0, err
	}
	type charge struct {
		fixed, rate, base float64 // base: baseline CPU left to pods, in cores
		inv               [3]float64
	}
	type class struct {
		n       int
		req     [3]float64
		options []charge
	}
	var classes []*class
	for _, c := range s.look.classes {
		pi := c.rep
		if s.fitsExisting(pi) {
			continue
		}
		cl := &class{n: c.left}
		for r := range cl.req {
			cl.req[r] = float64(c.req[r])
		}
		for _, p := range s.pools {
			if !p.tolerates(pi) {
				continue
			}
			compat := p.compatibleOptions(pi)
			if compat.reason != "" {
				continue
			}
			zero := make(vec, len(pi.req))
			for _, o := range compat.options {
				price, ok := priceIn(o, compat.merged)
				if !ok || !fitsWith(zero, pi.req, o.alloc) {
					continue
				}
				ch := charge{fixed: price + p.nodeCost}
				for r := range ch.inv {
					if o.alloc[r] > 0 {
						ch.inv[r] = 1 / float64(o.alloc[r])
					}
				}
				if b := o.it.Burst; b != nil {
					base := float64(b.BaselineMilliCPU-o.daemonCPU) / 1000
					if ch.fixed-b.SurplusPerVCPUHour*base >= 0 {
						ch.rate, ch.base = b.SurplusPerVCPUHour, base
					}
				}
				cl.options = append(cl.options, ch)
			}
		}
		if len(cl.options) > 0 {
			classes = append(classes, cl)
		}
	}
	best := 0.0
	const steps = 10
	for a := 0; a <= steps; a++ {
		for b := 0; a+b <= steps; b++ {
			w := [3]float64{float64(a) / steps, float64(b) / steps, float64(steps-a-b) / steps}
			total := 0.0
			for _, cl := range classes {
				least := math.Inf(1)
				for _, ch := range cl.options {
					share := 0.0
					for r := range w {
						share += w[r] * cl.req[r] * ch.inv[r]
					}
					v := ch.fixed * share
					if ch.rate > 0 {
						v = ch.rate*cl.req[resCPU]/1000 + (ch.fixed-ch.rate*ch.base)*share
					}
					least = min(least, v)
				}
				total += float64(cl.n) * least
			}
			best = max(best, total)
		}
	}
	return best, nil
}

// fitsExisting reports whether some existing node could take pi by its
// free resources, taints and labels alone.
func (s *solver) fitsExisting(pi *podInfo) bool {
	for _, n := range s.nodes {
		if n.existing == nil || !fitsWith(n.used, pi.req, n.cap) {
			continue
		}
		if ok, _ := tolerates(pi.tolerations, n.taints); !ok {
			continue
		}
		if ok, _ := pi.reqs.SatisfiedBy(n.labels); ok {
			return true
		}
	}
	return false
}
