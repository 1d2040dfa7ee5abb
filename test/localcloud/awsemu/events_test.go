package awsemu

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

const spotPattern = `{"source":["aws.ec2"],"detail-type":["EC2 Spot Instance Interruption Warning"]}`

func newEventsClients(t *testing.T) (*Server, *eventbridge.Client, *sqs.Client) {
	t.Helper()
	s := NewForTest(t, Options{})
	cfg := s.Config()
	cfg.RetryMaxAttempts = 1
	return s, eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
}

func TestEventBridgeRules(t *testing.T) {
	_, eb, _ := newEventsClients(t)
	ctx := context.Background()

	put, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("spot"), EventPattern: aws.String(spotPattern),
		Description: aws.String("spot warnings"), Tags: []ebtypes.Tag{{Key: aws.String("team"), Value: aws.String("nodes")}}})
	if err != nil {
		t.Fatalf("PutRule: %v", err)
	}
	arn := "arn:aws:events:us-east-1:" + AccountID + ":rule/spot"
	if aws.ToString(put.RuleArn) != arn {
		t.Fatalf("RuleArn %q", aws.ToString(put.RuleArn))
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("state"), EventPattern: aws.String(`{"source":["aws.ec2"]}`),
		State: ebtypes.RuleStateDisabled, EventBusName: aws.String("default")}); err != nil {
		t.Fatalf("PutRule state: %v", err)
	}

	desc, err := eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("spot")})
	if err != nil {
		t.Fatalf("DescribeRule: %v", err)
	}
	if aws.ToString(desc.Arn) != arn || aws.ToString(desc.EventPattern) != spotPattern || desc.State != ebtypes.RuleStateEnabled ||
		aws.ToString(desc.Description) != "spot warnings" || aws.ToString(desc.EventBusName) != "default" || aws.ToString(desc.CreatedBy) != AccountID {
		t.Fatalf("DescribeRule = %+v", desc)
	}

	list, err := eb.ListRules(ctx, &eventbridge.ListRulesInput{NamePrefix: aws.String("sp")})
	if err != nil || len(list.Rules) != 1 || aws.ToString(list.Rules[0].Name) != "spot" {
		t.Fatalf("ListRules(prefix) = %+v, %v", list, err)
	}
	all, err := eb.ListRules(ctx, &eventbridge.ListRulesInput{})
	if err != nil || len(all.Rules) != 2 || all.Rules[1].State != ebtypes.RuleStateDisabled {
		t.Fatalf("ListRules = %+v, %v", all, err)
	}

	if _, err := eb.EnableRule(ctx, &eventbridge.EnableRuleInput{Name: aws.String("state")}); err != nil {
		t.Fatalf("EnableRule: %v", err)
	}
	if _, err := eb.DisableRule(ctx, &eventbridge.DisableRuleInput{Name: aws.String("spot")}); err != nil {
		t.Fatalf("DisableRule: %v", err)
	}
	for name, want := range map[string]ebtypes.RuleState{"state": ebtypes.RuleStateEnabled, "spot": ebtypes.RuleStateDisabled} {
		d, err := eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(name)})
		if err != nil || d.State != want {
			t.Fatalf("rule %s state = %v, %v; want %s", name, d, err, want)
		}
	}

	// Tags.
	if _, err := eb.TagResource(ctx, &eventbridge.TagResourceInput{ResourceARN: aws.String(arn), Tags: []ebtypes.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if _, err := eb.UntagResource(ctx, &eventbridge.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: []string{"team"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	tags, err := eb.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" || aws.ToString(tags.Tags[0].Value) != "dev" {
		t.Fatalf("ListTagsForResource = %+v, %v", tags, err)
	}

	// Targets.
	queueARN := "arn:aws:sqs:us-east-1:" + AccountID + ":q"
	pt, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("spot"), Targets: []ebtypes.Target{
		{Id: aws.String("q"), Arn: aws.String(queueARN)},
		{Id: aws.String("bad-input"), Arn: aws.String(queueARN), Input: aws.String("{nope")},
	}})
	if err != nil || pt.FailedEntryCount != 1 || aws.ToString(pt.FailedEntries[0].TargetId) != "bad-input" {
		t.Fatalf("PutTargets = %+v, %v", pt, err)
	}
	targets, err := eb.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("spot")})
	if err != nil || len(targets.Targets) != 1 || aws.ToString(targets.Targets[0].Arn) != queueARN || aws.ToString(targets.Targets[0].Id) != "q" {
		t.Fatalf("ListTargetsByRule = %+v, %v", targets, err)
	}
	_, err = eb.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("spot")})
	expectCode(t, err, "ValidationException")
	rt, err := eb.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String("spot"), Ids: []string{"q"}})
	if err != nil || rt.FailedEntryCount != 0 {
		t.Fatalf("RemoveTargets = %+v, %v", rt, err)
	}
	if _, err := eb.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("spot")}); err != nil {
		t.Fatalf("DeleteRule: %v", err)
	}
	_, err = eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("spot")})
	var notFound *ebtypes.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Fatalf("want ResourceNotFoundException after delete, got %v", err)
	}

	// Errors.
	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"invalid JSON pattern", func() error {
			_, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("x"), EventPattern: aws.String("{")})
			return err
		}, "InvalidEventPatternException"},
		{"invalid pattern", func() error {
			_, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("x"), EventPattern: aws.String(`{"source":"aws.ec2"}`)})
			return err
		}, "InvalidEventPatternException"},
		{"no pattern or schedule", func() error {
			_, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("x")})
			return err
		}, "ValidationException"},
		{"bad name", func() error {
			_, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("a b"), EventPattern: aws.String(spotPattern)})
			return err
		}, "ValidationException"},
		{"unknown bus", func() error {
			_, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("x"), EventPattern: aws.String(spotPattern), EventBusName: aws.String("custom")})
			return err
		}, "ResourceNotFoundException"},
		{"describe unknown", func() error {
			_, err := eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("missing")})
			return err
		}, "ResourceNotFoundException"},
		{"enable unknown", func() error {
			_, err := eb.EnableRule(ctx, &eventbridge.EnableRuleInput{Name: aws.String("missing")})
			return err
		}, "ResourceNotFoundException"},
		{"targets of unknown", func() error {
			_, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("missing"), Targets: []ebtypes.Target{{Id: aws.String("a"), Arn: aws.String(queueARN)}}})
			return err
		}, "ResourceNotFoundException"},
		{"list targets of unknown", func() error {
			_, err := eb.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("missing")})
			return err
		}, "ResourceNotFoundException"},
		{"tag unknown", func() error {
			_, err := eb.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
			return err
		}, "ResourceNotFoundException"},
	} {
		t.Run(tc.name, func(t *testing.T) { expectCode(t, tc.call(), tc.code) })
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// setUpSpotRoute creates a queue (with a policy when allow is set) and a
// rule sending EC2 spot interruption warnings to it; it returns the queue URL.
func setUpSpotRoute(t *testing.T, eb *eventbridge.Client, q *sqs.Client, allow bool) string {
	t.Helper()
	ctx := context.Background()
	attrs := map[string]string{}
	if allow {
		attrs["Policy"] = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["events.amazonaws.com","sqs.amazonaws.com"]},` +
			`"Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:` + AccountID + `:interruptions"}]}`
	}
	url := createQueue(t, q, "interruptions", attrs)
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("spot"), EventPattern: aws.String(spotPattern)}); err != nil {
		t.Fatalf("PutRule: %v", err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("spot"), Targets: []ebtypes.Target{
		{Id: aws.String("queue"), Arn: aws.String("arn:aws:sqs:us-east-1:" + AccountID + ":interruptions")}}}); err != nil {
		t.Fatalf("PutTargets: %v", err)
	}
	return url
}

func TestEventBridgeDeliversToSQS(t *testing.T) {
	s, eb, q := newEventsClients(t)
	ctx := context.Background()
	url := setUpSpotRoute(t, eb, q, true)

	at := time.Date(2026, 11, 1, 12, 30, 15, 500_000_000, time.UTC)
	s.mu.Lock()
	s.emitLocked(Event{Source: "aws.ec2", DetailType: "EC2 Instance State-change Notification",
		Detail: map[string]string{"instance-id": "i-0other", "state": "running"}})
	s.emitLocked(Event{Source: "aws.ec2", DetailType: "EC2 Spot Instance Interruption Warning",
		Resources: []string{"arn:aws:ec2:us-east-1:" + AccountID + ":instance/i-0abc"},
		Detail:    map[string]string{"instance-id": "i-0abc", "instance-action": "terminate"}, Time: at})
	s.mu.Unlock()

	out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("got %d messages, want only the spot warning", len(out.Messages))
	}
	body := aws.ToString(out.Messages[0].Body)
	var env struct {
		Version    string            `json:"version"`
		ID         string            `json:"id"`
		DetailType string            `json:"detail-type"`
		Source     string            `json:"source"`
		Account    string            `json:"account"`
		Time       string            `json:"time"`
		Region     string            `json:"region"`
		Resources  []string          `json:"resources"`
		Detail     map[string]string `json:"detail"`
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatalf("message body is not an event envelope: %v\n%s", err, body)
	}
	if env.Version != "0" || !uuidRE.MatchString(env.ID) || env.DetailType != "EC2 Spot Instance Interruption Warning" ||
		env.Source != "aws.ec2" || env.Account != AccountID || env.Time != "2026-11-01T12:30:15Z" || env.Region != "us-east-1" ||
		len(env.Resources) != 1 || env.Resources[0] != "arn:aws:ec2:us-east-1:"+AccountID+":instance/i-0abc" ||
		env.Detail["instance-id"] != "i-0abc" || env.Detail["instance-action"] != "terminate" {
		t.Fatalf("envelope %+v", env)
	}
	// Field order as AWS writes it.
	order := regexp.MustCompile(`^\{"version":"0","id":"[^"]+","detail-type":"[^"]+","source":"aws.ec2","account":"\d+","time":"[^"]+","region":"us-east-1","resources":\[[^\]]*\],"detail":\{.*\}\}$`)
	if !order.MatchString(body) {
		t.Fatalf("envelope layout differs from AWS's: %s", body)
	}

	// A disabled rule delivers nothing.
	if _, err := eb.DisableRule(ctx, &eventbridge.DisableRuleInput{Name: aws.String("spot")}); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.emitLocked(Event{Source: "aws.ec2", DetailType: "EC2 Spot Instance Interruption Warning", Detail: map[string]string{"instance-id": "i-0abc"}})
	s.mu.Unlock()
	if attrs := queueAttrs(t, q, url, "ApproximateNumberOfMessages"); attrs["ApproximateNumberOfMessages"] != "0" {
		t.Fatalf("disabled rule delivered: %v", attrs)
	}
}

