package scheduling

import (
	"math/bits"
	"slices"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// Offering masks. Which zones and capacity types a node could still launch
// in is asked for every (pod, node) pair a zonal constraint meets, over
// hundreds of options with several offerings each. Each option keeps, per
// capacity type, a bitmask of the zones it is offered in, so the question
// is a few ORs instead of map lookups per offering.

// capacityTypes are the capacity types, by mask index.
var capacityTypes = [2]string{v1.CapacityTypeSpot, v1.CapacityTypeOnDemand}

// offerIndex numbers the zones of a solve's offerings.
type offerIndex struct {
	zones []string // sorted
	index map[string]int
	// ok: at most 64 zones and no other capacity type, so masks hold
	// everything; otherwise callers take the slow path.
	ok bool
}

func newOfferIndex(pools []*poolInfo) *offerIndex {
	zones := map[string]bool{}
	ok := true
	for _, p := range pools {
		for _, o := range p.options {
			for _, off := range o.offerings {
				zones[off.Zone] = true
				if ctIndex(off.CapacityType) < 0 {
					ok = false
				}
			}
		}
	}
	x := &offerIndex{index: map[string]int{}, ok: ok && len(zones) <= 64}
	for z := range zones {
		x.zones = append(x.zones, z)
	}
	slices.Sort(x.zones)
	for i, z := range x.zones {
		x.index[z] = i
	}
	if x.ok {
		for _, p := range pools {
			for _, o := range p.options {
				o.zmask = [2]uint64{}
				for _, off := range o.offerings {
					o.zmask[ctIndex(off.CapacityType)] |= 1 << x.index[off.Zone]
				}
			}
		}
	}
	return x
}

func ctIndex(ct string) int {
	for i, c := range capacityTypes {
		if c == ct {
			return i
		}
	}
	return -1
}

// allowed is what reqs leave of the zones and capacity types.
func (x *offerIndex) allowed(reqs Requirements) (zones uint64, cts [2]bool) {
	zones = ^uint64(0)
	if r, ok := reqs[corev1.LabelTopologyZone]; ok {
		zones = 0
		for i, z := range x.zones {
			if r.Has(z) {
				zones |= 1 << i
			}
		}
	}
	r, limited := reqs[v1.CapacityTypeLabelKey]
	for i, ct := range capacityTypes {
		cts[i] = !limited || r.Has(ct)
	}
	return zones, cts
}

// offers reports whether the option has an offering in the allowed zones
// and capacity types.
func (o *optionInfo) offers(zones uint64, cts [2]bool) bool {
	return (cts[0] && o.zmask[0]&zones != 0) || (cts[1] && o.zmask[1]&zones != 0)
}

// candidateValues lists the zones (or capacity types) the options could
// still launch in under reqs, sorted.
func (x *offerIndex) candidateValues(options []*optionInfo, reqs Requirements, key string) []string {
	zones, cts := x.allowed(reqs)
	var acc [2]uint64
	for _, o := range options {
		for i := range acc {
			if cts[i] {
				acc[i] |= o.zmask[i] & zones
			}
		}
	}
	var vals []string
	if key == v1.CapacityTypeLabelKey {
		for i, ct := range capacityTypes {
			if acc[i] != 0 {
				vals = append(vals, ct)
			}
		}
		slices.Sort(vals)
		return vals
	}
	for m := acc[0] | acc[1]; m != 0; m &= m - 1 {
		vals = append(vals, x.zones[bits.TrailingZeros64(m)])
	}
	return vals
}
