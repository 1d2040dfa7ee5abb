package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ resource.ResourceWithImportState = (*oidcProviderResource)(nil)

// stsAudience is the client id IRSA's tokens are issued for.
const stsAudience = "sts.amazonaws.com"

// oidcProviderResource registers an EKS cluster's service-account issuer
// with IAM, which IRSA needs: STS accepts a cluster's tokens only from an
// issuer the account has registered, for an audience it lists.
type oidcProviderResource struct{ configuredResource }

func newOIDCProviderResource() resource.Resource { return &oidcProviderResource{} }

type oidcProviderModel struct {
	ClusterName types.String `tfsdk:"cluster_name"`
	IssuerURL   types.String `tfsdk:"issuer_url"`
	ARN         types.String `tfsdk:"arn"`
	ID          types.String `tfsdk:"id"`
}

func (r *oidcProviderResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_oidc_provider"
}

func (r *oidcProviderResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The IAM OpenID Connect provider of an EKS cluster's service-account issuer, with the client id `" + stsAudience + "`: what " +
			"IRSA needs before STS accepts the cluster's tokens. " +
			"The issuer is read from `eks:DescribeCluster`. Skip it if the cluster's provider already exists (one per issuer per account). " +
			"IAM no longer checks thumbprints for providers it can verify itself; none is sent.",
		Attributes: map[string]schema.Attribute{
			"cluster_name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "EKS cluster whose issuer is registered. Changing it replaces the provider.",
				PlanModifiers: []planmodifier.String{
					stringplanmodifier.RequiresReplaceIf(replaceUnlessImported, "Changing the cluster replaces the provider.", "Changing the cluster replaces the provider."),
				},
				Validators: []validator.String{eksClusterNameValidator()},
			},
			"issuer_url": computedStableString("The cluster's service-account issuer."),
			"arn":        computedStableString("ARN of the provider, for `nodewright_controller_iam`'s `irsa.oidc_provider_arn`."),
			"id":         computedStableString("The provider's ARN, the import id."),
		},
	}
}

// replaceUnlessImported replaces the provider when cluster_name changes,
// but not when the state has none: an imported provider has no cluster in
// state yet, and setting it adopts the provider rather than replacing it.
func replaceUnlessImported(_ context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
	resp.RequiresReplace = !req.StateValue.IsNull()
}

func (r *oidcProviderResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan oidcProviderModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cluster := plan.ClusterName.ValueString()
	out, err := eks.NewFromConfig(r.data.AWS).DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(cluster)})
	if err != nil {
		resp.Diagnostics.AddError("Reading the cluster's issuer", awsDetail("eks:DescribeCluster", "cluster "+cluster, err))
		return
	}
	var issuer string
	if id := out.Cluster.Identity; id != nil && id.Oidc != nil {
		issuer = aws.ToString(id.Oidc.Issuer)
	}
	if !strings.HasPrefix(issuer, "https://") {
		resp.Diagnostics.AddError("Cluster has no OIDC issuer", fmt.Sprintf("eks:DescribeCluster reports no https issuer for cluster %s (got %q); IRSA needs one.", cluster, issuer))
		return
	}
	created, err := iam.NewFromConfig(r.data.AWS).CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String(issuer), ClientIDList: []string{stsAudience}})
	if err != nil {
		resp.Diagnostics.AddError("Registering the cluster's issuer", awsDetail("iam:CreateOpenIDConnectProvider", "issuer "+issuer, err))
		return
	}
	plan.IssuerURL = types.StringValue(issuer)
	plan.ARN = types.StringPointerValue(created.OpenIDConnectProviderArn)
	plan.ID = plan.ARN
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *oidcProviderResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state oidcProviderModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := iam.NewFromConfig(r.data.AWS).GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: state.ARN.ValueStringPointer()})
	if isCode(err, "NoSuchEntity") {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Reading OIDC provider", awsDetail("iam:GetOpenIDConnectProvider", state.ARN.ValueString(), err))
		return
	}
	if u := aws.ToString(out.Url); u != "" {
		state.IssuerURL = types.StringValue("https://" + strings.TrimPrefix(u, "https://"))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update is never called: the only argument replaces the provider.
func (r *oidcProviderResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.AddError("Updating OIDC provider", "cluster_name replaces nodewright_oidc_provider; this is a provider bug.")
}

func (r *oidcProviderResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state oidcProviderModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	_, err := iam.NewFromConfig(r.data.AWS).DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: state.ARN.ValueStringPointer()})
	if err != nil && !isCode(err, "NoSuchEntity") {
		resp.Diagnostics.AddError("Deleting OIDC provider", awsDetail("iam:DeleteOpenIDConnectProvider", state.ARN.ValueString(), err))
	}
}

func (r *oidcProviderResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !oidcProviderRE.MatchString(req.ID) {
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("Import an OIDC provider by its ARN (arn:aws:iam::<account>:oidc-provider/<issuer>), not %q; set cluster_name in the configuration.", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("arn"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
