package awsemu

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	clocktesting "k8s.io/utils/clock/testing"
)

func newSQSClient(t *testing.T, opts Options) (*Server, *sqs.Client) {
	t.Helper()
	s := NewForTest(t, opts)
	cfg := s.Config()
	cfg.RetryMaxAttempts = 1
	return s, sqs.NewFromConfig(cfg)
}

func createQueue(t *testing.T, c *sqs.Client, name string, attrs map[string]string) string {
	t.Helper()
	out, err := c.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

func queueAttrs(t *testing.T, c *sqs.Client, url string, names ...types.QueueAttributeName) map[string]string {
	t.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: names})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	return out.Attributes
}

func TestSQSQueueLifecycle(t *testing.T) {
	s, c := newSQSClient(t, Options{})
	ctx := context.Background()

	url := createQueue(t, c, "interruptions", map[string]string{"MessageRetentionPeriod": "300"})
	if want := s.URL + "/" + AccountID + "/interruptions"; url != want {
		t.Fatalf("queue URL %q, want %q", url, want)
	}
	// Same attributes: idempotent; different: QueueNameExists.
	if again := createQueue(t, c, "interruptions", map[string]string{"MessageRetentionPeriod": "300"}); again != url {
		t.Fatalf("re-create returned %q", again)
	}
	_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("interruptions"), Attributes: map[string]string{"MessageRetentionPeriod": "600"}})
	var exists *types.QueueNameExists
	if !errors.As(err, &exists) {
		t.Fatalf("want QueueNameExists, got %v", err)
	}
	expectCode(t, err, "QueueAlreadyExists")
	createQueue(t, c, "other", nil)

	got, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("interruptions")})
	if err != nil || aws.ToString(got.QueueUrl) != url {
		t.Fatalf("GetQueueUrl = %v, %v", got, err)
	}
	_, err = c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("missing")})
	var notExist *types.QueueDoesNotExist
	if !errors.As(err, &notExist) {
		t.Fatalf("want QueueDoesNotExist, got %v", err)
	}
	expectCode(t, err, "AWS.SimpleQueueService.NonExistentQueue")

	list, err := c.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("inter")})
	if err != nil || len(list.QueueUrls) != 1 || list.QueueUrls[0] != url {
		t.Fatalf("ListQueues(prefix) = %v, %v", list, err)
	}
	page, err := c.ListQueues(ctx, &sqs.ListQueuesInput{MaxResults: aws.Int32(1)})
	if err != nil || len(page.QueueUrls) != 1 || page.NextToken == nil {
		t.Fatalf("ListQueues page 1 = %+v, %v", page, err)
	}
	page2, err := c.ListQueues(ctx, &sqs.ListQueuesInput{MaxResults: aws.Int32(1), NextToken: page.NextToken})
	if err != nil || len(page2.QueueUrls) != 1 || page2.QueueUrls[0] == page.QueueUrls[0] || page2.NextToken != nil {
		t.Fatalf("ListQueues page 2 = %+v, %v", page2, err)
	}

	attrs := queueAttrs(t, c, url, types.QueueAttributeNameAll)
	want := map[string]string{
		"QueueArn": "arn:aws:sqs:us-east-1:" + AccountID + ":interruptions", "MessageRetentionPeriod": "300",
		"VisibilityTimeout": "30", "ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0",
		"ReceiveMessageWaitTimeSeconds": "0", "DelaySeconds": "0", "MaximumMessageSize": "262144", "SqsManagedSseEnabled": "true",
	}
	for k, v := range want {
		if attrs[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, attrs[k], v)
		}
	}
	for _, k := range []string{"CreatedTimestamp", "LastModifiedTimestamp"} {
		if _, err := strconv.ParseInt(attrs[k], 10, 64); err != nil {
			t.Errorf("attribute %s = %q, want epoch seconds", k, attrs[k])
		}
	}
	if _, ok := attrs["Policy"]; ok {
		t.Errorf("Policy reported though never set")
	}
	named := queueAttrs(t, c, url, types.QueueAttributeNameVisibilityTimeout)
	if len(named) != 1 || named["VisibilityTimeout"] != "30" {
		t.Errorf("named attributes = %v", named)
	}
	_, err = c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{"Bogus"}})
	expectCode(t, err, "InvalidAttributeName")

	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*"}]}`
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url),
		Attributes: map[string]string{"VisibilityTimeout": "45", "Policy": policy}}); err != nil {
		t.Fatalf("SetQueueAttributes: %v", err)
	}
	attrs = queueAttrs(t, c, url, "VisibilityTimeout", "Policy")
	if attrs["VisibilityTimeout"] != "45" || attrs["Policy"] != policy {
		t.Fatalf("after set: %v", attrs)
	}

	for _, tc := range []struct {
		attrs map[string]string
		code  string
	}{
		{map[string]string{"MessageRetentionPeriod": "59"}, "InvalidAttributeValue"},
		{map[string]string{"MessageRetentionPeriod": "1209601"}, "InvalidAttributeValue"},
		{map[string]string{"VisibilityTimeout": "43201"}, "InvalidAttributeValue"},
		{map[string]string{"VisibilityTimeout": "soon"}, "InvalidAttributeValue"},
		{map[string]string{"Policy": "{not json"}, "InvalidAttributeValue"},
		{map[string]string{"Colour": "blue"}, "InvalidAttributeName"},
	} {
		_, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: tc.attrs})
		expectCode(t, err, tc.code)
	}

	// Tags.
	if _, err := c.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: aws.String(url), Tags: map[string]string{"team": "nodes", "env": "dev"}}); err != nil {
		t.Fatalf("TagQueue: %v", err)
	}
	if _, err := c.UntagQueue(ctx, &sqs.UntagQueueInput{QueueUrl: aws.String(url), TagKeys: []string{"env"}}); err != nil {
		t.Fatalf("UntagQueue: %v", err)
	}
	tags, err := c.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(url)})
	if err != nil || len(tags.Tags) != 1 || tags.Tags["team"] != "nodes" {
		t.Fatalf("ListQueueTags = %v, %v", tags, err)
	}

	// A QueueUrl naming another host still resolves by its path.
	if _, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String("https://sqs.us-east-1.amazonaws.com/" + AccountID + "/interruptions")}); err != nil {
		t.Fatalf("foreign-host QueueUrl: %v", err)
	}

	if _, err := c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
		t.Fatalf("DeleteQueue: %v", err)
	}
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x")})
	expectCode(t, err, "AWS.SimpleQueueService.NonExistentQueue")
}

