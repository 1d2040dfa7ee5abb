package provisioning

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestProvisionable(t *testing.T) {
	unschedulable := func(mut func(*corev1.Pod)) *corev1.Pod {
		p := &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable}}}}
		if mut != nil {
			mut(p)
		}
		return p
	}
	live := func(name string) bool { return name == "live" }
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want bool
	}{
		{"unschedulable", unschedulable(nil), true},
		{"not yet tried", &corev1.Pod{}, false},
		{"scheduling gated", unschedulable(func(p *corev1.Pod) { p.Status.Conditions[0].Reason = corev1.PodReasonSchedulingGated }), false},
		{"bound", unschedulable(func(p *corev1.Pod) { p.Spec.NodeName = "n" }), false},
		{"deleting", unschedulable(func(p *corev1.Pod) { now := metav1.Now(); p.DeletionTimestamp = &now }), false},
		{"failed", unschedulable(func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }), false},
		{"preemption nominee", unschedulable(func(p *corev1.Pod) { p.Status.NominatedNodeName = "n" }), false},
		{"daemonset pod", unschedulable(func(p *corev1.Pod) {
			p.OwnerReferences = []metav1.OwnerReference{{Kind: "DaemonSet", Name: "d", Controller: ptr.To(true)}}
		}), false},
		{"nominated to a live claim", unschedulable(func(p *corev1.Pod) { p.Annotations = map[string]string{NominatedAnnotationKey: "live"} }), false},
		{"nominated to a gone claim", unschedulable(func(p *corev1.Pod) { p.Annotations = map[string]string{NominatedAnnotationKey: "gone"} }), true},
	} {
		if got := Provisionable(tc.pod, live); got != tc.want {
			t.Errorf("%s: Provisionable = %v, want %v", tc.name, got, tc.want)
		}
	}
}
