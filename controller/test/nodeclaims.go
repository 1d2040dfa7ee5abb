package test

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/test/localcloud"
)

// NodeClaimOptions describe an unlaunched NodeClaim.
type NodeClaimOptions struct {
	// NodePool names the claim's pool; the claim is named
	// "<pool>-<random>" and labelled with it.
	NodePool string
	// NodeClass defaults to "default".
	NodeClass string
}

// NodeClaim builds the claim.
func NodeClaim(o NodeClaimOptions) *v1.NodeClaim {
	return &v1.NodeClaim{
		ObjectMeta: metav1.ObjectMeta{GenerateName: o.NodePool + "-", Labels: map[string]string{v1.NodePoolLabelKey: o.NodePool}},
		Spec:       v1.NodeClaimSpec{NodeClassRef: NodeClassRef(o.NodeClass)},
	}
}

// NodeFor is the Node a kubelet would register for a launched claim: kwok
// runs it (and marks it Ready), it carries the unregistered taint, and its
// capacity is the claim's.
func NodeFor(nc *v1.NodeClaim, name string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{localcloud.KwokNodeAnnotation: "fake"},
			Labels:      map[string]string{corev1.LabelHostname: name},
		},
		Spec: corev1.NodeSpec{
			ProviderID: nc.Status.ProviderID,
			Taints:     append([]corev1.Taint{v1.UnregisteredNoExecuteTaint}, nc.Spec.StartupTaints...),
		},
		Status: corev1.NodeStatus{Capacity: nc.Status.Capacity.DeepCopy(), Allocatable: nc.Status.Allocatable.DeepCopy()},
	}
}
