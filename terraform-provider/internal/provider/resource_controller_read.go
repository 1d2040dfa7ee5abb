package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
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
	pod := dep.Spec.Template.Spec
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
