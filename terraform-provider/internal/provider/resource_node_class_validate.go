package provider

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	k8sresource "k8s.io/apimachinery/pkg/api/resource"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

var (
	amiAliasRE = regexp.MustCompile(`^(al2023|bottlerocket)@(latest|v[0-9]+([.][0-9]+)*)$`)
	amiIDRE    = regexp.MustCompile(`^ami-[0-9a-z]+$`)
	amiOwnerRE = regexp.MustCompile(`^(self|amazon|[0-9]{12})$`)
	subnetIDRE = regexp.MustCompile(`^subnet-[0-9a-z]+$`)
	sgIDRE     = regexp.MustCompile(`^sg-[0-9a-z]+$`)
)

// aliasFamily maps an alias prefix to the ami_family it implies.
var aliasFamily = map[string]string{"al2023": v1.AMIFamilyAL2023, "bottlerocket": v1.AMIFamilyBottlerocket}

func (r *nodeClassResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m nodeClassModel
	// Configs with unknown collections can't be decoded yet; the apiserver
	// validates those at apply.
	if req.Config.Get(ctx, &m).HasError() {
		return
	}
	resp.Diagnostics.Append(validateNodeClass(&m)...)
}

func isSet(s types.String) bool { return !s.IsNull() && s.ValueString() != "" }

func isSetMap(m types.Map) bool { return !m.IsNull() }

