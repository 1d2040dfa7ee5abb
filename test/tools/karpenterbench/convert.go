package main

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	karpv1 "sigs.k8s.io/karpenter/pkg/apis/v1"
	"sigs.k8s.io/karpenter/pkg/cloudprovider"
	"sigs.k8s.io/karpenter/pkg/scheduling"
)

// nodewright's label keys that Karpenter spells in its own group.
var toKarpenterKey = map[string]string{
	"nodewright.dev/capacity-type": karpv1.CapacityTypeLabelKey,
	"nodewright.dev/nodepool":      karpv1.NodePoolLabelKey,
	"nodewright.dev/initialized":   karpv1.NodeInitializedLabelKey,
	"nodewright.dev/registered":    karpv1.NodeRegisteredLabelKey,
}

var fromKarpenterKey = func() map[string]string {
	m := map[string]string{}
	for ours, theirs := range toKarpenterKey {
		m[theirs] = ours
	}
	return m
}()

func karpenterKey(k string) string {
	if t, ok := toKarpenterKey[k]; ok {
		return t
	}
	return k
}

func nodewrightKey(k string) string {
	if t, ok := fromKarpenterKey[k]; ok {
		return t
	}
	return k
}

// nodewright's instance labels (controller/api/v1/labels.go) are well known
// to Karpenter the way a cloud provider's are: aws/karpenter-provider-aws
// pkg/apis/v1/labels.go inserts its karpenter.k8s.aws/instance-* keys into
// karpv1.WellKnownLabels in init. Without this, a pod selecting
// nodewright.dev/instance-family on a pool that does not name the key would
// be refused (only well-known labels may be left to the instance types).
func init() {
	karpv1.WellKnownLabels.Insert(
		"nodewright.dev/instance-category", "nodewright.dev/instance-family",
		"nodewright.dev/instance-generation", "nodewright.dev/instance-size",
		"nodewright.dev/instance-cpu", "nodewright.dev/instance-memory",
		"nodewright.dev/instance-gpu-count", "nodewright.dev/instance-gpu-name",
		"nodewright.dev/instance-gpu-manufacturer", "nodewright.dev/instance-hypervisor",
		"nodewright.dev/instance-local-nvme", "nodewright.dev/instance-accelerator-count",
		"nodewright.dev/instance-accelerator-name", "nodewright.dev/instance-accelerator-manufacturer",
	)
}

// instanceTypes builds Karpenter's instance types. Capacity is the input's
// allocatable and Overhead is zero, so both engines see the same room
// (fake.NewInstanceType would add an overhead of its own).
//
// Requirements follow what Karpenter's cloud providers build (e.g.
// aws/karpenter-provider-aws pkg/providers/instancetype/types.go
// computeRequirements): the type's name, each label as In [value], zone and
// capacity type from the available offerings, and DoesNotExist for every
// label key another type of the catalog has and this one lacks, so that a
// pod selecting nodewright.dev/instance-gpu-name does not match a CPU type.
func instanceTypes(in []InstanceType) ([]*cloudprovider.InstanceType, error) {
	keys := sets.New[string]()
	for _, it := range in {
		for k := range it.Labels {
			keys.Insert(karpenterKey(k))
		}
	}
	keys.Delete(corev1.LabelTopologyZone, karpv1.CapacityTypeLabelKey)
	// Keys of the catalog are instance properties: let pods select them on
	// pools that don't name them, as for the static list in init.
	karpv1.WellKnownLabels.Insert(keys.UnsortedList()...)

	out := make([]*cloudprovider.InstanceType, 0, len(in))
	seen := map[string]bool{}
	for i, it := range in {
		if it.Name == "" {
			return nil, fmt.Errorf("instance type %d has no name", i)
		}
		if seen[it.Name] {
			return nil, fmt.Errorf("instance type %q is listed twice", it.Name)
		}
		seen[it.Name] = true
		if len(it.Offerings) == 0 {
			return nil, fmt.Errorf("instance type %q has no offerings", it.Name)
		}
		reqs := scheduling.NewRequirements(scheduling.NewRequirement(corev1.LabelInstanceTypeStable, corev1.NodeSelectorOpIn, it.Name))
		own := sets.New[string]()
		for k, v := range it.Labels {
			k = karpenterKey(k)
			if k == corev1.LabelTopologyZone || k == karpv1.CapacityTypeLabelKey {
				continue // the offerings say which
			}
			if k == corev1.LabelInstanceTypeStable && v != it.Name {
				return nil, fmt.Errorf("instance type %q has label %s=%q", it.Name, k, v)
			}
			own.Insert(k)
			reqs.Add(scheduling.NewRequirement(k, corev1.NodeSelectorOpIn, v))
		}
		for k := range keys.Difference(own) {
			reqs.Add(scheduling.NewRequirement(k, corev1.NodeSelectorOpDoesNotExist))
		}
		var offerings cloudprovider.Offerings
		zones, cts := sets.New[string](), sets.New[string]()
		for j, o := range it.Offerings {
			if o.Zone == "" || o.CapacityType == "" {
				return nil, fmt.Errorf("instance type %q offering %d needs a zone and a capacity type", it.Name, j)
			}
			offerings = append(offerings, &cloudprovider.Offering{
				Requirements: scheduling.NewLabelRequirements(map[string]string{
					corev1.LabelTopologyZone:    o.Zone,
					karpv1.CapacityTypeLabelKey: o.CapacityType,
				}),
				Price:     o.Price,
				Available: o.Available,
			})
			if o.Available {
				zones.Insert(o.Zone)
				cts.Insert(o.CapacityType)
			}
		}
		reqs.Add(scheduling.NewRequirement(corev1.LabelTopologyZone, corev1.NodeSelectorOpIn, sets.List(zones)...))
		reqs.Add(scheduling.NewRequirement(karpv1.CapacityTypeLabelKey, corev1.NodeSelectorOpIn, sets.List(cts)...))
		capacity := corev1.ResourceList{}
		for name, q := range it.Allocatable {
			capacity[name] = q.DeepCopy()
		}
		if _, ok := capacity[corev1.ResourcePods]; !ok {
			return nil, fmt.Errorf("instance type %q has no pods in allocatable: every node caps its pods", it.Name)
		}
		out = append(out, &cloudprovider.InstanceType{
			Name:         it.Name,
			Requirements: reqs,
			Offerings:    offerings,
			Capacity:     capacity,
			Overhead:     &cloudprovider.InstanceTypeOverhead{},
		})
	}
	return out, nil
}

