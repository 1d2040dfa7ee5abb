package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/types"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

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
	KarpenterLabels        types.Bool         `tfsdk:"karpenter_labels"`
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
	if !m.KarpenterLabels.IsNull() && !m.KarpenterLabels.IsUnknown() {
		spec.KarpenterLabels = ptr.To(m.KarpenterLabels.ValueBool())
	}
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
	m.KarpenterLabels = types.BoolValue(spec.KarpenterLabelsEnabled())
	if prior.DeleteTimeout.IsNull() || prior.DeleteTimeout.IsUnknown() {
		m.DeleteTimeout = types.StringValue(defaultDeleteTimeout)
	}
}
