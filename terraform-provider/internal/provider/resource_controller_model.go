package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	corev1 "k8s.io/api/core/v1"
)

type controllerModel struct {
	ClusterName               types.String `tfsdk:"cluster_name"`
	ClusterEndpoint           types.String `tfsdk:"cluster_endpoint"`
	Namespace                 types.String `tfsdk:"namespace"`
	Image                     types.String `tfsdk:"image"`
	Replicas                  types.Int64  `tfsdk:"replicas"`
	InterruptionQueue         types.String `tfsdk:"interruption_queue"`
	ServiceAccountAnnotations types.Map    `tfsdk:"service_account_annotations"`
	ControllerRoleARN         types.String `tfsdk:"controller_role_arn"`
	PodIdentity               types.Bool   `tfsdk:"pod_identity"`
	Resources                 types.Object `tfsdk:"resources"`
	PriorityClassName         types.String `tfsdk:"priority_class_name"`
	NodeSelector              types.Map    `tfsdk:"node_selector"`
	Tolerations               types.List   `tfsdk:"tolerations"`
	AffinityAvoidManaged      types.Bool   `tfsdk:"affinity_avoid_managed"`
	TopologySpread            types.List   `tfsdk:"topology_spread"`
	PDBMaxUnavailable         types.Int64  `tfsdk:"pdb_max_unavailable"`
	SecurityContext           types.Bool   `tfsdk:"security_context"`
	MetricsService            types.Bool   `tfsdk:"metrics_service"`
	Env                       types.Map    `tfsdk:"env"`
	LogLevel                  types.String `tfsdk:"log_level"`
	MetricsPort               types.Int64  `tfsdk:"metrics_port"`
	HealthProbePort           types.Int64  `tfsdk:"health_probe_port"`
	WaitForRollout            types.Bool   `tfsdk:"wait_for_rollout"`
	CreateTimeout             types.String `tfsdk:"create_timeout"`
	DeleteTimeout             types.String `tfsdk:"delete_timeout"`
	ID                        types.String `tfsdk:"id"`
	CRDsVersion               types.String `tfsdk:"crds_version"`
}

type resourcesModel struct {
	CPURequest    types.String `tfsdk:"cpu_request"`
	MemoryRequest types.String `tfsdk:"memory_request"`
	CPULimit      types.String `tfsdk:"cpu_limit"`
	MemoryLimit   types.String `tfsdk:"memory_limit"`
}

type tolerationModel struct {
	Key      types.String `tfsdk:"key"`
	Operator types.String `tfsdk:"operator"`
	Value    types.String `tfsdk:"value"`
	Effect   types.String `tfsdk:"effect"`
}

type topologySpreadModel struct {
	TopologyKey       types.String `tfsdk:"topology_key"`
	MaxSkew           types.Int64  `tfsdk:"max_skew"`
	WhenUnsatisfiable types.String `tfsdk:"when_unsatisfiable"`
}

var topologySpreadAttrTypes = map[string]attr.Type{
	"topology_key": types.StringType, "max_skew": types.Int64Type, "when_unsatisfiable": types.StringType,
}

// topologySpreadList is the Terraform value of spread constraints.
func topologySpreadList(ts []topologySpread) types.List {
	el := make([]attr.Value, 0, len(ts))
	for _, t := range ts {
		el = append(el, types.ObjectValueMust(topologySpreadAttrTypes, map[string]attr.Value{
			"topology_key": types.StringValue(t.TopologyKey), "max_skew": types.Int64Value(int64(t.MaxSkew)),
			"when_unsatisfiable": types.StringValue(string(t.WhenUnsatisfiable)),
		}))
	}
	return types.ListValueMust(types.ObjectType{AttrTypes: topologySpreadAttrTypes}, el)
}

var resourcesAttrTypes = map[string]attr.Type{
	"cpu_request": types.StringType, "memory_request": types.StringType, "cpu_limit": types.StringType, "memory_limit": types.StringType,
}

var tolerationAttrTypes = map[string]attr.Type{
	"key": types.StringType, "operator": types.StringType, "value": types.StringType, "effect": types.StringType,
}

func defaultResources() types.Object {
	return types.ObjectValueMust(resourcesAttrTypes, map[string]attr.Value{
		"cpu_request": types.StringValue(defaultCPU), "memory_request": types.StringValue(defaultMemory),
		"cpu_limit": types.StringValue(""), "memory_limit": types.StringValue(defaultMemory),
	})
}

