package convert

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// provisioner converts a karpenter.sh/v1alpha5 Provisioner. Its TTLs become
// v1's disruption settings as Karpenter's v1beta1 migration set them
// (ttlSecondsAfterEmpty: WhenEmpty after that long; consolidation.enabled:
// WhenEmptyOrUnderutilized; neither: no consolidation); without
// ttlSecondsUntilExpired its nodes never expired. An inline provider
// becomes an EC2NodeClass of the Provisioner's name.
func (c *converter) provisioner(src string, u *unstructured.Unstructured) {
	c.metadata(src, u)
	np := newPool(u)
	spec := c.fields(src, u.Object, "").sub("spec")
	var labels, annotations map[string]string
	spec.take("labels", &labels)
	spec.take("annotations", &annotations)
	np.Spec.Template.ObjectMeta.Labels = spec.labels("labels", labels)
	np.Spec.Template.ObjectMeta.Annotations = annotations
	var reqs []corev1.NodeSelectorRequirement
	spec.take("requirements", &reqs)
	var withMin []v1.NodeSelectorRequirementWithMinValues
	for _, r := range reqs {
		withMin = append(withMin, v1.NodeSelectorRequirementWithMinValues{Key: r.Key, Operator: r.Operator, Values: r.Values})
	}
	np.Spec.Template.Spec.Requirements = spec.requirements("requirements", withMin)
	spec.takeTaints(&np.Spec.Template.Spec)
	limits := spec.sub("limits")
	limits.take("resources", &np.Spec.Limits)
	limits.rest()
	spec.take("weight", &np.Spec.Weight)

	var empty, expire *int64
	spec.take("ttlSecondsAfterEmpty", &empty)
	spec.take("ttlSecondsUntilExpired", &expire)
	consolidation := spec.sub("consolidation")
	var enabled bool
	consolidation.take("enabled", &enabled)
	consolidation.rest()
	d := &np.Spec.Disruption
	switch {
	case enabled:
		d.ConsolidationPolicy, d.ConsolidateAfter = v1.ConsolidationPolicyWhenEmptyOrUnderutilized, "0s"
	case empty != nil:
		d.ConsolidationPolicy, d.ConsolidateAfter = v1.ConsolidationPolicyWhenEmpty, seconds(*empty)
	default:
		d.ConsolidationPolicy, d.ConsolidateAfter = v1.ConsolidationPolicyWhenEmpty, v1.Never
		c.note(src, "spec", false, "no ttlSecondsAfterEmpty and no consolidation: consolidateAfter Never keeps nodes, as the Provisioner did")
	}
	if enabled && empty != nil {
		c.note(src, "spec.ttlSecondsAfterEmpty", false, "consolidation.enabled already removes empty nodes; the TTL is dropped")
	}
	if expire != nil {
		np.Spec.Template.Spec.ExpireAfter = seconds(*expire)
	} else {
		np.Spec.Template.Spec.ExpireAfter = v1.Never
	}
	// v1alpha5 had no budgets: every node due to go went at once. The
	// default budget (10%) would spread that out, so keep it whole.
	d.Budgets = []v1.Budget{{Nodes: "100%"}}
	c.note(src, "spec", false, "v1alpha5 had no disruption budgets: nodes: 100% keeps its behaviour (every empty node goes when due); lower it to limit disruptions at once")

	var kubelet *v1.KubeletConfiguration
	spec.take("kubeletConfiguration", &kubelet)
	class := ""
	ref := spec.sub("providerRef")
	ref.take("name", &class)
	ref.drop("kind", "apiVersion")
	ref.rest()
	if provider, ok := spec.m["provider"].(map[string]any); ok {
		spec.drop("provider")
		if class != "" {
			c.note(src, "spec.provider", true, "both provider and providerRef are set; the inline provider is left out")
		} else {
			class = u.GetName()
			c.templateClass(src, class, c.fields(src, provider, "spec.provider"))
			c.note(src, "spec.provider", false, fmt.Sprintf("became EC2NodeClass %s", class))
		}
	}
	if class == "" {
		c.note(src, "spec.providerRef", true, "no node template: the pool needs an EC2NodeClass")
	}
	np.Spec.Template.Spec.NodeClassRef = &v1.NodeClassReference{Group: v1.Group, Kind: "EC2NodeClass", Name: class}
	if kubelet != nil {
		c.kubelets = append(c.kubelets, pendingKubelet{source: src, field: "spec.kubeletConfiguration", class: class, kubelet: kubelet})
	}
	spec.rest()
	c.addPool(src, np)
}

