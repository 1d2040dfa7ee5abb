package provider

import (
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// controllerName names the Deployment, ServiceAccount and RBAC objects.
const controllerName = "nodewright"

// roleARNAnnotation is what EKS's pod identity webhook reads for IRSA.
const roleARNAnnotation = "eks.amazonaws.com/role-arn"

// controllerSpec is everything the object builders need, resolved from the
// Terraform model and the provider configuration.
type controllerSpec struct {
	Namespace, Image, ClusterName, ClusterEndpoint, InterruptionQueue, LogLevel string
	Replicas                                                                    int32
	SAAnnotations                                                               map[string]string
	CPURequest, MemoryRequest, CPULimit, MemoryLimit                            string
	PriorityClassName                                                           string
	NodeSelector                                                                map[string]string
	Tolerations                                                                 []corev1.Toleration
	AvoidManaged                                                                bool
	Env                                                                         map[string]string
	MetricsPort, HealthPort                                                     int32
	// AWS is the environment for AWS access besides IRSA: region always,
	// endpoint and static credentials when the provider talks to an
	// endpoint override such as the local cloud.
	AWS map[string]string
}

func controllerLabels() map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":       controllerName,
		"app.kubernetes.io/instance":   controllerName,
		"app.kubernetes.io/managed-by": "terraform",
	}
}

func selectorLabels() map[string]string {
	return map[string]string{"app.kubernetes.io/name": controllerName, "app.kubernetes.io/instance": controllerName}
}

func objectMeta(name, namespace string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: controllerLabels()}
}

// clusterRoleName is namespaced so that two installations (in two
// namespaces) do not fight over one ClusterRole.
func clusterRoleName(namespace string) string { return controllerName + "-" + namespace }

// controllerClusterRules grant what the controller's clients and informers
// use, and nothing more: its own API group, nodes it launches and deletes,
// pods it evicts, and the read-only objects scheduling simulation needs.
func controllerClusterRules() []rbacv1.PolicyRule {
	read := []string{"get", "list", "watch"}
	return []rbacv1.PolicyRule{
		{APIGroups: []string{v1.Group}, Resources: []string{"nodepools", "nodeclaims", "ec2nodeclasses"},
			Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
		{APIGroups: []string{v1.Group}, Resources: []string{"nodepools/status", "nodeclaims/status", "ec2nodeclasses/status",
			"nodepools/finalizers", "nodeclaims/finalizers", "ec2nodeclasses/finalizers"}, Verbs: []string{"get", "update", "patch"}},
		{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch", "patch", "delete"}},
		{APIGroups: []string{""}, Resources: []string{"pods/eviction"}, Verbs: []string{"create"}},
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch", "update"}},
		{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch", "update"}},
		{APIGroups: []string{""}, Resources: []string{"persistentvolumes", "persistentvolumeclaims", "namespaces"}, Verbs: read},
		{APIGroups: []string{"apps"}, Resources: []string{"daemonsets"}, Verbs: read},
		{APIGroups: []string{"policy"}, Resources: []string{"poddisruptionbudgets"}, Verbs: read},
		{APIGroups: []string{"storage.k8s.io"}, Resources: []string{"storageclasses", "csinodes", "volumeattachments"}, Verbs: read},
	}
}

// controllerNamespaceRules cover leader election, which happens in the
// controller's own namespace only.
func controllerNamespaceRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch"}},
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
	}
}

// controllerObjects returns every object of an installation, in the order
// they are applied (and the reverse of the order they are deleted in).
func controllerObjects(s controllerSpec) []client.Object {
	ns := s.Namespace
	sa := &corev1.ServiceAccount{ObjectMeta: objectMeta(controllerName, ns)}
	if len(s.SAAnnotations) > 0 {
		sa.Annotations = s.SAAnnotations
	}
	subject := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: controllerName, Namespace: ns}}
	return []client.Object{
		&corev1.Namespace{ObjectMeta: objectMeta(ns, "")},
		sa,
		&rbacv1.ClusterRole{ObjectMeta: objectMeta(clusterRoleName(ns), ""), Rules: controllerClusterRules()},
		&rbacv1.ClusterRoleBinding{ObjectMeta: objectMeta(clusterRoleName(ns), ""), Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRoleName(ns)}},
		&rbacv1.Role{ObjectMeta: objectMeta(controllerName, ns), Rules: controllerNamespaceRules()},
		&rbacv1.RoleBinding{ObjectMeta: objectMeta(controllerName, ns), Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: controllerName}},
		controllerDeployment(s),
	}
}

