package provider

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
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
	// The controller sizes Go's soft memory limit from its container's limit.
	if ref := memoryLimitRef(ctr); ref == nil || ref.ContainerName != ctr.Name || ref.Resource != "limits.memory" {
		t.Fatalf("MEMORY_LIMIT must come from the container's limits.memory: %+v", ref)
	}
	unlimited := base
	unlimited.MemoryLimit = ""
	if ref := memoryLimitRef(controllerDeployment(unlimited).Spec.Template.Spec.Containers[0]); ref != nil {
		t.Fatalf("no memory limit, yet MEMORY_LIMIT is set from %+v", ref)
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

func memoryLimitRef(ctr corev1.Container) *corev1.ResourceFieldSelector {
	for _, e := range ctr.Env {
		if e.Name == "MEMORY_LIMIT" && e.ValueFrom != nil {
			return e.ValueFrom.ResourceFieldRef
		}
	}
	return nil
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

// hardenedSpec is a spec with every production default of the schema.
func hardenedSpec() controllerSpec {
	return controllerSpec{Namespace: "nw", Image: "img:1", ClusterName: "prod", LogLevel: "info", Replicas: 2,
		MetricsPort: 8080, HealthPort: 8081, AvoidManaged: true, PDBMaxUnavailable: 1, MetricsService: true, SecurityContext: true,
		TopologySpread: defaultTopologySpreadConstraints}
}

func objectsByKind(objs []client.Object) map[string]client.Object {
	out := map[string]client.Object{}
	for _, o := range objs {
		out[fmt.Sprintf("%T", o)] = o
	}
	return out
}

func TestControllerObjectsHardened(t *testing.T) {
	objs := controllerObjects(hardenedSpec())
	if len(objs) != 9 {
		t.Fatalf("got %d objects, want 9 (with the metrics Service and the PodDisruptionBudget)", len(objs))
	}
	dep, ok := objs[len(objs)-1].(*appsv1.Deployment)
	if !ok {
		t.Fatalf("the Deployment must be applied last, after what its pods use; last is %T", objs[len(objs)-1])
	}
	byKind := objectsByKind(objs)
	podLabels := labels.Set(dep.Spec.Template.Labels)

	pdb := byKind["*v1.PodDisruptionBudget"].(*policyv1.PodDisruptionBudget)
	if pdb.Name != "nodewright" || pdb.Namespace != "nw" || pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 || pdb.Spec.MinAvailable != nil {
		t.Fatalf("pdb %s/%s %+v", pdb.Namespace, pdb.Name, pdb.Spec)
	}
	if sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err != nil || !sel.Matches(podLabels) {
		t.Fatalf("pdb selector %v does not select the pods %v (err=%v)", pdb.Spec.Selector, podLabels, err)
	}

	svc := byKind["*v1.Service"].(*corev1.Service)
	if svc.Name != "nodewright-metrics" || svc.Spec.Type != corev1.ServiceTypeClusterIP || len(svc.Spec.Ports) != 1 {
		t.Fatalf("service %s %+v", svc.Name, svc.Spec)
	}
	if p := svc.Spec.Ports[0]; p.Name != "metrics" || p.Port != 8080 || p.TargetPort.String() != "metrics" {
		t.Fatalf("service port %+v", p)
	}
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
		t.Fatalf("service selector %v does not select the pods %v", svc.Spec.Selector, podLabels)
	}
	ctr := dep.Spec.Template.Spec.Containers[0]
	named := false
	for _, p := range ctr.Ports {
		named = named || (p.Name == "metrics" && p.ContainerPort == 8080)
	}
	if !named {
		t.Fatalf("no container port named metrics for the Service's targetPort: %+v", ctr.Ports)
	}

	spread := dep.Spec.Template.Spec.TopologySpreadConstraints
	if len(spread) != 2 {
		t.Fatalf("topology spread %+v", spread)
	}
	want := map[string]corev1.UnsatisfiableConstraintAction{corev1.LabelTopologyZone: corev1.ScheduleAnyway, corev1.LabelHostname: corev1.DoNotSchedule}
	for _, c := range spread {
		if c.MaxSkew != 1 || want[c.TopologyKey] != c.WhenUnsatisfiable {
			t.Errorf("constraint %s: maxSkew %d, %s", c.TopologyKey, c.MaxSkew, c.WhenUnsatisfiable)
		}
		if c.NodeTaintsPolicy == nil || *c.NodeTaintsPolicy != corev1.NodeInclusionPolicyHonor {
			t.Errorf("constraint %s counts nodes whose taints the pods do not tolerate", c.TopologyKey)
		}
		if sel, err := metav1.LabelSelectorAsSelector(c.LabelSelector); err != nil || !sel.Matches(podLabels) {
			t.Errorf("constraint %s selector %v does not select the pods", c.TopologyKey, c.LabelSelector)
		}
	}
	// No required anti-affinity: it would leave a replica Pending on a
	// single system node.
	if aff := dep.Spec.Template.Spec.Affinity; aff.PodAntiAffinity != nil {
		t.Errorf("pod anti-affinity %+v", aff.PodAntiAffinity)
	}

	psc, csc := dep.Spec.Template.Spec.SecurityContext, ctr.SecurityContext
	if psc == nil || !*psc.RunAsNonRoot || *psc.RunAsUser != 65532 || *psc.RunAsGroup != 65532 || *psc.FSGroup != 65532 ||
		psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Fatalf("pod security context %+v", psc)
	}
	if csc == nil || !*csc.ReadOnlyRootFilesystem || *csc.AllowPrivilegeEscalation || len(csc.Capabilities.Drop) != 1 || csc.Capabilities.Drop[0] != "ALL" {
		t.Fatalf("container security context %+v", csc)
	}
	if !restricted(psc, csc) {
		t.Fatal("restricted() does not recognise what the builder writes")
	}
	if len(ctr.VolumeMounts) != 1 || ctr.VolumeMounts[0].MountPath != "/tmp" || dep.Spec.Template.Spec.Volumes[0].EmptyDir == nil {
		t.Fatalf("a read-only root filesystem needs an emptyDir at /tmp: mounts %+v volumes %+v", ctr.VolumeMounts, dep.Spec.Template.Spec.Volumes)
	}
	if got := controllerPrunedObjects(hardenedSpec()); len(got) != 0 {
		t.Fatalf("nothing is turned off, yet %d objects would be deleted", len(got))
	}
}

