package awsemu

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQS over the AWS query protocol, which clients released before 2024
// speak (aws-cli 2.9, Debian 12's): form-encoded Action requests with
// flattened lists and maps, XML answers, and the query error codes. The
// expected shapes are those of botocore's query-protocol SQS model.

func sqsQueryCall(t *testing.T, s *Server, params ...string) (int, *xmlNode) {
	t.Helper()
	return queryCall(t, s, s.Config(), "sqs", append([]string{"Version", "2012-11-05"}, params...)...)
}

// sqsQueryOK calls action and checks the envelope of a success: the
// <ActionResponse> root in SQS's namespace with a request id, and the
// <ActionResult> it returns, nil for an operation without output.
func sqsQueryOK(t *testing.T, s *Server, action string, params ...string) *xmlNode {
	t.Helper()
	status, doc := sqsQueryCall(t, s, append([]string{"Action", action}, params...)...)
	if status != 200 || doc.XMLName.Local != action+"Response" {
		t.Fatalf("%s: status %d, <%s>: %+v", action, status, doc.XMLName.Local, doc)
	}
	if doc.XMLName.Space != "http://queue.amazonaws.com/doc/2012-11-05/" || doc.text(t, "ResponseMetadata/RequestId") == "" {
		t.Errorf("%s: namespace %q, request id %q", action, doc.XMLName.Space, doc.text(t, "ResponseMetadata/RequestId"))
	}
	results := doc.all(action + "Result")
	if len(results) > 1 {
		t.Fatalf("%s: %d results", action, len(results))
	}
	if len(results) == 0 {
		return nil
	}
	return results[0]
}

// sqsQueryError calls action and checks that it fails with status and the
// query protocol's <ErrorResponse>, returning the error's code.
func sqsQueryError(t *testing.T, s *Server, status int, action string, params ...string) string {
	t.Helper()
	got, doc := sqsQueryCall(t, s, append([]string{"Action", action}, params...)...)
	if got != status || doc.XMLName.Local != "ErrorResponse" || doc.text(t, "Error/Type") != "Sender" ||
		doc.text(t, "Error/Message") == "" || doc.text(t, "RequestId") == "" {
		t.Fatalf("%s: status %d, want %d and an <ErrorResponse> from the sender: %+v", action, got, status, doc)
	}
	return doc.text(t, "Error/Code")
}

