package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nodewright/nodewright/controller/iampolicy"
)

var (
	_ resource.ResourceWithImportState    = (*controllerIAMResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*controllerIAMResource)(nil)
	_ resource.ResourceWithValidateConfig = (*controllerIAMResource)(nil)
)

// controllerPolicyName is the one inline policy the controller role carries.
const controllerPolicyName = "nodewright-controller"

const podIdentityPrincipal = "pods.eks.amazonaws.com"

var (
	sqsARNRE   = regexp.MustCompile(`^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[\w-]{1,80}(\.fifo)?$`)
	ssmParamRE = regexp.MustCompile(`^/[A-Za-z0-9_.*/-]+$`)
)

// controllerIAMResource is the controller's IAM role; Read, import and tags
// are taggedIAMResource's.
type controllerIAMResource struct {
	taggedIAMResource[controllerIAMModel]
}

func newControllerIAMResource() resource.Resource {
	return &controllerIAMResource{taggedRole(
		"controller role",
		func(m *controllerIAMModel) types.String { return m.Name },
		func(m *controllerIAMModel) types.Map { return m.Tags },
		readControllerIAM,
	)}
}

type irsaModel struct {
	OIDCProviderARN types.String `tfsdk:"oidc_provider_arn"`
	Namespace       types.String `tfsdk:"namespace"`
	ServiceAccount  types.String `tfsdk:"service_account"`
}

type controllerIAMModel struct {
	Name                 types.String `tfsdk:"name"`
	ClusterName          types.String `tfsdk:"cluster_name"`
	NodeRoleARN          types.String `tfsdk:"node_role_arn"`
	InterruptionQueueARN types.String `tfsdk:"interruption_queue_arn"`
	AMISSMParameters     types.List   `tfsdk:"ami_ssm_parameters"`
	Region               types.String `tfsdk:"region"`
	PodIdentity          types.Bool   `tfsdk:"pod_identity"`
	Tags                 types.Map    `tfsdk:"tags"`
	IRSA                 *irsaModel   `tfsdk:"irsa"`
	ARN                  types.String `tfsdk:"arn"`
	ID                   types.String `tfsdk:"id"`
	UniqueID             types.String `tfsdk:"unique_id"`
	PolicyJSON           types.String `tfsdk:"policy_json"`
}

func (r *controllerIAMResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_controller_iam"
}

func (r *controllerIAMResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = controllerIAMSchema()
}

func controllerIAMSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "The IAM role the nodewright controller runs as, with one least-privilege inline policy (`" + controllerPolicyName + "`): " +
			"launches and terminations are limited to resources tagged for this cluster, `iam:PassRole` to the node role, and SQS to the interruption queue. " +
			"Trusted through IRSA or EKS Pod Identity; set exactly one of `irsa` and `pod_identity`.\n\n" +
			"Each statement of the policy, and the controller flows that fail without it. The table is measured: `make test-iam` removes each statement (and " +
			"each action) in turn, runs the controller's flows against the local cloud with IAM enforced, and fails when this table is out of date.\n\n" +
			iampolicy.FlowsTable(iampolicy.Options{
				Region:        "<region>",
				AccountID:     "<account>",
				ClusterName:   "<cluster>",
				NodeRoleARN:   "arn:aws:iam::<account>:role/<node-role>",
				QueueARN:      "arn:aws:sqs:<region>:<account>:<queue>",
				SSMParameters: []string{"/<your-amis>/*"},
			}),
		Attributes: map[string]schema.Attribute{
			"name": iamNameAttribute("Role name. Changing it replaces the role."),
			"cluster_name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "EKS cluster the controller manages; launches are limited to resources tagged `kubernetes.io/cluster/<cluster_name>=owned`.",
				Validators:          []validator.String{eksClusterNameValidator()},
			},
			"node_role_arn": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "ARN of the node role (`nodewright_node_role.<name>.arn`), the only role the controller may pass to EC2.",
				Validators:          []validator.String{roleARNValidator()},
			},

			"interruption_queue_arn": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "ARN of the interruption queue (`nodewright_interruption_queue.<name>.queue_arn`). Without it the controller gets no SQS access.",
				Validators: []validator.String{
					stringvalidator.RegexMatches(sqsARNRE, "must be an SQS queue ARN (arn:aws:sqs:<region>:<account>:<queue>)"),
				},
			},
			"ami_ssm_parameters": schema.ListAttribute{
				Optional:    true,
				ElementType: types.StringType,
				MarkdownDescription: "This account's SSM parameters that node classes name in an AMI selector term's `ssmParameter`, e.g. `[\"/team/amis/*\"]` " +
					"(`ssm:GetParameter` on them). AWS's public parameters under `/aws/service/` are always readable.",
				Validators: []validator.List{
					listvalidator.ValueStringsAre(
						stringvalidator.RegexMatches(ssmParamRE, "must be a parameter path starting with /: letters, digits, _ . - / and * (a wildcard)"),
					),
				},
			},
			"region": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: "Region the policy allows launches in. Defaults to the provider's region.",
				Validators:          []validator.String{stringvalidator.RegexMatches(regionRE, "must be an AWS region such as us-east-1")},
			},
			"pod_identity": schema.BoolAttribute{
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
				MarkdownDescription: "Trust EKS Pod Identity (`pods.eks.amazonaws.com`, with `sts:AssumeRole` and `sts:TagSession`). Conflicts with `irsa`.",
			},
			"tags": optionalStringMap("Tags on the role."),

			"arn":       computedStableString("ARN of the controller role."),
			"id":        computedStableString("Role name."),
			"unique_id": computedStableString("The role's stable unique id."),
			"policy_json": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The inline policy document, as attached.",
			},
		},
		Blocks: map[string]schema.Block{
			"irsa": schema.SingleNestedBlock{
				MarkdownDescription: "Trust the cluster's OIDC provider for one service account (IAM Roles for Service Accounts). Conflicts with `pod_identity`.",
				Attributes: map[string]schema.Attribute{
					"oidc_provider_arn": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "ARN of the cluster's IAM OIDC provider.",
						Validators: []validator.String{
							stringvalidator.RegexMatches(oidcProviderRE, "must be an IAM OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/<issuer>)"),
						},
					},
					"namespace": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "Namespace of the controller's service account.",
						Validators:          []validator.String{k8sNameValidator()},
					},
					"service_account": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "Name of the controller's service account.",
						Validators:          []validator.String{k8sNameValidator()},
					},
				},
			},
		},
	}
}

func (r *controllerIAMResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m controllerIAMModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for i, e := range m.AMISSMParameters.Elements() {
		if v, ok := e.(types.String); ok && strings.HasPrefix(v.ValueString(), "/aws/service/") {
			resp.Diagnostics.AddAttributeError(path.Root("ami_ssm_parameters").AtListIndex(i), "Public parameter listed",
				fmt.Sprintf("%s is one of AWS's public parameters, which the policy always allows; list only this account's own parameters.", v.ValueString()))
		}
	}
	if m.PodIdentity.IsUnknown() {
		return
	}
	pod := m.PodIdentity.ValueBool()
	switch {
	case pod && m.IRSA != nil:
		resp.Diagnostics.AddAttributeError(path.Root("irsa"), "Conflicting trust", "Set exactly one of irsa and pod_identity = true: the controller role is trusted by one mechanism.")
	case !pod && m.IRSA == nil:
		resp.Diagnostics.AddAttributeError(path.Root("pod_identity"), "Missing trust", "Set exactly one of an irsa block or pod_identity = true, so the controller's pod can assume the role.")
	case m.IRSA != nil:
		for name, v := range map[string]types.String{"oidc_provider_arn": m.IRSA.OIDCProviderARN, "namespace": m.IRSA.Namespace, "service_account": m.IRSA.ServiceAccount} {
			if v.IsNull() {
				resp.Diagnostics.AddAttributeError(path.Root("irsa").AtName(name), "Missing IRSA attribute", fmt.Sprintf("irsa.%s is required when irsa is set.", name))
			}
		}
	}
}

