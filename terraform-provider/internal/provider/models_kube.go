package provider

import (
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// ---- NodePool ----

// Conversions between the Terraform models of the Kubernetes-backed
// resources and controller/api/v1. The "from object" direction takes the
// prior value of each attribute so that values the apiserver rewrites into
// an equivalent form (1h -> 1h0m0s, 1024Mi -> 1Gi) and empty-versus-null
// collections read back exactly as configured: anything else would show as
// a diff on every plan.

type nodePoolModel struct {
	Name                   types.String       `tfsdk:"name"`
	NodeClass              types.String       `tfsdk:"node_class"`
	Labels                 types.Map          `tfsdk:"labels"`
	Annotations            types.Map          `tfsdk:"annotations"`
	Requirements           []requirementModel `tfsdk:"requirements"`
	Taints                 []taintModel       `tfsdk:"taints"`
	StartupTaints          []taintModel       `tfsdk:"startup_taints"`
	ExpireAfter            types.String       `tfsdk:"expire_after"`
	TerminationGracePeriod types.String       `tfsdk:"termination_grace_period"`
	Disruption             *disruptionModel   `tfsdk:"disruption"`
	Limits                 types.Map          `tfsdk:"limits"`
	Weight                 types.Int64        `tfsdk:"weight"`
	CostPerNodeHour        types.String       `tfsdk:"cost_per_node_hour"`
	DeleteTimeout          types.String       `tfsdk:"delete_timeout"`
	UID                    types.String       `tfsdk:"uid"`
}

type requirementModel struct {
	Key       types.String   `tfsdk:"key"`
	Operator  types.String   `tfsdk:"operator"`
	Values    []types.String `tfsdk:"values"`
	MinValues types.Int64    `tfsdk:"min_values"`
}

type taintModel struct {
	Key    types.String `tfsdk:"key"`
	Value  types.String `tfsdk:"value"`
	Effect types.String `tfsdk:"effect"`
}

type disruptionModel struct {
	ConsolidationPolicy types.String  `tfsdk:"consolidation_policy"`
	ConsolidateAfter    types.String  `tfsdk:"consolidate_after"`
	Budgets             []budgetModel `tfsdk:"budgets"`
}

type budgetModel struct {
	Nodes    types.String   `tfsdk:"nodes"`
	Schedule types.String   `tfsdk:"schedule"`
	Duration types.String   `tfsdk:"duration"`
	Reasons  []types.String `tfsdk:"reasons"`
}

// nodeClassKind is the kind node_class names (group nodewright.dev).
const nodeClassKind = "EC2NodeClass"

func taintsToAPI(in []taintModel) []corev1.Taint {
	if in == nil {
		return nil
	}
	out := make([]corev1.Taint, 0, len(in))
	for _, t := range in {
		out = append(out, corev1.Taint{Key: t.Key.ValueString(), Value: t.Value.ValueString(), Effect: corev1.TaintEffect(t.Effect.ValueString())})
	}
	return out
}

func taintsFromAPI(prior []taintModel, in []corev1.Taint) []taintModel {
	if len(in) == 0 {
		if prior != nil && len(prior) == 0 {
			return prior
		}
		return nil
	}
	out := make([]taintModel, 0, len(in))
	for _, t := range in {
		out = append(out, taintModel{Key: types.StringValue(t.Key), Value: kubeStrValue(t.Value), Effect: types.StringValue(string(t.Effect))})
	}
	return out
}

// nodePoolSpec builds the spec from a fully known plan.
func nodePoolSpec(m *nodePoolModel) (v1.NodePoolSpec, error) {
	var spec v1.NodePoolSpec
	tmpl := &spec.Template
	tmpl.ObjectMeta.Labels = kubeStringMap(m.Labels)
	tmpl.ObjectMeta.Annotations = kubeStringMap(m.Annotations)
	tmpl.Spec.NodeClassRef = &v1.NodeClassReference{Group: v1.Group, Kind: nodeClassKind, Name: m.NodeClass.ValueString()}
	for _, r := range m.Requirements {
		req := v1.NodeSelectorRequirementWithMinValues{
			Key:      r.Key.ValueString(),
			Operator: corev1.NodeSelectorOperator(r.Operator.ValueString()),
			Values:   kubeStringList(r.Values),
		}
		if !r.MinValues.IsNull() && !r.MinValues.IsUnknown() {
			req.MinValues = ptr.To(int(r.MinValues.ValueInt64()))
		}
		tmpl.Spec.Requirements = append(tmpl.Spec.Requirements, req)
	}
	tmpl.Spec.Taints = taintsToAPI(m.Taints)
	tmpl.Spec.StartupTaints = taintsToAPI(m.StartupTaints)
	tmpl.Spec.ExpireAfter = v1.NillableDuration(m.ExpireAfter.ValueString())
	var err error
	if tmpl.Spec.TerminationGracePeriod, err = kubeDuration(m.TerminationGracePeriod); err != nil {
		return spec, fmt.Errorf("termination_grace_period: %w", err)
	}
	if d := m.Disruption; d != nil {
		spec.Disruption.ConsolidationPolicy = v1.ConsolidationPolicy(d.ConsolidationPolicy.ValueString())
		spec.Disruption.ConsolidateAfter = v1.NillableDuration(d.ConsolidateAfter.ValueString())
		for i, b := range d.Budgets {
			budget := v1.Budget{Nodes: b.Nodes.ValueString(), Schedule: kubeOptString(b.Schedule)}
			if budget.Duration, err = kubeDuration(b.Duration); err != nil {
				return spec, fmt.Errorf("disruption.budgets[%d].duration: %w", i, err)
			}
			for _, r := range b.Reasons {
				budget.Reasons = append(budget.Reasons, v1.DisruptionReason(r.ValueString()))
			}
			spec.Disruption.Budgets = append(spec.Disruption.Budgets, budget)
		}
	}
	if l := kubeStringMap(m.Limits); l != nil {
		spec.Limits = corev1.ResourceList{}
		for k, v := range l {
			q, err := resource.ParseQuantity(v)
			if err != nil {
				return spec, fmt.Errorf("limits[%q]: %w", k, err)
			}
			spec.Limits[corev1.ResourceName(k)] = q
		}
	}
	spec.Weight = kubeOptInt32(m.Weight)
	spec.CostPerNodeHour = m.CostPerNodeHour.ValueString()
	return spec, nil
}

// nodePoolFromAPI fills m from the object; m holds the prior values (the
// plan after a write, the state on refresh, nothing on import).
func nodePoolFromAPI(np *v1.NodePool, m *nodePoolModel) {
	prior := *m
	spec := np.Spec
	tmpl := spec.Template
	m.Name = types.StringValue(np.Name)
	m.UID = types.StringValue(string(np.UID))
	m.NodeClass = types.StringNull()
	if tmpl.Spec.NodeClassRef != nil {
		m.NodeClass = types.StringValue(tmpl.Spec.NodeClassRef.Name)
	}
	m.Labels = kubeMapValue(prior.Labels, tmpl.ObjectMeta.Labels)
	m.Annotations = kubeMapValue(prior.Annotations, tmpl.ObjectMeta.Annotations)
	m.Requirements = nil
	if len(tmpl.Spec.Requirements) == 0 && prior.Requirements != nil && len(prior.Requirements) == 0 {
		m.Requirements = prior.Requirements
	}
	for i, r := range tmpl.Spec.Requirements {
		var p []types.String
		if i < len(prior.Requirements) {
			p = prior.Requirements[i].Values
		}
		rm := requirementModel{Key: types.StringValue(r.Key), Operator: types.StringValue(string(r.Operator)), Values: kubeStringListValue(p, r.Values), MinValues: types.Int64Null()}
		if r.MinValues != nil {
			rm.MinValues = types.Int64Value(int64(*r.MinValues))
		}
		m.Requirements = append(m.Requirements, rm)
	}
	m.Taints = taintsFromAPI(prior.Taints, tmpl.Spec.Taints)
	m.StartupTaints = taintsFromAPI(prior.StartupTaints, tmpl.Spec.StartupTaints)
	m.ExpireAfter = types.StringValue(string(tmpl.Spec.ExpireAfter))
	m.TerminationGracePeriod = kubeDurationValue(prior.TerminationGracePeriod, tmpl.Spec.TerminationGracePeriod)
	d := &disruptionModel{
		ConsolidationPolicy: types.StringValue(string(spec.Disruption.ConsolidationPolicy)),
		ConsolidateAfter:    types.StringValue(string(spec.Disruption.ConsolidateAfter)),
	}
	var priorBudgets []budgetModel
	if prior.Disruption != nil {
		priorBudgets = prior.Disruption.Budgets
	}
	if len(spec.Disruption.Budgets) == 0 && priorBudgets != nil && len(priorBudgets) == 0 {
		d.Budgets = priorBudgets
	}
	for i, b := range spec.Disruption.Budgets {
		var pb budgetModel
		if i < len(priorBudgets) {
			pb = priorBudgets[i]
		}
		reasons := make([]string, 0, len(b.Reasons))
		for _, r := range b.Reasons {
			reasons = append(reasons, string(r))
		}
		d.Budgets = append(d.Budgets, budgetModel{
			Nodes:    types.StringValue(b.Nodes),
			Schedule: kubeOptStringValue(b.Schedule),
			Duration: kubeDurationValue(pb.Duration, b.Duration),
			Reasons:  kubeStringListValue(pb.Reasons, reasons),
		})
	}
	m.Disruption = d
	limits := map[string]string{}
	for k, q := range spec.Limits {
		limits[string(k)] = q.String()
	}
	m.Limits = kubeQuantityMapValue(prior.Limits, limits)
	m.Weight = kubeOptInt32Value(spec.Weight)
	m.CostPerNodeHour = kubeStrValue(spec.CostPerNodeHour)
	if prior.DeleteTimeout.IsNull() || prior.DeleteTimeout.IsUnknown() {
		m.DeleteTimeout = types.StringValue(defaultDeleteTimeout)
	}
}

// defaultDeleteTimeout bounds how long destroy waits for the controller.
const defaultDeleteTimeout = "10m"

// ---- EC2NodeClass ----

type nodeClassModel struct {
	Name                       types.String              `tfsdk:"name"`
	AMISelectorTerms           []amiTermModel            `tfsdk:"ami_selector_terms"`
	AMIFamily                  types.String              `tfsdk:"ami_family"`
	SubnetSelectorTerms        []subnetTermModel         `tfsdk:"subnet_selector_terms"`
	SecurityGroupSelectorTerms []securityGroupTermModel  `tfsdk:"security_group_selector_terms"`
	Role                       types.String              `tfsdk:"role"`
	InstanceProfile            types.String              `tfsdk:"instance_profile"`
	UserData                   types.String              `tfsdk:"user_data"`
	Tags                       types.Map                 `tfsdk:"tags"`
	BlockDeviceMappings        []blockDeviceMappingModel `tfsdk:"block_device_mappings"`
	MetadataOptions            *metadataOptionsModel     `tfsdk:"metadata_options"`
	Kubelet                    *kubeletModel             `tfsdk:"kubelet"`
	DeleteTimeout              types.String              `tfsdk:"delete_timeout"`
	UID                        types.String              `tfsdk:"uid"`
}

type amiTermModel struct {
	Alias        types.String `tfsdk:"alias"`
	ID           types.String `tfsdk:"id"`
	Name         types.String `tfsdk:"name"`
	Owner        types.String `tfsdk:"owner"`
	Tags         types.Map    `tfsdk:"tags"`
	SSMParameter types.String `tfsdk:"ssm_parameter"`
}

type subnetTermModel struct {
	Tags types.Map    `tfsdk:"tags"`
	ID   types.String `tfsdk:"id"`
}

type securityGroupTermModel struct {
	Tags types.Map    `tfsdk:"tags"`
	ID   types.String `tfsdk:"id"`
	Name types.String `tfsdk:"name"`
}

type blockDeviceMappingModel struct {
	DeviceName types.String `tfsdk:"device_name"`
	RootVolume types.Bool   `tfsdk:"root_volume"`
	EBS        *ebsModel    `tfsdk:"ebs"`
}

type ebsModel struct {
	VolumeSize          types.String `tfsdk:"volume_size"`
	VolumeType          types.String `tfsdk:"volume_type"`
	IOPS                types.Int64  `tfsdk:"iops"`
	Throughput          types.Int64  `tfsdk:"throughput"`
	Encrypted           types.Bool   `tfsdk:"encrypted"`
	KMSKeyID            types.String `tfsdk:"kms_key_id"`
	DeleteOnTermination types.Bool   `tfsdk:"delete_on_termination"`
	SnapshotID          types.String `tfsdk:"snapshot_id"`
}

type metadataOptionsModel struct {
	HTTPEndpoint            types.String `tfsdk:"http_endpoint"`
	HTTPProtocolIPv6        types.String `tfsdk:"http_protocol_ipv6"`
	HTTPPutResponseHopLimit types.Int64  `tfsdk:"http_put_response_hop_limit"`
	HTTPTokens              types.String `tfsdk:"http_tokens"`
}

type kubeletModel struct {
	ClusterDNS                  []types.String `tfsdk:"cluster_dns"`
	MaxPods                     types.Int64    `tfsdk:"max_pods"`
	PodsPerCore                 types.Int64    `tfsdk:"pods_per_core"`
	SystemReserved              types.Map      `tfsdk:"system_reserved"`
	KubeReserved                types.Map      `tfsdk:"kube_reserved"`
	EvictionHard                types.Map      `tfsdk:"eviction_hard"`
	EvictionSoft                types.Map      `tfsdk:"eviction_soft"`
	EvictionSoftGracePeriod     types.Map      `tfsdk:"eviction_soft_grace_period"`
	EvictionMaxPodGracePeriod   types.Int64    `tfsdk:"eviction_max_pod_grace_period"`
	ImageGCHighThresholdPercent types.Int64    `tfsdk:"image_gc_high_threshold_percent"`
	ImageGCLowThresholdPercent  types.Int64    `tfsdk:"image_gc_low_threshold_percent"`
	CPUCFSQuota                 types.Bool     `tfsdk:"cpu_cfs_quota"`
}

// nodeClassSpec builds the spec from a fully known plan.
func nodeClassSpec(m *nodeClassModel) (v1.EC2NodeClassSpec, error) {
	var spec v1.EC2NodeClassSpec
	for _, t := range m.AMISelectorTerms {
		spec.AMISelectorTerms = append(spec.AMISelectorTerms, v1.AMISelectorTerm{
			Alias: t.Alias.ValueString(), ID: t.ID.ValueString(), Name: t.Name.ValueString(),
			Owner: t.Owner.ValueString(), Tags: kubeStringMap(t.Tags), SSMParameter: t.SSMParameter.ValueString(),
		})
	}
	spec.AMIFamily = kubeOptString(m.AMIFamily)
	for _, t := range m.SubnetSelectorTerms {
		spec.SubnetSelectorTerms = append(spec.SubnetSelectorTerms, v1.SubnetSelectorTerm{Tags: kubeStringMap(t.Tags), ID: t.ID.ValueString()})
	}
	for _, t := range m.SecurityGroupSelectorTerms {
		spec.SecurityGroupSelectorTerms = append(spec.SecurityGroupSelectorTerms, v1.SecurityGroupSelectorTerm{Tags: kubeStringMap(t.Tags), ID: t.ID.ValueString(), Name: t.Name.ValueString()})
	}
	spec.Role = m.Role.ValueString()
	spec.InstanceProfile = kubeOptString(m.InstanceProfile)
	spec.UserData = kubeOptString(m.UserData)
	spec.Tags = kubeStringMap(m.Tags)
	for i, b := range m.BlockDeviceMappings {
		bdm := v1.BlockDeviceMapping{DeviceName: kubeOptString(b.DeviceName), RootVolume: b.RootVolume.ValueBool()}
		if e := b.EBS; e != nil {
			bd := &v1.BlockDevice{
				VolumeType: kubeOptString(e.VolumeType), IOPS: kubeOptInt64(e.IOPS), Throughput: kubeOptInt64(e.Throughput),
				Encrypted: kubeOptBool(e.Encrypted), KMSKeyID: kubeOptString(e.KMSKeyID),
				DeleteOnTermination: kubeOptBool(e.DeleteOnTermination), SnapshotID: kubeOptString(e.SnapshotID),
			}
			if s := kubeOptString(e.VolumeSize); s != nil {
				q, err := resource.ParseQuantity(*s)
				if err != nil {
					return spec, fmt.Errorf("block_device_mappings[%d].ebs.volume_size: %w", i, err)
				}
				bd.VolumeSize = &q
			}
			bdm.EBS = bd
		}
		spec.BlockDeviceMappings = append(spec.BlockDeviceMappings, bdm)
	}
	if o := m.MetadataOptions; o != nil {
		spec.MetadataOptions = &v1.MetadataOptions{
			HTTPEndpoint: kubeOptString(o.HTTPEndpoint), HTTPProtocolIPv6: kubeOptString(o.HTTPProtocolIPv6),
			HTTPPutResponseHopLimit: kubeOptInt64(o.HTTPPutResponseHopLimit), HTTPTokens: kubeOptString(o.HTTPTokens),
		}
	}
	if k := m.Kubelet; k != nil {
		kc := &v1.KubeletConfiguration{
			ClusterDNS: kubeStringList(k.ClusterDNS), MaxPods: kubeOptInt32(k.MaxPods), PodsPerCore: kubeOptInt32(k.PodsPerCore),
			SystemReserved: kubeStringMap(k.SystemReserved), KubeReserved: kubeStringMap(k.KubeReserved),
			EvictionHard: kubeStringMap(k.EvictionHard), EvictionSoft: kubeStringMap(k.EvictionSoft),
			EvictionMaxPodGracePeriod:   kubeOptInt32(k.EvictionMaxPodGracePeriod),
			ImageGCHighThresholdPercent: kubeOptInt32(k.ImageGCHighThresholdPercent),
			ImageGCLowThresholdPercent:  kubeOptInt32(k.ImageGCLowThresholdPercent),
			CPUCFSQuota:                 kubeOptBool(k.CPUCFSQuota),
		}
		if g := kubeStringMap(k.EvictionSoftGracePeriod); g != nil {
			kc.EvictionSoftGracePeriod = map[string]metav1.Duration{}
			for sig, v := range g {
				d, err := time.ParseDuration(v)
				if err != nil {
					return spec, fmt.Errorf("kubelet.eviction_soft_grace_period[%q]: %w", sig, err)
				}
				kc.EvictionSoftGracePeriod[sig] = metav1.Duration{Duration: d}
			}
		}
		spec.Kubelet = kc
	}
	return spec, nil
}

// nodeClassFromAPI fills m from the object; m holds the prior values.
func nodeClassFromAPI(nc *v1.EC2NodeClass, m *nodeClassModel) {
	prior := *m
	spec := nc.Spec
	m.Name = types.StringValue(nc.Name)
	m.UID = types.StringValue(string(nc.UID))
	m.AMISelectorTerms = nil
	for i, t := range spec.AMISelectorTerms {
		var p amiTermModel
		if i < len(prior.AMISelectorTerms) {
			p = prior.AMISelectorTerms[i]
		}
		m.AMISelectorTerms = append(m.AMISelectorTerms, amiTermModel{
			Alias: kubeStrValue(t.Alias), ID: kubeStrValue(t.ID), Name: kubeStrValue(t.Name), Owner: kubeStrValue(t.Owner),
			Tags: kubeMapValue(p.Tags, t.Tags), SSMParameter: kubeStrValue(t.SSMParameter),
		})
	}
	m.AMIFamily = kubeOptStringValue(spec.AMIFamily)
	m.SubnetSelectorTerms = nil
	for i, t := range spec.SubnetSelectorTerms {
		var p subnetTermModel
		if i < len(prior.SubnetSelectorTerms) {
			p = prior.SubnetSelectorTerms[i]
		}
		m.SubnetSelectorTerms = append(m.SubnetSelectorTerms, subnetTermModel{Tags: kubeMapValue(p.Tags, t.Tags), ID: kubeStrValue(t.ID)})
	}
	m.SecurityGroupSelectorTerms = nil
	for i, t := range spec.SecurityGroupSelectorTerms {
		var p securityGroupTermModel
		if i < len(prior.SecurityGroupSelectorTerms) {
			p = prior.SecurityGroupSelectorTerms[i]
		}
		m.SecurityGroupSelectorTerms = append(m.SecurityGroupSelectorTerms, securityGroupTermModel{Tags: kubeMapValue(p.Tags, t.Tags), ID: kubeStrValue(t.ID), Name: kubeStrValue(t.Name)})
	}
	m.Role = kubeStrValue(spec.Role)
	m.InstanceProfile = kubeOptStringValue(spec.InstanceProfile)
	m.UserData = kubeOptStringValue(spec.UserData)
	m.Tags = kubeMapValue(prior.Tags, spec.Tags)
	m.BlockDeviceMappings = nil
	if len(spec.BlockDeviceMappings) == 0 && prior.BlockDeviceMappings != nil && len(prior.BlockDeviceMappings) == 0 {
		m.BlockDeviceMappings = prior.BlockDeviceMappings
	}
	for i, b := range spec.BlockDeviceMappings {
		var p blockDeviceMappingModel
		if i < len(prior.BlockDeviceMappings) {
			p = prior.BlockDeviceMappings[i]
		}
		bm := blockDeviceMappingModel{DeviceName: kubeOptStringValue(b.DeviceName), RootVolume: types.BoolValue(b.RootVolume)}
		if e := b.EBS; e != nil {
			em := &ebsModel{
				VolumeSize: types.StringNull(), VolumeType: kubeOptStringValue(e.VolumeType), IOPS: kubeOptInt64Value(e.IOPS),
				Throughput: kubeOptInt64Value(e.Throughput), Encrypted: kubeOptBoolValue(e.Encrypted), KMSKeyID: kubeOptStringValue(e.KMSKeyID),
				DeleteOnTermination: kubeOptBoolValue(e.DeleteOnTermination), SnapshotID: kubeOptStringValue(e.SnapshotID),
			}
			if e.VolumeSize != nil {
				prev := ""
				if p.EBS != nil {
					prev = p.EBS.VolumeSize.ValueString()
				}
				em.VolumeSize = types.StringValue(kubeSameQuantity(prev, e.VolumeSize.String()))
			}
			bm.EBS = em
		}
		m.BlockDeviceMappings = append(m.BlockDeviceMappings, bm)
	}
	m.MetadataOptions = nil
	if o := spec.MetadataOptions; o != nil {
		m.MetadataOptions = &metadataOptionsModel{
			HTTPEndpoint: kubeOptStringValue(o.HTTPEndpoint), HTTPProtocolIPv6: kubeOptStringValue(o.HTTPProtocolIPv6),
			HTTPPutResponseHopLimit: kubeOptInt64Value(o.HTTPPutResponseHopLimit), HTTPTokens: kubeOptStringValue(o.HTTPTokens),
		}
	}
	m.Kubelet = nil
	if k := spec.Kubelet; k != nil {
		var p kubeletModel
		if prior.Kubelet != nil {
			p = *prior.Kubelet
		}
		grace := map[string]string{}
		pg := kubeStringMap(p.EvictionSoftGracePeriod)
		for sig, d := range k.EvictionSoftGracePeriod {
			grace[sig] = kubeDurationValue(kubeStrValue(pg[sig]), &d).ValueString()
		}
		m.Kubelet = &kubeletModel{
			ClusterDNS: kubeStringListValue(p.ClusterDNS, k.ClusterDNS), MaxPods: kubeOptInt32Value(k.MaxPods), PodsPerCore: kubeOptInt32Value(k.PodsPerCore),
			SystemReserved: kubeQuantityMapValue(p.SystemReserved, k.SystemReserved), KubeReserved: kubeQuantityMapValue(p.KubeReserved, k.KubeReserved),
			EvictionHard: kubeMapValue(p.EvictionHard, k.EvictionHard), EvictionSoft: kubeMapValue(p.EvictionSoft, k.EvictionSoft),
			EvictionSoftGracePeriod:     kubeMapValue(p.EvictionSoftGracePeriod, grace),
			EvictionMaxPodGracePeriod:   kubeOptInt32Value(k.EvictionMaxPodGracePeriod),
			ImageGCHighThresholdPercent: kubeOptInt32Value(k.ImageGCHighThresholdPercent),
			ImageGCLowThresholdPercent:  kubeOptInt32Value(k.ImageGCLowThresholdPercent),
			CPUCFSQuota:                 kubeOptBoolValue(k.CPUCFSQuota),
		}
	}
	if prior.DeleteTimeout.IsNull() || prior.DeleteTimeout.IsUnknown() {
		m.DeleteTimeout = types.StringValue(defaultDeleteTimeout)
	}
}
