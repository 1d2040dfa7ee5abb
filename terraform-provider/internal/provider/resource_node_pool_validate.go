package provider

import (
	"context"
	"fmt"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	k8sresource "k8s.io/apimachinery/pkg/api/resource"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cron"
)

// The same rules the CRDs enforce, checked at plan time so that mistakes
// show up in `terraform plan` without a cluster.
var (
	kubeLabelKeyRE     = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)
	nillableDurationRE = regexp.MustCompile(`^(([0-9]+(s|m|h))+|Never)$`)
	budgetNodesRE      = regexp.MustCompile(`^((100|[0-9]{1,2})%|[0-9]+)$`)
	nodewrightDomainRE = regexp.MustCompile(`^([^/]+[.])?nodewright[.]dev/`)
	kubeIntegerRE      = regexp.MustCompile(`^-?[0-9]+$`)
)

// costPerNodeHourMaxLen is the CRD's MaxLength for costPerNodeHour.
const costPerNodeHourMaxLen = v1.CostPerHourMaxLength

// checkNodeLabelKey says what is wrong with a label or requirement key, or "".
func checkNodeLabelKey(k string) string {
	switch {
	case v1.RestrictedLabels.Has(k):
		return fmt.Sprintf("%q is restricted: nodewright or the kubelet sets it", k)
	case nodewrightDomainRE.MatchString(k) && !v1.WellKnownLabels.Has(k):
		return fmt.Sprintf("%q is in the reserved nodewright.dev domain; only nodewright's well-known labels may be used", k)
	case len(k) > 316 || !kubeLabelKeyRE.MatchString(k):
		return fmt.Sprintf("%q is not a qualified name like example.com/team", k)
	}
	return ""
}

func (r *nodePoolResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m nodePoolModel
	// A config that still has unknown collections (values from other
	// resources) can't be decoded; the apiserver validates those at apply.
	if req.Config.Get(ctx, &m).HasError() {
		return
	}
	resp.Diagnostics.Append(validateNodePool(&m)...)
}

