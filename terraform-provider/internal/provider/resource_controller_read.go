package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// readDeployment refreshes m from the live Deployment: image, replicas and
// log level always (drift made with kubectl shows in the plan), and on
// import every setting that the Deployment records.
func readDeployment(dep *appsv1.Deployment, m *controllerModel, importing bool) {
	if len(dep.Spec.Template.Spec.Containers) == 0 {
		return
	}
	ctr := dep.Spec.Template.Spec.Containers[0]
	m.Image = types.StringValue(ctr.Image)
	if dep.Spec.Replicas != nil {
		m.Replicas = types.Int64Value(int64(*dep.Spec.Replicas))
	}
	env := map[string]string{}
	extra := map[string]attr.Value{}
	for _, e := range ctr.Env {
		env[e.Name] = e.Value
		if !managedEnv[e.Name] {
			extra[e.Name] = types.StringValue(e.Value)
		}
	}
	if v, ok := env["LOG_LEVEL"]; ok {
		m.LogLevel = types.StringValue(v)
	}
	pod := dep.Spec.Template.Spec
	var spread []topologySpread
	for _, t := range pod.TopologySpreadConstraints {
		spread = append(spread, topologySpread{TopologyKey: t.TopologyKey, MaxSkew: t.MaxSkew, WhenUnsatisfiable: t.WhenUnsatisfiable})
	}
	m.TopologySpread = topologySpreadList(spread)
	m.SecurityContext = types.BoolValue(restricted(pod.SecurityContext, ctr.SecurityContext))
	if !importing {
		return
	}
	optional := func(v string) types.String {
		if v == "" {
			return types.StringNull()
		}
		return types.StringValue(v)
	}
	m.ClusterName = types.StringValue(env["CLUSTER_NAME"])
	m.ClusterEndpoint = optional(env["CLUSTER_ENDPOINT"])
	m.InterruptionQueue = optional(env["INTERRUPTION_QUEUE"])
	m.ID = types.StringValue(dep.Namespace + "/" + controllerName)
	if len(extra) > 0 {
		m.Env = types.MapValueMust(types.StringType, extra)
	} else {
		m.Env = types.MapNull(types.StringType)
	}
	m.PriorityClassName = types.StringValue(pod.PriorityClassName)
	if len(pod.NodeSelector) > 0 {
		el := map[string]attr.Value{}
		for k, v := range pod.NodeSelector {
			el[k] = types.StringValue(v)
		}
		m.NodeSelector = types.MapValueMust(types.StringType, el)
	} else {
		m.NodeSelector = types.MapNull(types.StringType)
	}
	var tols []attr.Value
	for _, t := range pod.Tolerations {
		tols = append(tols, types.ObjectValueMust(tolerationAttrTypes, map[string]attr.Value{
			"key": types.StringValue(t.Key), "operator": types.StringValue(string(t.Operator)),
			"value": types.StringValue(t.Value), "effect": types.StringValue(string(t.Effect)),
		}))
	}
	m.Tolerations = types.ListValueMust(types.ObjectType{AttrTypes: tolerationAttrTypes}, tols)
	m.AffinityAvoidManaged = types.BoolValue(pod.Affinity != nil && pod.Affinity.NodeAffinity != nil &&
		pod.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil)
	q := func(l corev1.ResourceList, n corev1.ResourceName) attr.Value {
		if v, ok := l[n]; ok {
			return types.StringValue(v.String())
		}
		return types.StringValue("")
	}
	m.Resources = types.ObjectValueMust(resourcesAttrTypes, map[string]attr.Value{
		"cpu_request": q(ctr.Resources.Requests, corev1.ResourceCPU), "memory_request": q(ctr.Resources.Requests, corev1.ResourceMemory),
		"cpu_limit": q(ctr.Resources.Limits, corev1.ResourceCPU), "memory_limit": q(ctr.Resources.Limits, corev1.ResourceMemory),
	})
	port := func(name string, def int64) types.Int64 {
		if v, ok := env[name]; ok {
			var n int64
			if _, err := fmt.Sscan(v, &n); err == nil {
				return types.Int64Value(n)
			}
		}
		return types.Int64Value(def)
	}
	m.MetricsPort = port("METRICS_PORT", defaultMetricsPort)
	m.HealthProbePort = port("HEALTH_PROBE_PORT", defaultHealthPort)
	m.WaitForRollout = types.BoolValue(true)
	m.CreateTimeout = types.StringValue(defaultCreateTimeout)
	m.DeleteTimeout = types.StringValue(defaultDeleteTimeout)
	m.ServiceAccountAnnotations = types.MapNull(types.StringType)
	m.ControllerRoleARN = types.StringNull()
	m.PodIdentity = types.BoolValue(false)
	if digest, err := crdsDigest(); err == nil {
		m.CRDsVersion = types.StringValue(digest)
	}
}

// restricted says whether the security contexts hold everything the
// security_context attribute sets; any one removed reads as false, so the
// next plan puts it back.
func restricted(pod *corev1.PodSecurityContext, ctr *corev1.SecurityContext) bool {
	is := func(b *bool, want bool) bool { return b != nil && *b == want }
	id := func(v *int64) bool { return v != nil && *v == nonRootID }
	if pod == nil || ctr == nil || !is(pod.RunAsNonRoot, true) || !id(pod.RunAsUser) || !id(pod.RunAsGroup) || !id(pod.FSGroup) ||
		pod.SeccompProfile == nil || pod.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		return false
	}
	if !is(ctr.ReadOnlyRootFilesystem, true) || !is(ctr.AllowPrivilegeEscalation, false) || ctr.Capabilities == nil {
		return false
	}
	for _, c := range ctr.Capabilities.Drop {
		if c == "ALL" {
			return true
		}
	}
	return false
}

// readPDB refreshes pdb_max_unavailable: 0 when the PodDisruptionBudget is
// missing or not one this resource writes, so the next plan restores it.
func readPDB(pdb *policyv1.PodDisruptionBudget, found bool, m *controllerModel) {
	m.PDBMaxUnavailable = types.Int64Value(0)
	if found && pdb.Spec.MaxUnavailable != nil && pdb.Spec.MaxUnavailable.Type == intstr.Int && pdb.Spec.MinAvailable == nil {
		m.PDBMaxUnavailable = types.Int64Value(int64(pdb.Spec.MaxUnavailable.IntVal))
	}
}

// readMetricsService refreshes metrics_service from whether the Service
// exists. Without a metrics port there is never one, and the setting
// keeps its value (true on import).
func readMetricsService(found bool, m *controllerModel) {
	if m.MetricsPort.ValueInt64() > 0 {
		m.MetricsService = types.BoolValue(found)
		return
	}
	if m.MetricsService.IsNull() || m.MetricsService.IsUnknown() {
		m.MetricsService = types.BoolValue(true)
	}
}
