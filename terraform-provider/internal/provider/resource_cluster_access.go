package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

var (
	_ resource.ResourceWithImportState    = (*clusterAccessResource)(nil)
	_ resource.ResourceWithValidateConfig = (*clusterAccessResource)(nil)
	_ resource.ResourceWithConfigure      = (*clusterAccessResource)(nil)
)

func newClusterAccessResource() resource.Resource { return &clusterAccessResource{} }

type clusterAccessResource struct{ configuredResource }

// Modes of mapping the node role into the cluster.
const (
	accessModeAccessEntry = "access_entry"
	accessModeAWSAuth     = "aws_auth"
)

var accessModes = []string{accessModeAccessEntry, accessModeAWSAuth}

// What a node role needs in aws-auth; the access entry type EC2_LINUX
// grants the same.
const (
	awsAuthNamespace   = "kube-system"
	awsAuthName        = "aws-auth"
	awsAuthKey         = "mapRoles"
	nodeUsername       = "system:node:{{EC2PrivateDNSName}}"
	accessEntryTypeEC2 = "EC2_LINUX"
)

var nodeGroups = []string{"system:bootstrappers", "system:nodes"}

var accessRoleARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$`)

type clusterAccessModel struct {
	ID          types.String `tfsdk:"id"`
	Mode        types.String `tfsdk:"mode"`
	RoleARN     types.String `tfsdk:"role_arn"`
	ClusterName types.String `tfsdk:"cluster_name"`
}

func (r *clusterAccessResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster_access"
}

func (r *clusterAccessResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = clusterAccessSchema()
}

func clusterAccessSchema() schema.Schema {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	return schema.Schema{
		MarkdownDescription: "Lets nodes with a role join the cluster: an EKS access entry of type `EC2_LINUX` (`mode = \"access_entry\"`), or an entry in " +
			"the `kube-system/aws-auth` ConfigMap (`mode = \"aws_auth\"`) that maps the role to `" + nodeUsername + "` in groups `" +
			strings.Join(nodeGroups, "`, `") + "`. In aws-auth mode other entries are never touched and destroy removes only this role's entry. Import with " +
			"`<mode>/<role arn>` (`access_entry/<cluster name>/<role arn>` for access entries).",
		Attributes: map[string]schema.Attribute{
			// Required.
			"mode": schema.StringAttribute{
				Required:            true,
				PlanModifiers:       replace,
				Validators:          []validator.String{stringvalidator.OneOf(accessModes...)},
				MarkdownDescription: "How the role is mapped: one of `" + strings.Join(accessModes, "`, `") + "`.",
			},
			"role_arn": schema.StringAttribute{
				Required:      true,
				PlanModifiers: replace,
				Validators: []validator.String{
					stringvalidator.RegexMatches(accessRoleARNRE, "must be an IAM role ARN like arn:aws:iam::123456789012:role/nodes"),
				},
				MarkdownDescription: "ARN of the nodes' IAM role.",
			},
			// Optional.
			"cluster_name": schema.StringAttribute{
				Optional:      true,
				PlanModifiers: replace,
				MarkdownDescription: "EKS cluster of the access entry; required with `mode = \"access_entry\"`, unused with `aws_auth` (which uses the provider's " +
					"`kubernetes` block).",
			},
			// Computed.
			"id": computedStableString("`<mode>/<role arn>`."),
		},
	}
}

func (r *clusterAccessResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m clusterAccessModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if m.Mode.ValueString() == accessModeAccessEntry && m.ClusterName.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("cluster_name"), "Missing cluster_name", `cluster_name is required with mode = "access_entry": it names the EKS cluster that gets the access entry.`)
	}
}