func TestSQSMessages(t *testing.T) {
	_, c := newSQSClient(t, Options{})
	ctx := context.Background()
	url := createQueue(t, c, "work", nil)

	sent, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("hello"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"kind": {DataType: aws.String("String"), StringValue: aws.String("greeting")},
			"blob": {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2, 3}},
		}})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	sum := md5.Sum([]byte("hello"))
	if aws.ToString(sent.MD5OfMessageBody) != hex.EncodeToString(sum[:]) || aws.ToString(sent.MessageId) == "" {
		t.Fatalf("SendMessage output %+v", sent)
	}
	if len(aws.ToString(sent.MD5OfMessageAttributes)) != 32 {
		t.Fatalf("MD5OfMessageAttributes = %q", aws.ToString(sent.MD5OfMessageAttributes))
	}

	batch, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("one")},
		{Id: aws.String("b"), MessageBody: aws.String("two")},
		{Id: aws.String("late"), MessageBody: aws.String("delayed"), DelaySeconds: 600},
		{Id: aws.String("bad"), MessageBody: aws.String("x"), MessageAttributes: map[string]types.MessageAttributeValue{
			"n": {DataType: aws.String("Number"), StringValue: aws.String("NaNish")}}},
	}})
	if err != nil {
		t.Fatalf("SendMessageBatch: %v", err)
	}
	if len(batch.Successful) != 3 || len(batch.Failed) != 1 || aws.ToString(batch.Failed[0].Id) != "bad" ||
		aws.ToString(batch.Failed[0].Code) != "InvalidParameterValue" || !batch.Failed[0].SenderFault {
		t.Fatalf("SendMessageBatch = %+v", batch)
	}
	_, err = c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("one")}, {Id: aws.String("a"), MessageBody: aws.String("two")}}})
	expectCode(t, err, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct")

	attrs := queueAttrs(t, c, url, types.QueueAttributeNameAll)
	if attrs["ApproximateNumberOfMessages"] != "3" || attrs["ApproximateNumberOfMessagesDelayed"] != "1" {
		t.Fatalf("counts before receive: %v", attrs)
	}

	_, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 11})
	expectCode(t, err, "InvalidParameterValue")

	recv, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"ApproximateReceiveCount", "SentTimestamp"},
		MessageAttributeNames:       []string{"All"}})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	if len(recv.Messages) != 3 {
		t.Fatalf("received %d messages, want 3 (the delayed one stays hidden)", len(recv.Messages))
	}
	first := recv.Messages[0]
	if aws.ToString(first.Body) != "hello" || first.Attributes["ApproximateReceiveCount"] != "1" ||
		aws.ToString(first.MessageAttributes["kind"].StringValue) != "greeting" || string(first.MessageAttributes["blob"].BinaryValue) != "\x01\x02\x03" ||
		aws.ToString(first.MD5OfMessageAttributes) != aws.ToString(sent.MD5OfMessageAttributes) {
		t.Fatalf("first message %+v", first)
	}
	if ts, err := strconv.ParseInt(first.Attributes["SentTimestamp"], 10, 64); err != nil || time.Since(time.UnixMilli(ts)) > time.Minute {
		t.Fatalf("SentTimestamp %q", first.Attributes["SentTimestamp"])
	}
	if _, ok := first.Attributes["SenderId"]; ok {
		t.Fatalf("SenderId returned without being asked for")
	}
	attrs = queueAttrs(t, c, url, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
	if attrs["ApproximateNumberOfMessages"] != "0" || attrs["ApproximateNumberOfMessagesNotVisible"] != "3" {
		t.Fatalf("counts after receive: %v", attrs)
	}

	// Nothing is visible now: a short poll returns no messages at once.
	empty, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url)})
	if err != nil || len(empty.Messages) != 0 {
		t.Fatalf("empty receive = %v, %v", empty, err)
	}

	// Make the first message visible again, re-receive it, delete with the stale handle.
	if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: first.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatalf("ChangeMessageVisibility: %v", err)
	}
	again, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{"All"}})
	if err != nil || len(again.Messages) != 1 {
		t.Fatalf("re-receive = %v, %v", again, err)
	}
	if m := again.Messages[0]; aws.ToString(m.MessageId) != aws.ToString(first.MessageId) || m.Attributes["ApproximateReceiveCount"] != "2" ||
		aws.ToString(m.ReceiptHandle) == aws.ToString(first.ReceiptHandle) || m.Attributes["SenderId"] == "" {
		t.Fatalf("re-received %+v", m)
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: first.ReceiptHandle}); err != nil {
		t.Fatalf("DeleteMessage with a stale handle: %v", err)
	}
	_, err = c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String("garbage")})
	var invalid *types.ReceiptHandleIsInvalid
	if !errors.As(err, &invalid) {
		t.Fatalf("want ReceiptHandleIsInvalid, got %v", err)
	}
	_, err = c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: first.ReceiptHandle, VisibilityTimeout: 10})
	expectCode(t, err, "AWS.SimpleQueueService.MessageNotInflight")

	del, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("1"), ReceiptHandle: recv.Messages[1].ReceiptHandle},
		{Id: aws.String("2"), ReceiptHandle: recv.Messages[2].ReceiptHandle},
		{Id: aws.String("3"), ReceiptHandle: aws.String("nope")},
	}})
	if err != nil || len(del.Successful) != 2 || len(del.Failed) != 1 || aws.ToString(del.Failed[0].Code) != "ReceiptHandleIsInvalid" {
		t.Fatalf("DeleteMessageBatch = %+v, %v", del, err)
	}
	attrs = queueAttrs(t, c, url, types.QueueAttributeNameAll)
	if attrs["ApproximateNumberOfMessages"] != "0" || attrs["ApproximateNumberOfMessagesNotVisible"] != "0" || attrs["ApproximateNumberOfMessagesDelayed"] != "1" {
		t.Fatalf("counts after delete: %v", attrs)
	}

	if _, err := c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(url)}); err != nil {
		t.Fatalf("PurgeQueue: %v", err)
	}
	if attrs := queueAttrs(t, c, url, types.QueueAttributeNameAll); attrs["ApproximateNumberOfMessagesDelayed"] != "0" {
		t.Fatalf("purge left %v", attrs)
	}
	_, err = c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(url)})
	expectCode(t, err, "AWS.SimpleQueueService.PurgeQueueInProgress")

	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(strings.Repeat("x", 262145))})
	expectCode(t, err, "InvalidParameterValue")
}

