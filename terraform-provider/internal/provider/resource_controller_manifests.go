package provider

import (
	"path"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// controllerName names the Deployment, ServiceAccount and RBAC objects.
const controllerName = "nodewright"

// metricsServiceName names the ClusterIP Service in front of the metrics
// port; the PodDisruptionBudget is named controllerName.
const metricsServiceName = controllerName + "-metrics"

// nonRootID is the numeric user and group of the controller image
// (distroless's nonroot), so runAsNonRoot can be verified without an
// /etc/passwd lookup.
const nonRootID int64 = 65532

// tmpVolume is an emptyDir at /tmp: with a read-only root filesystem, the
// only place the controller (or a library it uses) can write scratch files.
const tmpVolume = "tmp"

// recordSolvesEnv names the controller setting whose directory the
// controller writes solves into; it gets an emptyDir of its own when it is
// outside /tmp.
const recordSolvesEnv = "RECORD_SOLVES"

// topologySpread is one topology spread constraint over the controller's
// own pods.
type topologySpread struct {
	TopologyKey       string
	MaxSkew           int32
	WhenUnsatisfiable corev1.UnsatisfiableConstraintAction
}

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
	// PDBMaxUnavailable is the PodDisruptionBudget's maxUnavailable; 0
	// creates none.
	PDBMaxUnavailable int32
	// TopologySpread spreads the replicas; empty spreads nothing.
	TopologySpread []topologySpread
	// SecurityContext runs the pod as the image's non-root user with a
	// read-only root filesystem and no privileges.
	SecurityContext bool
	// MetricsService exposes MetricsPort (when it is not 0) as a ClusterIP
	// Service.
	MetricsService bool
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

// providerKubeRules are the Kubernetes permissions the provider's own
// credentials need to install, upgrade and tear down the controller: the
// CRDs, every object controllerAllObjects returns, and what teardown
// lists and deletes. Creating the ClusterRole and Role also needs either
// every permission they grant or the escalate and bind verbs on them.
func providerKubeRules() []rbacv1.PolicyRule {
	write := []string{"get", "list", "watch", "create", "update", "patch", "delete"}
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"apiextensions.k8s.io"}, Resources: []string{"customresourcedefinitions"}, Verbs: write},
		{APIGroups: []string{""}, Resources: []string{"namespaces", "serviceaccounts", "services"}, Verbs: write},
		{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterroles", "clusterrolebindings", "roles", "rolebindings"}, Verbs: write},
		{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: write},
		{APIGroups: []string{"policy"}, Resources: []string{"poddisruptionbudgets"}, Verbs: write},
		{APIGroups: []string{v1.Group}, Resources: []string{"nodepools", "nodeclaims", "ec2nodeclasses"}, Verbs: write},
		{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "list", "update", "patch", "delete"}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}},
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
// they are applied (and the reverse of the order they are deleted in). The
// Deployment comes last: what it relies on exists before its pods start.
func controllerObjects(s controllerSpec) []client.Object {
	objs, _ := controllerObjectsSplit(s)
	return objs
}

// controllerPrunedObjects returns the optional objects s turns off, which
// an update deletes if an earlier apply created them.
func controllerPrunedObjects(s controllerSpec) []client.Object {
	_, pruned := controllerObjectsSplit(s)
	return pruned
}

// controllerAllObjects returns every object any installation in namespace
// ns may have, for teardown.
func controllerAllObjects(ns string) []client.Object {
	return controllerObjects(controllerSpec{Namespace: ns, Replicas: 1, PDBMaxUnavailable: 1, MetricsService: true, MetricsPort: defaultMetricsPort})
}

func controllerObjectsSplit(s controllerSpec) (objs, pruned []client.Object) {
	ns := s.Namespace
	sa := &corev1.ServiceAccount{ObjectMeta: objectMeta(controllerName, ns)}
	if len(s.SAAnnotations) > 0 {
		sa.Annotations = s.SAAnnotations
	}
	subject := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: controllerName, Namespace: ns}}
	objs = []client.Object{
		&corev1.Namespace{ObjectMeta: objectMeta(ns, "")},
		sa,
		&rbacv1.ClusterRole{ObjectMeta: objectMeta(clusterRoleName(ns), ""), Rules: controllerClusterRules()},
		&rbacv1.ClusterRoleBinding{ObjectMeta: objectMeta(clusterRoleName(ns), ""), Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRoleName(ns)}},
		&rbacv1.Role{ObjectMeta: objectMeta(controllerName, ns), Rules: controllerNamespaceRules()},
		&rbacv1.RoleBinding{ObjectMeta: objectMeta(controllerName, ns), Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: controllerName}},
	}
	svc := controllerMetricsService(s)
	if s.MetricsService && s.MetricsPort > 0 {
		objs = append(objs, svc)
	} else {
		pruned = append(pruned, svc)
	}
	pdb := controllerPDB(s)
	if s.PDBMaxUnavailable > 0 {
		objs = append(objs, pdb)
	} else {
		pruned = append(pruned, pdb)
	}
	return append(objs, controllerDeployment(s)), pruned
}

// controllerPDB lets voluntary disruptions (node drains, cluster upgrades)
// take at most PDBMaxUnavailable replicas at a time.
func controllerPDB(s controllerSpec) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: objectMeta(controllerName, s.Namespace),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: ptrIntStr(intstr.FromInt32(s.PDBMaxUnavailable)),
			Selector:       &metav1.LabelSelector{MatchLabels: selectorLabels()},
		},
	}
}