func (r *clusterAccessResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m clusterAccessModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	arn := m.RoleARN.ValueString()
	switch m.Mode.ValueString() {
	case accessModeAccessEntry:
		cluster := m.ClusterName.ValueString()
		_, err := eks.NewFromConfig(r.data.AWS).CreateAccessEntry(ctx, &eks.CreateAccessEntryInput{
			ClusterName: aws.String(cluster), PrincipalArn: aws.String(arn), Type: aws.String(accessEntryTypeEC2),
		})
		if err != nil {
			resp.Diagnostics.AddError("Creating EKS access entry", fmt.Sprintf("eks:CreateAccessEntry for %s on cluster %s: %v. If the entry exists already, import it: terraform import <address> access_entry/%s/%s", arn, cluster, err, cluster, arn))
			return
		}
	case accessModeAWSAuth:
		c, err := kubeClient(ctx, r.data)
		if err != nil {
			resp.Diagnostics.AddError("Connecting to the cluster", err.Error())
			return
		}
		if err := editAWSAuth(ctx, c, func(roles []map[string]any) []map[string]any {
			if findRole(roles, arn) >= 0 {
				return roles
			}
			return append(roles, map[string]any{"rolearn": arn, "username": nodeUsername, "groups": nodeGroups})
		}); err != nil {
			resp.Diagnostics.AddError("Mapping the role in aws-auth", fmt.Sprintf("adding %s to ConfigMap %s/%s: %v", arn, awsAuthNamespace, awsAuthName, err))
			return
		}
	}
	m.ID = types.StringValue(m.Mode.ValueString() + "/" + arn)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *clusterAccessResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m clusterAccessModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	arn := m.RoleARN.ValueString()
	switch m.Mode.ValueString() {
	case accessModeAccessEntry:
		cluster := m.ClusterName.ValueString()
		out, err := eks.NewFromConfig(r.data.AWS).DescribeAccessEntry(ctx, &eks.DescribeAccessEntryInput{ClusterName: aws.String(cluster), PrincipalArn: aws.String(arn)})
		var nf *ekstypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			resp.State.RemoveResource(ctx)
			return
		}
		if err != nil {
			resp.Diagnostics.AddError("Reading EKS access entry", fmt.Sprintf("eks:DescribeAccessEntry for %s on cluster %s: %v", arn, cluster, err))
			return
		}
		// An entry of another type doesn't let nodes join: plan to recreate it.
		if out.AccessEntry != nil && aws.ToString(out.AccessEntry.Type) != accessEntryTypeEC2 {
			resp.State.RemoveResource(ctx)
			return
		}
	case accessModeAWSAuth:
		c, err := kubeClient(ctx, r.data)
		if err != nil {
			resp.Diagnostics.AddError("Connecting to the cluster", err.Error())
			return
		}
		var cm corev1.ConfigMap
		err = c.Get(ctx, client.ObjectKey{Namespace: awsAuthNamespace, Name: awsAuthName}, &cm)
		if apierrors.IsNotFound(err) {
			resp.State.RemoveResource(ctx)
			return
		}
		if err != nil {
			resp.Diagnostics.AddError("Reading aws-auth", fmt.Sprintf("reading ConfigMap %s/%s: %v", awsAuthNamespace, awsAuthName, err))
			return
		}
		roles, err := parseMapRoles(cm.Data[awsAuthKey])
		if err != nil {
			resp.Diagnostics.AddError("Reading aws-auth", err.Error())
			return
		}
		if findRole(roles, arn) < 0 {
			resp.State.RemoveResource(ctx)
			return
		}
	default:
		resp.Diagnostics.AddError("Unknown mode", fmt.Sprintf("mode %q in state is not one of %s", m.Mode.ValueString(), strings.Join(accessModes, ", ")))
		return
	}
	m.ID = types.StringValue(m.Mode.ValueString() + "/" + arn)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Update never runs: every attribute forces replacement.
func (r *clusterAccessResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m clusterAccessModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *clusterAccessResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m clusterAccessModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	arn := m.RoleARN.ValueString()
	switch m.Mode.ValueString() {
	case accessModeAccessEntry:
		cluster := m.ClusterName.ValueString()
		_, err := eks.NewFromConfig(r.data.AWS).DeleteAccessEntry(ctx, &eks.DeleteAccessEntryInput{ClusterName: aws.String(cluster), PrincipalArn: aws.String(arn)})
		var nf *ekstypes.ResourceNotFoundException
		if err != nil && !errors.As(err, &nf) {
			resp.Diagnostics.AddError("Deleting EKS access entry", fmt.Sprintf("eks:DeleteAccessEntry for %s on cluster %s: %v", arn, cluster, err))
		}
	case accessModeAWSAuth:
		c, err := kubeClient(ctx, r.data)
		if err != nil {
			resp.Diagnostics.AddError("Connecting to the cluster", err.Error())
			return
		}
		err = editAWSAuth(ctx, c, func(roles []map[string]any) []map[string]any {
			out := roles[:0]
			for _, r := range roles {
				if r["rolearn"] != arn {
					out = append(out, r)
				}
			}
			return out
		})
		if err != nil && !apierrors.IsNotFound(err) {
			resp.Diagnostics.AddError("Unmapping the role in aws-auth", fmt.Sprintf("removing %s from ConfigMap %s/%s: %v", arn, awsAuthNamespace, awsAuthName, err))
		}
	}
}

