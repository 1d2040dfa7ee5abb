package disruptionplan

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/controllers/provisioning"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

func TestNewSnapshot(t *testing.T) {
	types := catalog(8)
	np := &v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	created := metav1.NewTime(now.Add(-48 * time.Hour))
	lastEvent := metav1.NewTime(now.Add(-time.Hour))
	claim := func(name, provider string, conds ...metav1.Condition) *v1.NodeClaim {
		return &v1.NodeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: created, Labels: map[string]string{
				v1.NodePoolLabelKey: "default", corev1.LabelInstanceTypeStable: "t-4x", v1.CapacityTypeLabelKey: spot, corev1.LabelTopologyZone: "zone-b"}},
			Status: v1.NodeClaimStatus{ProviderID: provider, LastPodEventTime: lastEvent, Conditions: conds,
				Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4")}},
		}
	}
	node := func(name, provider string, labels map[string]string) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
			Spec:   corev1.NodeSpec{ProviderID: provider},
			Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4")}}}
	}
	initialized := metav1.Condition{Type: v1.ConditionTypeInitialized, Status: metav1.ConditionTrue}
	drift := metav1.Condition{Type: v1.ConditionTypeDrifted, Status: metav1.ConditionTrue, Reason: "ImageDrifted", Message: "AMI ami-1 is not ami-2"}
	labels := map[string]string{v1.NodePoolLabelKey: "default", corev1.LabelInstanceTypeStable: "t-4x", v1.CapacityTypeLabelKey: spot, corev1.LabelTopologyZone: "zone-b"}

	deletingClaim := claim("nc-3", "aws:///zone-b/i-3", initialized)
	deletingClaim.DeletionTimestamp = &metav1.Time{Time: now}
	deletingClaim.Finalizers = []string{v1.TerminationFinalizer}
	onNode := newPod("1")
	onNode.Spec.NodeName = "node-1"
	pending := newPod("1", annotate(NominatedAnnotationKey, "nc-4"))
	stray := newPod("1")
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "kube-system"}}
	ds.Spec.Template.Spec.Containers = []corev1.Container{{Name: "agent"}}
	s, err := NewSnapshot(Objects{
		Now: now,
		Nodes: []*corev1.Node{
			node("node-1", "aws:///zone-b/i-1", labels),
			node("node-2", "aws:///zone-b/i-2", labels),
			node("node-3", "aws:///zone-b/i-3", labels),
			node("other", "aws:///zone-a/i-9", map[string]string{}),
		},
		NodeClaims:    []*v1.NodeClaim{claim("nc-1", "aws:///zone-b/i-1", initialized, drift), claim("nc-2", "aws:///zone-b/i-2"), deletingClaim, claim("nc-4", "")},
		NodePools:     []*v1.NodePool{np},
		InstanceTypes: map[string][]*scheduling.InstanceType{"default": types},
		Pods:          []*corev1.Pod{onNode, pending, stray},
		DaemonSets:    []*appsv1.DaemonSet{ds},
	})
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]*Node{}
	for _, n := range s.Nodes {
		by[n.Name] = n
	}
	if len(s.Nodes) != 5 {
		t.Fatalf("want 4 nodes and 1 in-flight claim, got %v", names(s.Nodes))
	}
	n1 := by["node-1"]
	if n1.NodeClaim != "nc-1" || n1.NodePool != "default" || !n1.Initialized || n1.Drifted != "AMI ami-1 is not ami-2" ||
		n1.Price != 0.08 || !n1.Created.Equal(created.Time) || !n1.LastPodEvent.Equal(lastEvent.Time) || len(n1.Pods) != 1 || n1.Deleting {
		t.Errorf("node-1: %+v", n1)
	}
	if n2 := by["node-2"]; n2.Initialized || n2.Drifted != "" {
		t.Errorf("node-2 initialized %v drifted %q", n2.Initialized, n2.Drifted)
	}
	if !by["node-3"].Deleting {
		t.Error("node-3 of a deleting claim is not Deleting")
	}
	if o := by["other"]; o.NodeClaim != "" || o.NodePool != "" {
		t.Errorf("other is not ours: %+v", o)
	}
	if f := by["nc-4"]; f == nil || f.Initialized || f.NodePool != "default" || len(f.Pods) != 1 || f.Pods[0] != pending {
		t.Errorf("in-flight claim: %+v", f)
	}
	if len(s.DaemonSets) != 1 || s.DaemonSets[0].Namespace != "kube-system" {
		t.Errorf("daemonsets %+v", s.DaemonSets)
	}
	if len(s.Pools) != 1 || s.Pools[0].Scheduling.Name != "default" || len(s.Pools[0].Scheduling.InstanceTypes) != 8 {
		t.Errorf("pools %+v", s.Pools)
	}

	t.Run("labelled nodes adopted without claims", func(t *testing.T) {
		n := node("node-1", "aws:///zone-b/i-1", labels)
		n.CreationTimestamp = created
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
		s, err := NewSnapshot(Objects{Now: now, Nodes: []*corev1.Node{n}, NodePools: []*v1.NodePool{np},
			InstanceTypes: map[string][]*scheduling.InstanceType{"default": types}, AdoptLabelledNodes: true})
		if err != nil {
			t.Fatal(err)
		}
		got := s.Nodes[0]
		if got.NodeClaim != "node-1" || got.NodePool != "default" || !got.Initialized || got.Price != 0.08 || !got.Created.Equal(created.Time) {
			t.Errorf("adopted: %+v", got)
		}
	})
}

func TestNominatedAnnotationMatchesProvisioner(t *testing.T) {
	if NominatedAnnotationKey != provisioning.NominatedAnnotationKey {
		t.Fatalf("%q differs from the provisioner's %q", NominatedAnnotationKey, provisioning.NominatedAnnotationKey)
	}
}