func TestSQSLongPollReturnsWhenAMessageArrives(t *testing.T) {
	_, c := newSQSClient(t, Options{})
	ctx := context.Background()
	url := createQueue(t, c, "poll", nil)

	go func() {
		time.Sleep(200 * time.Millisecond)
		_, _ = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("wake")})
	}()
	start := time.Now()
	// A long wait, so returning on the message is told apart from waiting
	// it out even on a loaded machine.
	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 20})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	if len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "wake" {
		t.Fatalf("long poll got %+v", out.Messages)
	}
	if elapsed > 10*time.Second {
		t.Fatalf("long poll took %v; it should return as soon as the message arrives", elapsed)
	}
	t.Logf("long poll returned after %v", elapsed)

	// With nothing to receive it waits out WaitTimeSeconds.
	start = time.Now()
	out, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 1})
	if err != nil || len(out.Messages) != 0 {
		t.Fatalf("empty long poll = %v, %v", out, err)
	}
	// At least the wait; the upper bound only says it returns at all.
	if d := time.Since(start); d < 900*time.Millisecond || d > 15*time.Second {
		t.Fatalf("empty long poll took %v, want about 1s", d)
	}
}

func TestSQSVisibilityTimeoutAndRetention(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	s, c := newSQSClient(t, Options{Clock: clk})
	ctx := context.Background()
	url := createQueue(t, c, "vis", map[string]string{"VisibilityTimeout": "30", "MessageRetentionPeriod": "120"})

	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("m")}); err != nil {
		t.Fatal(err)
	}
	receive := func() int {
		t.Helper()
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url)})
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		return len(out.Messages)
	}
	if n := receive(); n != 1 {
		t.Fatalf("first receive got %d", n)
	}
	clk.Step(29 * time.Second)
	s.Tick()
	if n := receive(); n != 0 {
		t.Fatalf("message visible before its timeout")
	}
	clk.Step(2 * time.Second)
	s.Tick()
	if n := receive(); n != 1 {
		t.Fatalf("message not redelivered after its visibility timeout")
	}
	// Retention: 120 s after sending, the message is gone even though it was never deleted.
	clk.Step(90 * time.Second)
	s.Tick()
	if attrs := queueAttrs(t, c, url, types.QueueAttributeNameAll); attrs["ApproximateNumberOfMessagesNotVisible"] != "0" || attrs["ApproximateNumberOfMessages"] != "0" {
		t.Fatalf("message outlived its retention period: %v", attrs)
	}
	s.mu.Lock()
	n := len(s.world.SQS.Queues["vis"].Messages)
	s.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d messages kept past retention", n)
	}
}