// trustPolicy returns the assume-role policy for the configured mechanism.
func (m *controllerIAMModel) trustPolicy() (string, error) {
	var st map[string]any
	if m.IRSA == nil {
		st = map[string]any{"Effect": "Allow", "Principal": map[string]any{"Service": podIdentityPrincipal},
			"Action": []string{"sts:AssumeRole", "sts:TagSession"}}
	} else {
		arn := m.IRSA.OIDCProviderARN.ValueString()
		issuer := arn[strings.Index(arn, "oidc-provider/")+len("oidc-provider/"):]
		st = map[string]any{"Effect": "Allow", "Principal": map[string]any{"Federated": arn},
			"Action": "sts:AssumeRoleWithWebIdentity",
			"Condition": map[string]any{"StringEquals": map[string]string{
				issuer + ":sub": "system:serviceaccount:" + m.IRSA.Namespace.ValueString() + ":" + m.IRSA.ServiceAccount.ValueString(),
				issuer + ":aud": "sts.amazonaws.com",
			}}}
	}
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{st}})
	return string(b), err
}

func (m *controllerIAMModel) policyOptions() iampolicy.Options {
	role := m.NodeRoleARN.ValueString()
	parts := strings.Split(role, ":")
	o := iampolicy.Options{Region: m.Region.ValueString(), ClusterName: m.ClusterName.ValueString(), NodeRoleARN: role,
		QueueARN: m.InterruptionQueueARN.ValueString()}
	for _, e := range m.AMISSMParameters.Elements() {
		if v, ok := e.(types.String); ok {
			o.SSMParameters = append(o.SSMParameters, v.ValueString())
		}
	}
	if len(parts) > 4 {
		o.Partition, o.AccountID = parts[1], parts[4]
	}
	return o
}

func (r *controllerIAMResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var plan controllerIAMModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.Region.IsUnknown() || plan.Region.IsNull() {
		var cfgRegion types.String
		resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("region"), &cfgRegion)...)
		if cfgRegion.IsNull() {
			plan.Region = types.StringValue(r.data.AWS.Region)
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("region"), plan.Region)...)
		}
	}
	if plan.Region.IsUnknown() || plan.ClusterName.IsUnknown() || plan.NodeRoleARN.IsUnknown() || plan.InterruptionQueueARN.IsUnknown() || plan.AMISSMParameters.IsUnknown() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("policy_json"), types.StringUnknown())...)
		return
	}
	doc, err := iampolicy.Document(plan.policyOptions())
	if err != nil {
		resp.Diagnostics.AddError("Invalid controller policy inputs", fmt.Sprintf("Building the policy for controller role %s: %v.", plan.Name.ValueString(), err))
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("policy_json"), doc)...)
}

func (r *controllerIAMResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan controllerIAMModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := plan.Name.ValueString()
	tags, diags := mapValue(ctx, plan.Tags)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	trust, err := plan.trustPolicy()
	if err != nil {
		resp.Diagnostics.AddError("Building trust policy", fmt.Sprintf("controller role %s: %v", name, err))
		return
	}
	doc, err := iampolicy.Document(plan.policyOptions())
	if err != nil {
		resp.Diagnostics.AddError("Invalid controller policy inputs", fmt.Sprintf("Building the policy for controller role %s: %v.", name, err))
		return
	}
	c := r.client()
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust),
		Description: aws.String("nodewright controller for cluster " + plan.ClusterName.ValueString()), Tags: iamTags(tags)}); err != nil {
		resp.Diagnostics.AddError("Creating controller role", awsDetail("iam:CreateRole", "role "+name, err))
		return
	}
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(controllerPolicyName), PolicyDocument: aws.String(doc)}); err != nil {
		resp.Diagnostics.AddError("Attaching controller policy", awsDetail("iam:PutRolePolicy", fmt.Sprintf("inline policy %s on role %s", controllerPolicyName, name), err))
		// Keep the role in state so the next apply fixes or destroys it.
		if err := readControllerIAM(ctx, c, &plan); err == nil {
			resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		}
		return
	}
	r.saveRead(ctx, c, name, &plan, &resp.State, &resp.Diagnostics)
}