func TestControllerObjectsHardeningOff(t *testing.T) {
	s := hardenedSpec()
	s.PDBMaxUnavailable, s.MetricsService, s.SecurityContext, s.TopologySpread = 0, false, false, nil
	objs := controllerObjects(s)
	byKind := objectsByKind(objs)
	if _, ok := byKind["*v1.PodDisruptionBudget"]; ok {
		t.Error("pdb_max_unavailable = 0 still creates a PodDisruptionBudget")
	}
	if _, ok := byKind["*v1.Service"]; ok {
		t.Error("metrics_service = false still creates the Service")
	}
	pruned := objectsByKind(controllerPrunedObjects(s))
	if pruned["*v1.PodDisruptionBudget"] == nil || pruned["*v1.Service"] == nil {
		t.Errorf("an update must delete what is turned off: %v", pruned)
	}
	dep := objs[len(objs)-1].(*appsv1.Deployment)
	pod := dep.Spec.Template.Spec
	if pod.SecurityContext != nil || pod.Containers[0].SecurityContext != nil || len(pod.Volumes) != 0 || len(pod.TopologySpreadConstraints) != 0 {
		t.Fatalf("security context %+v / %+v, volumes %v, spread %v should be off", pod.SecurityContext, pod.Containers[0].SecurityContext, pod.Volumes, pod.TopologySpreadConstraints)
	}

	// A Service needs a port.
	s = hardenedSpec()
	s.MetricsPort = 0
	if _, ok := objectsByKind(controllerObjects(s))["*v1.Service"]; ok {
		t.Error("metrics_port = 0 still creates the metrics Service")
	}
	// Teardown deletes every optional object, whatever the state says.
	all := objectsByKind(controllerAllObjects("nw"))
	if all["*v1.PodDisruptionBudget"] == nil || all["*v1.Service"] == nil {
		t.Errorf("teardown misses optional objects: %v", all)
	}
}