// seconds writes a TTL in the largest unit that keeps it exact.
func seconds(s int64) v1.NillableDuration {
	switch {
	case s != 0 && s%3600 == 0:
		return v1.NillableDuration(fmt.Sprintf("%dh", s/3600))
	case s != 0 && s%60 == 0:
		return v1.NillableDuration(fmt.Sprintf("%dm", s/60))
	}
	return v1.NillableDuration(fmt.Sprintf("%ds", s))
}

// nodeTemplate converts a karpenter.k8s.aws/v1alpha1 AWSNodeTemplate.
func (c *converter) nodeTemplate(src string, u *unstructured.Unstructured) {
	c.metadata(src, u)
	c.templateClass(src, u.GetName(), c.fields(src, u.Object, "").sub("spec"))
	if nc, ok := c.classes[u.GetName()]; ok {
		nc.Labels, nc.Annotations = u.GetLabels(), u.GetAnnotations()
	}
}

// templateClass builds an EC2NodeClass from an AWSNodeTemplate spec or a
// Provisioner's inline provider, which share their fields.
func (c *converter) templateClass(src, name string, spec fields) {
	nc := newClass(name)
	var subnets, groups, amis map[string]string
	spec.take("subnetSelector", &subnets)
	spec.take("securityGroupSelector", &groups)
	spec.take("amiSelector", &amis)
	for _, t := range selectorTerms(subnets) {
		nc.Spec.SubnetSelectorTerms = append(nc.Spec.SubnetSelectorTerms, v1.SubnetSelectorTerm{Tags: t.tags, ID: t.id})
	}
	for _, t := range selectorTerms(groups) {
		nc.Spec.SecurityGroupSelectorTerms = append(nc.Spec.SecurityGroupSelectorTerms, v1.SecurityGroupSelectorTerm{Tags: t.tags, ID: t.id, Name: t.name})
	}
	for _, t := range selectorTerms(amis) {
		nc.Spec.AMISelectorTerms = append(nc.Spec.AMISelectorTerms, v1.AMISelectorTerm{Tags: t.tags, ID: t.id, Name: t.name, Owner: t.owner})
	}
	var family string
	spec.take("amiFamily", &family)
	if family == "" && len(nc.Spec.AMISelectorTerms) == 0 {
		family = "AL2" // v1alpha5's default family
		c.note(src, spec.at("amiFamily"), false, "not set: v1alpha1 defaulted to AL2")
	}
	c.amiFamily(src, spec.at("amiFamily"), nc, family)
	spec.takeLaunchFields(nc)
	if _, ok := spec.m["launchTemplate"]; ok {
		spec.drop("launchTemplate")
		c.note(src, spec.at("launchTemplate"), true, "nodewright makes its own launch templates; give the template's settings as EC2NodeClass fields")
	}
	c.unsupportedClassFields(spec)
	spec.rest()
	c.addClass(src, nc)
}

// selectorTerm is one v1 selector term made from a v1alpha1 selector map.
type selectorTerm struct {
	tags            map[string]string
	id, name, owner string
}

// selectorTerms reads a v1alpha1 selector map: tags ANDed in one term, and
// the special keys aws-ids (comma-separated, one term each), aws::name and
// aws::owners.
func selectorTerms(m map[string]string) []selectorTerm {
	if len(m) == 0 {
		return nil
	}
	var out []selectorTerm
	tags := map[string]string{}
	var name string
	var owners []string
	for k, v := range m {
		switch k {
		case "aws-ids", "aws::ids":
			for _, id := range strings.Split(v, ",") {
				if id = strings.TrimSpace(id); id != "" {
					out = append(out, selectorTerm{id: id})
				}
			}
		case "aws::name":
			name = v
		case "aws::owners":
			owners = strings.Split(v, ",")
		default:
			tags[k] = v
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	if len(tags) > 0 || name != "" {
		t := selectorTerm{name: name}
		if len(tags) > 0 {
			t.tags = tags
		}
		if len(owners) == 0 {
			out = append(out, t)
		}
		for _, o := range owners {
			t.owner = strings.TrimSpace(o)
			out = append(out, t)
		}
	}
	return out
}
