package volumetopology

import (
	"errors"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

const zone = corev1.LabelTopologyZone

func claim(name, volume, class string) *corev1.PersistentVolumeClaim {
	c := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PersistentVolumeClaimSpec{VolumeName: volume}}
	if class != "" {
		c.Spec.StorageClassName = ptr.To(class)
	}
	return c
}

func volume(name string, terms ...[]corev1.NodeSelectorRequirement) *corev1.PersistentVolume {
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if len(terms) > 0 {
		sel := &corev1.NodeSelector{}
		for _, t := range terms {
			sel.NodeSelectorTerms = append(sel.NodeSelectorTerms, corev1.NodeSelectorTerm{MatchExpressions: t})
		}
		pv.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: sel}
	}
	return pv
}

func in(key string, values ...string) []corev1.NodeSelectorRequirement {
	return []corev1.NodeSelectorRequirement{{Key: key, Operator: corev1.NodeSelectorOpIn, Values: values}}
}

func class(name string, mode storagev1.VolumeBindingMode, zones ...[]string) *storagev1.StorageClass {
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, VolumeBindingMode: &mode}
	for _, z := range zones {
		sc.AllowedTopologies = append(sc.AllowedTopologies, corev1.TopologySelectorTerm{
			MatchLabelExpressions: []corev1.TopologySelectorLabelRequirement{{Key: zone, Values: z}}})
	}
	return sc
}

func podWith(claims ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-0", Namespace: "default"}}
	for _, c := range claims {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: c,
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c}}})
	}
	p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	return p
}

