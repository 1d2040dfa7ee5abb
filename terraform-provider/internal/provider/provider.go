// Package provider is the nodewright Terraform provider
// (terraform-plugin-framework). Each resource lives in its own file beside
// its acceptance test; what several resources share lives in common_*.go,
// one file per concern.
// It does I/O: AWS through the SDK and the cluster through client-go.
package provider

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"k8s.io/client-go/rest"

	"github.com/nodewright/nodewright/controller/utils/awshttp"
)

// Address is the provider's registry address; `make provider` installs it
// into a filesystem mirror under this name.
const Address = "registry.terraform.io/nodewright/nodewright"

var _ provider.Provider = (*nodewrightProvider)(nil)

type nodewrightProvider struct{ version string }

// New returns the provider factory the plugin server and tests use.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &nodewrightProvider{version: version} }
}

type providerModel struct {
	Region     types.String     `tfsdk:"region"`
	Profile    types.String     `tfsdk:"profile"`
	Endpoint   types.String     `tfsdk:"endpoint"`
	AssumeRole *assumeRoleModel `tfsdk:"assume_role"`
	Kubernetes *kubernetesModel `tfsdk:"kubernetes"`
}

type assumeRoleModel struct {
	RoleARN     types.String `tfsdk:"role_arn"`
	SessionName types.String `tfsdk:"session_name"`
	ExternalID  types.String `tfsdk:"external_id"`
}

type kubernetesModel struct {
	Host                 types.String `tfsdk:"host"`
	ClusterCACertificate types.String `tfsdk:"cluster_ca_certificate"`
	Token                types.String `tfsdk:"token"`
	ConfigPath           types.String `tfsdk:"config_path"`
	ConfigContext        types.String `tfsdk:"config_context"`
	EKSClusterName       types.String `tfsdk:"eks_cluster_name"`
}

func (p *nodewrightProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "nodewright"
	resp.Version = p.version
}

func (p *nodewrightProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The nodewright provider stands up just-in-time nodes for Amazon EKS: IAM, the interruption queue, cluster access, the " +
			"controller, and NodeClasses and NodePools as typed resources. Nothing in the cluster is needed at plan time.",
		Attributes: map[string]schema.Attribute{
			"region": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "AWS region. Defaults to `AWS_REGION` / `AWS_DEFAULT_REGION` or the profile's region.",
			},
			"profile": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Shared-config profile. Defaults to `AWS_PROFILE`.",
			},
			"endpoint": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Override of every AWS service endpoint, for example a local emulator. Defaults to `AWS_ENDPOINT_URL`.",
			},
		},
		Blocks: map[string]schema.Block{
			"assume_role": schema.SingleNestedBlock{
				MarkdownDescription: "Assume this role for every AWS call.",
				Attributes: map[string]schema.Attribute{
					"role_arn": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "ARN of the role to assume.",
					},
					"session_name": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "Session name (default `nodewright-terraform`).",
					},
					"external_id": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "External id the role's trust policy requires.",
					},
				},
			},
			"kubernetes": schema.SingleNestedBlock{
				MarkdownDescription: "How to reach the cluster. Resolved only when a resource first needs it, never at plan time. Use `host` with " +
					"`cluster_ca_certificate` and `token`, a kubeconfig (`config_path`, `config_context`; `KUBECONFIG`), or `eks_cluster_name`, from which the " +
					"endpoint and CA are looked up and a short-lived EKS token is minted as aws-iam-authenticator does.",
				Attributes: map[string]schema.Attribute{
					"host": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "API server URL. Defaults to `KUBE_HOST`.",
					},
					"cluster_ca_certificate": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "PEM CA of the API server. Defaults to `KUBE_CLUSTER_CA_CERT_DATA`.",
					},
					"token": schema.StringAttribute{
						Optional:            true,
						Sensitive:           true,
						MarkdownDescription: "Bearer token. Defaults to `KUBE_TOKEN`.",
					},
					"config_path": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "Kubeconfig path. Defaults to `KUBE_CONFIG_PATH`, then `KUBECONFIG`.",
					},
					"config_context": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "Kubeconfig context. Defaults to `KUBE_CTX`.",
					},
					"eks_cluster_name": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "EKS cluster to look up and authenticate to with the provider's AWS credentials.",
					},
				},
			},
		},
	}
}

func (p *nodewrightProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	awsCfg, err := loadAWS(ctx, m)
	if err != nil {
		resp.Diagnostics.AddError("Configuring AWS", fmt.Sprintf("%v. Set region (or AWS_REGION) and credentials the default chain can find.", err))
		return
	}
	data := &providerData{AWS: awsCfg, kube: newKubeSource(m.Kubernetes, awsCfg), Version: p.version}
	resp.ResourceData = data
	resp.DataSourceData = data
}

func loadAWS(ctx context.Context, m providerModel) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if v := m.Region.ValueString(); v != "" {
		opts = append(opts, awsconfig.WithRegion(v))
	}
	if v := m.Profile.ValueString(); v != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(v))
	}
	endpoint := m.Endpoint.ValueString()
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	if endpoint != "" {
		opts = append(opts, awsconfig.WithBaseEndpoint(endpoint))
	}
	opts = append(opts, awsconfig.WithRetryMaxAttempts(8))
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, err
	}
	cfg.HTTPClient = awshttp.BufferResponses(cfg.HTTPClient)
	if cfg.Region == "" {
		return cfg, fmt.Errorf("no AWS region")
	}
	if ar := m.AssumeRole; ar != nil && ar.RoleARN.ValueString() != "" {
		session := ar.SessionName.ValueString()
		if session == "" {
			session = "nodewright-terraform"
		}
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), ar.RoleARN.ValueString(), func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = session
			if id := ar.ExternalID.ValueString(); id != "" {
				o.ExternalID = aws.String(id)
			}
		}))
	}
	return cfg, nil
}

// Resources lists every resource type the provider serves.
func (p *nodewrightProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		newClusterAccessResource,
		newControllerResource,
		newControllerIAMResource,
		newInstanceProfileResource,
		newInterruptionQueueResource,
		newNodeClassResource,
		newNodePoolResource,
		newNodeRoleResource,
		newOIDCProviderResource,
		newPodIdentityAssociationResource,
	}
}

// DataSources lists every data source the provider serves.
func (p *nodewrightProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		newInstanceTypesDataSource,
	}
}

// providerData is what resources get from Configure.
type providerData struct {
	AWS  aws.Config
	kube *kubeSource
	// Version is the provider's version, the default controller image tag.
	Version string
}

// configuredResource is embedded by every resource for its Configure,
// which keeps the provider's data for the resource's CRUD.
type configuredResource struct{ data *providerData }

func (r *configuredResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

// configuredData is what every resource's Configure does with the
// provider's data: nil before the provider is configured (validation and
// plan of an unknown provider config), and an error if it is not ours.
func configuredData(pd any, diags *diag.Diagnostics) *providerData {
	if pd == nil {
		return nil
	}
	d, ok := pd.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("got %T, want *providerData; this is a bug in the provider", pd))
	}
	return d
}

// Kube returns the cluster's REST config, resolving it on first use: plans
// never need the cluster, so nothing is resolved until a resource calls this.
func (d *providerData) Kube(ctx context.Context) (*rest.Config, error) { return d.kube.config(ctx) }