func TestSQSQueryProtocol(t *testing.T) {
	s, c := newSQSClient(t, Options{})
	ctx := context.Background()

	// Queues, their attributes and tags; what the query calls set, the
	// JSON protocol reads back: one set of handlers serves both.
	res := sqsQueryOK(t, s, "CreateQueue", "QueueName", "qq", "Attribute.1.Name", "VisibilityTimeout", "Attribute.1.Value", "45",
		"Attribute.2.Name", "DelaySeconds", "Attribute.2.Value", "0", "Tag.1.Key", "team", "Tag.1.Value", "infra")
	queue := res.text(t, "QueueUrl")
	if !strings.HasSuffix(queue, "/"+AccountID+"/qq") {
		t.Fatalf("QueueUrl %q", queue)
	}
	if got := queueAttrs(t, c, queue, types.QueueAttributeNameVisibilityTimeout); got["VisibilityTimeout"] != "45" {
		t.Errorf("VisibilityTimeout read over JSON: %v", got)
	}
	if res := sqsQueryOK(t, s, "GetQueueUrl", "QueueName", "qq"); res.text(t, "QueueUrl") != queue {
		t.Errorf("GetQueueUrl %q", res.text(t, "QueueUrl"))
	}
	if res := sqsQueryOK(t, s, "SetQueueAttributes", "QueueUrl", queue, "Attribute.1.Name", "MessageRetentionPeriod", "Attribute.1.Value", "600"); res != nil {
		t.Errorf("SetQueueAttributes, which has no output, wrote a result: %+v", res)
	}
	res = sqsQueryOK(t, s, "GetQueueAttributes", "QueueUrl", queue, "AttributeName.1", "MessageRetentionPeriod", "AttributeName.2", "QueueArn")
	if got := res.entries("Attribute", "Name"); len(got) != 2 || got["MessageRetentionPeriod"] != "600" || got["QueueArn"] != "arn:aws:sqs:us-east-1:"+AccountID+":qq" {
		t.Errorf("GetQueueAttributes %v", got)
	}
	sqsQueryOK(t, s, "TagQueue", "QueueUrl", queue, "Tag.1.Key", "env", "Tag.1.Value", "test")
	sqsQueryOK(t, s, "UntagQueue", "QueueUrl", queue, "TagKey.1", "nothing")
	if got := sqsQueryOK(t, s, "ListQueueTags", "QueueUrl", queue).entries("Tag", "Key"); len(got) != 2 || got["team"] != "infra" || got["env"] != "test" {
		t.Errorf("ListQueueTags %v", got)
	}
	sqsQueryOK(t, s, "UntagQueue", "QueueUrl", queue, "TagKey.1", "team")
	if tags, err := c.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(queue)}); err != nil || len(tags.Tags) != 1 || tags.Tags["env"] != "test" {
		t.Errorf("ListQueueTags over JSON: %v %v", err, tags)
	}
	createQueue(t, c, "qr", nil)
	res = sqsQueryOK(t, s, "ListQueues", "QueueNamePrefix", "q", "MaxResults", "1")
	if urls := res.all("QueueUrl"); len(urls) != 1 || urls[0].Text != queue || res.text(t, "NextToken") == "" {
		t.Fatalf("ListQueues first page: %+v", res)
	}
	res = sqsQueryOK(t, s, "ListQueues", "QueueNamePrefix", "q", "MaxResults", "1", "NextToken", res.text(t, "NextToken"))
	if urls := res.all("QueueUrl"); len(urls) != 1 || !strings.HasSuffix(urls[0].Text, "/qr") || res.text(t, "NextToken") != "" {
		t.Errorf("ListQueues second page: %+v", res)
	}

	// Messages: attributes of each type, whose digest must agree with the
	// one SQS computes for the same attributes sent over JSON.
	blob := []byte{0, 1, 2, 0xff}
	res = sqsQueryOK(t, s, "SendMessage", "QueueUrl", queue, "MessageBody", "hello",
		"MessageAttribute.1.Name", "kind", "MessageAttribute.1.Value.DataType", "String", "MessageAttribute.1.Value.StringValue", "greeting",
		"MessageAttribute.2.Name", "blob", "MessageAttribute.2.Value.DataType", "Binary", "MessageAttribute.2.Value.BinaryValue", base64.StdEncoding.EncodeToString(blob),
		"MessageAttribute.3.Name", "n", "MessageAttribute.3.Value.DataType", "Number.int", "MessageAttribute.3.Value.StringValue", "7")
	sum := md5.Sum([]byte("hello"))
	if res.text(t, "MessageId") == "" || res.text(t, "MD5OfMessageBody") != hex.EncodeToString(sum[:]) {
		t.Errorf("SendMessage %+v", res)
	}
	viaJSON, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(createQueue(t, c, "digest", nil)), MessageBody: aws.String("hello"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"kind": {DataType: aws.String("String"), StringValue: aws.String("greeting")},
			"blob": {DataType: aws.String("Binary"), BinaryValue: blob},
			"n":    {DataType: aws.String("Number.int"), StringValue: aws.String("7")},
		}})
	if err != nil || res.text(t, "MD5OfMessageAttributes") != aws.ToString(viaJSON.MD5OfMessageAttributes) {
		t.Errorf("MD5OfMessageAttributes over query %q, over JSON %q (%v)", res.text(t, "MD5OfMessageAttributes"), aws.ToString(viaJSON.MD5OfMessageAttributes), err)
	}
	res = sqsQueryOK(t, s, "SendMessageBatch", "QueueUrl", queue,
		"SendMessageBatchRequestEntry.1.Id", "a", "SendMessageBatchRequestEntry.1.MessageBody", "one",
		"SendMessageBatchRequestEntry.2.Id", "b", "SendMessageBatchRequestEntry.2.MessageBody", "two", "SendMessageBatchRequestEntry.2.DelaySeconds", "0")
	if ok := res.all("SendMessageBatchResultEntry"); len(ok) != 2 || ok[1].text(t, "Id") != "b" || ok[1].text(t, "MessageId") == "" || len(res.all("BatchResultErrorEntry")) != 0 {
		t.Errorf("SendMessageBatch %+v", res)
	}

	res = sqsQueryOK(t, s, "ReceiveMessage", "QueueUrl", queue, "MaxNumberOfMessages", "10", "AttributeName.1", "All", "MessageAttributeName.1", "All")
	msgs := res.all("Message")
	if len(msgs) != 3 {
		t.Fatalf("ReceiveMessage: %d messages, want 3: %+v", len(msgs), res)
	}
	hello := msgs[0]
	if hello.text(t, "Body") != "hello" || hello.text(t, "MD5OfBody") != hex.EncodeToString(sum[:]) ||
		hello.text(t, "MD5OfMessageAttributes") != aws.ToString(viaJSON.MD5OfMessageAttributes) {
		t.Errorf("the first message: %+v", hello)
	}
	if attrs := hello.entries("Attribute", "Name"); attrs["ApproximateReceiveCount"] != "1" || attrs["SenderId"] == "" || attrs["SentTimestamp"] == "" {
		t.Errorf("system attributes %v", attrs)
	}
	mattrs := map[string]*xmlNode{}
	for _, a := range hello.all("MessageAttribute") {
		mattrs[a.text(t, "Name")] = a
	}
	if a := mattrs["kind"]; a == nil || a.text(t, "Value/DataType") != "String" || a.text(t, "Value/StringValue") != "greeting" {
		t.Errorf("message attribute kind: %+v", a)
	}
	if a := mattrs["blob"]; a == nil || a.text(t, "Value/DataType") != "Binary" || a.text(t, "Value/BinaryValue") != base64.StdEncoding.EncodeToString(blob) {
		t.Errorf("message attribute blob: %+v", a)
	}
	if a := mattrs["n"]; a == nil || a.text(t, "Value/StringValue") != "7" {
		t.Errorf("message attribute n: %+v", a)
	}
	sqsQueryOK(t, s, "ChangeMessageVisibility", "QueueUrl", queue, "ReceiptHandle", hello.text(t, "ReceiptHandle"), "VisibilityTimeout", "0")
	res = sqsQueryOK(t, s, "DeleteMessageBatch", "QueueUrl", queue,
		"DeleteMessageBatchRequestEntry.1.Id", "one", "DeleteMessageBatchRequestEntry.1.ReceiptHandle", msgs[1].text(t, "ReceiptHandle"),
		"DeleteMessageBatchRequestEntry.2.Id", "bad", "DeleteMessageBatchRequestEntry.2.ReceiptHandle", "garbage")
	if ok, failed := res.all("DeleteMessageBatchResultEntry"), res.all("BatchResultErrorEntry"); len(ok) != 1 || ok[0].text(t, "Id") != "one" ||
		len(failed) != 1 || failed[0].text(t, "Id") != "bad" || failed[0].text(t, "SenderFault") != "true" || failed[0].text(t, "Code") != "ReceiptHandleIsInvalid" {
		t.Errorf("DeleteMessageBatch %+v", res)
	}
	res = sqsQueryOK(t, s, "ReceiveMessage", "QueueUrl", queue, "AttributeName.1", "ApproximateReceiveCount")
	if msgs := res.all("Message"); len(msgs) != 1 || msgs[0].text(t, "Body") != "hello" || msgs[0].entries("Attribute", "Name")["ApproximateReceiveCount"] != "2" {
		t.Fatalf("ReceiveMessage of the message made visible: %+v", res)
	} else {
		sqsQueryOK(t, s, "DeleteMessage", "QueueUrl", queue, "ReceiptHandle", msgs[0].text(t, "ReceiptHandle"))
	}
	sqsQueryOK(t, s, "PurgeQueue", "QueueUrl", queue)
	if res := sqsQueryOK(t, s, "ReceiveMessage", "QueueUrl", queue); len(res.Children) != 0 {
		t.Errorf("ReceiveMessage of an empty queue: %+v", res)
	}

	// Errors carry the query protocol's codes, and its status where it
	// differs (PurgeQueueInProgress is 403).
	for _, tc := range []struct {
		status       int
		code, action string
		params       []string
	}{
		{403, "AWS.SimpleQueueService.PurgeQueueInProgress", "PurgeQueue", []string{"QueueUrl", queue}},
		{400, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "SendMessageBatch", []string{"QueueUrl", queue,
			"SendMessageBatchRequestEntry.1.Id", "a", "SendMessageBatchRequestEntry.1.MessageBody", "x",
			"SendMessageBatchRequestEntry.2.Id", "a", "SendMessageBatchRequestEntry.2.MessageBody", "y"}},
		{400, "AWS.SimpleQueueService.EmptyBatchRequest", "DeleteMessageBatch", []string{"QueueUrl", queue}},
		{400, "QueueAlreadyExists", "CreateQueue", []string{"QueueName", "qq", "Attribute.1.Name", "VisibilityTimeout", "Attribute.1.Value", "46"}},
		{400, "InvalidAttributeName", "GetQueueAttributes", []string{"QueueUrl", queue, "AttributeName.1", "Colour"}},
		{400, "InvalidParameterValue", "SendMessage", []string{"QueueUrl", queue, "MessageBody", "x",
			"MessageAttribute.1.Name", "b", "MessageAttribute.1.Value.DataType", "Binary", "MessageAttribute.1.Value.BinaryValue", "not base64!"}},
		{400, "InvalidAction", "ListDeadLetterSourceQueues", []string{"QueueUrl", queue}},
	} {
		if code := sqsQueryError(t, s, tc.status, tc.action, tc.params...); code != tc.code {
			t.Errorf("%s: code %s, want %s", tc.action, code, tc.code)
		}
	}
	sqsQueryOK(t, s, "DeleteQueue", "QueueUrl", queue)
	if code := sqsQueryError(t, s, 400, "GetQueueUrl", "QueueName", "qq"); code != "AWS.SimpleQueueService.NonExistentQueue" {
		t.Errorf("GetQueueUrl of a deleted queue: %s", code)
	}
}

