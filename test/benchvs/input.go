package benchvs

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

// Wire converts in to the wire format. Karpenter has no notion of
// burstable surplus credits or per-node costs, so InstanceType.Burst and
// NodePool.NodeCost are not written: price Karpenter's plan with
// scheduling.NodeCostOf to compare true costs. Existing nodes, pods
// elsewhere and volume requirements are refused: karpenterbench plans
// launches for pending pods only.
func Wire(in scheduling.Input) (*WireInput, error) {
	switch {
	case len(in.Nodes) > 0:
		return nil, fmt.Errorf("input has %d existing nodes: karpenterbench only plans new nodes; leave Nodes empty", len(in.Nodes))
	case len(in.PodsElsewhere) > 0:
		return nil, fmt.Errorf("input has %d pods elsewhere: karpenterbench has no existing cluster; leave PodsElsewhere empty", len(in.PodsElsewhere))
	case len(in.VolumeRequirements) > 0:
		return nil, fmt.Errorf("input has %d volume requirements: karpenterbench does not model volumes; leave VolumeRequirements empty", len(in.VolumeRequirements))
	case len(in.NodePools) == 0:
		return nil, fmt.Errorf("input has no node pools: Karpenter could launch nothing")
	}
	out := &WireInput{DaemonSets: in.DaemonSets, Pods: in.Pods}
	if out.DaemonSets == nil {
		out.DaemonSets = []*corev1.Pod{}
	}
	if out.Pods == nil {
		out.Pods = []*corev1.Pod{}
	}
	written := map[string]*scheduling.InstanceType{}
	for _, np := range in.NodePools {
		for _, it := range np.InstanceTypes {
			prev, ok := written[it.Name]
			if !ok {
				written[it.Name] = it
				out.InstanceTypes = append(out.InstanceTypes, wireInstanceType(it))
				continue
			}
			if prev != it && !sameInstanceType(prev, it) {
				return nil, fmt.Errorf("instance type %s differs between pools (labels, allocatable or offerings): the wire format has one catalog", it.Name)
			}
		}
	}
	for _, np := range in.NodePools {
		w, err := wireNodePool(np, len(written))
		if err != nil {
			return nil, err
		}
		out.NodePools = append(out.NodePools, w)
	}
	return out, nil
}

// WriteInput writes in as karpenterbench's input JSON.
func WriteInput(w io.Writer, in scheduling.Input) error {
	wire, err := Wire(in)
	if err != nil {
		return err
	}
	if err := json.NewEncoder(w).Encode(wire); err != nil {
		return fmt.Errorf("writing karpenterbench input: %w", err)
	}
	return nil
}

func wireInstanceType(it *scheduling.InstanceType) WireInstanceType {
	w := WireInstanceType{Name: it.Name, Labels: it.Labels, Allocatable: it.Allocatable}
	if w.Labels == nil {
		w.Labels = map[string]string{}
	}
	for _, o := range it.Offerings {
		w.Offerings = append(w.Offerings, WireOffering(o))
	}
	return w
}

func sameInstanceType(a, b *scheduling.InstanceType) bool {
	if !reflect.DeepEqual(a.Labels, b.Labels) || !reflect.DeepEqual(a.Offerings, b.Offerings) || len(a.Allocatable) != len(b.Allocatable) {
		return false
	}
	for name, q := range a.Allocatable {
		if o, ok := b.Allocatable[name]; !ok || o.Cmp(q) != 0 {
			return false
		}
	}
	return true
}

// wireNodePool writes a pool; catalogSize is how many distinct types the
// input has, so a pool that may launch fewer is narrowed to its own.
func wireNodePool(np *scheduling.NodePool, catalogSize int) (WireNodePool, error) {
	if len(np.InstanceTypes) == 0 {
		return WireNodePool{}, fmt.Errorf("node pool %s has no instance types", np.Name)
	}
	w := WireNodePool{Name: np.Name, Weight: np.Weight, Labels: np.Labels, Taints: np.Taints, Requirements: []Requirement{}}
	if w.Labels == nil {
		w.Labels = map[string]string{}
	}
	if w.Taints == nil {
		w.Taints = []corev1.Taint{}
	}
	for _, r := range np.Requirements {
		req := Requirement{Key: r.Key, Operator: r.Operator, Values: r.Values}
		if mv, ok := np.MinValues[r.Key]; ok {
			req.MinValues = &mv
		}
		w.Requirements = append(w.Requirements, req)
	}
	for key := range np.MinValues {
		if !hasKey(np.Requirements, key) {
			return WireNodePool{}, fmt.Errorf("node pool %s has minValues for %s but no requirement on it", np.Name, key)
		}
	}
	names := map[string]bool{}
	for _, it := range np.InstanceTypes {
		names[it.Name] = true
	}
	if len(names) < catalogSize {
		vals := make([]string, 0, len(names))
		for n := range names {
			vals = append(vals, n)
		}
		sort.Strings(vals)
		w.Requirements = append(w.Requirements, Requirement{Key: corev1.LabelInstanceTypeStable, Operator: corev1.NodeSelectorOpIn, Values: vals})
	}
	if len(np.Limits) > 0 {
		w.Limits = corev1.ResourceList{}
		for name, limit := range np.Limits {
			left := limit.DeepCopy()
			if used, ok := np.InUse[name]; ok {
				left.Sub(used)
			}
			w.Limits[name] = left
		}
	}
	return w, nil
}

func hasKey(reqs []corev1.NodeSelectorRequirement, key string) bool {
	for _, r := range reqs {
		if r.Key == key {
			return true
		}
	}
	return false
}
