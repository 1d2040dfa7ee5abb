package convert

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// karpenterKey reports whether key is in one of Karpenter's domains.
func karpenterKey(key string) bool {
	return strings.HasPrefix(key, "karpenter.sh/") || strings.HasPrefix(key, "karpenter.k8s.aws/")
}

// key translates one label key: ok is false for a Karpenter key nodewright
// has no equivalent of.
func key(k string) (string, bool) {
	if to, ok := v1.KarpenterLabelAliases[k]; ok {
		return to, true
	}
	return k, !karpenterKey(k)
}

// requirements translates a pool's requirements. One on a key without an
// equivalent is left out: the pool then admits more than it did.
func (f fields) requirements(field string, in []v1.NodeSelectorRequirementWithMinValues) []v1.NodeSelectorRequirementWithMinValues {
	var out []v1.NodeSelectorRequirementWithMinValues
	for i, r := range in {
		to, ok := key(r.Key)
		if !ok {
			f.c.note(f.src, fmt.Sprintf("%s[%d]", f.at(field), i), true,
				fmt.Sprintf("nodewright has no label %s; the requirement is left out, so the pool admits more instance types", r.Key))
			continue
		}
		if to == v1.CapacityTypeLabelKey && (r.Operator == corev1.NodeSelectorOpIn || r.Operator == corev1.NodeSelectorOpNotIn) {
			for _, v := range r.Values {
				if v != v1.CapacityTypeSpot && v != v1.CapacityTypeOnDemand {
					f.c.note(f.src, fmt.Sprintf("%s[%d]", f.at(field), i), true, fmt.Sprintf("capacity type %q is not one nodewright launches", v))
				}
			}
		}
		r.Key = to
		out = append(out, r)
	}
	return out
}

// labels translates template labels; a label on a Karpenter key without an
// equivalent is left out.
func (f fields) labels(field string, in map[string]string) map[string]string {
	if len(in) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, k := range sortedKeys(in) {
		to, ok := key(k)
		if !ok {
			f.c.note(f.src, f.at(field)+"."+k, true, "nodewright has no such label; left out")
			continue
		}
		out[to] = in[k]
	}
	return out
}

// taints translates taint keys in Karpenter's domains.
func (f fields) taints(field string, in []corev1.Taint) []corev1.Taint {
	var out []corev1.Taint
	for i, t := range in {
		to, ok := key(t.Key)
		if !ok {
			f.c.note(f.src, fmt.Sprintf("%s[%d]", f.at(field), i), true, fmt.Sprintf("taint %s is Karpenter's own; left out", t.Key))
			continue
		}
		t.Key = to
		out = append(out, t)
	}
	return out
}

// takeTaints reads taints and startupTaints into a template spec.
func (f fields) takeTaints(into *v1.NodeClaimTemplateSpec) {
	var taints, startup []corev1.Taint
	f.take("taints", &taints)
	f.take("startupTaints", &startup)
	into.Taints = f.taints("taints", taints)
	into.StartupTaints = f.taints("startupTaints", startup)
}
