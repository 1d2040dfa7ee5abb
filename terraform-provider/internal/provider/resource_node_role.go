package provider

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ resource.ResourceWithImportState = (*nodeRoleResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*nodeRoleResource)(nil)
)

// AWS-managed policies every node needs.
var nodeBasePolicies = []string{"AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly"}

const (
	cniIPv4Policy = "AmazonEKS_CNI_Policy"
	// AWS documents this policy but does not manage it: customers create it
	// in their own account under this name.
	cniIPv6Policy = "AmazonEKS_CNI_IPv6_Policy"
	ssmPolicy     = "AmazonSSMManagedInstanceCore"
)

var arnRE = regexp.MustCompile(`^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}|aws)?:.+$`)

func arnValidator() validator.String {
	return stringvalidator.RegexMatches(arnRE, "must be an ARN (arn:<partition>:<service>:<region>:<account>:<resource>)")
}

// nodeRoleResource is the nodes' IAM role; Read, import and tags are
// taggedIAMResource's.
type nodeRoleResource struct {
	taggedIAMResource[nodeRoleModel]
}

func newNodeRoleResource() resource.Resource {
	return &nodeRoleResource{taggedRole(
		"node role",
		func(m *nodeRoleModel) types.String { return m.Name },
		func(m *nodeRoleModel) types.Map { return m.Tags },
		readNodeRole,
	)}
}

type nodeRoleModel struct {
	Name                types.String `tfsdk:"name"`
	Path                types.String `tfsdk:"path"`
	PermissionsBoundary types.String `tfsdk:"permissions_boundary"`
	Tags                types.Map    `tfsdk:"tags"`
	IPv6                types.Bool   `tfsdk:"ipv6"`
	AttachSSM           types.Bool   `tfsdk:"attach_ssm"`
	ExtraPolicyARNs     types.Set    `tfsdk:"extra_policy_arns"`
	ARN                 types.String `tfsdk:"arn"`
	ID                  types.String `tfsdk:"id"`
	UniqueID            types.String `tfsdk:"unique_id"`
	PolicyARNs          types.Set    `tfsdk:"policy_arns"`
}

func (r *nodeRoleResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_node_role"
}

func (r *nodeRoleResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = nodeRoleSchema()
}

func nodeRoleSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "The IAM role nodewright's nodes run as: trusted by EC2, with the worker, ECR pull and VPC CNI policies attached, and " +
			"optionally SSM and any extra policies.",
		Attributes: map[string]schema.Attribute{
			"name": iamNameAttribute("Role name. Changing it replaces the role."),

			"path": iamPathAttribute("IAM path of the role. Changing it replaces the role."),
			"permissions_boundary": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "ARN of the managed policy that bounds the role's permissions.",
				Validators:          []validator.String{arnValidator()},
			},
			"tags": optionalStringMap("Tags on the role."),
			"ipv6": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
				MarkdownDescription: "Attach `AmazonEKS_CNI_IPv6_Policy` (which you create in your account, as AWS documents) instead of `AmazonEKS_CNI_Policy`, " +
					"for IPv6 clusters.",
			},
			"attach_ssm": schema.BoolAttribute{
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
				MarkdownDescription: "Attach `AmazonSSMManagedInstanceCore` so nodes can be reached with Session Manager.",
			},
			"extra_policy_arns": schema.SetAttribute{
				Optional:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "ARNs of further managed policies to attach.",
				Validators:          []validator.Set{setvalidator.ValueStringsAre(arnValidator())},
			},

			"arn":       computedStableString("ARN of the role."),
			"id":        computedStableString("Role name."),
			"unique_id": computedStableString("The role's stable unique id (AROA...)."),
			"policy_arns": schema.SetAttribute{
				Computed:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Every managed policy attached to the role. A policy detached outside Terraform shows here as a difference.",
			},
		},
	}
}