func (r *clusterAccessResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	mode, rest, _ := strings.Cut(req.ID, "/")
	cluster := ""
	if mode == accessModeAccessEntry && !strings.HasPrefix(rest, "arn:") {
		cluster, rest, _ = strings.Cut(rest, "/")
	}
	if (mode != accessModeAccessEntry && mode != accessModeAWSAuth) || !accessRoleARNRE.MatchString(rest) || (mode == accessModeAccessEntry && cluster == "") {
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("got %q; want aws_auth/<role arn> or access_entry/<cluster name>/<role arn>", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("mode"), mode)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("role_arn"), rest)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), mode+"/"+rest)...)
	if cluster != "" {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("cluster_name"), cluster)...)
	}
}

func parseMapRoles(s string) ([]map[string]any, error) {
	var roles []map[string]any
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	if err := yaml.Unmarshal([]byte(s), &roles); err != nil {
		return nil, fmt.Errorf("parsing %s of ConfigMap %s/%s: %w; fix the YAML by hand", awsAuthKey, awsAuthNamespace, awsAuthName, err)
	}
	return roles, nil
}

func findRole(roles []map[string]any, arn string) int {
	for i, r := range roles {
		if r["rolearn"] == arn {
			return i
		}
	}
	return -1
}

// awsAuthBackoff spreads out retries of writers racing on aws-auth; jitter
// keeps them from colliding again in lockstep.
var awsAuthBackoff = wait.Backoff{Steps: 20, Duration: 20 * time.Millisecond, Factor: 1.3, Jitter: 1, Cap: 2 * time.Second}

// editAWSAuth applies edit to the mapRoles of aws-auth, creating the
// ConfigMap if needed. Writes carry the resourceVersion that was read, so a
// concurrent writer (eksctl, another apply) makes the write fail with a
// conflict instead of being overwritten, and the edit is redone on fresh data.
func editAWSAuth(ctx context.Context, c client.Client, edit func([]map[string]any) []map[string]any) error {
	return retry.OnError(awsAuthBackoff, func(err error) bool {
		return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
	}, func() error {
		var cm corev1.ConfigMap
		err := c.Get(ctx, client.ObjectKey{Namespace: awsAuthNamespace, Name: awsAuthName}, &cm)
		create := apierrors.IsNotFound(err)
		if err != nil && !create {
			return err
		}
		roles, err := parseMapRoles(cm.Data[awsAuthKey])
		if err != nil {
			return err
		}
		before := len(roles)
		roles = edit(roles)
		if create && len(roles) == 0 {
			return nil
		}
		if !create && len(roles) == before && sameRoles(cm.Data[awsAuthKey], roles) {
			return nil
		}
		data, err := yaml.Marshal(roles)
		if err != nil {
			return fmt.Errorf("encoding %s: %w", awsAuthKey, err)
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data[awsAuthKey] = string(data)
		if create {
			cm.ObjectMeta = metav1.ObjectMeta{Namespace: awsAuthNamespace, Name: awsAuthName}
			return c.Create(ctx, &cm)
		}
		return c.Update(ctx, &cm)
	})
}

// sameRoles reports whether roles is what the ConfigMap already
// holds, so that no-op edits leave others' formatting alone.
func sameRoles(current string, roles []map[string]any) bool {
	was, err := parseMapRoles(current)
	if err != nil {
		return false
	}
	a, errA := yaml.Marshal(was)
	b, errB := yaml.Marshal(roles)
	return errA == nil && errB == nil && string(a) == string(b)
}