func validateNodeClass(m *nodeClassModel) diag.Diagnostics {
	var d diag.Diagnostics
	bad := func(p path.Path, format string, args ...any) {
		d.AddAttributeError(p, "Invalid EC2NodeClass", fmt.Sprintf(format, args...))
	}
	if !m.Role.IsUnknown() && !m.InstanceProfile.IsUnknown() && isSet(m.Role) == isSet(m.InstanceProfile) {
		bad(path.Root("role"), "role, instance_profile: specify exactly one of role or instance_profile")
	}
	alias := ""
	for i, t := range m.AMISelectorTerms {
		p := path.Root("ami_selector_terms").AtListIndex(i)
		switch {
		case isSet(t.Alias):
			alias = t.Alias.ValueString()
			if isSet(t.ID) || isSet(t.Name) || isSet(t.Owner) || isSetMap(t.Tags) || isSet(t.SSMParameter) {
				bad(p, "ami_selector_terms[%d]: a term with an alias can't have other fields", i)
			}
			if len(m.AMISelectorTerms) > 1 {
				bad(p, "ami_selector_terms[%d]: an alias term can't be combined with other terms (alias %q is mixed with %d other terms)", i, alias, len(m.AMISelectorTerms)-1)
			}
		case isSet(t.ID):
			if isSet(t.Name) || isSet(t.Owner) || isSetMap(t.Tags) || isSet(t.SSMParameter) {
				bad(p, "ami_selector_terms[%d]: a term with an id can't have other fields", i)
			}
		case isSet(t.SSMParameter):
			if isSet(t.Name) || isSet(t.Owner) || isSetMap(t.Tags) {
				bad(p, "ami_selector_terms[%d]: a term with an ssm_parameter can't have other fields", i)
			}
		case !isSet(t.Name) && !isSetMap(t.Tags) && !t.Alias.IsUnknown() && !t.ID.IsUnknown() && !t.Name.IsUnknown() && !t.SSMParameter.IsUnknown() && !t.Tags.IsUnknown():
			bad(p, "ami_selector_terms[%d]: a term needs an alias, id, name, tags or ssm_parameter", i)
		}
		checkSelectorTags(bad, p.AtName("tags"), fmt.Sprintf("ami_selector_terms[%d].tags", i), t.Tags)
	}
	if !m.AMIFamily.IsUnknown() {
		fam := m.AMIFamily.ValueString()
		prefix, _, _ := strings.Cut(alias, "@")
		switch {
		case alias == "" && m.AMIFamily.IsNull() && allKnownAMITerms(m.AMISelectorTerms):
			bad(path.Root("ami_family"), "ami_family is required unless ami_selector_terms uses an alias")
		case alias != "" && !m.AMIFamily.IsNull() && aliasFamily[prefix] != fam:
			bad(path.Root("ami_family"), "ami_family %q must match the family of alias %q (%s)", fam, alias, aliasFamily[prefix])
		}
	}
	for i, t := range m.SubnetSelectorTerms {
		p := path.Root("subnet_selector_terms").AtListIndex(i)
		if !t.ID.IsUnknown() && !t.Tags.IsUnknown() && isSet(t.ID) == isSetMap(t.Tags) {
			bad(p, "subnet_selector_terms[%d]: a subnet selector term needs exactly one of tags or id", i)
		}
		checkSelectorTags(bad, p.AtName("tags"), fmt.Sprintf("subnet_selector_terms[%d].tags", i), t.Tags)
	}
	for i, t := range m.SecurityGroupSelectorTerms {
		p := path.Root("security_group_selector_terms").AtListIndex(i)
		if t.ID.IsUnknown() || t.Tags.IsUnknown() || t.Name.IsUnknown() {
			continue
		}
		if !isSet(t.ID) && !isSetMap(t.Tags) && !isSet(t.Name) {
			bad(p, "security_group_selector_terms[%d]: a security group selector term needs tags, id or name", i)
		}
		if isSet(t.ID) && (isSetMap(t.Tags) || isSet(t.Name)) {
			bad(p, "security_group_selector_terms[%d]: a security group selector term with an id can't also have tags or name", i)
		}
		checkSelectorTags(bad, p.AtName("tags"), fmt.Sprintf("security_group_selector_terms[%d].tags", i), t.Tags)
	}
	for _, k := range slices.Sorted(maps.Keys(kubeStringMap(m.Tags))) {
		if why := refusedTagKey(k); why != "" {
			bad(path.Root("tags"), "tags: %s", why)
		}
	}
	roots := 0
	for i, b := range m.BlockDeviceMappings {
		p := path.Root("block_device_mappings").AtListIndex(i)
		if b.RootVolume.ValueBool() {
			roots++
		}
		e := b.EBS
		if e == nil {
			continue
		}
		vt := e.VolumeType.ValueString()
		if !e.IOPS.IsNull() && !e.VolumeType.IsUnknown() && !slices.Contains([]string{"io1", "io2", "gp3"}, vt) {
			bad(p.AtName("ebs").AtName("iops"), "block_device_mappings[%d].ebs.iops can only be set for io1, io2 and gp3 volumes (volume_type is %q)", i, vt)
		}
		if !e.Throughput.IsNull() && !e.VolumeType.IsUnknown() && vt != "gp3" {
			bad(p.AtName("ebs").AtName("throughput"), "block_device_mappings[%d].ebs.throughput can only be set for gp3 volumes (volume_type is %q)", i, vt)
		}
		if isKnownStr(e.VolumeSize) {
			if _, err := k8sresource.ParseQuantity(e.VolumeSize.ValueString()); err != nil {
				bad(p.AtName("ebs").AtName("volume_size"), "block_device_mappings[%d].ebs.volume_size: %q is not a quantity such as 20Gi", i, e.VolumeSize.ValueString())
			}
		}
	}
	if roots > 1 {
		bad(path.Root("block_device_mappings"), "block_device_mappings: at most one mapping may be the root volume, %d are", roots)
	}
	if k := m.Kubelet; k != nil {
		validateKubelet(bad, k)
		// Bottlerocket's settings.kubernetes has no pods-per-core key, so the
		// value could only be dropped; the CRD refuses it the same way.
		prefix, _, _ := strings.Cut(alias, "@")
		if isKnownInt(k.PodsPerCore) && (m.AMIFamily.ValueString() == v1.AMIFamilyBottlerocket || aliasFamily[prefix] == v1.AMIFamilyBottlerocket) {
			bad(path.Root("kubelet").AtName("pods_per_core"), "kubelet.pods_per_core is not supported on the Bottlerocket AMI family, which has no such setting; use kubelet.max_pods")
		}
	}
	if isKnownStr(m.DeleteTimeout) && !kubeDurationRE.MatchString(m.DeleteTimeout.ValueString()) {
		bad(path.Root("delete_timeout"), "delete_timeout: %q must be a duration in h, m and s units, like 10m", m.DeleteTimeout.ValueString())
	}
	return d
}

func allKnownAMITerms(terms []amiTermModel) bool {
	for _, t := range terms {
		if t.Alias.IsUnknown() {
			return false
		}
	}
	return true
}

func checkSelectorTags(bad func(path.Path, string, ...any), p path.Path, name string, tags types.Map) {
	for k, v := range kubeStringMap(tags) {
		if k == "" || v == "" {
			bad(p, "%s: selector tag keys and values must not be empty", name)
			return
		}
	}
}

