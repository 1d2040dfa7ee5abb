package convert

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// newPool is a NodePool named as its source, with the source's own labels
// and annotations.
func newPool(u *unstructured.Unstructured) *v1.NodePool {
	return &v1.NodePool{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1.SchemeGroupVersion.String(), Kind: "NodePool"},
		ObjectMeta: metav1.ObjectMeta{Name: u.GetName(), Labels: u.GetLabels(), Annotations: u.GetAnnotations()},
	}
}

// metadata takes the object's metadata; a namespace means nothing on these
// cluster-scoped kinds (Helm charts set it anyway).
func (c *converter) metadata(src string, u *unstructured.Unstructured) {
	if u.GetNamespace() != "" {
		c.note(src, "metadata.namespace", false, "NodePools and EC2NodeClasses are cluster-scoped; the namespace is dropped")
	}
}

// nodePool converts a karpenter.sh NodePool, v1 or v1beta1. v1beta1's
// fields move as Karpenter's own v1 migration moves them: expireAfter into
// the template, kubelet into the node class, WhenUnderutilized to
// WhenEmptyOrUnderutilized with consolidateAfter 0s.
func (c *converter) nodePool(src string, u *unstructured.Unstructured, beta bool) {
	c.metadata(src, u)
	np := newPool(u)
	spec := c.fields(src, u.Object, "").sub("spec")
	tmpl := spec.sub("template")
	meta := tmpl.sub("metadata")
	var labels, annotations map[string]string
	meta.take("labels", &labels)
	meta.take("annotations", &annotations)
	meta.rest()
	np.Spec.Template.ObjectMeta.Labels = meta.labels("labels", labels)
	np.Spec.Template.ObjectMeta.Annotations = annotations

	ts := tmpl.sub("spec")
	var reqs []v1.NodeSelectorRequirementWithMinValues
	ts.take("requirements", &reqs)
	np.Spec.Template.Spec.Requirements = ts.requirements("requirements", reqs)
	ts.takeTaints(&np.Spec.Template.Spec)
	ref := ts.sub("nodeClassRef")
	var name, kind string
	ref.take("name", &name)
	ref.take("kind", &kind)
	ref.drop("group", "apiVersion")
	ref.rest()
	if kind != "" && kind != "EC2NodeClass" {
		c.note(src, "spec.template.spec.nodeClassRef.kind", true, fmt.Sprintf("kind %s is not an EC2NodeClass", kind))
	}
	np.Spec.Template.Spec.NodeClassRef = &v1.NodeClassReference{Group: v1.Group, Kind: "EC2NodeClass", Name: name}
	var expire v1.NillableDuration
	if ts.take("expireAfter", &expire) {
		np.Spec.Template.Spec.ExpireAfter = expire
	}
	var grace metav1.Duration
	if ts.take("terminationGracePeriod", &grace) {
		np.Spec.Template.Spec.TerminationGracePeriod = &grace
	}
	if beta {
		var kubelet v1.KubeletConfiguration
		if ts.take("kubelet", &kubelet) {
			c.kubelets = append(c.kubelets, pendingKubelet{source: src, field: "spec.template.spec.kubelet", class: name, kubelet: &kubelet})
		}
	}
	ts.rest()
	tmpl.rest()

	d := spec.sub("disruption")
	var policy string
	d.take("consolidationPolicy", &policy)
	var after v1.NillableDuration
	hasAfter := d.take("consolidateAfter", &after)
	switch policy {
	case "WhenUnderutilized":
		np.Spec.Disruption.ConsolidationPolicy = v1.ConsolidationPolicyWhenEmptyOrUnderutilized
		np.Spec.Disruption.ConsolidateAfter = "0s"
		c.note(src, "spec.disruption.consolidationPolicy", false, "WhenUnderutilized is WhenEmptyOrUnderutilized with consolidateAfter 0s, as Karpenter's v1 migration converts it")
	case "":
	default:
		np.Spec.Disruption.ConsolidationPolicy = v1.ConsolidationPolicy(policy)
	}
	if hasAfter {
		np.Spec.Disruption.ConsolidateAfter = after
	}
	d.take("budgets", &np.Spec.Disruption.Budgets)
	if beta {
		if d.take("expireAfter", &expire) {
			np.Spec.Template.Spec.ExpireAfter = expire
			c.note(src, "spec.disruption.expireAfter", false, "moved to spec.template.spec.expireAfter, as in Karpenter v1")
		}
	}
	d.rest()
	spec.take("limits", &np.Spec.Limits)
	spec.take("weight", &np.Spec.Weight)
	spec.rest()
	c.addPool(src, np)
}

func (c *converter) addPool(src string, np *v1.NodePool) {
	if prev, ok := c.res.Sources["NodePool "+np.Name]; ok {
		c.note(src, "metadata.name", true, fmt.Sprintf("NodePool %s is also made from %s; this one is left out", np.Name, prev))
		return
	}
	c.res.Sources["NodePool "+np.Name] = src
	c.res.NodePools = append(c.res.NodePools, np)
}

// applyKubelets moves v1beta1 NodePools' kubelet blocks to the node classes
// they use, as Karpenter v1 did. Pools that share a class but not a kubelet
// block cannot all keep theirs.
func (c *converter) applyKubelets() {
	for _, k := range c.kubelets {
		nc, ok := c.classes[k.class]
		switch {
		case !ok:
			c.note(k.source, k.field, true, fmt.Sprintf("moves to EC2NodeClass %s in v1, which the input does not hold; left out", k.class))
		case nc.Spec.Kubelet == nil:
			nc.Spec.Kubelet = k.kubelet
			c.note(k.source, k.field, false, fmt.Sprintf("moved to EC2NodeClass %s, as in Karpenter v1", k.class))
			c.fitKubelet(k.source, k.field, nc)
		case !equalJSON(nc.Spec.Kubelet, k.kubelet):
			c.note(k.source, k.field, true, fmt.Sprintf("EC2NodeClass %s already has another pool's kubelet settings; give this pool a class of its own", k.class))
		}
	}
}
