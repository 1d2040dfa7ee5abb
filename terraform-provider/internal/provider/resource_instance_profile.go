package provider

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ resource.ResourceWithImportState = (*instanceProfileResource)(nil)

// instanceProfileResource is an instance profile holding the node role;
// Read, import and tags are taggedIAMResource's.
type instanceProfileResource struct {
	taggedIAMResource[instanceProfileModel]
}

func newInstanceProfileResource() resource.Resource {
	return &instanceProfileResource{taggedIAMResource[instanceProfileModel]{
		kind:       "instance profile",
		entity:     "instance profile",
		getCall:    "iam:GetInstanceProfile",
		importNoun: "instance profile name",
		importHint: "import by name",
		tags:       instanceProfileTagAPI,
		name:       func(m *instanceProfileModel) types.String { return m.Name },
		tagsOf:     func(m *instanceProfileModel) types.Map { return m.Tags },
		read:       readInstanceProfile,
	}}
}

type instanceProfileModel struct {
	Name     types.String `tfsdk:"name"`
	Role     types.String `tfsdk:"role"`
	Path     types.String `tfsdk:"path"`
	Tags     types.Map    `tfsdk:"tags"`
	ARN      types.String `tfsdk:"arn"`
	ID       types.String `tfsdk:"id"`
	UniqueID types.String `tfsdk:"unique_id"`
}

func (r *instanceProfileResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_instance_profile"
}

func (r *instanceProfileResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = instanceProfileSchema()
}

func instanceProfileSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "An IAM instance profile holding the node role, for EC2NodeClasses that name an instance profile rather than a role.",
		Attributes: map[string]schema.Attribute{
			"name": iamNameAttribute("Instance profile name. Changing it replaces the profile."),
			"role": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name (not ARN) of the role in the profile, usually `nodewright_node_role.<name>.name`.",
				Validators:          []validator.String{iamNameValidator()},
			},

			"path": iamPathAttribute("IAM path of the profile. Changing it replaces the profile."),
			"tags": optionalStringMap("Tags on the instance profile."),

			"arn":       computedStableString("ARN of the instance profile."),
			"id":        computedStableString("Instance profile name."),
			"unique_id": computedStableString("The profile's stable unique id (AIPA...)."),
		},
	}
}

func (r *instanceProfileResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan instanceProfileModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tags, diags := mapValue(ctx, plan.Tags)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	name, role := plan.Name.ValueString(), plan.Role.ValueString()
	c := r.client()
	if _, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{
		InstanceProfileName: aws.String(name), Path: aws.String(plan.Path.ValueString()), Tags: iamTags(tags),
	}); err != nil {
		resp.Diagnostics.AddError("Creating instance profile", awsDetail("iam:CreateInstanceProfile", "instance profile "+name, err))
		return
	}
	if _, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String(role)}); err != nil {
		resp.Diagnostics.AddError("Adding role to instance profile", awsDetail("iam:AddRoleToInstanceProfile", fmt.Sprintf("role %s in instance profile %s", role, name), err))
		// The profile exists; record it so a later apply or destroy handles it.
		plan.Role = types.StringValue("")
		if err := readInstanceProfile(ctx, c, &plan); err == nil {
			resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		}
		return
	}
	r.saveRead(ctx, c, name, &plan, &resp.State, &resp.Diagnostics)
}

// readInstanceProfile refreshes m from IAM; it returns a NoSuchEntity error
// unchanged.
func readInstanceProfile(ctx context.Context, c *iam.Client, m *instanceProfileModel) error {
	out, err := c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(m.Name.ValueString())})
	if err != nil {
		return err
	}
	p := out.InstanceProfile
	m.Name = types.StringValue(aws.ToString(p.InstanceProfileName))
	m.ID = m.Name
	m.ARN = types.StringValue(aws.ToString(p.Arn))
	m.UniqueID = types.StringValue(aws.ToString(p.InstanceProfileId))
	m.Path = types.StringValue(aws.ToString(p.Path))
	// An empty role shows as a difference against the configured one.
	m.Role = types.StringValue("")
	if len(p.Roles) > 0 {
		m.Role = types.StringValue(aws.ToString(p.Roles[0].RoleName))
	}
	m.Tags = iamTagsValue(p.Tags, m.Tags)
	return nil
}

func (r *instanceProfileResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state instanceProfileModel
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
	if want, have := plan.Role.ValueString(), state.Role.ValueString(); want != have {
		// A profile holds at most one role, so the old one leaves first.
		if have != "" {
			if _, err := c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String(have)}); err != nil && !isCode(err, "NoSuchEntity") {
				resp.Diagnostics.AddError("Removing role from instance profile", awsDetail("iam:RemoveRoleFromInstanceProfile", fmt.Sprintf("role %s in instance profile %s", have, name), err))
				return
			}
		}
		if _, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String(want)}); err != nil {
			resp.Diagnostics.AddError("Adding role to instance profile", awsDetail("iam:AddRoleToInstanceProfile", fmt.Sprintf("role %s in instance profile %s", want, name), err))
			return
		}
	}
	r.saveRead(ctx, c, name, &plan, &resp.State, &resp.Diagnostics)
}

func (r *instanceProfileResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state instanceProfileModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.Name.ValueString()
	c := r.client()
	out, err := c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
	if isCode(err, "NoSuchEntity") {
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Reading instance profile", awsDetail("iam:GetInstanceProfile", "instance profile "+name, err))
		return
	}
	// IAM refuses to delete a profile that still holds a role.
	for _, role := range out.InstanceProfile.Roles {
		if _, err := c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: role.RoleName}); err != nil && !isCode(err, "NoSuchEntity") {
			resp.Diagnostics.AddError("Removing role from instance profile", awsDetail("iam:RemoveRoleFromInstanceProfile", fmt.Sprintf("role %s in instance profile %s", aws.ToString(role.RoleName), name), err))
			return
		}
	}
	if _, err := c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String(name)}); err != nil && !isCode(err, "NoSuchEntity") {
		resp.Diagnostics.AddError("Deleting instance profile", awsDetail("iam:DeleteInstanceProfile", "instance profile "+name, err))
	}
}