// nodePools builds Karpenter's NodePools, in the input's order.
func nodePools(in []NodePool) ([]*karpv1.NodePool, error) {
	out := make([]*karpv1.NodePool, 0, len(in))
	seen := map[string]bool{}
	for i, np := range in {
		if np.Name == "" {
			return nil, fmt.Errorf("node pool %d has no name", i)
		}
		if seen[np.Name] {
			return nil, fmt.Errorf("node pool %q is listed twice", np.Name)
		}
		seen[np.Name] = true
		reqs := make([]karpv1.NodeSelectorRequirementWithMinValues, 0, len(np.Requirements))
		for _, r := range np.Requirements {
			if err := checkOperator(r.Operator); err != nil {
				return nil, fmt.Errorf("node pool %q requirement %s: %w", np.Name, r.Key, err)
			}
			reqs = append(reqs, karpv1.NodeSelectorRequirementWithMinValues{
				Key: karpenterKey(r.Key), Operator: r.Operator, Values: r.Values, MinValues: r.MinValues,
			})
		}
		labels := map[string]string{}
		for k, v := range np.Labels {
			labels[karpenterKey(k)] = v
		}
		weight := np.Weight
		out = append(out, &karpv1.NodePool{
			ObjectMeta: metav1.ObjectMeta{Name: np.Name, UID: types.UID("nodepool-" + np.Name)},
			Spec: karpv1.NodePoolSpec{
				Weight: &weight,
				Limits: karpv1.Limits(np.Limits),
				Template: karpv1.NodeClaimTemplate{
					ObjectMeta: karpv1.ObjectMeta{Labels: labels},
					Spec: karpv1.NodeClaimTemplateSpec{
						Requirements: reqs,
						Taints:       np.Taints,
						NodeClassRef: &karpv1.NodeClassReference{Group: "nodewright.dev", Kind: "EC2NodeClass", Name: "default"},
					},
				},
			},
		})
	}
	return out, nil
}

func checkOperator(op corev1.NodeSelectorOperator) error {
	switch op {
	case corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn, corev1.NodeSelectorOpExists,
		corev1.NodeSelectorOpDoesNotExist, corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		return nil
	}
	return fmt.Errorf("operator %q is not one of In, NotIn, Exists, DoesNotExist, Gt, Lt", op)
}