func TestRequirements(t *testing.T) {
	wffc, immediate := storagev1.VolumeBindingWaitForFirstConsumer, storagev1.VolumeBindingImmediate
	local := volume("local", append(in(corev1.LabelHostname, "node-1"), in(zone, "zone-a")...))
	local.Spec.Local = &corev1.LocalVolumeSource{Path: "/mnt"}
	deleting := claim("deleting", "pv-a", "")
	deleting.DeletionTimestamp = &metav1.Time{}
	objs := &Objects{}
	for _, o := range []any{
		claim("bound", "pv-a", "gp3"), volume("pv-a", in(zone, "zone-a")),
		claim("regional", "pv-ab", ""), volume("pv-ab", in(zone, "zone-a"), in(zone, "zone-b")),
		claim("anywhere", "pv-any", ""), volume("pv-any"),
		claim("local", "local", ""), local,
		claim("wffc", "", "gp3"), class("gp3", wffc),
		claim("wffc-zones", "", "zonal"), class("zonal", wffc, []string{"zone-b"}, []string{"zone-c"}),
		claim("immediate", "", "fast"), class("fast", immediate),
		claim("no-class", "", ""), claim("unknown-class", "", "nope"), claim("no-pv", "pv-gone", ""),
		deleting,
	} {
		objs.Add(o)
	}
	for _, tc := range []struct {
		claim   string
		want    string
		waiting string
	}{
		{claim: "bound", want: "[{topology.kubernetes.io/zone In [zone-a]}]"},
		{claim: "regional", want: "[{topology.kubernetes.io/zone In [zone-a zone-b]}]"},
		{claim: "anywhere", want: "[]"},
		{claim: "local", want: "[{topology.kubernetes.io/zone In [zone-a]}]"},
		{claim: "wffc", want: "[]"},
		{claim: "wffc-zones", want: "[{topology.kubernetes.io/zone In [zone-b zone-c]}]"},
		{claim: "immediate", waiting: "volume immediate: waiting for its volumes: persistentvolumeclaim default/immediate is not bound yet (storageclass fast binds Immediate)"},
		{claim: "no-class", waiting: "volume no-class: waiting for its volumes: persistentvolumeclaim default/no-class is unbound and names no storage class"},
		{claim: "unknown-class", waiting: "volume unknown-class: waiting for its volumes: storageclass nope of claim default/unknown-class not found"},
		{claim: "no-pv", waiting: "volume no-pv: waiting for its volumes: persistentvolume pv-gone of claim default/no-pv not found"},
		{claim: "missing", waiting: "volume missing: waiting for its volumes: persistentvolumeclaim default/missing not found"},
		{claim: "deleting", waiting: "volume deleting: waiting for its volumes: persistentvolumeclaim default/deleting is being deleted"},
	} {
		t.Run(tc.claim, func(t *testing.T) {
			claims := NewClaims()
			err := claims.Add(objs, podWith(tc.claim))
			if tc.waiting != "" {
				if err == nil || !errors.Is(err, ErrWaiting) || err.Error() != tc.waiting {
					t.Fatalf("err = %v, want %q wrapping ErrWaiting", err, tc.waiting)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, ok := claims.Requirements["default/"+tc.claim]
			if !ok {
				t.Fatalf("no entry for the claim: %v", claims.Requirements)
			}
			if s := fmt.Sprint(requirementsString(got)); s != tc.want {
				t.Errorf("requirements %s, want %s", s, tc.want)
			}
		})
	}
}

func requirementsString(rs []corev1.NodeSelectorRequirement) string {
	out := "["
	for i, r := range rs {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("{%s %s %v}", r.Key, r.Operator, r.Values)
	}
	return out + "]"
}

func TestOneTermKeepsTheFirstOfMixedShapes(t *testing.T) {
	got := oneTerm([][]corev1.NodeSelectorRequirement{in(zone, "zone-a"), in(corev1.LabelArchStable, "arm64")})
	if requirementsString(got) != "[{topology.kubernetes.io/zone In [zone-a]}]" {
		t.Errorf("got %s", requirementsString(got))
	}
}

// TestDrivers: a claim's volume counts against the attach limit of the
// driver kube-scheduler's NodeVolumeLimits would count it under, with the
// in-tree EBS plugin read as the CSI driver it migrated to.
func TestDrivers(t *testing.T) {
	wffc := storagev1.VolumeBindingWaitForFirstConsumer
	csi := volume("pv-csi")
	csi.Spec.CSI = &corev1.CSIPersistentVolumeSource{Driver: "ebs.csi.aws.com", VolumeHandle: "vol-1"}
	intree := volume("pv-intree")
	intree.Spec.AWSElasticBlockStore = &corev1.AWSElasticBlockStoreVolumeSource{VolumeID: "vol-2"}
	nfs := volume("pv-nfs")
	nfs.Spec.NFS = &corev1.NFSVolumeSource{Server: "nfs", Path: "/"}
	gp3, legacy, efs := class("gp3", wffc), class("legacy", wffc), class("efs", wffc)
	gp3.Provisioner, legacy.Provisioner, efs.Provisioner = "ebs.csi.aws.com", "kubernetes.io/aws-ebs", "efs.csi.aws.com"
	objs := &Objects{}
	for _, o := range []any{
		claim("csi", "pv-csi", ""), csi, claim("intree", "pv-intree", ""), intree, claim("nfs", "pv-nfs", ""), nfs,
		claim("new-gp3", "", "gp3"), gp3, claim("new-legacy", "", "legacy"), legacy, claim("new-efs", "", "efs"), efs,
	} {
		objs.Add(o)
	}
	claims := NewClaims()
	for _, name := range []string{"csi", "intree", "nfs", "new-gp3", "new-legacy", "new-efs"} {
		if err := claims.Add(objs, podWith(name)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	want := map[string]string{"default/csi": "ebs.csi.aws.com", "default/intree": "ebs.csi.aws.com",
		"default/new-gp3": "ebs.csi.aws.com", "default/new-legacy": "ebs.csi.aws.com", "default/new-efs": "efs.csi.aws.com"}
	if fmt.Sprint(claims.Drivers) != fmt.Sprint(want) {
		t.Errorf("Drivers = %v, want %v", claims.Drivers, want)
	}
}