func TestControllerVolumesForRecordedSolves(t *testing.T) {
	for _, c := range []struct {
		dir   string
		mount string
	}{{"", ""}, {"/tmp/solves", ""}, {"/tmp", ""}, {"/var/lib/solves/", "/var/lib/solves"}, {"relative", ""}} {
		s := hardenedSpec()
		s.Env = map[string]string{recordSolvesEnv: c.dir}
		_, mounts := controllerVolumes(s)
		got := ""
		for _, m := range mounts[1:] {
			got = m.MountPath
		}
		if mounts[0].MountPath != "/tmp" || got != c.mount {
			t.Errorf("RECORD_SOLVES=%q: mounts %+v, want an extra one at %q", c.dir, mounts, c.mount)
		}
	}
}

func TestControllerReadHardening(t *testing.T) {
	s := hardenedSpec()
	objs := objectsByKind(controllerObjects(s))
	dep := objs["*v1.Deployment"].(*appsv1.Deployment)
	var m controllerModel
	m.MetricsPort = types.Int64Value(8080)
	readDeployment(dep, &m, false)
	readPDB(objs["*v1.PodDisruptionBudget"].(*policyv1.PodDisruptionBudget), true, &m)
	readMetricsService(true, &m)
	if !m.TopologySpread.Equal(topologySpreadList(defaultTopologySpreadConstraints)) || !m.SecurityContext.ValueBool() ||
		m.PDBMaxUnavailable.ValueInt64() != 1 || !m.MetricsService.ValueBool() {
		t.Fatalf("read back spread %v security %v pdb %v service %v", m.TopologySpread, m.SecurityContext, m.PDBMaxUnavailable, m.MetricsService)
	}

	// Drift: each one removed by hand reads as off, so the plan restores it.
	dep.Spec.Template.Spec.Containers[0].SecurityContext.Capabilities = nil
	dep.Spec.Template.Spec.TopologySpreadConstraints = nil
	readDeployment(dep, &m, false)
	readPDB(nil, false, &m)
	readMetricsService(false, &m)
	if len(m.TopologySpread.Elements()) != 0 || m.SecurityContext.ValueBool() || m.PDBMaxUnavailable.ValueInt64() != 0 || m.MetricsService.ValueBool() {
		t.Fatalf("drift not seen: spread %v security %v pdb %v service %v", m.TopologySpread, m.SecurityContext, m.PDBMaxUnavailable, m.MetricsService)
	}
	// Without a metrics port there is never a Service; the setting stands.
	m.MetricsPort, m.MetricsService = types.Int64Value(0), types.BoolValue(true)
	readMetricsService(false, &m)
	if !m.MetricsService.ValueBool() {
		t.Fatal("metrics_service flipped to false with metrics_port = 0: a perpetual diff")
	}
}

// TestControllerProviderRBACCoversObjects keeps the provider's documented
// Kubernetes permissions in step with the objects it writes: a new kind
// (the PodDisruptionBudget, the metrics Service) needs a rule.
func TestControllerProviderRBACCoversObjects(t *testing.T) {
	scheme, err := kubeScheme()
	if err != nil {
		t.Fatal(err)
	}
	allowed := func(group, res, verb string) bool {
		for _, r := range providerKubeRules() {
			if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, res) && slices.Contains(r.Verbs, verb) {
				return true
			}
		}
		return false
	}
	for _, obj := range controllerAllObjects("nw") {
		gvks, _, err := scheme.ObjectKinds(obj)
		if err != nil {
			t.Fatal(err)
		}
		// Every kind here is a regular noun: its resource is the
		// lower-case plural.
		res := strings.ToLower(gvks[0].Kind) + "s"
		for _, verb := range []string{"get", "create", "update", "delete"} {
			if !allowed(gvks[0].Group, res, verb) {
				t.Errorf("the provider's Kubernetes permissions lack %s on %s.%s", verb, res, gvks[0].Group)
			}
		}
	}
	if !allowed("apiextensions.k8s.io", "customresourcedefinitions", "update") {
		t.Error("the provider must be allowed to upgrade the CRDs")
	}
}
