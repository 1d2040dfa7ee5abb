package scheduling

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// Requirement is the set of values a label key may take. It is either a
// finite set (In) or the complement of one (NotIn, Exists), optionally
// bounded by Gt/Lt for integer values. DoesNotExist is the empty set with
// the label required to be absent.
type Requirement struct {
	Key        string
	complement bool
	values     []string // sorted, unique
	// gt and lt bound integer values, exclusive; nil means unbounded.
	gt, lt *int
	// mustExist: a node without the label does not satisfy it (In, Exists,
	// Gt, Lt); NotIn and DoesNotExist accept an absent label.
	mustExist bool
	// MinValues asks for at least this many distinct values among the
	// instance types a node keeps as options.
	MinValues int
}

// normalizedLabels are deprecated label keys and the stable keys that
// replace them. Old charts still select on the deprecated keys; nodes carry
// both (kubelet sets the beta os and arch labels, the cloud node controller
// the beta instance-type, zone and region ones), so a requirement on either
// key means the same, and is kept on the stable one. Karpenter does the
// same (sigs.k8s.io/karpenter pkg/apis/v1/labels.go NormalizedLabels).
var normalizedLabels = map[string]string{
	corev1.LabelFailureDomainBetaZone:   corev1.LabelTopologyZone,
	corev1.LabelFailureDomainBetaRegion: corev1.LabelTopologyRegion,
	"beta.kubernetes.io/arch":           corev1.LabelArchStable,
	"beta.kubernetes.io/os":             corev1.LabelOSStable,
	corev1.LabelInstanceType:            corev1.LabelInstanceTypeStable,
}

// normalizedKey is key, or the stable key a deprecated one stands for, or
// nodewright's key for one of Karpenter's (v1.KarpenterLabelAliases: its
// nodes carry both).
func normalizedKey(key string) string {
	if k, ok := normalizedLabels[key]; ok {
		return k
	}
	if k, ok := v1.KarpenterLabelAliases[key]; ok {
		return k
	}
	return key
}

// karpenterLabelsRequired is the requirement of a pod that selects on one
// of Karpenter's keys: the node must carry Karpenter's labels, which every
// such node marks with karpenter.sh/nodepool. It is kept on Karpenter's
// key, where NewRequirement would read nodewright's.
func karpenterLabelsRequired() *Requirement {
	return &Requirement{Key: v1.KarpenterNodePoolLabelKey, complement: true, mustExist: true}
}

// requiresKarpenterKey reports whether exprs hold only on a node that
// carries one of Karpenter's keys: In, Exists, Gt or Lt on one (NotIn and
// DoesNotExist also hold where the key is absent).
func requiresKarpenterKey(exprs []corev1.NodeSelectorRequirement) bool {
	return slices.ContainsFunc(exprs, func(e corev1.NodeSelectorRequirement) bool {
		_, karpenter := v1.KarpenterLabelAliases[e.Key]
		return karpenter && e.Operator != corev1.NodeSelectorOpNotIn && e.Operator != corev1.NodeSelectorOpDoesNotExist
	})
}

// nodeLabels are an existing node's labels, with nodewright's key added
// for each of Karpenter's that the node carries alone (a node Karpenter
// launched), since a requirement on either key reads as nodewright's. A
// node with any of Karpenter's keys also gets karpenter.sh/nodepool, the
// mark karpenterLabelsRequired looks for, if it lacks it (a v1alpha5 node
// has karpenter.sh/provisioner-name instead).
func nodeLabels(labels map[string]string) map[string]string {
	var out map[string]string
	karpenter := false
	for k, ours := range v1.KarpenterLabelAliases {
		v, ok := labels[k]
		karpenter = karpenter || ok
		if _, has := labels[ours]; !ok || has {
			continue
		}
		if out == nil {
			out = maps.Clone(labels)
		}
		out[ours] = v
	}
	if _, marked := labels[v1.KarpenterNodePoolLabelKey]; karpenter && !marked {
		if out == nil {
			out = maps.Clone(labels)
		}
		out[v1.KarpenterNodePoolLabelKey] = labels["karpenter.sh/provisioner-name"]
	}
	if out == nil {
		return labels
	}
	return out
}