func TestEventBridgeWithoutQueuePolicyDropsEvents(t *testing.T) {
	s, eb, q := newEventsClients(t)
	url := setUpSpotRoute(t, eb, q, false)
	s.mu.Lock()
	s.emitLocked(Event{Source: "aws.ec2", DetailType: "EC2 Spot Instance Interruption Warning", Detail: map[string]string{"instance-id": "i-0abc"}})
	s.mu.Unlock()
	out, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 1})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	if len(out.Messages) != 0 {
		t.Fatalf("event delivered to a queue whose policy does not allow EventBridge: %s", aws.ToString(out.Messages[0].Body))
	}
}

func TestPutEvents(t *testing.T) {
	_, eb, q := newEventsClients(t)
	ctx := context.Background()
	url := createQueue(t, q, "app", map[string]string{"Policy": `{"Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*",` +
		`"Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:events:us-east-1:` + AccountID + `:rule/app"}}}]}`})
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("app"), EventPattern: aws.String(`{"source":[{"prefix":"app."}],"detail":{"size":[{"numeric":[">",10]}]}}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("app"), Targets: []ebtypes.Target{
		{Id: aws.String("q"), Arn: aws.String("arn:aws:sqs:us-east-1:" + AccountID + ":app")}}}); err != nil {
		t.Fatal(err)
	}
	out, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("app.orders"), DetailType: aws.String("Order"), Detail: aws.String(`{"size": 20}`), Resources: []string{"r1"}},
		{Source: aws.String("app.orders"), DetailType: aws.String("Order"), Detail: aws.String(`{"size": 5}`)},
		{Source: aws.String("app.orders"), DetailType: aws.String("Order"), Detail: aws.String(`not json`)},
		{Source: aws.String("aws.ec2"), DetailType: aws.String("Order"), Detail: aws.String(`{}`)},
		{DetailType: aws.String("Order"), Detail: aws.String(`{}`)},
	}})
	if err != nil {
		t.Fatalf("PutEvents: %v", err)
	}
	if out.FailedEntryCount != 3 || len(out.Entries) != 5 {
		t.Fatalf("PutEvents = %+v", out)
	}
	for i, wantCode := range []string{"", "", "MalformedDetail", "NotAuthorizedForSourceException", "InvalidArgument"} {
		e := out.Entries[i]
		if aws.ToString(e.ErrorCode) != wantCode || (wantCode == "") != uuidRE.MatchString(aws.ToString(e.EventId)) {
			t.Errorf("entry %d = {EventId:%q ErrorCode:%q}, want code %q", i, aws.ToString(e.EventId), aws.ToString(e.ErrorCode), wantCode)
		}
	}
	recv, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
	if err != nil || len(recv.Messages) != 1 {
		t.Fatalf("ReceiveMessage = %+v, %v; want the one matching event", recv, err)
	}
	var env map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(recv.Messages[0].Body)), &env); err != nil {
		t.Fatal(err)
	}
	if env["id"] != aws.ToString(out.Entries[0].EventId) || env["source"] != "app.orders" || env["detail"].(map[string]any)["size"] != 20.0 {
		t.Fatalf("delivered %v", env)
	}

	_, err = eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{}})
	expectCode(t, err, "ValidationException")
}

// TestSQSAndRulesSurviveRestart checks that queues, messages and rules are
// persisted with the world.
func TestSQSAndRulesSurviveRestart(t *testing.T) {
	state := t.TempDir() + "/world.json"
	ctx := context.Background()
	s1, err := New(Options{StateFile: state})
	if err != nil {
		t.Fatal(err)
	}
	cfg := s1.Config()
	eb, q := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	url := setUpSpotRoute(t, eb, q, true)
	if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("kept"),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{"k": {DataType: aws.String("String"), StringValue: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	if err := s1.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s2 := NewForTest(t, Options{StateFile: state})
	cfg = s2.Config()
	eb, q = eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	url2, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("interruptions")})
	if err != nil {
		t.Fatalf("queue lost across restart: %v", err)
	}
	out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url2.QueueUrl, MessageAttributeNames: []string{"All"}})
	if err != nil || len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "kept" ||
		aws.ToString(out.Messages[0].MessageAttributes["k"].StringValue) != "v" {
		t.Fatalf("message lost across restart: %+v, %v", out, err)
	}
	targets, err := eb.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("spot")})
	if err != nil || len(targets.Targets) != 1 {
		t.Fatalf("rule lost across restart: %+v, %v", targets, err)
	}
}
