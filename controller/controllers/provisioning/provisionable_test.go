package provisioning

import (
	"testing"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
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

// TestNominationHolds: a nomination holds while the claim's node is on its
// way; once the node is initialized, a pod kube-scheduler still leaves
// unschedulable does not fit it and needs a batch again.
func TestNominationHolds(t *testing.T) {
	claim := func(mut func(*v1.NodeClaim)) *v1.NodeClaim {
		nc := &v1.NodeClaim{ObjectMeta: metav1.ObjectMeta{Name: "c"}}
		if mut != nil {
			mut(nc)
		}
		return nc
	}
	initialized := func(nc *v1.NodeClaim) {
		nc.Status.Conditions = []metav1.Condition{{Type: v1.ConditionTypeInitialized, Status: metav1.ConditionTrue}}
	}
	for _, tc := range []struct {
		name string
		nc   *v1.NodeClaim
		want bool
	}{
		{"launching", claim(nil), true},
		{"registered, not initialized", claim(func(nc *v1.NodeClaim) {
			nc.Status.Conditions = []metav1.Condition{{Type: v1.ConditionTypeRegistered, Status: metav1.ConditionTrue}}
		}), true},
		{"initialized", claim(initialized), false},
		{"deleting", claim(func(nc *v1.NodeClaim) { now := metav1.Now(); nc.DeletionTimestamp = &now }), false},
		{"gone", nil, false},
	} {
		if got := NominationHolds(tc.nc); got != tc.want {
			t.Errorf("%s: NominationHolds = %v, want %v", tc.name, got, tc.want)
		}
	}
}
