package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/nodewright/nodewright/test/localcloud/awsemu"
)

func TestAccInterruptionQueue(t *testing.T) {
	emu, prov := awsTest(t)
	ctx := context.Background()
	q := sqs.NewFromConfig(emu.Config())
	eb := eventbridge.NewFromConfig(emu.Config())
	cfg := func(tags string) string {
		return prov + `
resource "nodewright_interruption_queue" "test" {
  name         = "nw-int"
  cluster_name = "prod"
` + tags + `}
`
	}
	res := "nodewright_interruption_queue.test"
	wantRules := map[string]knownvalue.Check{}
	for _, e := range interruptionEvents {
		wantRules[e.Kind] = knownvalue.StringExact("nw-int-" + e.Kind)
	}
	queueARN := "arn:aws:sqs:us-east-1:" + awsemu.AccountID + ":nw-int"

	// spotInterruptionArrives launches a spot instance, has the emulator warn
	// of its interruption, and expects the warning on the queue.
	spotInterruptionArrives := func(*terraform.State) error {
		c := ec2.NewFromConfig(emu.Config())
		imgs, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("architecture"), Values: []string{"x86_64"}}}})
		if err != nil || len(imgs.Images) == 0 {
			return fmt.Errorf("finding an image: %v (%d images)", err, len(imgs.Images))
		}
		run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1), ImageId: imgs.Images[0].ImageId,
			InstanceType: "m5.large", InstanceMarketOptions: &ec2types.InstanceMarketOptionsRequest{MarketType: ec2types.MarketTypeSpot}})
		if err != nil {
			return fmt.Errorf("RunInstances: %w", err)
		}
		id := aws.ToString(run.Instances[0].InstanceId)
		body, _ := json.Marshal(map[string]any{"instanceId": id})
		r, err := http.Post(emu.URL+"/_localcloud/faults/spot-interruption", "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			return fmt.Errorf("spot-interruption fault: status %d", r.StatusCode)
		}
		url, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("nw-int")})
		if err != nil {
			return err
		}
		for i := 0; i < 5; i++ {
			out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url.QueueUrl, WaitTimeSeconds: 2, MaxNumberOfMessages: 10})
			if err != nil {
				return fmt.Errorf("ReceiveMessage: %w", err)
			}
			for _, m := range out.Messages {
				var ev struct {
					Source     string `json:"source"`
					DetailType string `json:"detail-type"`
					Detail     struct {
						InstanceID string `json:"instance-id"`
					} `json:"detail"`
				}
				if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil {
					return fmt.Errorf("message is not an event: %w", err)
				}
				if ev.DetailType == "EC2 Spot Instance Interruption Warning" {
					if ev.Detail.InstanceID != id {
						return fmt.Errorf("warning for %s, want %s", ev.Detail.InstanceID, id)
					}
					return nil
				}
			}
		}
		return fmt.Errorf("no spot interruption warning for %s reached the queue", id)
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: func(*terraform.State) error {
			if _, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("nw-int")}); !isNoQueue(err) {
				return fmt.Errorf("queue still exists after destroy (err=%v)", err)
			}
			rules, err := eb.ListRules(ctx, &eventbridge.ListRulesInput{NamePrefix: aws.String("nw-int-")})
			if err != nil {
				return err
			}
			if len(rules.Rules) != 0 {
				return fmt.Errorf("%d rules left after destroy", len(rules.Rules))
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config:      prov + "resource \"nodewright_interruption_queue\" \"x\" {\n  name = \"" + strings.Repeat("q", 44) + "\"\n}\n",
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`rule names`),
			},
			{
				Config: cfg(`  tags = { team = "infra" }` + "\n"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("queue_arn"), knownvalue.StringExact(queueARN)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("queue_url"), knownvalue.StringRegexp(regexp.MustCompile(`/`+awsemu.AccountID+`/nw-int$`))),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("rule_names"), knownvalue.MapExact(wantRules)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("cluster_name"), knownvalue.StringExact("prod")),
				},
				Check: resource.ComposeTestCheckFunc(
					func(*terraform.State) error {
						url, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("nw-int")})
						if err != nil {
							return err
						}
						a, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: url.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"All"}})
						if err != nil {
							return err
						}
						if a.Attributes["MessageRetentionPeriod"] != "300" || a.Attributes["SqsManagedSseEnabled"] != "true" {
							return fmt.Errorf("queue attributes %v", a.Attributes)
						}
						pol := a.Attributes["Policy"]
						for _, want := range []string{"events.amazonaws.com", "sqs.amazonaws.com", `"aws:SecureTransport":"false"`, `"Effect":"Deny"`} {
							if !strings.Contains(pol, want) {
								return fmt.Errorf("queue policy lacks %s: %s", want, pol)
							}
						}
						for _, e := range interruptionEvents {
							r, err := eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("nw-int-" + e.Kind)})
							if err != nil {
								return err
							}
							if !strings.Contains(aws.ToString(r.EventPattern), e.DetailType) || !strings.Contains(aws.ToString(r.EventPattern), e.Source) {
								return fmt.Errorf("rule %s pattern %s", e.Kind, aws.ToString(r.EventPattern))
							}
						}
						return nil
					},
					spotInterruptionArrives,
				),
			},
			{ResourceName: res, ImportState: true, ImportStateId: "nw-int", ImportStateVerify: true},
			{
				// A rule that lost its target is drift.
				PreConfig: func() {
					if _, err := eb.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String("nw-int-health"), Ids: []string{queueTargetID}}); err != nil {
						t.Fatal(err)
					}
				},
				Config:             cfg(`  tags = { team = "infra" }` + "\n"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config: cfg(`  tags = { team = "platform", env = "dev" }` + "\n"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("rule_names"), knownvalue.MapExact(wantRules)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("tags"), knownvalue.MapExact(map[string]knownvalue.Check{
						"team": knownvalue.StringExact("platform"), "env": knownvalue.StringExact("dev")})),
				},
				Check: func(*terraform.State) error {
					url, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("nw-int")})
					if err != nil {
						return err
					}
					tags, err := q.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: url.QueueUrl})
					if err != nil {
						return err
					}
					if len(tags.Tags) != 3 || tags.Tags["team"] != "platform" || tags.Tags[queueClusterTag] != "prod" {
						return fmt.Errorf("queue tags %v", tags.Tags)
					}
					return nil
				},
			},
		},
	})
}