// controllerMetricsService gives Prometheus (a ServiceMonitor, or scrape
// discovery by endpoints) a stable name for the metrics port.
func controllerMetricsService(s controllerSpec) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: objectMeta(metricsServiceName, s.Namespace),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: selectorLabels(),
			Ports: []corev1.ServicePort{{Name: "metrics", Port: s.MetricsPort, TargetPort: intstr.FromString("metrics"),
				Protocol: corev1.ProtocolTCP}},
		},
	}
}

// controllerTopologySpread spreads the replicas as s says, counting only the
// nodes the pods may run on.
//
// Why these defaults (zone ScheduleAnyway, hostname DoNotSchedule):
// Karpenter's chart spreads over zones with ScheduleAnyway and keeps
// replicas apart with a required pod anti-affinity on the hostname. A
// required anti-affinity leaves the second replica Pending wherever only
// one node can take it (a single system node, as on the local cloud, or a
// small system node group mid-upgrade), and with maxUnavailable 0 the
// rollout, and terraform apply with it, then hangs. A hostname spread with
// DoNotSchedule keeps replicas on separate nodes whenever another eligible
// node exists, yet over a single node there is one domain and the skew is
// always within 1, so every replica still schedules. Zones stay
// ScheduleAnyway: a zone whose nodes are full or missing would otherwise
// block a surge pod, and the hostname constraint already gives the
// separation that matters most. NodeTaintsPolicy Honor keeps nodes whose
// taints the pods do not tolerate from counting as empty domains (the
// default, Ignore, would make DoNotSchedule wait for replicas on nodes
// they can never reach); node affinity and selector are honored by
// default, so managed nodes never count either.
func controllerTopologySpread(s controllerSpec) []corev1.TopologySpreadConstraint {
	var out []corev1.TopologySpreadConstraint
	honor := corev1.NodeInclusionPolicyHonor
	for _, t := range s.TopologySpread {
		out = append(out, corev1.TopologySpreadConstraint{
			MaxSkew:           t.MaxSkew,
			TopologyKey:       t.TopologyKey,
			WhenUnsatisfiable: t.WhenUnsatisfiable,
			LabelSelector:     &metav1.LabelSelector{MatchLabels: selectorLabels()},
			// Only pods of the same ReplicaSet: during a rollout the old
			// pods are about to go and must not push the new ones apart.
			MatchLabelKeys:     []string{appsv1.DefaultDeploymentUniqueLabelKey},
			NodeTaintsPolicy:   &honor,
			NodeAffinityPolicy: &honor,
		})
	}
	return out
}

// controllerSecurityContexts are the pod's and the container's security
// contexts under the restricted Pod Security Standard; nil, nil when s
// turns them off.
func controllerSecurityContexts(s controllerSpec) (*corev1.PodSecurityContext, *corev1.SecurityContext) {
	if !s.SecurityContext {
		return nil, nil
	}
	id := nonRootID
	pod := &corev1.PodSecurityContext{
		RunAsNonRoot:   ptr.To(true),
		RunAsUser:      &id,
		RunAsGroup:     &id,
		FSGroup:        &id,
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	ctr := &corev1.SecurityContext{
		ReadOnlyRootFilesystem:   ptr.To(true),
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
	return pod, ctr
}

// controllerVolumes are the writable directories a read-only root
// filesystem needs: /tmp, and the solve recording directory when the
// controller is told to record solves somewhere else.
func controllerVolumes(s controllerSpec) ([]corev1.Volume, []corev1.VolumeMount) {
	if !s.SecurityContext {
		return nil, nil
	}
	vols := []corev1.Volume{{Name: tmpVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	mounts := []corev1.VolumeMount{{Name: tmpVolume, MountPath: "/tmp"}}
	if dir := path.Clean(s.Env[recordSolvesEnv]); s.Env[recordSolvesEnv] != "" && path.IsAbs(dir) && dir != "/tmp" && !strings.HasPrefix(dir, "/tmp/") {
		vols = append(vols, corev1.Volume{Name: "solves", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		mounts = append(mounts, corev1.VolumeMount{Name: "solves", MountPath: dir})
	}
	return vols, mounts
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
	"MEMORY_LIMIT": true,
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
	if s.MemoryLimit != "" {
		// The controller sets Go's soft memory limit to 90% of this, as
		// Karpenter's chart and operator do.
		env = append(env, corev1.EnvVar{Name: "MEMORY_LIMIT", ValueFrom: &corev1.EnvVarSource{
			ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "controller", Resource: "limits.memory"}}})
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

	podSC, ctrSC := controllerSecurityContexts(s)
	volumes, mounts := controllerVolumes(s)
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
					ServiceAccountName:        controllerName,
					PriorityClassName:         s.PriorityClassName,
					NodeSelector:              s.NodeSelector,
					Tolerations:               s.Tolerations,
					Affinity:                  affinity,
					TopologySpreadConstraints: controllerTopologySpread(s),
					SecurityContext:           podSC,
					Volumes:                   volumes,
					Containers: []corev1.Container{{
						Name:            "controller",
						Image:           s.Image,
						Args:            []string{"controller"},
						Env:             env,
						Ports:           ports,
						Resources:       res,
						LivenessProbe:   liveness,
						ReadinessProbe:  readiness,
						SecurityContext: ctrSC,
						VolumeMounts:    mounts,
					}},
				},
			},
		},
	}
}

func ptrIntStr(v intstr.IntOrString) *intstr.IntOrString { return &v }