func sortedEnv(m map[string]string) []corev1.EnvVar {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]corev1.EnvVar, 0, len(keys))
	for _, k := range keys {
		out = append(out, corev1.EnvVar{Name: k, Value: m[k]})
	}
	return out
}

// Environment variable names the Deployment sets itself; Read tells them
// apart from the user's extra env.
var managedEnv = map[string]bool{
	"CLUSTER_NAME": true, "CLUSTER_ENDPOINT": true, "INTERRUPTION_QUEUE": true, "LEADER_ELECTION_NAMESPACE": true,
	"LOG_LEVEL": true, "METRICS_PORT": true, "HEALTH_PROBE_PORT": true, "POD_NAMESPACE": true,
	"AWS_REGION": true, "AWS_ENDPOINT_URL": true, "AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true,
}

func controllerDeployment(s controllerSpec) *appsv1.Deployment {
	env := []corev1.EnvVar{
		{Name: "CLUSTER_NAME", Value: s.ClusterName},
		{Name: "CLUSTER_ENDPOINT", Value: s.ClusterEndpoint},
		{Name: "INTERRUPTION_QUEUE", Value: s.InterruptionQueue},
		{Name: "LEADER_ELECTION_NAMESPACE", Value: s.Namespace},
		{Name: "LOG_LEVEL", Value: s.LogLevel},
		{Name: "METRICS_PORT", Value: strconv.Itoa(int(s.MetricsPort))},
		{Name: "HEALTH_PROBE_PORT", Value: strconv.Itoa(int(s.HealthPort))},
	}
	env = append(env, sortedEnv(s.AWS)...)
	// The user's env comes last, so it can override anything above.
	env = append(env, sortedEnv(s.Env)...)

	res := corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
	for _, q := range []struct {
		list corev1.ResourceList
		name corev1.ResourceName
		v    string
	}{{res.Requests, corev1.ResourceCPU, s.CPURequest}, {res.Requests, corev1.ResourceMemory, s.MemoryRequest},
		{res.Limits, corev1.ResourceCPU, s.CPULimit}, {res.Limits, corev1.ResourceMemory, s.MemoryLimit}} {
		if q.v != "" {
			q.list[q.name] = resource.MustParse(q.v)
		}
	}

	probe := func(path string) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("health")}},
			InitialDelaySeconds: 5, PeriodSeconds: 10, TimeoutSeconds: 5}
	}
	var affinity *corev1.Affinity
	if s.AvoidManaged {
		affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{
				{Key: v1.NodePoolLabelKey, Operator: corev1.NodeSelectorOpDoesNotExist}}}}}}}
	}
	var ports []corev1.ContainerPort
	if s.MetricsPort > 0 {
		ports = append(ports, corev1.ContainerPort{Name: "metrics", ContainerPort: s.MetricsPort, Protocol: corev1.ProtocolTCP})
	}
	var liveness, readiness *corev1.Probe
	if s.HealthPort > 0 {
		ports = append(ports, corev1.ContainerPort{Name: "health", ContainerPort: s.HealthPort, Protocol: corev1.ProtocolTCP})
		liveness, readiness = probe("/healthz"), probe("/readyz")
	}

	replicas := s.Replicas
	return &appsv1.Deployment{
		ObjectMeta: objectMeta(controllerName, s.Namespace),
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: selectorLabels()},
			// Leader election makes two controllers safe, but a rollout
			// should never leave the cluster without one.
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxUnavailable: ptrIntStr(intstr.FromInt32(0)), MaxSurge: ptrIntStr(intstr.FromInt32(1))}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: controllerLabels()},
				Spec: corev1.PodSpec{
					ServiceAccountName: controllerName,
					PriorityClassName:  s.PriorityClassName,
					NodeSelector:       s.NodeSelector,
					Tolerations:        s.Tolerations,
					Affinity:           affinity,
					Containers: []corev1.Container{{
						Name:           "controller",
						Image:          s.Image,
						Args:           []string{"controller"},
						Env:            env,
						Ports:          ports,
						Resources:      res,
						LivenessProbe:  liveness,
						ReadinessProbe: readiness,
					}},
				},
			},
		},
	}
}

func ptrIntStr(v intstr.IntOrString) *intstr.IntOrString { return &v }