func validateNodePool(m *nodePoolModel) diag.Diagnostics {
	var d diag.Diagnostics
	bad := func(p path.Path, format string, args ...any) {
		d.AddAttributeError(p, "Invalid NodePool", fmt.Sprintf(format, args...))
	}
	for k := range kubeStringMap(m.Labels) {
		if msg := checkNodeLabelKey(k); msg != "" {
			bad(path.Root("labels"), "labels: key %s", msg)
		}
	}
	for k, v := range kubeStringMap(m.Labels) {
		if len(v) > 63 {
			bad(path.Root("labels"), "labels: the value of %q is longer than 63 characters", k)
		}
	}
	for i, r := range m.Requirements {
		p := path.Root("requirements").AtListIndex(i)
		key, op := r.Key.ValueString(), r.Operator.ValueString()
		if isKnownStr(r.Key) {
			if msg := checkNodeLabelKey(key); msg != "" {
				bad(p.AtName("key"), "requirements[%d].key: %s", i, msg)
			}
		}
		if !isKnownStr(r.Operator) {
			continue
		}
		n := len(r.Values)
		switch op {
		case "In", "NotIn":
			if n == 0 {
				bad(p.AtName("values"), "requirements[%d] (%s): operators In and NotIn need at least one value", i, key)
			}
		case "Exists", "DoesNotExist":
			if n > 0 {
				bad(p.AtName("values"), "requirements[%d] (%s): operators Exists and DoesNotExist take no values", i, key)
			}
		case "Gt", "Lt":
			if n != 1 || !kubeIntegerRE.MatchString(r.Values[0].ValueString()) {
				bad(p.AtName("values"), "requirements[%d] (%s): operators Gt and Lt take exactly one integer value", i, key)
			}
		}
		if op == "In" && !r.MinValues.IsNull() && !r.MinValues.IsUnknown() && r.MinValues.ValueInt64() > int64(n) {
			bad(p.AtName("min_values"), "requirements[%d] (%s): min_values (%d) must not exceed the number of values (%d) of an In requirement", i, key, r.MinValues.ValueInt64(), n)
		}
	}
	for _, taints := range []struct {
		name string
		list []taintModel
	}{{"taints", m.Taints}, {"startup_taints", m.StartupTaints}} {
		for i, t := range taints.list {
			if isKnownStr(t.Key) && (len(t.Key.ValueString()) > 316 || !kubeLabelKeyRE.MatchString(t.Key.ValueString())) {
				bad(path.Root(taints.name).AtListIndex(i).AtName("key"), "%s[%d].key: %q is not a qualified name like example.com/dedicated", taints.name, i, t.Key.ValueString())
			}
		}
	}
	if isKnownStr(m.ExpireAfter) && !nillableDurationRE.MatchString(m.ExpireAfter.ValueString()) {
		bad(path.Root("expire_after"), "expire_after: %q must be a duration in h, m and s units (like 720h or 1h30m) or Never", m.ExpireAfter.ValueString())
	}
	if isKnownStr(m.TerminationGracePeriod) && !kubeDurationRE.MatchString(m.TerminationGracePeriod.ValueString()) {
		bad(path.Root("termination_grace_period"), "termination_grace_period: %q must be a duration in h, m and s units, like 1h or 30m", m.TerminationGracePeriod.ValueString())
	}
	if isKnownStr(m.CostPerNodeHour) {
		if v := m.CostPerNodeHour.ValueString(); v == "" || len(v) > costPerNodeHourMaxLen {
			bad(path.Root("cost_per_node_hour"), "cost_per_node_hour: %q must be a non-negative decimal number of US dollars per node per hour of 1 to %d characters, such as \"0.012\"; round a computed value with format(\"%%.6f\", ...)", v, costPerNodeHourMaxLen)
		} else if _, err := v1.ParseCostPerHour(v); err != nil {
			bad(path.Root("cost_per_node_hour"), "cost_per_node_hour: %q must be a non-negative decimal number of US dollars per node per hour, such as \"0.012\" (no sign, exponent or unit)", v)
		}
	}
	if isKnownStr(m.DeleteTimeout) && !kubeDurationRE.MatchString(m.DeleteTimeout.ValueString()) {
		bad(path.Root("delete_timeout"), "delete_timeout: %q must be a duration in h, m and s units, like 10m", m.DeleteTimeout.ValueString())
	}
	for k, v := range kubeStringMap(m.Limits) {
		if _, err := k8sresource.ParseQuantity(v); err != nil {
			bad(path.Root("limits"), "limits[%q]: %q is not a quantity such as 100, 500m or 1000Gi", k, v)
		}
	}
	if dis := m.Disruption; dis != nil {
		p := path.Root("disruption")
		if isKnownStr(dis.ConsolidateAfter) && !nillableDurationRE.MatchString(dis.ConsolidateAfter.ValueString()) {
			bad(p.AtName("consolidate_after"), "disruption.consolidate_after: %q must be a duration in h, m and s units or Never", dis.ConsolidateAfter.ValueString())
		}
		for i, b := range dis.Budgets {
			bp := p.AtName("budgets").AtListIndex(i)
			if isKnownStr(b.Nodes) && !budgetNodesRE.MatchString(b.Nodes.ValueString()) {
				bad(bp.AtName("nodes"), "disruption.budgets[%d].nodes: %q must be a count like 3 or a percentage like 10%%", i, b.Nodes.ValueString())
			}
			if !b.Schedule.IsUnknown() && !b.Duration.IsUnknown() && b.Schedule.IsNull() != b.Duration.IsNull() {
				bad(bp, "disruption.budgets[%d]: a budget schedule needs a duration, and a duration needs a schedule", i)
			}
			if isKnownStr(b.Schedule) {
				// The controller's own parser and the CRD's rules, so plan
				// agrees with the API server and the controller.
				if err := cron.Validate(b.Schedule.ValueString()); err != nil {
					bad(bp.AtName("schedule"), "disruption.budgets[%d].schedule: %v", i, err)
				}
			}
			if isKnownStr(b.Duration) && !kubeDurationRE.MatchString(b.Duration.ValueString()) {
				bad(bp.AtName("duration"), "disruption.budgets[%d].duration: %q must be a duration in h, m and s units, like 8h", i, b.Duration.ValueString())
			}
		}
	}
	return d
}
