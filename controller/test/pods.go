package test

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PodOptions describe a pod with one container, "app".
type PodOptions struct {
	Name string
	// Namespace defaults to "default".
	Namespace string
	Labels    map[string]string
	// Requests are the container's; nil requests nothing.
	Requests     corev1.ResourceList
	NodeSelector map[string]string
	Tolerations  []corev1.Toleration
	// SchedulerName set to one no scheduler serves leaves the pod pending
	// for nodewright alone.
	SchedulerName string
	NodeName      string
}

// Pod builds the pod; its Labels and Requests are copies, never nil, so a
// test may add to them.
func Pod(o PodOptions) *corev1.Pod {
	ns := o.Namespace
	if ns == "" {
		ns = "default"
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: ns, Labels: map[string]string{}},
		Spec: corev1.PodSpec{
			NodeSelector:  o.NodeSelector,
			Tolerations:   o.Tolerations,
			SchedulerName: o.SchedulerName,
			NodeName:      o.NodeName,
			Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10",
				Resources: corev1.ResourceRequirements{Requests: o.Requests.DeepCopy()}}},
		},
	}
	if p.Spec.Containers[0].Resources.Requests == nil {
		p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{}
	}
	for k, v := range o.Labels {
		p.Labels[k] = v
	}
	return p
}
