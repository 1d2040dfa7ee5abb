package provisioning_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// TestVolumesPlaceOrHoldPods: a pod whose claim is bound to a volume in
// test-zone-3 gets a claim there; one whose claim waits for Immediate
// binding gets none, and its event says which claim and why.
func TestVolumesPlaceOrHoldPods(t *testing.T) {
	e := setup(t)
	e.nodePool("default", nil)
	create := func(obj client.Object) {
		t.Helper()
		if err := e.kube.Create(e.ctx, obj); err != nil {
			t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
		}
	}
	storage := corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}
	create(&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "fast"}, Provisioner: "ebs.csi.aws.com",
		VolumeBindingMode: ptr.To(storagev1.VolumeBindingImmediate)})
	create(&corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv-zone-3"}, Spec: corev1.PersistentVolumeSpec{
		Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "ebs.csi.aws.com", VolumeHandle: "vol-1"}},
		NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{
			{Key: corev1.LabelTopologyZone, Operator: corev1.NodeSelectorOpIn, Values: []string{"test-zone-3"}}}}}}}}})
	create(&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "bound", Namespace: "default"}, Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, VolumeName: "pv-zone-3", StorageClassName: ptr.To(""), Resources: storage}})
	create(&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "legacy", Namespace: "default"}, Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, StorageClassName: ptr.To("fast"), Resources: storage}})

	withClaim := func(claim string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}}
		}
	}
	db := e.pendingPod("db", "100m", withClaim("bound"))
	old := e.pendingPod("old", "100m", withClaim("legacy"))
	res, err := e.p.Schedule(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.NodeClaims) != 1 || len(res.NodeClaims[0].Pods) != 1 || res.NodeClaims[0].Pods[0].Name != db.Name {
		t.Fatalf("want one claim for db, got %+v", res.NodeClaims)
	}
	if zone := res.NodeClaims[0].Chosen().Offering.Zone; zone != "test-zone-3" {
		t.Errorf("db's claim is in %s, want test-zone-3 where its volume is", zone)
	}
	for _, nc := range e.claims() {
		if !hasZone(nc, "test-zone-3") {
			t.Errorf("nodeclaim %s requirements %v do not pin test-zone-3", nc.Name, nc.Spec.Requirements)
		}
	}
	if len(res.Unschedulable) != 1 || res.Unschedulable[0].Pod.Name != old.Name {
		t.Fatalf("want old unschedulable, got %+v", res.Unschedulable)
	}
	want := "persistentvolumeclaim default/legacy is not bound yet (storageclass fast binds Immediate)"
	found := false
	for _, ev := range e.events() {
		found = found || strings.Contains(ev, want)
	}
	if !found {
		t.Errorf("no event says %q", want)
	}
}

func hasZone(nc v1.NodeClaim, zone string) bool {
	for _, r := range nc.Spec.Requirements {
		if r.Key == corev1.LabelTopologyZone && len(r.Values) == 1 && r.Values[0] == zone && r.Operator == corev1.NodeSelectorOpIn {
			return true
		}
	}
	return false
}
