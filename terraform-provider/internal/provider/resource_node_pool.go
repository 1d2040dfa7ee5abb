package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

var (
	_ resource.ResourceWithImportState    = (*nodePoolResource)(nil)
	_ resource.ResourceWithValidateConfig = (*nodePoolResource)(nil)
	_ resource.ResourceWithConfigure      = (*nodePoolResource)(nil)
)

func newNodePoolResource() resource.Resource {
	return &nodePoolResource{kubeObjectResource[nodePoolModel, v1.NodePoolSpec, *v1.NodePool]{
		kind:          "NodePool",
		name:          func(m *nodePoolModel) string { return m.Name.ValueString() },
		spec:          nodePoolSpec,
		object:        func(name string) *v1.NodePool { return &v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: name}} },
		setSpec:       func(np *v1.NodePool, spec v1.NodePoolSpec) { np.Spec = spec },
		fromObject:    nodePoolFromAPI,
		deleteTimeout: func(m *nodePoolModel) string { return m.DeleteTimeout.ValueString() },
		waitDeleted:   waitNodePoolDeleted,
	}}
}

// nodePoolResource is a NodePool; its CRUD is kubeObjectResource's.
type nodePoolResource struct {
	kubeObjectResource[nodePoolModel, v1.NodePoolSpec, *v1.NodePool]
}

// Server-side defaults of the NodePool CRD; the schema applies the same
// ones so that a fresh apply plans empty.
const (
	nodePoolDefaultExpireAfter      = "720h"
	nodePoolDefaultConsolidateAfter = "0s"
	nodePoolDefaultBudgetNodes      = "10%"
)

var (
	nodePoolDefaultConsolidationPolicy = string(v1.ConsolidationPolicyWhenEmptyOrUnderutilized)
	nodePoolConsolidationPolicies      = []string{string(v1.ConsolidationPolicyWhenEmpty), string(v1.ConsolidationPolicyWhenEmptyOrUnderutilized)}
	nodePoolDisruptionReasons          = []string{string(v1.DisruptionReasonEmpty), string(v1.DisruptionReasonUnderutilized), string(v1.DisruptionReasonDrifted)}
	nodeSelectorOperators              = []string{
		string(corev1.NodeSelectorOpIn), string(corev1.NodeSelectorOpNotIn), string(corev1.NodeSelectorOpExists),
		string(corev1.NodeSelectorOpDoesNotExist), string(corev1.NodeSelectorOpGt), string(corev1.NodeSelectorOpLt),
	}
	taintEffects = []string{string(corev1.TaintEffectNoSchedule), string(corev1.TaintEffectPreferNoSchedule), string(corev1.TaintEffectNoExecute)}
)

var budgetAttrTypes = map[string]attr.Type{
	"nodes":    types.StringType,
	"schedule": types.StringType,
	"duration": types.StringType,
	"reasons":  types.ListType{ElemType: types.StringType},
}

func defaultBudgets() types.List {
	b := types.ObjectValueMust(budgetAttrTypes, map[string]attr.Value{
		"nodes":    types.StringValue(nodePoolDefaultBudgetNodes),
		"schedule": types.StringNull(),
		"duration": types.StringNull(),
		"reasons":  types.ListNull(types.StringType),
	})
	return types.ListValueMust(types.ObjectType{AttrTypes: budgetAttrTypes}, []attr.Value{b})
}

func defaultDisruption() types.Object {
	t := map[string]attr.Type{
		"consolidation_policy": types.StringType,
		"consolidate_after":    types.StringType,
		"budgets":              types.ListType{ElemType: types.ObjectType{AttrTypes: budgetAttrTypes}},
	}
	return types.ObjectValueMust(t, map[string]attr.Value{
		"consolidation_policy": types.StringValue(nodePoolDefaultConsolidationPolicy),
		"consolidate_after":    types.StringValue(nodePoolDefaultConsolidateAfter),
		"budgets":              defaultBudgets(),
	})
}

func (r *nodePoolResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_node_pool"
}

func (r *nodePoolResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = nodePoolSchema()
}

func taintsAttribute(what string) schema.ListNestedAttribute {
	return schema.ListNestedAttribute{
		Optional:            true,
		MarkdownDescription: what,
		NestedObject: schema.NestedAttributeObject{
			Attributes: map[string]schema.Attribute{
				"key": schema.StringAttribute{
					Required:            true,
					MarkdownDescription: "Taint key.",
				},
				"effect": schema.StringAttribute{
					Required:            true,
					Validators:          []validator.String{stringvalidator.OneOf(taintEffects...)},
					MarkdownDescription: "Taint effect: one of `" + strings.Join(taintEffects, "`, `") + "`.",
				},
				"value": schema.StringAttribute{
					Optional:            true,
					MarkdownDescription: "Taint value.",
				},
			},
		},
	}
}

func nodePoolSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "A nodewright `NodePool`: which nodes may be launched for pending pods, and when they may be disrupted. Every attribute but " +
			"`name` is updated in place. Destroy waits until every NodeClaim of the pool is gone.",
		Attributes: map[string]schema.Attribute{
			// Required.
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the NodePool. Changing it replaces the pool.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators: []validator.String{
					stringvalidator.LengthBetween(1, 63),
					stringvalidator.RegexMatches(kubeNameRE, "must be a DNS label: lower-case letters, digits and '-'"),
				},
			},
			"node_class": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the `EC2NodeClass` (see `nodewright_node_class`) the pool's nodes launch with.",
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 253)},
			},
			// Optional.
			"labels": optionalStringMap("Labels put on every node; they act as requirements too. Keys nodewright or the kubelet owns (`nodewright.dev/nodepool`, " +
				"`kubernetes.io/hostname`, ...) and other `nodewright.dev/` keys than the well-known ones are rejected."),
			"annotations": optionalStringMap("Annotations put on every node."),
			"requirements": schema.ListNestedAttribute{
				Optional:            true,
				MarkdownDescription: "Node selector requirements narrowing instance types, zones, capacity types and other labels.",
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"key": schema.StringAttribute{
							Required:            true,
							MarkdownDescription: "Node label key, for example `node.kubernetes.io/instance-type`.",
						},
						"operator": schema.StringAttribute{
							Required:            true,
							Validators:          []validator.String{stringvalidator.OneOf(nodeSelectorOperators...)},
							MarkdownDescription: "One of `" + strings.Join(nodeSelectorOperators, "`, `") + "`.",
						},
						"values": schema.ListAttribute{
							Optional:            true,
							ElementType:         types.StringType,
							MarkdownDescription: "Values: one or more for `In`/`NotIn`, exactly one integer for `Gt`/`Lt`, none for `Exists`/`DoesNotExist`.",
						},
						"min_values": schema.Int64Attribute{
							Optional:            true,
							Validators:          []validator.Int64{int64validator.Between(1, 50)},
							MarkdownDescription: "Least number of distinct values of `key` that must stay possible at launch; with `In`, at most the number of values.",
						},
					},
				},
			},
			"taints":         taintsAttribute("Taints every node carries for its whole life."),
			"startup_taints": taintsAttribute("Taints put on nodes at launch, expected to be removed by something else (a CNI, a device plugin)."),
			"expire_after": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(nodePoolDefaultExpireAfter),
				MarkdownDescription: "Delete a node's NodeClaim this long after its creation, whatever do-not-disrupt or budgets say (`h`, `m`, `s` units), or `Never`. Default `" + nodePoolDefaultExpireAfter + "`.",
			},
			"termination_grace_period": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Hard deadline for draining a node, from its NodeClaim's deletion: pods are deleted regardless of budgets to stop by then, and at it the instance is terminated whatever remains, like `1h`.",
			},
			"disruption": schema.SingleNestedAttribute{
				Optional:            true,
				Computed:            true,
				Default:             objectdefault.StaticValue(defaultDisruption()),
				MarkdownDescription: "When nodewright may remove or replace the pool's nodes. Defaults: `WhenEmptyOrUnderutilized`, after `0s`, one budget of `10%`.",
				Attributes: map[string]schema.Attribute{
					"consolidation_policy": schema.StringAttribute{
						Optional:            true,
						Computed:            true,
						Default:             stringdefault.StaticString(nodePoolDefaultConsolidationPolicy),
						Validators:          []validator.String{stringvalidator.OneOf(nodePoolConsolidationPolicies...)},
						MarkdownDescription: "One of `" + strings.Join(nodePoolConsolidationPolicies, "`, `") + "`.",
					},
					"consolidate_after": schema.StringAttribute{
						Optional:            true,
						Computed:            true,
						Default:             stringdefault.StaticString(nodePoolDefaultConsolidateAfter),
						MarkdownDescription: "How long a node must have seen no pod arrive or leave before consolidation considers it, or `Never`.",
					},
					"budgets": schema.ListNestedAttribute{
						Optional: true,
						Computed: true,
						Default:  listdefault.StaticValue(defaultBudgets()),
						// An empty list can't be stored: the CRD defaults it back to one 10% budget.
						Validators:          []validator.List{listvalidator.SizeBetween(1, 50)},
						MarkdownDescription: "Limits on concurrent disruptions; the most restrictive active budget wins. Default one budget of `10%`.",
						NestedObject: schema.NestedAttributeObject{
							Attributes: map[string]schema.Attribute{
								"nodes": schema.StringAttribute{
									Optional:            true,
									Computed:            true,
									Default:             stringdefault.StaticString(nodePoolDefaultBudgetNodes),
									MarkdownDescription: "Nodes that may be disrupted at once: a count (`3`) or a percentage (`10%`).",
								},
								"schedule": schema.StringAttribute{
									Optional: true,
									MarkdownDescription: "Cron schedule in UTC opening the budget's window, as Kubernetes CronJobs take it: five fields with numbers, month and " +
										"day names, ranges, lists and steps (`0 9 * * mon-fri`), or a macro like `@daily`. Needs `duration`.",
								},
								"duration": schema.StringAttribute{
									Optional:            true,
									MarkdownDescription: "How long the window stays open after each schedule tick; needs `schedule`.",
								},
								"reasons": schema.ListAttribute{
									Optional:            true,
									ElementType:         types.StringType,
									Validators:          []validator.List{listvalidator.ValueStringsAre(stringvalidator.OneOf(nodePoolDisruptionReasons...))},
									MarkdownDescription: "Reasons the budget applies to (`" + strings.Join(nodePoolDisruptionReasons, "`, `") + "`); all when unset.",
								},
							},
						},
					},
				},
			},
			"limits": optionalStringMap("Caps on the resources the pool's nodes add up to, as quantities: `{ cpu = \"1000\", memory = \"1000Gi\" }`."),
			"weight": schema.Int64Attribute{
				Optional:            true,
				Validators:          []validator.Int64{int64validator.Between(1, 100)},
				MarkdownDescription: "Higher weights are tried first (1-100).",
			},
			"cost_per_node_hour": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "What each of the pool's nodes costs on top of its instance and volumes, in US dollars per node per hour: per-host licences " +
					"of monitoring or security agents, say. nodewright counts it in every node's cost, so the pool favours fewer, larger nodes. A non-negative " +
					"decimal such as `\"0.012\"` (a number such as `0.012` is converted); at most " + fmt.Sprint(costPerNodeHourMaxLen) + " characters, so round " +
					"computed values, e.g. `format(\"%.6f\", var.licence_per_month / 730)`. Changing it does not replace or drift existing nodes.",
			},
			"karpenter_labels": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(true),
				MarkdownDescription: "Put Karpenter's keys for nodewright's labels (`karpenter.sh/nodepool`, `karpenter.sh/capacity-type`, " +
					"`karpenter.k8s.aws/instance-family` and the rest) on the pool's nodes beside nodewright's, so that workloads written for Karpenter keep " +
					"matching. With `false`, pods that require a Karpenter key do not go to the pool. Applies to nodes registered after a change. Default `true`.",
			},
			"delete_timeout": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(defaultDeleteTimeout),
				MarkdownDescription: "How long destroy waits for the pool's NodeClaims to go away. Default `" + defaultDeleteTimeout + "`.",
			},
			// Computed.
			"uid": computedStableString("Kubernetes UID of the NodePool."),
		},
	}
}

