package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestStatefulSetFollowsItsVolumes: a StatefulSet whose claims are bound
// to volumes pinned to one zone gets its nodes in that zone. The PV
// controller binds the claims, kube-scheduler's VolumeBinding plugin only
// places the pods on nodes of that zone, and so nodewright must launch
// them there; a node anywhere else would leave the pods Pending.
// zonalVolumes creates the "zonal" StorageClass (WaitForFirstConsumer, no
// provisioner) and n PersistentVolumes in zone, pv-db-i reserved for the
// claim data-db-i: what a StatefulSet "db" with a "data" volume claim
// template binds to.
func zonalVolumes(create func(client.Object), zone string, n int) {
	create(&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "zonal"}, Provisioner: "kubernetes.io/no-provisioner",
		VolumeBindingMode: ptr.To(storagev1.VolumeBindingWaitForFirstConsumer)})
	for i := range n {
		create(&corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pv-db-%d", i)},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
				AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				StorageClassName:       "zonal",
				ClaimRef:               &corev1.ObjectReference{Namespace: "default", Name: fmt.Sprintf("data-db-%d", i)},
				PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/db"}},
				NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
					MatchExpressions: []corev1.NodeSelectorRequirement{{Key: corev1.LabelTopologyZone, Operator: corev1.NodeSelectorOpIn, Values: []string{zone}}}}}}},
			},
		})
	}
}

func TestStatefulSetFollowsItsVolumes(t *testing.T) {
	e := newEnv(t, defaultNodePool)
	ctx := context.Background()
	// The zone the cheapest offering is least likely to be in: the last.
	zone := e.cloud.Region() + "c"
	const replicas = 2

	create := func(obj client.Object) {
		t.Helper()
		if err := e.kube.Create(ctx, obj); err != nil {
			t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
		}
	}
	zonalVolumes(create, zone, replicas)
	for i := range replicas {
		claim := fmt.Sprintf("data-db-%d", i)
		create(&corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: claim, Namespace: "default"},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				StorageClassName: ptr.To("zonal"),
				VolumeName:       fmt.Sprintf("pv-db-%d", i),
				Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
			},
		})
	}
	e.eventually("claims bound by the PV controller", time.Minute, func(ctx context.Context) (bool, error) {
		for i := range replicas {
			var pvc corev1.PersistentVolumeClaim
			if err := e.kube.Get(ctx, client.ObjectKey{Namespace: "default", Name: fmt.Sprintf("data-db-%d", i)}, &pvc); err != nil {
				return false, err
			}
			if pvc.Status.Phase != corev1.ClaimBound {
				return false, nil
			}
		}
		return true, nil
	})

	db := inflate("db", replicas, "1", "1Gi")
	labels := db.Spec.Selector.MatchLabels
	create(&appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default"},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            db.Spec.Replicas,
			Selector:            db.Spec.Selector,
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Template:            db.Spec.Template,
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					StorageClassName: ptr.To("zonal"),
					Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				},
			}},
		},
	})
	e.eventually("the StatefulSet's pods running", 2*time.Minute, func(ctx context.Context) (bool, error) {
		running, total := e.runningPods(ctx, "db")
		return total == replicas && running == replicas, nil
	})

	var pods corev1.PodList
	if err := e.kube.List(ctx, &pods, client.InNamespace("default"), client.MatchingLabels(labels)); err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		var node corev1.Node
		if err := e.kube.Get(ctx, client.ObjectKey{Name: p.Spec.NodeName}, &node); err != nil {
			t.Fatal(err)
		}
		if got := node.Labels[corev1.LabelTopologyZone]; got != zone {
			t.Errorf("pod %s runs on %s in %s, want %s where its volume is", p.Name, node.Name, got, zone)
		}
	}
	for _, nc := range e.nodeClaims(ctx) {
		if got := nc.Labels[corev1.LabelTopologyZone]; got != zone {
			t.Errorf("nodeclaim %s launched in %s, want %s", nc.Name, got, zone)
		}
	}
}
