package operator

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// The pod cache keeps what scheduling, disruption and draining read, and
// drops the rest.
func TestTrimPodKeepsWhatControllersRead(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	container := func(name string) corev1.Container {
		return corev1.Container{Name: name, Image: "app:1", Env: []corev1.EnvVar{{Name: "A", Value: "b"}}, Command: []string{"run"},
			Ports:          []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}},
			Resources:      corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}},
			VolumeMounts:   []corev1.VolumeMount{{Name: "token", MountPath: "/var/run"}},
			ReadinessProbe: &corev1.Probe{PeriodSeconds: 5}}
	}
	sidecar := container("sidecar")
	sidecar.RestartPolicy = &always
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Annotations: map[string]string{"a": "b", corev1.LastAppliedConfigAnnotation: `{"kind":"Pod"}`},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{container("app")}, InitContainers: []corev1.Container{sidecar},
			NodeSelector: map[string]string{"zone": "a"}, Tolerations: []corev1.Toleration{{Key: "t", Operator: corev1.TolerationOpExists}},
			TerminationGracePeriodSeconds: ptr.To[int64](30),
			Volumes: []corev1.Volume{
				{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}},
				{Name: "inline", VolumeSource: corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "ebs.csi.aws.com"}}},
				{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}},
				// The service-account token volume comes last, as admission adds it.
				{Name: "token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}},
			}},
		Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "app"}}},
	}
	out, err := trimPod(pod)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*corev1.Pod)
	app, side := got.Spec.Containers[0], got.Spec.InitContainers[0]
	if app.Env != nil || app.Command != nil || app.VolumeMounts != nil || app.ReadinessProbe != nil || got.ManagedFields != nil || got.Status.ContainerStatuses != nil ||
		got.Annotations[corev1.LastAppliedConfigAnnotation] != "" {
		t.Errorf("left in the cache: %+v", got)
	}
	if app.Resources.Requests.Cpu().String() != "250m" || app.Ports[0].HostPort != 8080 || side.RestartPolicy == nil ||
		got.Spec.NodeSelector["zone"] != "a" || len(got.Spec.Tolerations) != 1 || *got.Spec.TerminationGracePeriodSeconds != 30 ||
		got.Annotations["a"] != "b" || got.Status.Phase != corev1.PodPending || len(got.Status.Conditions) != 1 {
		t.Errorf("a field the controllers read was dropped: %+v", got)
	}
	var volumes []string
	for _, v := range got.Spec.Volumes {
		volumes = append(volumes, v.Name)
	}
	if len(volumes) != 3 || volumes[0] != "data" || volumes[1] != "inline" || volumes[2] != "scratch" {
		t.Errorf("volumes %v, want data, inline and scratch", volumes)
	}
	// What was dropped must not stay reachable past the slice's end.
	if all := got.Spec.Volumes[:cap(got.Spec.Volumes)]; slices.ContainsFunc(all, func(v corev1.Volume) bool { return v.Projected != nil || v.ConfigMap != nil }) {
		t.Errorf("dropped volumes still held by the slice: %+v", all)
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}}
	if out, err := trimPod(node); err != nil || out.(*corev1.Node).Name != "n" {
		t.Errorf("a node went through as %v, %v", out, err)
	}
}
