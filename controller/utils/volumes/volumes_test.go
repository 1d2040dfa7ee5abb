package volumes

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/nodewright/nodewright/controller/utils/resources"
)

func TestAttachLimitsComeFromCSINodes(t *testing.T) {
	csiNode := &storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: storagev1.CSINodeSpec{Drivers: []storagev1.CSINodeDriver{
		{Name: resources.EBSCSIDriver, NodeID: "i-1", Allocatable: &storagev1.VolumeNodeResources{Count: ptr.To[int32](25)}},
		{Name: "efs.csi.aws.com", NodeID: "i-1"},
	}}}
	kube := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithObjects(csiNode).Build()
	nodes := []corev1.Node{
		{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("110")}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "n2"}, Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("110")}}},
	}
	if err := AttachLimits(context.Background(), kube, nodes); err != nil {
		t.Fatal(err)
	}
	got := nodes[0].Status.Allocatable[resources.AttachLimit(resources.EBSCSIDriver)]
	if got.Value() != 25 {
		t.Errorf("n1 attaches %s EBS volumes, want its CSINode's 25", got.String())
	}
	if _, ok := nodes[0].Status.Allocatable[resources.AttachLimit("efs.csi.aws.com")]; ok {
		t.Error("a driver that publishes no count got a limit")
	}
	if len(nodes[1].Status.Allocatable) != 1 {
		t.Errorf("n2 has no CSINode but its allocatable changed: %v", nodes[1].Status.Allocatable)
	}
}