// desiredPolicies is the set of managed policy ARNs the configuration asks for.
func (m *nodeRoleModel) desiredPolicies(ctx context.Context, partition, account string) ([]string, diag.Diagnostics) {
	var out []string
	for _, p := range nodeBasePolicies {
		out = append(out, fmt.Sprintf("arn:%s:iam::aws:policy/%s", partition, p))
	}
	if m.IPv6.ValueBool() {
		out = append(out, fmt.Sprintf("arn:%s:iam::%s:policy/%s", partition, account, cniIPv6Policy))
	} else {
		out = append(out, fmt.Sprintf("arn:%s:iam::aws:policy/%s", partition, cniIPv4Policy))
	}
	if m.AttachSSM.ValueBool() {
		out = append(out, fmt.Sprintf("arn:%s:iam::aws:policy/%s", partition, ssmPolicy))
	}
	var extra []string
	diags := m.ExtraPolicyARNs.ElementsAs(ctx, &extra, false)
	out = append(out, extra...)
	return uniqSorted(out), diags
}

// ModifyPlan plans policy_arns from the configuration so a policy detached
// outside Terraform shows as a difference against the refreshed state.
func (r *nodeRoleResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var plan nodeRoleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.ExtraPolicyARNs.IsUnknown() || plan.IPv6.IsUnknown() || plan.AttachSSM.IsUnknown() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("policy_arns"), types.SetUnknown(types.StringType))...)
		return
	}
	account := "*"
	if plan.IPv6.ValueBool() {
		var err error
		if account, err = accountID(ctx, r.data.AWS, plan.ARN.ValueString()); err != nil {
			resp.Diagnostics.AddError("Looking up the AWS account", fmt.Sprintf("sts:GetCallerIdentity failed while planning node role %s: %v. The account is needed for the IPv6 CNI policy ARN; check the provider's credentials.", plan.Name.ValueString(), err))
			return
		}
	}
	want, diags := plan.desiredPolicies(ctx, partitionOf(r.data.AWS.Region), account)
	resp.Diagnostics.Append(diags...)
	set, diags := types.SetValueFrom(ctx, types.StringType, want)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("policy_arns"), set)...)
}

const ec2TrustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

func (r *nodeRoleResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan nodeRoleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := plan.Name.ValueString()
	c := r.client()
	tags, diags := mapValue(ctx, plan.Tags)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := c.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String(name), Path: aws.String(plan.Path.ValueString()),
		AssumeRolePolicyDocument: aws.String(ec2TrustPolicy),
		Description:              aws.String("nodewright nodes"),
		PermissionsBoundary:      optString(plan.PermissionsBoundary),
		Tags:                     iamTags(tags),
	})
	if err != nil {
		resp.Diagnostics.AddError("Creating node role", awsDetail("iam:CreateRole", "role "+name, err))
		return
	}
	plan.ARN = types.StringValue(aws.ToString(out.Role.Arn))
	want, diags := r.wantPolicies(ctx, &plan)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	for _, p := range want {
		if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(p)}); err != nil {
			resp.Diagnostics.AddError("Attaching policy to node role", awsDetail("iam:AttachRolePolicy", fmt.Sprintf("policy %s on role %s", p, name), err))
			// Save what exists so the next apply repairs rather than collides.
			_ = readNodeRole(ctx, c, &plan)
			resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
			return
		}
	}
	r.saveRead(ctx, c, name, &plan, &resp.State, &resp.Diagnostics)
}

func (r *nodeRoleResource) wantPolicies(ctx context.Context, m *nodeRoleModel) ([]string, diag.Diagnostics) {
	account, err := accountID(ctx, r.data.AWS, m.ARN.ValueString())
	if err != nil {
		var d diag.Diagnostics
		d.AddError("Looking up the AWS account", fmt.Sprintf("sts:GetCallerIdentity failed for node role %s: %v", m.Name.ValueString(), err))
		return nil, d
	}
	return m.desiredPolicies(ctx, partitionOf(r.data.AWS.Region), account)
}

