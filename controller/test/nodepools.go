package test

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// NodePoolOptions describe a NodePool; the zero value with a Name is a
// minimal valid pool on the EC2NodeClass "default".
type NodePoolOptions struct {
	Name string
	// NodeClass defaults to "default".
	NodeClass string
	// Labels are the template's: every node of the pool carries them.
	Labels  map[string]string
	Weight  *int32
	Limits  corev1.ResourceList
	Budgets []v1.Budget
}

// NodePool builds the pool.
func NodePool(o NodePoolOptions) *v1.NodePool {
	np := &v1.NodePool{
		ObjectMeta: metav1.ObjectMeta{Name: o.Name},
		Spec: v1.NodePoolSpec{
			Weight: o.Weight,
			Limits: o.Limits,
			Template: v1.NodeClaimTemplate{
				ObjectMeta: v1.NodeClaimTemplateObjectMeta{Labels: o.Labels},
				Spec:       v1.NodeClaimTemplateSpec{NodeClassRef: NodeClassRef(o.NodeClass)},
			},
		},
	}
	np.Spec.Disruption.Budgets = o.Budgets
	return np
}

// NodeClassRef points at the named EC2NodeClass ("" is "default").
func NodeClassRef(name string) *v1.NodeClassReference {
	if name == "" {
		name = "default"
	}
	return &v1.NodeClassReference{Group: v1.Group, Kind: "EC2NodeClass", Name: name}
}