// Authentication and authorization read a query request as they read a
// JSON one: the signature's service is SQS's, and the tags a policy
// conditions on come from the flattened Tag.N entries.
func TestSQSQueryAuthorization(t *testing.T) {
	s := NewForTest(t, Options{})
	cfg := userConfig(t, s, "tagger", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["sqs:CreateQueue","sqs:TagQueue"],"Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"infra"}}},
		{"Effect":"Allow","Action":"sqs:GetQueueUrl","Resource":"*"}]}`)
	call := func(params ...string) (int, *xmlNode) {
		return queryCall(t, s, cfg, "sqs", append([]string{"Version", "2012-11-05"}, params...)...)
	}
	if status, doc := call("Action", "CreateQueue", "QueueName", "mine", "Tag.1.Key", "team", "Tag.1.Value", "infra"); status != 200 {
		t.Fatalf("CreateQueue with the tag the policy asks for: %d %+v", status, doc)
	}
	status, doc := call("Action", "CreateQueue", "QueueName", "theirs", "Tag.1.Key", "team", "Tag.1.Value", "other")
	if status != 403 || doc.text(t, "Error/Code") != "AccessDenied" {
		t.Errorf("CreateQueue with another tag: %d %+v", status, doc)
	}
	status, doc = call("Action", "GetQueueUrl", "QueueName", "mine")
	queue := doc.text(t, "GetQueueUrlResult/QueueUrl")
	if status != 200 || queue == "" {
		t.Fatalf("GetQueueUrl: %d %+v", status, doc)
	}
	if status, doc := call("Action", "TagQueue", "QueueUrl", queue, "Tag.1.Key", "team", "Tag.1.Value", "other"); status != 403 || doc.text(t, "Error/Code") != "AccessDenied" {
		t.Errorf("TagQueue with another tag: %d %+v", status, doc)
	}
	if status, doc := call("Action", "TagQueue", "QueueUrl", queue, "Tag.1.Key", "team", "Tag.1.Value", "infra"); status != 200 {
		t.Errorf("TagQueue with the tag the policy asks for: %d %+v", status, doc)
	}

	wrong := withKeys(s, AdminAccessKeyID, "not-the-secret", "")
	status, doc = queryCall(t, s, wrong, "sqs", "Action", "ListQueues", "Version", "2012-11-05")
	if status != 403 || doc.text(t, "Error/Code") != "SignatureDoesNotMatch" {
		t.Errorf("ListQueues with a wrong secret: %d %+v", status, doc)
	}
}

// TestSQSQueryErrorCodesMatchBotocore checks sqsQueryErrorCode and the
// statuses of the errors the emulator raises against the error codes of
// botocore's query-protocol SQS model (aws-cli 2.9's). It skips when no
// such model is installed.
func TestSQSQueryErrorCodesMatchBotocore(t *testing.T) {
	m := botocoreModel(t, "sqs", "query")
	if m == nil {
		t.Skip("no botocore query-protocol model of SQS installed (aws-cli before 2024)")
	}
	n := 0
	for name, shape := range m.Shapes {
		if shape.Error == nil {
			continue
		}
		n++
		if got := sqsQueryErrorCode(name); got != shape.Error.Code {
			t.Errorf("%s: query code %s, the model says %s", name, got, shape.Error.Code)
		}
	}
	if n == 0 {
		t.Fatal("the model has no error codes")
	}
	if want := m.Shapes["PurgeQueueInProgress"].Error.Status; want != 403 {
		t.Errorf("the model gives PurgeQueueInProgress status %d; TestSQSQueryProtocol expects 403", want)
	}
}
