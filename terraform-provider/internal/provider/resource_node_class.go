package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"
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
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

var (
	_ resource.ResourceWithImportState    = (*nodeClassResource)(nil)
	_ resource.ResourceWithValidateConfig = (*nodeClassResource)(nil)
	_ resource.ResourceWithConfigure      = (*nodeClassResource)(nil)
)

func newNodeClassResource() resource.Resource {
	return &nodeClassResource{kubeObjectResource[nodeClassModel, v1.EC2NodeClassSpec, *v1.EC2NodeClass]{
		kind:              "EC2NodeClass",
		name:              func(m *nodeClassModel) string { return m.Name.ValueString() },
		spec:              nodeClassSpec,
		object:            func(name string) *v1.EC2NodeClass { return &v1.EC2NodeClass{ObjectMeta: metav1.ObjectMeta{Name: name}} },
		setSpec:           func(nc *v1.EC2NodeClass, spec v1.EC2NodeClassSpec) { nc.Spec = spec },
		fromObject:        nodeClassFromAPI,
		goneWhileDeleting: true,
		deleteTimeout:     func(m *nodeClassModel) string { return m.DeleteTimeout.ValueString() },
		waitDeleted:       waitNodeClassDeleted,
	}}
}

// nodeClassResource is an EC2NodeClass; its CRUD is kubeObjectResource's.
type nodeClassResource struct {
	kubeObjectResource[nodeClassModel, v1.EC2NodeClassSpec, *v1.EC2NodeClass]
}

// Server-side defaults and enums of the EC2NodeClass CRD.
const (
	metadataDefaultHTTPEndpoint     = "enabled"
	metadataDefaultHTTPProtocolIPv6 = "disabled"
	metadataDefaultHopLimit         = 1
	metadataDefaultHTTPTokens       = "required"
)

var (
	amiFamilies      = []string{v1.AMIFamilyAL2023, v1.AMIFamilyBottlerocket, v1.AMIFamilyCustom}
	enabledDisabled  = []string{"enabled", "disabled"}
	httpTokensValues = []string{"required", "optional"}
	volumeTypes      = []string{"standard", "io1", "io2", "gp2", "sc1", "st1", "gp3"}
	evictionSignals  = []string{"memory.available", "nodefs.available", "nodefs.inodesFree", "imagefs.available", "imagefs.inodesFree", "pid.available"}
	reservedResource = []string{"cpu", "memory", "ephemeral-storage", "pid"}
	// reservedTagKeys are the tag keys nodewright sets on what it launches,
	// with what it sets them to; the EC2NodeClass CRD refuses the same keys.
	reservedTagKeys = map[string]string{
		v1.NodePoolTagKey:       "the name of the NodePool a resource belongs to",
		v1.NodeClaimTagKey:      "the name of the NodeClaim a resource belongs to",
		v1.EC2NodeClassTagKey:   "the name of the EC2NodeClass a resource belongs to",
		v1.EKSClusterNameTagKey: "the name of the EKS cluster",
	}
)

var metadataAttrTypes = map[string]attr.Type{
	"http_endpoint":               types.StringType,
	"http_protocol_ipv6":          types.StringType,
	"http_put_response_hop_limit": types.Int64Type,
	"http_tokens":                 types.StringType,
}

func defaultMetadataOptions() types.Object {
	return types.ObjectValueMust(metadataAttrTypes, map[string]attr.Value{
		"http_endpoint":               types.StringValue(metadataDefaultHTTPEndpoint),
		"http_protocol_ipv6":          types.StringValue(metadataDefaultHTTPProtocolIPv6),
		"http_put_response_hop_limit": types.Int64Value(metadataDefaultHopLimit),
		"http_tokens":                 types.StringValue(metadataDefaultHTTPTokens),
	})
}

func (r *nodeClassResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_node_class"
}

func (r *nodeClassResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = nodeClassSchema()
}

func selectorTags(what string) schema.MapAttribute {
	return optionalStringMap("Tags the " + what + " must have; `*` as a value matches any value.")
}

func nodeClassSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "A nodewright `EC2NodeClass`: networking, image, IAM, storage, instance metadata, tags and kubelet settings of nodes launched " +
			"on EC2. Every attribute but `name` is updated in place. Destroy waits until the controller has released the class (its finalizer is removed once " +
			"no NodeClaim uses it).",
		Attributes: map[string]schema.Attribute{
			// Required.
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the EC2NodeClass. Changing it replaces the class.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators: []validator.String{
					stringvalidator.LengthBetween(1, 63),
					stringvalidator.RegexMatches(kubeNameRE, "must be a DNS label: lower-case letters, digits and '-'"),
				},
			},
			"ami_selector_terms": schema.ListNestedAttribute{
				Required:            true,
				Validators:          []validator.List{listvalidator.SizeBetween(1, 30)},
				MarkdownDescription: "Images to launch, terms ORed. An `alias` (like `al2023@latest`) must be the only term and the only field of its term.",
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"alias": schema.StringAttribute{
							Optional: true,
							Validators: []validator.String{
								stringvalidator.RegexMatches(amiAliasRE, "must be al2023@latest, al2023@v<version>, bottlerocket@latest or bottlerocket@v<version>"),
							},
							MarkdownDescription: "Family and version, resolved through the public SSM parameters: `al2023@latest`, `bottlerocket@v1.40.0`.",
						},
						"id": schema.StringAttribute{
							Optional:            true,
							Validators:          []validator.String{stringvalidator.RegexMatches(amiIDRE, "must be an image id like ami-0123456789abcdef0")},
							MarkdownDescription: "Image id.",
						},
						"name": schema.StringAttribute{
							Optional:            true,
							Validators:          []validator.String{stringvalidator.LengthAtMost(128)},
							MarkdownDescription: "Image name; may contain `*` wildcards.",
						},
						"owner": schema.StringAttribute{
							Optional:            true,
							Validators:          []validator.String{stringvalidator.RegexMatches(amiOwnerRE, "must be an account id, self or amazon")},
							MarkdownDescription: "Image owner: an account id, `self` or `amazon`.",
						},
						"tags": selectorTags("image"),
						"ssm_parameter": schema.StringAttribute{
							Optional:            true,
							MarkdownDescription: "SSM parameter whose value is an image id.",
						},
					},
				},
			},
			"subnet_selector_terms": schema.ListNestedAttribute{
				Required:            true,
				Validators:          []validator.List{listvalidator.SizeBetween(1, 30)},
				MarkdownDescription: "Subnets nodes launch into, terms ORed; each term has exactly one of `tags` or `id`.",
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"tags": selectorTags("subnet"),
						"id": schema.StringAttribute{
							Optional:            true,
							Validators:          []validator.String{stringvalidator.RegexMatches(subnetIDRE, "must be a subnet id like subnet-0123abcd")},
							MarkdownDescription: "Subnet id.",
						},
					},
				},
			},
			"security_group_selector_terms": schema.ListNestedAttribute{
				Required:            true,
				Validators:          []validator.List{listvalidator.SizeBetween(1, 30)},
				MarkdownDescription: "Security groups of the nodes, terms ORed; each term has `id` alone, or `tags` and/or `name`.",
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"tags": selectorTags("security group"),
						"id": schema.StringAttribute{
							Optional:            true,
							Validators:          []validator.String{stringvalidator.RegexMatches(sgIDRE, "must be a security group id like sg-0123abcd")},
							MarkdownDescription: "Security group id.",
						},
						"name": schema.StringAttribute{
							Optional:            true,
							Validators:          []validator.String{stringvalidator.LengthAtMost(255)},
							MarkdownDescription: "Group name (its GroupName, not its Name tag).",
						},
					},
				},
			},
			// Optional.
			"ami_family": schema.StringAttribute{
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(amiFamilies...)},
				MarkdownDescription: "User data format and default volumes: one of " + kubeOneOfDoc(amiFamilies) + ". Implied by an alias; required otherwise.",
			},
			"role": schema.StringAttribute{
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 64)},
				MarkdownDescription: "IAM role name of the nodes; nodewright manages an instance profile for it. Exactly one of `role` and `instance_profile`.",
			},
			"instance_profile": schema.StringAttribute{
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
				MarkdownDescription: "Existing instance profile, used as is. Exactly one of `role` and `instance_profile`.",
			},
			"user_data": schema.StringAttribute{
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthAtMost(16384)},
				MarkdownDescription: "User data merged with what nodewright generates (AL2023: MIME multi-part; Bottlerocket: TOML).",
			},
			"tags": optionalStringMap("Tags put on everything launched for the class: instances, their volumes and network interfaces, spot requests, " +
				"fleets and launch templates. Keys nodewright sets itself are refused: those starting with `" + v1.ClusterTagKeyPrefix + "`, and " +
				kubeOneOfDoc(slices.Sorted(maps.Keys(reservedTagKeys))) + "."),
			"block_device_mappings": schema.ListNestedAttribute{
				Optional:            true,
				Validators:          []validator.List{listvalidator.SizeAtMost(50)},
				MarkdownDescription: "Volumes attached at launch, replacing the AMI family's defaults.",
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"device_name": schema.StringAttribute{
							Optional:            true,
							Validators:          []validator.String{stringvalidator.LengthAtMost(64)},
							MarkdownDescription: "Device name, like `/dev/xvda`.",
						},
						"root_volume": schema.BoolAttribute{
							Optional:            true,
							Computed:            true,
							Default:             booldefault.StaticBool(false),
							MarkdownDescription: "Whether this is the volume kubelet reports as ephemeral storage; at most one. Default `false`.",
						},
						"ebs": schema.SingleNestedAttribute{
							Optional:            true,
							MarkdownDescription: "EBS volume settings.",
							Attributes: map[string]schema.Attribute{
								"volume_size": schema.StringAttribute{
									Optional:            true,
									MarkdownDescription: "Size as a quantity, like `20Gi`.",
								},
								"volume_type": schema.StringAttribute{
									Optional:            true,
									Validators:          []validator.String{stringvalidator.OneOf(volumeTypes...)},
									MarkdownDescription: "One of " + kubeOneOfDoc(volumeTypes) + ".",
								},
								"iops": schema.Int64Attribute{
									Optional:            true,
									Validators:          []validator.Int64{int64validator.Between(100, 256000)},
									MarkdownDescription: "Provisioned IOPS (io1, io2, gp3).",
								},
								"throughput": schema.Int64Attribute{
									Optional:            true,
									Validators:          []validator.Int64{int64validator.Between(125, 2000)},
									MarkdownDescription: "Throughput in MiB/s (gp3).",
								},
								"encrypted": schema.BoolAttribute{
									Optional:            true,
									MarkdownDescription: "Encrypt the volume (with `kms_key_id`, or the default key).",
								},
								"kms_key_id": schema.StringAttribute{
									Optional:            true,
									Validators:          []validator.String{stringvalidator.LengthAtMost(2048)},
									MarkdownDescription: "KMS key encrypting the volume.",
								},
								"delete_on_termination": schema.BoolAttribute{
									Optional:            true,
									MarkdownDescription: "Delete the volume with the instance.",
								},
								"snapshot_id": schema.StringAttribute{
									Optional:            true,
									Validators:          []validator.String{stringvalidator.LengthAtMost(64)},
									MarkdownDescription: "Snapshot the volume is created from.",
								},
							},
						},
					},
				},
			},
			"metadata_options": schema.SingleNestedAttribute{
				Optional:            true,
				Computed:            true,
				Default:             objectdefault.StaticValue(defaultMetadataOptions()),
				MarkdownDescription: "Instance metadata service. The default requires IMDSv2 with a hop limit of 1, so pods can't reach it.",
				Attributes: map[string]schema.Attribute{
					"http_endpoint": schema.StringAttribute{
						Optional:            true,
						Computed:            true,
						Default:             stringdefault.StaticString(metadataDefaultHTTPEndpoint),
						Validators:          []validator.String{stringvalidator.OneOf(enabledDisabled...)},
						MarkdownDescription: "IMDS on or off: " + kubeOneOfDoc(enabledDisabled) + ". Default `" + metadataDefaultHTTPEndpoint + "`.",
					},
					"http_protocol_ipv6": schema.StringAttribute{
						Optional:            true,
						Computed:            true,
						Default:             stringdefault.StaticString(metadataDefaultHTTPProtocolIPv6),
						Validators:          []validator.String{stringvalidator.OneOf(enabledDisabled...)},
						MarkdownDescription: "IMDS over IPv6: " + kubeOneOfDoc(enabledDisabled) + ". Default `" + metadataDefaultHTTPProtocolIPv6 + "`.",
					},
					"http_put_response_hop_limit": schema.Int64Attribute{
						Optional:            true,
						Computed:            true,
						Default:             int64default.StaticInt64(metadataDefaultHopLimit),
						Validators:          []validator.Int64{int64validator.Between(1, 64)},
						MarkdownDescription: "IP hop limit of IMDS token responses (1-64). Default `1`.",
					},
					"http_tokens": schema.StringAttribute{
						Optional:            true,
						Computed:            true,
						Default:             stringdefault.StaticString(metadataDefaultHTTPTokens),
						Validators:          []validator.String{stringvalidator.OneOf(httpTokensValues...)},
						MarkdownDescription: "`required` means IMDSv2 only: " + kubeOneOfDoc(httpTokensValues) + ". Default `" + metadataDefaultHTTPTokens + "`.",
					},
				},
			},
			"kubelet": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "Kubelet settings passed at bootstrap and used when simulating nodes.",
				Attributes: map[string]schema.Attribute{
					"cluster_dns": schema.ListAttribute{
						Optional:            true,
						ElementType:         types.StringType,
						Validators:          []validator.List{listvalidator.SizeAtMost(5)},
						MarkdownDescription: "Cluster DNS server addresses.",
					},
					"max_pods": schema.Int64Attribute{
						Optional:            true,
						Validators:          []validator.Int64{int64validator.AtLeast(0)},
						MarkdownDescription: "Pods per node; otherwise the ENI limit of the type.",
					},
					"pods_per_core": schema.Int64Attribute{
						Optional:            true,
						Validators:          []validator.Int64{int64validator.AtLeast(0)},
						MarkdownDescription: "Pods per vCPU (the lower of this and `max_pods` wins).",
					},
					"system_reserved":            optionalStringMap("Resources reserved for the system: keys among " + kubeOneOfDoc(reservedResource) + "."),
					"kube_reserved":              optionalStringMap("Resources reserved for Kubernetes daemons: keys among " + kubeOneOfDoc(reservedResource) + "."),
					"eviction_hard":              optionalStringMap("Hard eviction thresholds by signal (" + kubeOneOfDoc(evictionSignals) + "), as quantities or percentages."),
					"eviction_soft":              optionalStringMap("Soft eviction thresholds; each signal needs an `eviction_soft_grace_period`."),
					"eviction_soft_grace_period": optionalStringMap("How long each soft threshold must be crossed, like `1m30s`."),
					"eviction_max_pod_grace_period": schema.Int64Attribute{
						Optional:            true,
						Validators:          []validator.Int64{int64validator.AtLeast(0)},
						MarkdownDescription: "Cap on pod grace periods (seconds) in soft evictions.",
					},
					"image_gc_high_threshold_percent": schema.Int64Attribute{
						Optional:            true,
						Validators:          []validator.Int64{int64validator.Between(0, 100)},
						MarkdownDescription: "Disk use that starts image garbage collection.",
					},
					"image_gc_low_threshold_percent": schema.Int64Attribute{
						Optional:            true,
						Validators:          []validator.Int64{int64validator.Between(0, 100)},
						MarkdownDescription: "Disk use where image garbage collection stops.",
					},
					"cpu_cfs_quota": schema.BoolAttribute{
						Optional:            true,
						MarkdownDescription: "Enforce CPU limits with CFS quota.",
					},
				},
			},
			"delete_timeout": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(defaultDeleteTimeout),
				MarkdownDescription: "How long destroy waits for the controller to release the class. Default `" + defaultDeleteTimeout + "`.",
			},
			// Computed.
			"uid": computedStableString("Kubernetes UID of the EC2NodeClass."),
		},
	}
}

func (r *nodeClassResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("name"), req, resp)
}

// waitNodeClassDeleted waits until the class is gone: the controller removes
// its finalizer once no NodeClaim uses the class.
func waitNodeClassDeleted(ctx context.Context, c client.Client, name string, timeout time.Duration, diags *diag.Diagnostics) {
	var finalizers []string
	err := kubePollUntil(ctx, timeout, func() (bool, error) {
		var nc v1.EC2NodeClass
		err := c.Get(ctx, client.ObjectKey{Name: name}, &nc)
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		finalizers = nc.Finalizers
		return false, err
	})
	if err != nil {
		diags.AddError("Waiting for the EC2NodeClass to go", fmt.Sprintf(
			"EC2NodeClass %s is still there after %s, held by finalizers [%s] (%v). The nodewright controller removes its finalizer once no NodeClaim uses the class: check that the controller is running and which NodeClaims still reference the class (kubectl get nodeclaims). If the controller was uninstalled, remove the finalizer by hand: kubectl patch ec2nodeclass %s --type=merge -p '{\"metadata\":{\"finalizers\":null}}'.",
			name, timeout, strings.Join(finalizers, ", "), err, name))
	}
}