// NewRequirement builds a requirement from a node selector operator. A
// deprecated key becomes its stable one (normalizedLabels).
func NewRequirement(key string, op corev1.NodeSelectorOperator, values ...string) (*Requirement, error) {
	key = normalizedKey(key)
	r := &Requirement{Key: key}
	switch op {
	case corev1.NodeSelectorOpIn:
		r.values, r.mustExist = uniqueSorted(values), true
	case corev1.NodeSelectorOpNotIn:
		r.complement, r.values = true, uniqueSorted(values)
	case corev1.NodeSelectorOpExists:
		r.complement, r.mustExist = true, true
	case corev1.NodeSelectorOpDoesNotExist:
		// empty, not complemented
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if len(values) != 1 {
			return nil, fmt.Errorf("requirement %s %s needs exactly one integer value", key, op)
		}
		v, err := strconv.Atoi(values[0])
		if err != nil {
			return nil, fmt.Errorf("requirement %s %s %q: value must be an integer", key, op, values[0])
		}
		r.complement, r.mustExist = true, true
		if op == corev1.NodeSelectorOpGt {
			r.gt = &v
		} else {
			r.lt = &v
		}
	default:
		return nil, fmt.Errorf("requirement %s: unknown operator %q", key, op)
	}
	return r, nil
}

func uniqueSorted(values []string) []string {
	out := slices.Clone(values)
	sort.Strings(out)
	return slices.Compact(out)
}

// Has reports whether value satisfies the requirement.
func (r *Requirement) Has(value string) bool {
	if r.gt != nil || r.lt != nil {
		v, err := strconv.Atoi(value)
		if err != nil || (r.gt != nil && v <= *r.gt) || (r.lt != nil && v >= *r.lt) {
			return false
		}
	}
	_, found := slices.BinarySearch(r.values, value)
	return found != r.complement
}

// AllowsAbsent reports whether a node without the label satisfies it
// (NotIn and DoesNotExist do; In, Exists, Gt and Lt don't).
func (r *Requirement) AllowsAbsent() bool { return !r.mustExist }

// Values returns the allowed values of a finite requirement.
func (r *Requirement) Values() []string {
	if r.complement {
		return nil
	}
	return r.values
}

// Finite reports whether the requirement lists its allowed values.
func (r *Requirement) Finite() bool { return !r.complement }

// Intersect returns the values allowed by both, or nil if none can be.
func (r *Requirement) Intersect(o *Requirement) *Requirement {
	out := &Requirement{Key: r.Key, MinValues: max(r.MinValues, o.MinValues)}
	out.gt, out.lt = maxPtr(r.gt, o.gt), minPtr(r.lt, o.lt)
	out.mustExist = r.mustExist || o.mustExist
	switch {
	case !r.complement && !o.complement:
		out.values = intersectSorted(r.values, o.values)
	case !r.complement:
		out.values = subtractSorted(r.values, o.values)
	case !o.complement:
		out.values = subtractSorted(o.values, r.values)
	default:
		out.complement = true
		out.values = uniqueSorted(append(slices.Clone(r.values), o.values...))
	}
	if !out.complement {
		out.values = slices.DeleteFunc(out.values, func(v string) bool { return !out.boundsHold(v) })
	}
	return out
}

func (r *Requirement) boundsHold(v string) bool {
	if r.gt == nil && r.lt == nil {
		return true
	}
	n, err := strconv.Atoi(v)
	return err == nil && (r.gt == nil || n > *r.gt) && (r.lt == nil || n < *r.lt)
}

