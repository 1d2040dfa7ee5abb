package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ resource.ResourceWithImportState = (*interruptionQueueResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*interruptionQueueResource)(nil)
)

// interruptionEvent is one kind of event the controller reacts to.
type interruptionEvent struct {
	Kind, Source, DetailType string
}

// interruptionEvents are routed to the queue, one EventBridge rule each.
var interruptionEvents = []interruptionEvent{
	{"spot-interruption", "aws.ec2", "EC2 Spot Instance Interruption Warning"},
	{"rebalance", "aws.ec2", "EC2 Instance Rebalance Recommendation"},
	{"health", "aws.health", "AWS Health Event"},
	{"state-change", "aws.ec2", "EC2 Instance State-change Notification"},
	{"capacity-reservation", "aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"},
}

const (
	// queueRetentionSeconds is short on purpose: an interruption notice
	// older than five minutes is about an instance that is already gone.
	queueRetentionSeconds = "300"
	queueTargetID         = "nodewright-interruption-queue"
	// queueClusterTag records cluster_name on the queue so import recovers it.
	queueClusterTag = "nodewright.dev/cluster"
	// EventBridge rule names are at most 64 characters and get
	// "-capacity-reservation" (21) appended.
	maxQueueNameLen = 64 - 21
)

var queueNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,43}$`)

type interruptionQueueResource struct{ configuredResource }

func newInterruptionQueueResource() resource.Resource { return &interruptionQueueResource{} }

type interruptionQueueModel struct {
	Name        types.String `tfsdk:"name"`
	ClusterName types.String `tfsdk:"cluster_name"`
	Tags        types.Map    `tfsdk:"tags"`
	ID          types.String `tfsdk:"id"`
	QueueURL    types.String `tfsdk:"queue_url"`
	QueueARN    types.String `tfsdk:"queue_arn"`
	RuleNames   types.Map    `tfsdk:"rule_names"`
}

func (r *interruptionQueueResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_interruption_queue"
}

func (r *interruptionQueueResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = interruptionQueueSchema()
}

func interruptionQueueSchema() schema.Schema {
	kinds := ""
	for i, e := range interruptionEvents {
		if i > 0 {
			kinds += ", "
		}
		kinds += fmt.Sprintf("`%s` (%s)", e.Kind, e.DetailType)
	}
	return schema.Schema{
		MarkdownDescription: "The SQS queue nodewright reads interruption notices from (5-minute retention, SSE, TLS only), and one EventBridge rule per " +
			"event kind sending to it: " + kinds + ". Rules are named `<name>-<kind>`.",
		Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{
				Required: true,
				MarkdownDescription: fmt.Sprintf("Queue name, also the prefix of the rule names. At most %d characters so that rule names fit EventBridge's 64. "+
					"Changing it replaces everything.", maxQueueNameLen),
				Validators: []validator.String{
					stringvalidator.RegexMatches(queueNameRE, fmt.Sprintf("must be 1-%d letters, digits, - and _ (the SQS queue name rule, shortened so rule names "+
						"<name>-<kind> fit in 64 characters)", maxQueueNameLen)),
				},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},

			"cluster_name": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "EKS cluster the queue serves, recorded as the `" + queueClusterTag + "` tag and in the rule descriptions.",
				Validators:          []validator.String{eksClusterNameValidator()},
			},
			"tags": optionalStringMap("Tags on the queue and the rules."),

			"id":        computedStableString("Queue name."),
			"queue_url": computedStableString("URL of the queue, for the controller's `interruptionQueue` setting."),
			"queue_arn": computedStableString("ARN of the queue, for `nodewright_controller_iam.interruption_queue_arn`."),
			"rule_names": schema.MapAttribute{
				Computed:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "EventBridge rule name by event kind. A rule (or its target) removed outside Terraform shows as a difference here.",
			},
		},
	}
}

func ruleNames(name string) types.Map {
	el := map[string]attr.Value{}
	for _, e := range interruptionEvents {
		el[e.Kind] = types.StringValue(name + "-" + e.Kind)
	}
	return types.MapValueMust(types.StringType, el)
}

func (r *interruptionQueueResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var name types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("name"), &name)...)
	if resp.Diagnostics.HasError() || name.IsUnknown() {
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("rule_names"), ruleNames(name.ValueString()))...)
}

// queuePolicy lets EventBridge (and SQS itself, for redrive) send to the
// queue and refuses any access without TLS.
func queuePolicy(queueARN string) string {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Id":      "nodewright-interruption-queue",
		"Statement": []any{
			map[string]any{"Sid": "AllowEventBridge", "Effect": "Allow",
				"Principal": map[string]any{"Service": []string{"events.amazonaws.com", "sqs.amazonaws.com"}},
				"Action":    "sqs:SendMessage", "Resource": queueARN},
			map[string]any{"Sid": "DenyNonTLS", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": queueARN,
				"Condition": map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}}},
		},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

func eventPattern(e interruptionEvent) string {
	b, _ := json.Marshal(map[string][]string{"source": {e.Source}, "detail-type": {e.DetailType}})
	return string(b)
}

// desiredTags is the queue's tag set: the configured tags plus the cluster marker.
func (m *interruptionQueueModel) desiredTags(ctx context.Context) (map[string]string, diag.Diagnostics) {
	tags, diags := mapValue(ctx, m.Tags)
	if c := m.ClusterName.ValueString(); c != "" {
		tags[queueClusterTag] = c
	}
	return tags, diags
}

func (r *interruptionQueueResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan interruptionQueueModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tags, diags := plan.desiredTags(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := plan.Name.ValueString()
	q := sqs.NewFromConfig(r.data.AWS)
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Tags: tags, Attributes: map[string]string{
		string(sqstypes.QueueAttributeNameMessageRetentionPeriod): queueRetentionSeconds,
		string(sqstypes.QueueAttributeNameSqsManagedSseEnabled):   "true",
	}})
	if err != nil {
		resp.Diagnostics.AddError("Creating interruption queue", awsDetail("sqs:CreateQueue", "queue "+name, err))
		return
	}
	plan.QueueURL = types.StringValue(aws.ToString(out.QueueUrl))
	plan.ID = plan.Name
	// From here on the queue exists: record it even if a later step fails,
	// so the next apply repairs it and destroy removes it.
	defer func() {
		if resp.Diagnostics.HasError() {
			if err := r.readInto(ctx, &plan); err == nil {
				resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
			}
		}
	}()
	resp.Diagnostics.Append(r.converge(ctx, &plan, tags, false)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.readInto(ctx, &plan); err != nil {
		resp.Diagnostics.AddError("Reading interruption queue", awsDetail("sqs:GetQueueAttributes", "queue "+name, err))
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// converge sets the queue's attributes and policy and puts every rule and
// target; every call is idempotent, so Update uses it to repair drift.
func (r *interruptionQueueResource) converge(ctx context.Context, m *interruptionQueueModel, tags map[string]string, tagRules bool) diag.Diagnostics {
	var diags diag.Diagnostics
	name, url := m.Name.ValueString(), m.QueueURL.ValueString()
	q := sqs.NewFromConfig(r.data.AWS)
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		diags.AddError("Reading interruption queue", awsDetail("sqs:GetQueueAttributes", "queue "+name, err))
		return diags
	}
	arn := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	if _, err := q.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: map[string]string{
		string(sqstypes.QueueAttributeNamePolicy):                 queuePolicy(arn),
		string(sqstypes.QueueAttributeNameMessageRetentionPeriod): queueRetentionSeconds,
		string(sqstypes.QueueAttributeNameSqsManagedSseEnabled):   "true",
	}}); err != nil {
		diags.AddError("Setting interruption queue policy", awsDetail("sqs:SetQueueAttributes", "queue "+name, err))
		return diags
	}
	eb := eventbridge.NewFromConfig(r.data.AWS)
	var ebTags []ebtypes.Tag
	for _, k := range sortedKeys(tags) {
		ebTags = append(ebTags, ebtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	for _, e := range interruptionEvents {
		rule := name + "-" + e.Kind
		desc := fmt.Sprintf("nodewright: %s events to queue %s", e.DetailType, name)
		if c := m.ClusterName.ValueString(); c != "" {
			desc += " for cluster " + c
		}
		put := &eventbridge.PutRuleInput{Name: aws.String(rule), EventPattern: aws.String(eventPattern(e)),
			Description: aws.String(desc), State: ebtypes.RuleStateEnabled}
		if !tagRules {
			// PutRule applies tags only when it creates the rule.
			put.Tags = ebTags
		}
		ruleOut, err := eb.PutRule(ctx, put)
		if err != nil {
			diags.AddError("Creating interruption rule", awsDetail("events:PutRule", "rule "+rule, err))
			return diags
		}
		if tagRules && len(ebTags) > 0 {
			if _, err := eb.TagResource(ctx, &eventbridge.TagResourceInput{ResourceARN: ruleOut.RuleArn, Tags: ebTags}); err != nil {
				diags.AddError("Tagging interruption rule", awsDetail("events:TagResource", "rule "+rule, err))
				return diags
			}
		}
		tout, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), Targets: []ebtypes.Target{{Id: aws.String(queueTargetID), Arn: aws.String(arn)}}})
		if err != nil {
			diags.AddError("Targeting interruption rule at the queue", awsDetail("events:PutTargets", fmt.Sprintf("rule %s -> queue %s", rule, name), err))
			return diags
		}
		if tout.FailedEntryCount > 0 {
			f := tout.FailedEntries[0]
			diags.AddError("Targeting interruption rule at the queue", fmt.Sprintf("events:PutTargets on rule %s -> queue %s failed: %s: %s. Check that the queue exists and its policy lets events.amazonaws.com send to it.",
				rule, name, aws.ToString(f.ErrorCode), aws.ToString(f.ErrorMessage)))
			return diags
		}
	}
	return diags
}

// readInto refreshes m. A missing queue comes back as a NonExistentQueue error.
func (r *interruptionQueueResource) readInto(ctx context.Context, m *interruptionQueueModel) error {
	name := m.Name.ValueString()
	q := sqs.NewFromConfig(r.data.AWS)
	u, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		return err
	}
	url := aws.ToString(u.QueueUrl)
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return fmt.Errorf("reading attributes: %w", err)
	}
	tagsOut, err := q.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(url)})
	if err != nil {
		return fmt.Errorf("listing tags: %w", err)
	}
	arn := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	m.ID, m.QueueURL, m.QueueARN = types.StringValue(name), types.StringValue(url), types.StringValue(arn)
	tags := map[string]string{}
	for k, v := range tagsOut.Tags {
		tags[k] = v
	}
	if c, ok := tags[queueClusterTag]; ok {
		m.ClusterName = types.StringValue(c)
		delete(tags, queueClusterTag)
	} else {
		m.ClusterName = types.StringNull()
	}
	m.Tags = tagsValue(tags, m.Tags)

	// Only rules that exist and still target this queue count.
	eb := eventbridge.NewFromConfig(r.data.AWS)
	rules := map[string]attr.Value{}
	for _, e := range interruptionEvents {
		rule := name + "-" + e.Kind
		t, err := eb.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(rule)})
		if isCode(err, "ResourceNotFoundException") {
			continue
		}
		if err != nil {
			return fmt.Errorf("listing targets of rule %s: %w", rule, err)
		}
		for _, tg := range t.Targets {
			if aws.ToString(tg.Arn) == arn {
				rules[e.Kind] = types.StringValue(rule)
				break
			}
		}
	}
	m.RuleNames = types.MapValueMust(types.StringType, rules)
	return nil
}

func isNoQueue(err error) bool {
	return isCode(err, "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
}

func (r *interruptionQueueResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state interruptionQueueModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.readInto(ctx, &state); err != nil {
		if isNoQueue(err) {
			resp.State.RemoveResource(ctx)
			return
		}
		resp.Diagnostics.AddError("Reading interruption queue", awsDetail("sqs/events read", "queue "+state.Name.ValueString(), err))
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *interruptionQueueResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state interruptionQueueModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.Name.ValueString()
	want, diags := plan.desiredTags(ctx)
	resp.Diagnostics.Append(diags...)
	have, diags := state.desiredTags(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.QueueURL = state.QueueURL
	q := sqs.NewFromConfig(r.data.AWS)
	gone := removedKeys(want, have)
	if len(gone) > 0 {
		if _, err := q.UntagQueue(ctx, &sqs.UntagQueueInput{QueueUrl: aws.String(plan.QueueURL.ValueString()), TagKeys: gone}); err != nil {
			resp.Diagnostics.AddError("Untagging interruption queue", awsDetail("sqs:UntagQueue", "queue "+name, err))
			return
		}
		eb := eventbridge.NewFromConfig(r.data.AWS)
		for _, e := range interruptionEvents {
			rule, err := eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(name + "-" + e.Kind)})
			if isCode(err, "ResourceNotFoundException") {
				continue
			}
			if err == nil {
				_, err = eb.UntagResource(ctx, &eventbridge.UntagResourceInput{ResourceARN: rule.Arn, TagKeys: gone})
			}
			if err != nil {
				resp.Diagnostics.AddError("Untagging interruption rule", awsDetail("events:UntagResource", "rule "+name+"-"+e.Kind, err))
				return
			}
		}
	}
	if len(want) > 0 {
		if _, err := q.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: aws.String(plan.QueueURL.ValueString()), Tags: want}); err != nil {
			resp.Diagnostics.AddError("Tagging interruption queue", awsDetail("sqs:TagQueue", "queue "+name, err))
			return
		}
	}
	resp.Diagnostics.Append(r.converge(ctx, &plan, want, true)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.readInto(ctx, &plan); err != nil {
		resp.Diagnostics.AddError("Reading interruption queue", awsDetail("sqs/events read", "queue "+name, err))
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *interruptionQueueResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state interruptionQueueModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.Name.ValueString()
	eb := eventbridge.NewFromConfig(r.data.AWS)
	// EventBridge refuses to delete a rule that still has targets.
	for _, e := range interruptionEvents {
		rule := name + "-" + e.Kind
		if _, err := eb.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(rule), Ids: []string{queueTargetID}}); err != nil && !isCode(err, "ResourceNotFoundException") {
			resp.Diagnostics.AddError("Removing interruption rule target", awsDetail("events:RemoveTargets", "rule "+rule, err))
			return
		}
		if _, err := eb.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(rule)}); err != nil && !isCode(err, "ResourceNotFoundException") {
			resp.Diagnostics.AddError("Deleting interruption rule", awsDetail("events:DeleteRule", "rule "+rule, err)+" If targets were added outside Terraform, remove them and retry.")
			return
		}
	}
	q := sqs.NewFromConfig(r.data.AWS)
	u, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if isNoQueue(err) {
		return
	}
	if err == nil {
		_, err = q.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: u.QueueUrl})
	}
	if err != nil && !isNoQueue(err) {
		resp.Diagnostics.AddError("Deleting interruption queue", awsDetail("sqs:DeleteQueue", "queue "+name, err))
	}
}

func (r *interruptionQueueResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !queueNameRE.MatchString(req.ID) {
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("%q is not an interruption queue name (^[A-Za-z0-9_-]{1,%d}$); import by the queue's name.", req.ID, maxQueueNameLen))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