func defaultTolerations() types.List {
	return types.ListValueMust(types.ObjectType{AttrTypes: tolerationAttrTypes}, []attr.Value{
		types.ObjectValueMust(tolerationAttrTypes, map[string]attr.Value{
			"key": types.StringValue("CriticalAddonsOnly"), "operator": types.StringValue("Exists"),
			"value": types.StringValue(""), "effect": types.StringValue(""),
		}),
	})
}

func stringMap(ctx context.Context, m types.Map, diags *diag.Diagnostics) map[string]string {
	if m.IsNull() || m.IsUnknown() {
		return nil
	}
	out := map[string]string{}
	diags.Append(m.ElementsAs(ctx, &out, false)...)
	return out
}

// spec turns the model into what the object builders need.
func (r *controllerResource) spec(ctx context.Context, m *controllerModel) (controllerSpec, diag.Diagnostics) {
	var diags diag.Diagnostics
	s := controllerSpec{
		Namespace: m.Namespace.ValueString(), Image: m.Image.ValueString(), ClusterName: m.ClusterName.ValueString(),
		ClusterEndpoint: m.ClusterEndpoint.ValueString(), InterruptionQueue: m.InterruptionQueue.ValueString(),
		LogLevel: m.LogLevel.ValueString(), Replicas: int32(m.Replicas.ValueInt64()),
		PriorityClassName: m.PriorityClassName.ValueString(), AvoidManaged: m.AffinityAvoidManaged.ValueBool(),
		MetricsPort: int32(m.MetricsPort.ValueInt64()), HealthPort: int32(m.HealthProbePort.ValueInt64()),
		PDBMaxUnavailable: int32(m.PDBMaxUnavailable.ValueInt64()), SecurityContext: m.SecurityContext.ValueBool(),
		MetricsService: m.MetricsService.ValueBool(),
		SAAnnotations:  stringMap(ctx, m.ServiceAccountAnnotations, &diags),
		NodeSelector:   stringMap(ctx, m.NodeSelector, &diags),
		Env:            stringMap(ctx, m.Env, &diags),
	}
	if arn := m.ControllerRoleARN.ValueString(); arn != "" {
		if s.SAAnnotations == nil {
			s.SAAnnotations = map[string]string{}
		}
		s.SAAnnotations[roleARNAnnotation] = arn
	}
	var res resourcesModel
	diags.Append(m.Resources.As(ctx, &res, basetypes.ObjectAsOptions{})...)
	s.CPURequest, s.MemoryRequest, s.CPULimit, s.MemoryLimit = res.CPURequest.ValueString(), res.MemoryRequest.ValueString(), res.CPULimit.ValueString(), res.MemoryLimit.ValueString()
	var tols []tolerationModel
	diags.Append(m.Tolerations.ElementsAs(ctx, &tols, false)...)
	for _, t := range tols {
		s.Tolerations = append(s.Tolerations, corev1.Toleration{Key: t.Key.ValueString(), Operator: corev1.TolerationOperator(t.Operator.ValueString()),
			Value: t.Value.ValueString(), Effect: corev1.TaintEffect(t.Effect.ValueString())})
	}
	var spread []topologySpreadModel
	diags.Append(m.TopologySpread.ElementsAs(ctx, &spread, false)...)
	for _, t := range spread {
		s.TopologySpread = append(s.TopologySpread, topologySpread{TopologyKey: t.TopologyKey.ValueString(), MaxSkew: int32(t.MaxSkew.ValueInt64()),
			WhenUnsatisfiable: corev1.UnsatisfiableConstraintAction(t.WhenUnsatisfiable.ValueString())})
	}
	s.AWS = map[string]string{"AWS_REGION": r.data.AWS.Region}
	if ep := r.data.AWS.BaseEndpoint; ep != nil && *ep != "" {
		// An endpoint override is a local or test cloud: the controller
		// gets the endpoint, and when no role is set up for it, the
		// provider's own credentials.
		s.AWS["AWS_ENDPOINT_URL"] = *ep
		hasRole := m.ControllerRoleARN.ValueString() != "" || m.PodIdentity.ValueBool()
		if creds, err := r.data.AWS.Credentials.Retrieve(ctx); err == nil && !hasRole {
			s.AWS["AWS_ACCESS_KEY_ID"] = creds.AccessKeyID
			s.AWS["AWS_SECRET_ACCESS_KEY"] = creds.SecretAccessKey
		}
	}
	for _, q := range []string{s.CPURequest, s.MemoryRequest, s.CPULimit, s.MemoryLimit} {
		if q == "" {
			continue
		}
		if _, err := parseQuantity(q); err != nil {
			diags.AddAttributeError(path.Root("resources"), "Invalid quantity", fmt.Sprintf("%q is not a Kubernetes quantity (e.g. 500m, 1, 512Mi): %v", q, err))
		}
	}
	return s, diags
}
