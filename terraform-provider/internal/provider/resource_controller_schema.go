package provider

import (
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

var logLevels = []string{"debug", "info", "warn", "error"}

var (
	tolerationOperators = []string{"Exists", "Equal"}
	tolerationEffects   = []string{"", "NoSchedule", "PreferNoSchedule", "NoExecute"}
	whenUnsatisfiable   = []string{string(corev1.DoNotSchedule), string(corev1.ScheduleAnyway)}
)

// defaultTopologySpreadConstraints spread the replicas over hosts (hard)
// and zones (soft); controllerTopologySpread explains the choice. The
// schema default and import both use them.
var defaultTopologySpreadConstraints = []topologySpread{
	{TopologyKey: corev1.LabelTopologyZone, MaxSkew: 1, WhenUnsatisfiable: corev1.ScheduleAnyway},
	{TopologyKey: corev1.LabelHostname, MaxSkew: 1, WhenUnsatisfiable: corev1.DoNotSchedule},
}

var durationValidator = stringvalidator.RegexMatches(durationRE, "must be a duration such as 90s, 5m or 1h")

func controllerSchema() schema.Schema {
	quantity := func(desc, def string) schema.StringAttribute {
		return schema.StringAttribute{
			Optional:            true,
			Computed:            true,
			Default:             stringdefault.StaticString(def),
			MarkdownDescription: desc + " Empty means none.",
		}
	}
	return schema.Schema{
		MarkdownDescription: "Deploys the nodewright controller into the cluster: its CRDs (installed or upgraded in place), a namespace, a ServiceAccount, " +
			"least-privilege RBAC and a Deployment, and waits for the rollout. " +
			"Destroying it first deletes every NodePool and waits for the controller to drain and terminate the nodes it launched (terminating leftover " +
			"instances itself at the timeout), deletes EC2NodeClasses, launch templates and instance profiles, and only then removes the controller and the CRDs.\n\n" +
			"The provider's Kubernetes credentials need: " + rulesMarkdown(providerKubeRules()) + "; and, to create the controller's ClusterRole and Role, " +
			"either every permission they grant or `escalate` and `bind` on them.",
		Attributes: map[string]schema.Attribute{
			"cluster_name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "EKS cluster name (the controller's `CLUSTER_NAME`): tags, discovery and node bootstrap.",
				Validators:          []validator.String{eksClusterNameValidator()},
			},

			"cluster_endpoint": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "API server URL nodes join (`CLUSTER_ENDPOINT`). Looked up with eks:DescribeCluster by the controller when unset.",
			},
			"namespace": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(defaultControllerNamespace),
				MarkdownDescription: "Namespace of the controller, created and deleted with it. Changing it replaces the installation.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators: []validator.String{
					stringvalidator.RegexMatches(dnsLabelRE, "must be a DNS label: lower-case letters, digits and -, at most 63 characters"),
				},
			},
			"image": schema.StringAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "Controller image. Defaults to the image released with this provider, by digest (`" + ControllerImageRepository + "@sha256:...`); " +
					"a development build of the provider defaults to `" + ControllerImageRepository + ":<provider version>`. To run from a private registry, mirror that image there and set its reference here.",
			},
			"replicas": schema.Int64Attribute{
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(defaultReplicas),
				MarkdownDescription: "Controller replicas; one is the leader at a time.",
				Validators:          []validator.Int64{int64validator.Between(1, 10)},
			},
			"interruption_queue": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "SQS queue name of interruption notices (`nodewright_interruption_queue.name`); unset turns interruption handling off.",
			},
			"service_account_annotations": optionalStringMap("Annotations on the controller's ServiceAccount, for example `" + roleARNAnnotation + "` for IRSA."),
			"controller_role_arn": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "IAM role the controller assumes through IRSA (`nodewright_controller_iam.role_arn`): sets the `" + roleARNAnnotation + "` " +
					"annotation on the ServiceAccount.",
			},
			"pod_identity": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
				MarkdownDescription: "The controller's ServiceAccount has an EKS Pod Identity association (`nodewright_pod_identity_association`), so the EKS Pod " +
					"Identity agent gives it its role. With this or `controller_role_arn` the Deployment carries no AWS credentials; without either, and only " +
					"against an endpoint override (a local or test cloud), it gets the provider's own.",
			},
			"resources": schema.SingleNestedAttribute{
				Optional:            true,
				Computed:            true,
				Default:             objectdefault.StaticValue(defaultResources()),
				MarkdownDescription: "Requests and limits of the controller container.",
				Attributes: map[string]schema.Attribute{
					"cpu_request":    quantity("CPU request (default `"+defaultCPU+"`).", defaultCPU),
					"memory_request": quantity("Memory request (default `"+defaultMemory+"`).", defaultMemory),
					"cpu_limit":      quantity("CPU limit (default none).", ""),
					"memory_limit":   quantity("Memory limit (default `"+defaultMemory+"`).", defaultMemory),
				},
			},
			"priority_class_name": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(defaultPriorityClass),
				MarkdownDescription: "Priority class of the controller pods, so they are not preempted by the workloads they provision for.",
			},
			"node_selector": optionalStringMap("Node selector of the controller pods."),
			"tolerations": schema.ListNestedAttribute{
				Optional:            true,
				Computed:            true,
				Default:             listdefault.StaticValue(defaultTolerations()),
				MarkdownDescription: "Tolerations of the controller pods. The default tolerates `CriticalAddonsOnly`, the taint of EKS system node groups.",
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"key": schema.StringAttribute{
							Optional:            true,
							Computed:            true,
							Default:             stringdefault.StaticString(""),
							MarkdownDescription: "Taint key; empty with `Exists` tolerates everything.",
						},
						"operator": schema.StringAttribute{
							Optional:            true,
							Computed:            true,
							Default:             stringdefault.StaticString("Equal"),
							MarkdownDescription: "One of " + strings.Join(tolerationOperators, ", ") + ".",
							Validators:          []validator.String{stringvalidator.OneOf(tolerationOperators...)},
						},
						"value": schema.StringAttribute{
							Optional:            true,
							Computed:            true,
							Default:             stringdefault.StaticString(""),
							MarkdownDescription: "Taint value, with `Equal`.",
						},
						"effect": schema.StringAttribute{
							Optional:            true,
							Computed:            true,
							Default:             stringdefault.StaticString(""),
							MarkdownDescription: "Taint effect; empty matches every effect.",
							Validators:          []validator.String{stringvalidator.OneOf(tolerationEffects...)},
						},
					},
				},
			},
			"affinity_avoid_managed": schema.BoolAttribute{
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(true),
				MarkdownDescription: "Require nodes without the `" + v1.NodePoolLabelKey + "` label, so the controller never runs on a node it manages (and could drain).",
			},
			"topology_spread": schema.ListNestedAttribute{
				Optional: true,
				Computed: true,
				Default:  listdefault.StaticValue(topologySpreadList(defaultTopologySpreadConstraints)),
				MarkdownDescription: "Topology spread constraints over the controller's own pods, counting only nodes whose taints they tolerate. " +
					"The default spreads replicas over hosts (`" + corev1.LabelHostname + "`, `DoNotSchedule`) and zones (`" + corev1.LabelTopologyZone + "`, " +
					"`ScheduleAnyway`): replicas never share a node while another node can take them, and still all schedule on a single system node. " +
					"An empty list spreads nothing.",
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"topology_key": schema.StringAttribute{
							Required:            true,
							MarkdownDescription: "Node label whose values are the domains, e.g. `" + corev1.LabelTopologyZone + "`.",
							Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
						},
						"max_skew": schema.Int64Attribute{
							Optional:            true,
							Computed:            true,
							Default:             int64default.StaticInt64(1),
							MarkdownDescription: "Largest allowed difference in replicas between two domains.",
							Validators:          []validator.Int64{int64validator.AtLeast(1)},
						},
						"when_unsatisfiable": schema.StringAttribute{
							Optional:            true,
							Computed:            true,
							Default:             stringdefault.StaticString(string(corev1.DoNotSchedule)),
							MarkdownDescription: "One of " + strings.Join(whenUnsatisfiable, ", ") + ": leave a replica Pending, or schedule it with a larger skew.",
							Validators:          []validator.String{stringvalidator.OneOf(whenUnsatisfiable...)},
						},
					},
				},
			},
			"pdb_max_unavailable": schema.Int64Attribute{
				Optional: true,
				Computed: true,
				Default:  int64default.StaticInt64(defaultPDBMaxUnavailable),
				MarkdownDescription: "`maxUnavailable` of the controller's PodDisruptionBudget: how many replicas a node drain or cluster upgrade may evict at once. " +
					"0 creates no PodDisruptionBudget.",
				Validators: []validator.Int64{int64validator.Between(0, 10)},
			},
			"security_context": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(true),
				MarkdownDescription: fmt.Sprintf("Run the controller under the restricted Pod Security Standard: as the image's non-root user and group %d "+
					"(`runAsNonRoot`, also `fsGroup`), `RuntimeDefault` seccomp, a read-only root filesystem (with an emptyDir at `/tmp`, and at `%s` when set), "+
					"no privilege escalation and no capabilities. Turn it off only for an image that needs root.", nonRootID, recordSolvesEnv),
			},
			"metrics_service": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(true),
				MarkdownDescription: "Create the ClusterIP Service `" + metricsServiceName + "` with a port named `metrics` in front of the metrics port, " +
					"for a ServiceMonitor or Prometheus' endpoint discovery. None when `metrics_port` is 0.",
			},
			"env": optionalStringMap("Extra environment of the controller, after (and overriding) what the resource sets, e.g. `BATCH_MAX_DURATION`."),
			"log_level": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(defaultLogLevel),
				MarkdownDescription: "Log level: one of " + strings.Join(logLevels, ", ") + ".",
				Validators:          []validator.String{stringvalidator.OneOf(logLevels...)},
			},
			"metrics_port": schema.Int64Attribute{
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(defaultMetricsPort),
				MarkdownDescription: "Prometheus metrics port; 0 turns metrics off.",
				Validators:          []validator.Int64{int64validator.Between(0, 65535)},
			},
			"health_probe_port": schema.Int64Attribute{
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(defaultHealthPort),
				MarkdownDescription: "Port of `/healthz` and `/readyz`, which the liveness and readiness probes use; 0 turns the health server and the probes off.",
				Validators:          []validator.Int64{int64validator.Between(0, 65535)},
			},
			"wait_for_rollout": schema.BoolAttribute{
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(true),
				MarkdownDescription: "Wait until every replica is available after create and update.",
			},
			"create_timeout": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(defaultCreateTimeout),
				MarkdownDescription: "How long to wait for the rollout.",
				Validators:          []validator.String{durationValidator},
			},
			"delete_timeout": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(defaultDeleteTimeout),
				MarkdownDescription: "How long destroy waits for the controller to terminate its nodes before terminating leftover instances itself.",
				Validators:          []validator.String{durationValidator},
			},

			"id": computedStableString("`<namespace>/nodewright`."),
			"crds_version": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Digest of the CRDs this provider version installs; a new provider version with changed CRDs plans an in-place upgrade.",
			},
		},
	}
}

// rulesMarkdown lists RBAC rules for the docs, one entry per set of verbs:
// verbs on resource.group, ....
func rulesMarkdown(rules []rbacv1.PolicyRule) string {
	var order []string
	byVerbs := map[string][]string{}
	for _, r := range rules {
		verbs := strings.Join(r.Verbs, ", ")
		if _, ok := byVerbs[verbs]; !ok {
			order = append(order, verbs)
		}
		for _, g := range r.APIGroups {
			for _, n := range r.Resources {
				if g != "" {
					n += "." + g
				}
				byVerbs[verbs] = append(byVerbs[verbs], "`"+n+"`")
			}
		}
	}
	parts := make([]string, 0, len(order))
	for _, verbs := range order {
		parts = append(parts, verbs+" on "+strings.Join(byVerbs[verbs], ", "))
	}
	return strings.Join(parts, "; ")
}