func validateKubelet(bad func(path.Path, string, ...any), k *kubeletModel) {
	p := path.Root("kubelet")
	for _, res := range []struct {
		name string
		m    types.Map
	}{{"system_reserved", k.SystemReserved}, {"kube_reserved", k.KubeReserved}} {
		for key, v := range kubeStringMap(res.m) {
			if !slices.Contains(reservedResource, key) {
				bad(p.AtName(res.name), "kubelet.%s may only reserve %s, not %q", res.name, strings.Join(reservedResource, ", "), key)
			}
			if q, err := k8sresource.ParseQuantity(v); err != nil || q.Sign() < 0 {
				bad(p.AtName(res.name), "kubelet.%s[%q]: %q must be a non-negative quantity such as 100m or 1Gi", res.name, key, v)
			}
		}
	}
	soft, grace := kubeStringMap(k.EvictionSoft), kubeStringMap(k.EvictionSoftGracePeriod)
	for _, ev := range []struct {
		name string
		m    map[string]string
	}{{"eviction_hard", kubeStringMap(k.EvictionHard)}, {"eviction_soft", soft}, {"eviction_soft_grace_period", grace}} {
		for sig, v := range ev.m {
			if !slices.Contains(evictionSignals, sig) {
				bad(p.AtName(ev.name), "kubelet.%s: signal %q must be one of %s", ev.name, sig, strings.Join(evictionSignals, ", "))
			}
			if ev.name == "eviction_soft_grace_period" {
				if !kubeDurationRE.MatchString(v) {
					bad(p.AtName(ev.name), "kubelet.%s[%q]: %q must be a duration in h, m and s units, like 1m30s", ev.name, sig, v)
				}
				continue
			}
			if !evictionThresholdOK(v) {
				bad(p.AtName(ev.name), "kubelet.%s[%q]: eviction thresholds must be percentages such as 10%% or quantities such as 100Mi, not %q", ev.name, sig, v)
			}
		}
	}
	if !k.EvictionSoft.IsUnknown() && !k.EvictionSoftGracePeriod.IsUnknown() {
		for sig := range soft {
			if _, ok := grace[sig]; !ok {
				bad(p.AtName("eviction_soft_grace_period"), "kubelet: eviction_soft signal %q needs an eviction_soft_grace_period", sig)
			}
		}
		for sig := range grace {
			if _, ok := soft[sig]; !ok {
				bad(p.AtName("eviction_soft"), "kubelet: eviction_soft_grace_period signal %q needs an eviction_soft threshold", sig)
			}
		}
	}
	if isKnownInt(k.ImageGCHighThresholdPercent) && isKnownInt(k.ImageGCLowThresholdPercent) && k.ImageGCHighThresholdPercent.ValueInt64() <= k.ImageGCLowThresholdPercent.ValueInt64() {
		bad(p.AtName("image_gc_high_threshold_percent"), "kubelet.image_gc_high_threshold_percent (%d) must be greater than image_gc_low_threshold_percent (%d)", k.ImageGCHighThresholdPercent.ValueInt64(), k.ImageGCLowThresholdPercent.ValueInt64())
	}
}

func isKnownInt(v types.Int64) bool { return !v.IsNull() && !v.IsUnknown() }

func evictionThresholdOK(v string) bool {
	if strings.HasPrefix(v, "-") {
		return false
	}
	if pct, ok := strings.CutSuffix(v, "%"); ok {
		q, err := k8sresource.ParseQuantity(pct)
		return err == nil && q.Cmp(k8sresource.MustParse("100")) <= 0
	}
	_, err := k8sresource.ParseQuantity(v)
	return err == nil
}

// refusedTagKey says why a user tag key can't be used, or "" when it can:
// nodewright sets these keys itself, and a user's value would either be
// overwritten or, for the cluster tag, claim resources for another cluster.
// The messages match the EC2NodeClass CRD's.
func refusedTagKey(k string) string {
	switch {
	case k == "":
		return "tag keys must not be empty"
	case strings.HasPrefix(k, v1.ClusterTagKeyPrefix):
		return fmt.Sprintf("tag key %s is reserved: nodewright tags every resource of the cluster with %s<cluster name>; remove it", k, v1.ClusterTagKeyPrefix)
	case reservedTagKeys[k] != "":
		return fmt.Sprintf("tag key %s is reserved: nodewright sets it to %s; remove it", k, reservedTagKeys[k])
	}
	return ""
}
