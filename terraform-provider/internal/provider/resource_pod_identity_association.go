package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ resource.ResourceWithImportState = (*podIdentityAssociationResource)(nil)

// podIdentityAssociationResource binds the controller's service account to
// its role through EKS Pod Identity. It is a resource of its own, not part
// of nodewright_controller_iam, because the association belongs to the
// cluster and the service account (it must go when either does), while the
// role may outlive both.
type podIdentityAssociationResource struct{ configuredResource }

func newPodIdentityAssociationResource() resource.Resource { return &podIdentityAssociationResource{} }

type podIdentityAssociationModel struct {
	ClusterName    types.String `tfsdk:"cluster_name"`
	Namespace      types.String `tfsdk:"namespace"`
	ServiceAccount types.String `tfsdk:"service_account"`
	RoleARN        types.String `tfsdk:"role_arn"`
	AssociationID  types.String `tfsdk:"association_id"`
	AssociationARN types.String `tfsdk:"association_arn"`
	ID             types.String `tfsdk:"id"`
}

func (r *podIdentityAssociationResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_pod_identity_association"
}

func (r *podIdentityAssociationResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	kube := []validator.String{k8sNameValidator()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "An EKS Pod Identity association: pods of one service account get one IAM role's credentials from the EKS Pod Identity agent. " +
			"The role must trust `pods.eks.amazonaws.com` for `sts:AssumeRole` and `sts:TagSession` (`nodewright_controller_iam` with `pod_identity = true` does). " +
			"Every attribute replaces the association when it changes.",
		Attributes: map[string]schema.Attribute{
			"cluster_name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "EKS cluster.",
				PlanModifiers:       replace,
				Validators:          []validator.String{eksClusterNameValidator()},
			},
			"namespace": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Namespace of the service account.",
				PlanModifiers:       replace,
				Validators:          kube,
			},
			"service_account": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the service account.",
				PlanModifiers:       replace,
				Validators:          kube,
			},
			"role_arn": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "ARN of the role the pods get.",
				PlanModifiers:       replace,
				Validators:          []validator.String{roleARNValidator()},
			},
			"association_id":  computedStableString("EKS's id of the association."),
			"association_arn": computedStableString("ARN of the association."),
			"id":              computedStableString("`<cluster_name>/<association_id>`, the import id."),
		},
	}
}

func (r *podIdentityAssociationResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan podIdentityAssociationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	sa := plan.Namespace.ValueString() + "/" + plan.ServiceAccount.ValueString()
	out, err := eks.NewFromConfig(r.data.AWS).CreatePodIdentityAssociation(ctx, &eks.CreatePodIdentityAssociationInput{
		ClusterName: plan.ClusterName.ValueStringPointer(), Namespace: plan.Namespace.ValueStringPointer(),
		ServiceAccount: plan.ServiceAccount.ValueStringPointer(), RoleArn: plan.RoleARN.ValueStringPointer()})
	if err != nil {
		resp.Diagnostics.AddError("Creating pod identity association", awsDetail("eks:CreatePodIdentityAssociation", "service account "+sa, err))
		return
	}
	a := out.Association
	plan.AssociationID, plan.AssociationARN = types.StringPointerValue(a.AssociationId), types.StringPointerValue(a.AssociationArn)
	plan.ID = types.StringValue(plan.ClusterName.ValueString() + "/" + aws.ToString(a.AssociationId))
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *podIdentityAssociationResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state podIdentityAssociationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := eks.NewFromConfig(r.data.AWS).DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{
		ClusterName: state.ClusterName.ValueStringPointer(), AssociationId: state.AssociationID.ValueStringPointer()})
	if isCode(err, "ResourceNotFoundException", "NotFoundException") {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Reading pod identity association", awsDetail("eks:DescribePodIdentityAssociation", "association "+state.ID.ValueString(), err))
		return
	}
	a := out.Association
	state.Namespace, state.ServiceAccount, state.RoleARN = types.StringPointerValue(a.Namespace), types.StringPointerValue(a.ServiceAccount), types.StringPointerValue(a.RoleArn)
	state.AssociationARN = types.StringPointerValue(a.AssociationArn)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update is never called: every attribute requires replacement.
func (r *podIdentityAssociationResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.AddError("Updating pod identity association", "Every attribute of nodewright_pod_identity_association replaces it; this is a provider bug.")
}

func (r *podIdentityAssociationResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state podIdentityAssociationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	_, err := eks.NewFromConfig(r.data.AWS).DeletePodIdentityAssociation(ctx, &eks.DeletePodIdentityAssociationInput{
		ClusterName: state.ClusterName.ValueStringPointer(), AssociationId: state.AssociationID.ValueStringPointer()})
	if err != nil && !isCode(err, "ResourceNotFoundException", "NotFoundException") {
		resp.Diagnostics.AddError("Deleting pod identity association", awsDetail("eks:DeletePodIdentityAssociation", "association "+state.ID.ValueString(), err))
	}
}

func (r *podIdentityAssociationResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	cluster, id, ok := strings.Cut(req.ID, "/")
	if !ok || cluster == "" || id == "" {
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("Import a pod identity association as <cluster_name>/<association_id>, not %q.", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("cluster_name"), cluster)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("association_id"), id)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