// pods copies the pods with nodewright's label keys in Karpenter's
// spelling, and gives each a UID (Karpenter caches per-pod data by UID) and
// the Pending phase a pod waiting for a node has.
func pods(in []*corev1.Pod, kind string) ([]*corev1.Pod, error) {
	out := make([]*corev1.Pod, 0, len(in))
	seen := map[string]bool{}
	for i, p := range in {
		if p == nil {
			return nil, fmt.Errorf("%s %d is null", kind, i)
		}
		if p.Name == "" {
			return nil, fmt.Errorf("%s %d has no name", kind, i)
		}
		id := podID(p)
		if seen[id] {
			return nil, fmt.Errorf("%s %s is listed twice", kind, id)
		}
		seen[id] = true
		p = p.DeepCopy()
		if p.Namespace == "" {
			p.Namespace = metav1.NamespaceDefault
		}
		if p.UID == "" {
			p.UID = types.UID(fmt.Sprintf("%s-%d", kind, i))
		}
		if p.Status.Phase == "" {
			p.Status.Phase = corev1.PodPending
		}
		translatePod(p)
		out = append(out, p)
	}
	return out, nil
}

func podID(p *corev1.Pod) string {
	ns := p.Namespace
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	return ns + "/" + p.Name
}

func translatePod(p *corev1.Pod) {
	if len(p.Spec.NodeSelector) > 0 {
		sel := make(map[string]string, len(p.Spec.NodeSelector))
		for k, v := range p.Spec.NodeSelector {
			sel[karpenterKey(k)] = v
		}
		p.Spec.NodeSelector = sel
	}
	for i := range p.Spec.TopologySpreadConstraints {
		c := &p.Spec.TopologySpreadConstraints[i]
		c.TopologyKey = karpenterKey(c.TopologyKey)
	}
	a := p.Spec.Affinity
	if a == nil {
		return
	}
	if na := a.NodeAffinity; na != nil {
		if r := na.RequiredDuringSchedulingIgnoredDuringExecution; r != nil {
			for i := range r.NodeSelectorTerms {
				translateTerm(&r.NodeSelectorTerms[i])
			}
		}
		for i := range na.PreferredDuringSchedulingIgnoredDuringExecution {
			translateTerm(&na.PreferredDuringSchedulingIgnoredDuringExecution[i].Preference)
		}
	}
	translateAffinityTerms := func(req []corev1.PodAffinityTerm, pref []corev1.WeightedPodAffinityTerm) {
		for i := range req {
			req[i].TopologyKey = karpenterKey(req[i].TopologyKey)
		}
		for i := range pref {
			pref[i].PodAffinityTerm.TopologyKey = karpenterKey(pref[i].PodAffinityTerm.TopologyKey)
		}
	}
	if pa := a.PodAffinity; pa != nil {
		translateAffinityTerms(pa.RequiredDuringSchedulingIgnoredDuringExecution, pa.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	if pa := a.PodAntiAffinity; pa != nil {
		translateAffinityTerms(pa.RequiredDuringSchedulingIgnoredDuringExecution, pa.PreferredDuringSchedulingIgnoredDuringExecution)
	}
}

func translateTerm(t *corev1.NodeSelectorTerm) {
	for i := range t.MatchExpressions {
		t.MatchExpressions[i].Key = karpenterKey(t.MatchExpressions[i].Key)
	}
}

// planRequirementKeys are the claim requirements the plan reports.
var planRequirementKeys = []string{corev1.LabelTopologyZone, karpv1.CapacityTypeLabelKey, corev1.LabelArchStable}

// claimRequirements reports the claim's zone, capacity type and arch
// requirements in nodewright's keys. Karpenter leaves a key off a claim that
// neither the pool nor the pods constrain; then the values its options can
// launch with are reported, as In.
func claimRequirements(reqs scheduling.Requirements, options []*cloudprovider.InstanceType) []Requirement {
	out := make([]Requirement, 0, len(planRequirementKeys))
	for _, key := range planRequirementKeys {
		if reqs.Has(key) {
			r := reqs.Get(key)
			vals := r.Values()
			sort.Strings(vals)
			out = append(out, Requirement{Key: nodewrightKey(key), Operator: r.Operator(), Values: vals})
			continue
		}
		vals := sets.New[string]()
		for _, it := range options {
			if key == corev1.LabelArchStable {
				if it.Requirements.Has(key) {
					vals.Insert(it.Requirements.Get(key).Values()...)
				}
				continue
			}
			for _, o := range it.Offerings.Available().Compatible(reqs) {
				vals.Insert(o.Requirements.Get(key).Values()...)
			}
		}
		if vals.Len() > 0 {
			out = append(out, Requirement{Key: nodewrightKey(key), Operator: corev1.NodeSelectorOpIn, Values: sets.List(vals)})
		}
	}
	return out
}

// cheapestPrice is the lowest price of an available offering of the options
// that reqs allow, or 0 when there is none.
func cheapestPrice(reqs scheduling.Requirements, options []*cloudprovider.InstanceType) float64 {
	best := -1.0
	for _, it := range options {
		for _, o := range it.Offerings.Available().Compatible(reqs) {
			if best < 0 || o.Price < best {
				best = o.Price
			}
		}
	}
	return max(best, 0)
}