func (r *nodePoolResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("name"), req, resp)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("delete_timeout"), defaultDeleteTimeout)...)
}

// waitNodePoolDeleted waits until every NodeClaim of the pool, and then the
// pool itself, is gone: the controller drains and terminates the nodes.
func waitNodePoolDeleted(ctx context.Context, c client.Client, name string, timeout time.Duration, diags *diag.Diagnostics) {
	var left []string
	err := kubePollUntil(ctx, timeout, func() (bool, error) {
		var claims v1.NodeClaimList
		if err := c.List(ctx, &claims, client.MatchingLabels{v1.NodePoolLabelKey: name}); err != nil {
			return false, fmt.Errorf("listing NodeClaims of NodePool %s: %w", name, err)
		}
		left = left[:0]
		for _, nc := range claims.Items {
			left = append(left, nc.Name)
		}
		if len(left) > 0 {
			return false, nil
		}
		err := c.Get(ctx, client.ObjectKey{Name: name}, &v1.NodePool{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if err != nil {
		sort.Strings(left)
		diags.AddError("Waiting for the NodePool's nodes to go", fmt.Sprintf(
			"NodePool %s was deleted, but after %s these NodeClaims (label %s=%s) remain: [%s] (%v). Their nodes are drained and their instances terminated by the nodewright controller: check that it runs (kubectl -n <namespace> logs deploy/nodewright) and what blocks draining (PodDisruptionBudgets, do-not-disrupt pods), then run destroy again or raise delete_timeout.",
			name, timeout, v1.NodePoolLabelKey, name, strings.Join(left, ", "), err))
	}
}