// readNodeRole refreshes m from IAM; it returns a NoSuchEntity error unchanged.
func readNodeRole(ctx context.Context, c *iam.Client, m *nodeRoleModel) error {
	name := m.Name.ValueString()
	out, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		return err
	}
	role := out.Role
	m.ARN = types.StringValue(aws.ToString(role.Arn))
	m.ID = types.StringValue(aws.ToString(role.RoleName))
	m.Name = m.ID
	m.UniqueID = types.StringValue(aws.ToString(role.RoleId))
	m.Path = types.StringValue(aws.ToString(role.Path))
	if role.PermissionsBoundary != nil && aws.ToString(role.PermissionsBoundary.PermissionsBoundaryArn) != "" {
		m.PermissionsBoundary = types.StringValue(aws.ToString(role.PermissionsBoundary.PermissionsBoundaryArn))
	} else {
		m.PermissionsBoundary = types.StringNull()
	}
	m.Tags = iamTagsValue(role.Tags, m.Tags)

	attached, err := attachedPolicies(ctx, c, name)
	if err != nil {
		return err
	}
	var extra []string
	m.IPv6, m.AttachSSM = types.BoolValue(false), types.BoolValue(false)
	for _, a := range attached {
		switch policyName(a) {
		case cniIPv6Policy:
			m.IPv6 = types.BoolValue(true)
		case ssmPolicy:
			if strings.Contains(a, ":iam::aws:") {
				m.AttachSSM = types.BoolValue(true)
				continue
			}
			extra = append(extra, a)
		case cniIPv4Policy, nodeBasePolicies[0], nodeBasePolicies[1]:
			if !strings.Contains(a, ":iam::aws:") {
				extra = append(extra, a)
			}
		default:
			extra = append(extra, a)
		}
	}
	if len(extra) == 0 && m.ExtraPolicyARNs.IsNull() {
		m.ExtraPolicyARNs = types.SetNull(types.StringType)
	} else {
		m.ExtraPolicyARNs = stringSet(extra)
	}
	m.PolicyARNs = stringSet(attached)
	return nil
}

func policyName(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

func attachedPolicies(ctx context.Context, c *iam.Client, role string) ([]string, error) {
	var out []string
	p := iam.NewListAttachedRolePoliciesPaginator(c, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range page.AttachedPolicies {
			out = append(out, aws.ToString(a.PolicyArn))
		}
	}
	sort.Strings(out)
	return out, nil
}

func (r *nodeRoleResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state nodeRoleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.Name.ValueString()
	c := r.client()

	resp.Diagnostics.Append(r.updateTags(ctx, c, name, &plan, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.PermissionsBoundary.Equal(state.PermissionsBoundary) {
		var err error
		if b := plan.PermissionsBoundary.ValueString(); b != "" {
			_, err = c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String(name), PermissionsBoundary: aws.String(b)})
		} else {
			_, err = c.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String(name)})
		}
		if err != nil {
			resp.Diagnostics.AddError("Updating node role permissions boundary", awsDetail("iam:PutRolePermissionsBoundary", "role "+name, err))
			return
		}
	}

	plan.ARN = state.ARN
	want, diags := r.wantPolicies(ctx, &plan)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	have, err := attachedPolicies(ctx, c, name)
	if err != nil {
		resp.Diagnostics.AddError("Listing node role policies", awsDetail("iam:ListAttachedRolePolicies", "role "+name, err))
		return
	}
	add, remove := diffSets(want, have)
	for _, p := range add {
		if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(p)}); err != nil {
			resp.Diagnostics.AddError("Attaching policy to node role", awsDetail("iam:AttachRolePolicy", fmt.Sprintf("policy %s on role %s", p, name), err))
			return
		}
	}
	for _, p := range remove {
		if _, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(p)}); err != nil && !isCode(err, "NoSuchEntity") {
			resp.Diagnostics.AddError("Detaching policy from node role", awsDetail("iam:DetachRolePolicy", fmt.Sprintf("policy %s on role %s", p, name), err))
			return
		}
	}
	r.saveRead(ctx, c, name, &plan, &resp.State, &resp.Diagnostics)
}

func (r *nodeRoleResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state nodeRoleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.Name.ValueString()
	c := r.client()
	have, err := attachedPolicies(ctx, c, name)
	if isCode(err, "NoSuchEntity") {
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Listing node role policies", awsDetail("iam:ListAttachedRolePolicies", "role "+name, err))
		return
	}
	// IAM refuses to delete a role with policies attached.
	for _, p := range have {
		if _, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(p)}); err != nil && !isCode(err, "NoSuchEntity") {
			resp.Diagnostics.AddError("Detaching policy from node role", awsDetail("iam:DetachRolePolicy", fmt.Sprintf("policy %s on role %s", p, name), err))
			return
		}
	}
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)}); err != nil && !isCode(err, "NoSuchEntity") {
		hint := ""
		if isCode(err, "DeleteConflict") {
			hint = " The role is still in an instance profile or has inline policies; remove those (for example the nodewright_instance_profile) first."
		}
		resp.Diagnostics.AddError("Deleting node role", awsDetail("iam:DeleteRole", "role "+name, err)+hint)
	}
}