// readControllerIAM refreshes m from IAM, recovering the inputs from the
// trust and inline policies so that import and drift detection need nothing
// else.
func readControllerIAM(ctx context.Context, c *iam.Client, m *controllerIAMModel) error {
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
	m.Tags = iamTagsValue(role.Tags, m.Tags)

	var trust policyDoc
	if err := json.Unmarshal([]byte(urlDecodeDocument(aws.ToString(role.AssumeRolePolicyDocument))), &trust); err == nil && len(trust.Statement) > 0 {
		st := trust.Statement[0]
		if fed := st.Principal["Federated"]; len(fed) > 0 {
			m.PodIdentity = types.BoolValue(false)
			irsa := &irsaModel{OIDCProviderARN: types.StringValue(fed[0])}
			for k, v := range st.Condition["StringEquals"] {
				if strings.HasSuffix(k, ":sub") && len(v) > 0 {
					if p := strings.Split(v[0], ":"); len(p) == 4 {
						irsa.Namespace, irsa.ServiceAccount = types.StringValue(p[2]), types.StringValue(p[3])
					}
				}
			}
			m.IRSA = irsa
		} else {
			m.PodIdentity = types.BoolValue(true)
			m.IRSA = nil
		}
	}

	pol, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(controllerPolicyName)})
	if isCode(err, "NoSuchEntity") {
		// Deleted outside Terraform: an empty policy plans a repair.
		m.PolicyJSON = types.StringValue("")
		return nil
	}
	if err != nil {
		return err
	}
	doc := urlDecodeDocument(aws.ToString(pol.PolicyDocument))
	if !jsonEqual(doc, m.PolicyJSON.ValueString()) {
		m.PolicyJSON = types.StringValue(doc)
	}
	var p policyDoc
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return fmt.Errorf("inline policy %s is not valid JSON: %w", controllerPolicyName, err)
	}
	m.InterruptionQueueARN = types.StringNull()
	for _, st := range p.Statement {
		if len(st.Resource) == 0 {
			continue
		}
		switch st.Sid {
		case "PassNodeRole":
			m.NodeRoleARN = types.StringValue(st.Resource[0])
		case "InterruptionQueue":
			m.InterruptionQueueARN = types.StringValue(st.Resource[0])
		case "EKSCluster":
			// arn:<partition>:eks:<region>:<account>:cluster/<name>
			if parts := strings.SplitN(st.Resource[0], ":", 6); len(parts) == 6 {
				m.Region = types.StringValue(parts[3])
				m.ClusterName = types.StringValue(strings.TrimPrefix(parts[5], "cluster/"))
			}
		}
	}
	return nil
}

func (r *controllerIAMResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state controllerIAMModel
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
	trust, err := plan.trustPolicy()
	if err != nil {
		resp.Diagnostics.AddError("Building trust policy", fmt.Sprintf("controller role %s: %v", name, err))
		return
	}
	if _, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(name), PolicyDocument: aws.String(trust)}); err != nil {
		resp.Diagnostics.AddError("Updating controller role trust", awsDetail("iam:UpdateAssumeRolePolicy", "role "+name, err))
		return
	}
	doc, err := iampolicy.Document(plan.policyOptions())
	if err != nil {
		resp.Diagnostics.AddError("Invalid controller policy inputs", fmt.Sprintf("Building the policy for controller role %s: %v.", name, err))
		return
	}
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(controllerPolicyName), PolicyDocument: aws.String(doc)}); err != nil {
		resp.Diagnostics.AddError("Updating controller policy", awsDetail("iam:PutRolePolicy", fmt.Sprintf("inline policy %s on role %s", controllerPolicyName, name), err))
		return
	}
	r.saveRead(ctx, c, name, &plan, &resp.State, &resp.Diagnostics)
}

func (r *controllerIAMResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state controllerIAMModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.Name.ValueString()
	c := r.client()
	// IAM refuses to delete a role that still has policies.
	if _, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(controllerPolicyName)}); err != nil && !isCode(err, "NoSuchEntity") {
		resp.Diagnostics.AddError("Deleting controller policy", awsDetail("iam:DeleteRolePolicy", fmt.Sprintf("inline policy %s on role %s", controllerPolicyName, name), err))
		return
	}
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)}); err != nil && !isCode(err, "NoSuchEntity") {
		resp.Diagnostics.AddError("Deleting controller role", awsDetail("iam:DeleteRole", "role "+name, err)+" If other policies were attached outside Terraform, detach them and retry.")
	}
}
