package nodeclass

// Which resolved image runs which instance type, and a class's image
// family: no I/O, shared by launch, offerings and the offline planner.

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// imageRequirements are the instance types an image of a variant runs on:
// the standard images have no accelerator drivers, the nvidia ones serve
// NVIDIA GPUs and the neuron ones AWS Inferentia and Trainium.
func imageRequirements(arch, variant string) []corev1.NodeSelectorRequirement {
	out := []corev1.NodeSelectorRequirement{{Key: corev1.LabelArchStable, Operator: corev1.NodeSelectorOpIn, Values: []string{arch}}}
	switch variant {
	case "standard":
		out = append(out,
			corev1.NodeSelectorRequirement{Key: v1.InstanceGPUCountLabel, Operator: corev1.NodeSelectorOpDoesNotExist},
			corev1.NodeSelectorRequirement{Key: v1.InstanceAcceleratorCountLabel, Operator: corev1.NodeSelectorOpDoesNotExist})
	case "nvidia":
		out = append(out, corev1.NodeSelectorRequirement{Key: v1.InstanceGPUMfrLabel, Operator: corev1.NodeSelectorOpIn, Values: []string{"nvidia"}})
	case "neuron":
		out = append(out, corev1.NodeSelectorRequirement{Key: v1.InstanceAcceleratorMfrLabel, Operator: corev1.NodeSelectorOpIn, Values: []string{"aws"}})
	}
	return out
}

// EKSOptimizedImages are the kinds of image both alias families publish,
// as requirements without ids: standard and nvidia on both architectures,
// neuron on x86_64 (AL2023's own image, Bottlerocket's standard one). The
// offline planner offers what these can launch, as a node class with an
// alias would.
func EKSOptimizedImages() []v1.AMI {
	var out []v1.AMI
	for _, k := range [][2]string{{"amd64", "standard"}, {"amd64", "nvidia"}, {"amd64", "neuron"}, {"arm64", "standard"}, {"arm64", "nvidia"}} {
		out = append(out, v1.AMI{Requirements: imageRequirements(k[0], k[1])})
	}
	return out
}

// Launchable reports whether one of the images can run an instance type
// with these labels.
func Launchable(amis []v1.AMI, labels map[string]string) bool {
	_, ok := ImageFor(amis, labels)
	return ok
}

// ImageFor is the node class's image for an instance type with these
// labels: the first whose requirements the labels meet.
func ImageFor(amis []v1.AMI, labels map[string]string) (string, bool) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Labels: labels}}
	for _, ami := range amis {
		ok, err := corev1helpers.MatchNodeSelectorTerms(node, &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: ami.Requirements}}})
		if err == nil && ok {
			return ami.ID, true
		}
	}
	return "", false
}

// AMIFamily is the node class's image family: the alias's, else spec.amiFamily.
func AMIFamily(nc *v1.EC2NodeClass) string {
	for _, t := range nc.Spec.AMISelectorTerms {
		if strings.HasPrefix(t.Alias, "bottlerocket@") {
			return v1.AMIFamilyBottlerocket
		}
		if strings.HasPrefix(t.Alias, "al2023@") {
			return v1.AMIFamilyAL2023
		}
	}
	if nc.Spec.AMIFamily != nil {
		return *nc.Spec.AMIFamily
	}
	return v1.AMIFamilyAL2023
}
