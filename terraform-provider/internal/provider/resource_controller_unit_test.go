package provider

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

func TestControllerObjects(t *testing.T) {
	base := controllerSpec{Namespace: "nw", Image: "img:1", ClusterName: "prod", LogLevel: "info", Replicas: 2,
		MetricsPort: 8080, HealthPort: 8081, AvoidManaged: true, CPURequest: "500m", MemoryRequest: "512Mi", MemoryLimit: "512Mi",
		AWS: map[string]string{"AWS_REGION": "eu-west-1"}, Env: map[string]string{"LOG_LEVEL": "debug", "EXTRA": "1"}}
	objs := controllerObjects(base)
	if len(objs) != 7 {
		t.Fatalf("got %d objects, want 7", len(objs))
	}
	dep := objs[len(objs)-1].(*appsv1.Deployment)
	ctr := dep.Spec.Template.Spec.Containers[0]
	// The user's env comes last, so the container sees LOG_LEVEL=debug.
	last := map[string]string{}
	for _, e := range ctr.Env {
		last[e.Name] = e.Value
	}
	if last["LOG_LEVEL"] != "debug" || last["EXTRA"] != "1" || last["AWS_REGION"] != "eu-west-1" || last["LEADER_ELECTION_NAMESPACE"] != "nw" || last["CLUSTER_NAME"] != "prod" {
		t.Fatalf("env %v", ctr.Env)
	}
	if ctr.LivenessProbe == nil || ctr.LivenessProbe.HTTPGet.Path != "/healthz" || ctr.ReadinessProbe.HTTPGet.Path != "/readyz" || len(ctr.Ports) != 2 {
		t.Fatalf("probes/ports %+v %+v", ctr.LivenessProbe, ctr.Ports)
	}
	if q := ctr.Resources.Requests[corev1.ResourceCPU]; q.String() != "500m" {
		t.Fatalf("cpu request %s", q.String())
	}
	if _, ok := ctr.Resources.Limits[corev1.ResourceCPU]; ok {
		t.Fatal("an empty cpu limit must leave the limit unset")
	}
	if dep.Spec.Template.Spec.Affinity == nil {
		t.Fatal("affinity_avoid_managed must add a node affinity")
	}

	off := base
	off.AvoidManaged, off.HealthPort, off.MetricsPort = false, 0, 0
	off.SAAnnotations = map[string]string{roleARNAnnotation: "arn:aws:iam::1:role/x"}
	objs = controllerObjects(off)
	dep = objs[len(objs)-1].(*appsv1.Deployment)
	ctr = dep.Spec.Template.Spec.Containers[0]
	if dep.Spec.Template.Spec.Affinity != nil || ctr.LivenessProbe != nil || len(ctr.Ports) != 0 {
		t.Fatalf("affinity %v probes %v ports %v should be off", dep.Spec.Template.Spec.Affinity, ctr.LivenessProbe, ctr.Ports)
	}
	if sa := objs[1].(*corev1.ServiceAccount); sa.Annotations[roleARNAnnotation] != "arn:aws:iam::1:role/x" {
		t.Fatalf("service account annotations %v", sa.Annotations)
	}
	// Two installations must not share cluster-scoped objects.
	if cr := objs[2].(*rbacv1.ClusterRole); cr.Name != "nodewright-nw" {
		t.Fatalf("cluster role %s", cr.Name)
	}
}

func TestControllerRBACCoversWhatTheControllerDoes(t *testing.T) {
	allowed := func(group, res, verb string) bool {
		for _, r := range controllerClusterRules() {
			for _, g := range r.APIGroups {
				for _, rr := range r.Resources {
					for _, v := range r.Verbs {
						if g == group && rr == res && v == verb {
							return true
						}
					}
				}
			}
		}
		return false
	}
	for _, c := range [][3]string{
		{"nodewright.dev", "nodeclaims", "create"}, {"nodewright.dev", "nodeclaims/status", "patch"}, {"nodewright.dev", "ec2nodeclasses/finalizers", "update"},
		{"", "nodes", "delete"}, {"", "pods", "delete"}, {"", "pods/eviction", "create"}, {"apps", "daemonsets", "watch"},
		{"policy", "poddisruptionbudgets", "list"}, {"", "persistentvolumeclaims", "watch"}, {"", "events", "create"},
		{"storage.k8s.io", "volumeattachments", "watch"},
	} {
		if !allowed(c[0], c[1], c[2]) {
			t.Errorf("ClusterRole does not allow %s %s.%s", c[2], c[1], c[0])
		}
	}
	for _, c := range [][3]string{{"", "secrets", "get"}, {"", "nodes", "escalate"}, {"apps", "deployments", "delete"}} {
		if allowed(c[0], c[1], c[2]) {
			t.Errorf("ClusterRole allows %s %s.%s, which the controller never needs", c[2], c[1], c[0])
		}
	}
}