// Empty reports whether no value satisfies the requirement. A DoesNotExist
// requirement is empty but still satisfiable by a node without the label.
func (r *Requirement) Empty() bool {
	if !r.complement {
		return len(r.values) == 0
	}
	if r.gt == nil || r.lt == nil {
		return false
	}
	span := *r.lt - *r.gt - 1
	if span <= 0 {
		return true
	}
	if span > len(r.values) {
		return false
	}
	// A short range can be used up by NotIn values: (4,7) NotIn [5,6].
	excluded := 0
	for _, v := range r.values {
		if n, err := strconv.Atoi(v); err == nil && strconv.Itoa(n) == v && n > *r.gt && n < *r.lt {
			excluded++
		}
	}
	return excluded >= span
}

func (r *Requirement) String() string {
	var b strings.Builder
	b.WriteString(r.Key)
	switch {
	case !r.complement && len(r.values) == 0 && r.mustExist:
		// Not DoesNotExist: a node without the label fails it too.
		b.WriteString(" In []")
	case !r.complement && len(r.values) == 0:
		b.WriteString(" DoesNotExist")
	case !r.complement:
		fmt.Fprintf(&b, " In [%s]", strings.Join(r.values, ","))
	case len(r.values) > 0:
		if r.mustExist && r.gt == nil && r.lt == nil {
			// Exists ∩ NotIn: unlike NotIn alone, an absent label fails.
			b.WriteString(" Exists")
		}
		fmt.Fprintf(&b, " NotIn [%s]", strings.Join(r.values, ","))
	case r.gt == nil && r.lt == nil:
		b.WriteString(" Exists")
	}
	if r.gt != nil {
		fmt.Fprintf(&b, " >%d", *r.gt)
	}
	if r.lt != nil {
		fmt.Fprintf(&b, " <%d", *r.lt)
	}
	return b.String()
}

func maxPtr(a, b *int) *int {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case *a >= *b:
		return a
	}
	return b
}

func minPtr(a, b *int) *int {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case *a <= *b:
		return a
	}
	return b
}

func intersectSorted(a, b []string) []string {
	var out []string
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			out = append(out, a[i])
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return out
}

func subtractSorted(a, b []string) []string {
	var out []string
	for _, v := range a {
		if _, found := slices.BinarySearch(b, v); !found {
			out = append(out, v)
		}
	}
	return out
}

// Requirements are per-key requirements, all of which must hold.
type Requirements map[string]*Requirement

// NewRequirements converts node selector requirements (a NodePool's, or a
// pod's required node affinity term).
func NewRequirements(reqs ...corev1.NodeSelectorRequirement) (Requirements, error) {
	out := Requirements{}
	for _, nr := range reqs {
		r, err := NewRequirement(nr.Key, nr.Operator, nr.Values...)
		if err != nil {
			return nil, err
		}
		out.Add(r)
	}
	return out, nil
}

// LabelRequirements requires each label to have exactly its value, on the
// stable key where the label is a deprecated one.
func LabelRequirements(labels map[string]string) Requirements {
	out := Requirements{}
	for k, v := range labels {
		out.Add(&Requirement{Key: normalizedKey(k), values: []string{v}, mustExist: true})
	}
	return out
}

// Add intersects r into the set.
func (rs Requirements) Add(r *Requirement) {
	if cur, ok := rs[r.Key]; ok {
		rs[r.Key] = cur.Intersect(r)
		return
	}
	rs[r.Key] = r
}

// Clone copies the map (requirements themselves are immutable).
func (rs Requirements) Clone() Requirements {
	out := make(Requirements, len(rs))
	for k, v := range rs {
		out[k] = v
	}
	return out
}

// Merge returns the intersection of both sets.
func (rs Requirements) Merge(o Requirements) Requirements {
	out := rs.Clone()
	for _, r := range o {
		out.Add(r)
	}
	return out
}