func TestQueuePolicyEvaluation(t *testing.T) {
	const queue = "arn:aws:sqs:us-east-1:111122223333:q"
	const rule = "arn:aws:events:us-east-1:111122223333:rule/r"
	stmt := func(s string) string { return `{"Version":"2012-10-17","Statement":[` + s + `]}` }
	allow := `{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"` + queue + `"}`
	for _, tc := range []struct {
		name, policy string
		want         bool
	}{
		{"no policy", "", false},
		{"allow service", stmt(allow), true},
		{"single statement object", `{"Statement":` + allow + `}`, true},
		{"service list and sqs:*", stmt(`{"Effect":"Allow","Principal":{"Service":["sqs.amazonaws.com","events.amazonaws.com"]},"Action":["sqs:*"],"Resource":"*"}`), true},
		{"principal star", stmt(`{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*"}`), true},
		{"AWS star", stmt(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"SQS:SendMessage","Resource":"arn:aws:sqs:*:111122223333:*"}`), true},
		{"other service", stmt(`{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*"}`), false},
		{"other action", stmt(`{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:ReceiveMessage","Resource":"*"}`), false},
		{"other resource", stmt(`{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:111122223333:other"}`), false},
		{"explicit deny wins", stmt(allow + `,{"Effect":"Deny","Principal":"*","Action":"sqs:*","Resource":"*"}`), false},
		{"source arn equals", stmt(`{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*","Condition":{"ArnEquals":{"aws:SourceArn":"` + rule + `"}}}`), true},
		{"source arn like", stmt(`{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:events:*:111122223333:rule/*"}}}`), true},
		{"source arn mismatch", stmt(`{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:events:us-east-1:111122223333:rule/other"}}}`), false},
		{"source account mismatch", stmt(`{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"999"}}}`), false},
		{"source account match", stmt(`{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}`), true},
		// Karpenter's CloudFormation writes the TLS condition as a JSON boolean.
		{"boolean condition value", stmt(`{"Effect":"Allow","Principal":{"Service":["events.amazonaws.com","sqs.amazonaws.com"]},"Action":"sqs:SendMessage","Resource":"*"},{"Effect":"Deny","Principal":"*","Action":"sqs:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}`), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := policyAllowsService(tc.policy, "events.amazonaws.com", "sqs:SendMessage", queue, rule); got != tc.want {
				t.Fatalf("allowed = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSQSDeliverChecksThePolicy(t *testing.T) {
	s, c := newSQSClient(t, Options{})
	url := createQueue(t, c, "target", map[string]string{"Policy": `{"Statement":{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*"}}`})
	arn := "arn:aws:sqs:us-east-1:" + AccountID + ":target"
	s.mu.Lock()
	errAllowed := s.sqsDeliverLocked(arn, `{"a":1}`, "events.amazonaws.com")
	errOther := s.sqsDeliverLocked(arn, `{"a":2}`, "sns.amazonaws.com")
	errMissing := s.sqsDeliverLocked("arn:aws:sqs:us-east-1:"+AccountID+":missing", `{}`, "events.amazonaws.com")
	s.mu.Unlock()
	if errAllowed != nil || errOther == nil || errMissing == nil {
		t.Fatalf("deliveries: allowed=%v other=%v missing=%v", errAllowed, errOther, errMissing)
	}
	out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"SenderId"}})
	if err != nil || len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != `{"a":1}` ||
		out.Messages[0].Attributes["SenderId"] != "events.amazonaws.com" {
		t.Fatalf("ReceiveMessage = %+v, %v", out, err)
	}
}
