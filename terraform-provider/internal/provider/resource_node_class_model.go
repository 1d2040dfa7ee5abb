package provider

import (
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

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