// Conflict returns the first key (in sorted order) on which the two sets
// allow no common value, or "" when they are compatible. A key that one side
// requires absent and the other requires present conflicts.
func (rs Requirements) Conflict(o Requirements) string {
	small, large := rs, o
	if len(small) > len(large) {
		small, large = large, small
	}
	var bad []string
	for k, a := range small {
		b, ok := large[k]
		if !ok {
			continue
		}
		if !compatible(a, b) {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return ""
	}
	sort.Strings(bad)
	return bad[0]
}

// compatible: some node (maybe one without the label) satisfies both.
func compatible(a, b *Requirement) bool {
	return a.Intersect(b).Satisfiable()
}

// Satisfiable reports whether some value, or the label's absence, satisfies r.
func (r *Requirement) Satisfiable() bool { return !r.Empty() || !r.mustExist }

// SatisfiedBy reports whether concrete labels meet every requirement, and
// names the first unmet key otherwise.
func (rs Requirements) SatisfiedBy(labels map[string]string) (bool, string) {
	keys := rs.Keys()
	for _, k := range keys {
		r := rs[k]
		v, ok := labels[k]
		if !ok {
			if r.mustExist {
				return false, k
			}
			continue
		}
		if !r.Has(v) {
			return false, k
		}
	}
	return true, ""
}

// Allows reports whether labels break no requirement. Unlike SatisfiedBy it
// checks only the keys labels has, for a partial view such as an instance
// type's own labels, where zone, capacity type and the pool's labels come
// from elsewhere.
func (rs Requirements) Allows(labels map[string]string) bool {
	for k, v := range labels {
		if !rs.AllowsValue(k, v) {
			return false
		}
	}
	return true
}

// AllowsValue reports whether key=value breaks no requirement; a key with
// no requirement allows any value.
func (rs Requirements) AllowsValue(key, value string) bool {
	r, ok := rs[key]
	return !ok || r.Has(value)
}

// Keys returns the keys in sorted order.
func (rs Requirements) Keys() []string {
	keys := make([]string, 0, len(rs))
	for k := range rs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Single returns the one allowed value of key, if it is pinned to one.
func (rs Requirements) Single(key string) (string, bool) {
	r, ok := rs[key]
	if !ok || r.complement || len(r.values) != 1 {
		return "", false
	}
	return r.values[0], true
}

// NodeSelectorRequirements renders the set for a NodeClaim spec.
func (rs Requirements) NodeSelectorRequirements() []corev1.NodeSelectorRequirement {
	var out []corev1.NodeSelectorRequirement
	for _, k := range rs.Keys() {
		r := rs[k]
		switch {
		case !r.complement && len(r.values) == 0:
			out = append(out, corev1.NodeSelectorRequirement{Key: k, Operator: corev1.NodeSelectorOpDoesNotExist})
		case !r.complement:
			out = append(out, corev1.NodeSelectorRequirement{Key: k, Operator: corev1.NodeSelectorOpIn, Values: r.values})
		default:
			if len(r.values) > 0 {
				if r.mustExist && r.gt == nil && r.lt == nil {
					out = append(out, corev1.NodeSelectorRequirement{Key: k, Operator: corev1.NodeSelectorOpExists})
				}
				out = append(out, corev1.NodeSelectorRequirement{Key: k, Operator: corev1.NodeSelectorOpNotIn, Values: r.values})
			} else if r.gt == nil && r.lt == nil {
				out = append(out, corev1.NodeSelectorRequirement{Key: k, Operator: corev1.NodeSelectorOpExists})
			}
			if r.gt != nil {
				out = append(out, corev1.NodeSelectorRequirement{Key: k, Operator: corev1.NodeSelectorOpGt, Values: []string{strconv.Itoa(*r.gt)}})
			}
			if r.lt != nil {
				out = append(out, corev1.NodeSelectorRequirement{Key: k, Operator: corev1.NodeSelectorOpLt, Values: []string{strconv.Itoa(*r.lt)}})
			}
		}
	}
	return out
}

// String renders the set compactly, for reasons and logs.
func (rs Requirements) String() string {
	parts := make([]string, 0, len(rs))
	for _, k := range rs.Keys() {
		parts = append(parts, rs[k].String())
	}
	return strings.Join(parts, ", ")
}
