package awscli

import "testing"

// SQS speaks JSON 1.0 to botocore released since April 2024 (boto/botocore
// #3165), query-compatible: errors carry their query-protocol code in
// x-amzn-query-error, which the CLI reports (AWS.SimpleQueueService.*).
// Older CLIs, Debian 12's aws-cli 2.9 among them, speak the query
// protocol, which AWS still serves and so does the emulator: the same
// cases, and the same codes, hold for both.

func TestSQS(t *testing.T) {
	cli := cliFor(t)
	t.Logf("aws-cli %s speaks SQS's %s protocol", cli.version, cli.sqsProtocol(t))
	runScenarios(t, sqsScenarios)
}

// A UUID, as SQS's message ids are.
const uuidPattern = `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`

var sqsScenarios = []scenario{
	{name: "queue and messages", steps: []step{
		{service: "sqs", op: "CreateQueue", args: []string{"--queue-name", "awscli-q", "--attributes", "VisibilityTimeout=60", "--tags", "team=cli"},
			want: []check{matches("QueueUrl", `^http://127\.0\.0\.1:\d+/111122223333/awscli-q$`)}, save: map[string]string{"queue": "QueueUrl"}},
		{service: "sqs", op: "GetQueueUrl", args: []string{"--queue-name", "awscli-q"},
			want: []check{eq("QueueUrl", "{queue}")}},
		{service: "sqs", op: "ListQueues", args: []string{"--queue-name-prefix", "awscli"},
			want: []check{count("QueueUrls", 1), eq("QueueUrls.0", "{queue}")}},
		{service: "sqs", op: "GetQueueAttributes", args: []string{"--queue-url", "{queue}", "--attribute-names", "All"},
			want: []check{eq("Attributes.VisibilityTimeout", "60"), eq("Attributes.QueueArn", "arn:aws:sqs:us-east-1:{account}:awscli-q"),
				eq("Attributes.ApproximateNumberOfMessages", "0"), eq("Attributes.MessageRetentionPeriod", "345600"), matches("Attributes.CreatedTimestamp", `^\d+$`)}},
		{service: "sqs", op: "SetQueueAttributes", args: []string{"--queue-url", "{queue}", "--attributes", "MessageRetentionPeriod=600,DelaySeconds=0"}},
		{name: "GetQueueAttributes after SetQueueAttributes", service: "sqs", op: "GetQueueAttributes",
			args: []string{"--queue-url", "{queue}", "--attribute-names", "MessageRetentionPeriod", "VisibilityTimeout"},
			want: []check{count("Attributes", 2), eq("Attributes.MessageRetentionPeriod", "600")}},
		{service: "sqs", op: "SendMessage", args: []string{"--queue-url", "{queue}", "--message-body", "hello",
			"--message-attributes", `{"kind":{"DataType":"String","StringValue":"greeting"}}`},
			want: []check{matches("MessageId", uuidPattern), eq("MD5OfMessageBody", "5d41402abc4b2a76b9719d911017c592"), matches("MD5OfMessageAttributes", `^[0-9a-f]{32}$`)}},
		{service: "sqs", op: "SendMessageBatch", args: []string{"--queue-url", "{queue}", "--entries", "Id=a,MessageBody=one", "Id=b,MessageBody=two"},
			want: []check{count("Successful", 2), some("Successful.*.Id", "b"), matches("Successful.*.MessageId", uuidPattern), absent("Failed.0")}},
		{service: "sqs", op: "ReceiveMessage", args: []string{"--queue-url", "{queue}", "--max-number-of-messages", "10",
			"--message-attribute-names", "All", "--attribute-names", "All"},
			want: []check{count("Messages", 3), some("Messages.*.Body", "hello"), some("Messages.*.Body", "two"),
				some("Messages.*.MessageAttributes.kind.StringValue", "greeting"), eq("Messages.*.Attributes.ApproximateReceiveCount", "1")},
			save: map[string]string{"r0": "Messages.0.ReceiptHandle", "r1": "Messages.1.ReceiptHandle", "r2": "Messages.2.ReceiptHandle", "body0": "Messages.0.Body"}},
		{service: "sqs", op: "ChangeMessageVisibility", args: []string{"--queue-url", "{queue}", "--receipt-handle", "{r0}", "--visibility-timeout", "0"}},
		{name: "ReceiveMessage of the message made visible", service: "sqs", op: "ReceiveMessage", args: []string{"--queue-url", "{queue}",
			"--max-number-of-messages", "10", "--attribute-names", "ApproximateReceiveCount"},
			want: []check{count("Messages", 1), eq("Messages.0.Body", "{body0}"), eq("Messages.0.Attributes.ApproximateReceiveCount", "2")},
			save: map[string]string{"r0": "Messages.0.ReceiptHandle"}},
		{service: "sqs", op: "DeleteMessage", args: []string{"--queue-url", "{queue}", "--receipt-handle", "{r0}"}},
		{service: "sqs", op: "DeleteMessageBatch", args: []string{"--queue-url", "{queue}", "--entries",
			`[{"Id":"m1","ReceiptHandle":"{r1}"},{"Id":"m2","ReceiptHandle":"{r2}"}]`},
			want: []check{count("Successful", 2), some("Successful.*.Id", "m2")}},
		{name: "GetQueueAttributes of the emptied queue", service: "sqs", op: "GetQueueAttributes", args: []string{"--queue-url", "{queue}",
			"--attribute-names", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"},
			want: []check{eq("Attributes.ApproximateNumberOfMessages", "0"), eq("Attributes.ApproximateNumberOfMessagesNotVisible", "0")}},
		{service: "sqs", op: "TagQueue", args: []string{"--queue-url", "{queue}", "--tags", "env=test"}},
		{service: "sqs", op: "ListQueueTags", args: []string{"--queue-url", "{queue}"},
			want: []check{count("Tags", 2), eq("Tags.team", "cli"), eq("Tags.env", "test")}},
		{service: "sqs", op: "UntagQueue", args: []string{"--queue-url", "{queue}", "--tag-keys", "team"}},
		{name: "ListQueueTags after UntagQueue", service: "sqs", op: "ListQueueTags", args: []string{"--queue-url", "{queue}"},
			want: []check{count("Tags", 1), eq("Tags.env", "test")}},
		{name: "SendMessage to purge", service: "sqs", op: "SendMessage", args: []string{"--queue-url", "{queue}", "--message-body", "doomed"},
			want: []check{matches("MessageId", uuidPattern)}},
		{service: "sqs", op: "PurgeQueue", args: []string{"--queue-url", "{queue}"}},
		// An empty receive answers {}, which the CLI prints as nothing.
		{name: "ReceiveMessage after PurgeQueue", service: "sqs", op: "ReceiveMessage", args: []string{"--queue-url", "{queue}"}},
		{service: "sqs", op: "DeleteQueue", args: []string{"--queue-url", "{queue}"}},
		{name: "GetQueueUrl after DeleteQueue", service: "sqs", op: "GetQueueUrl", args: []string{"--queue-name", "awscli-q"},
			err: "AWS.SimpleQueueService.NonExistentQueue"},
	}},
	{name: "batch failures", steps: []step{
		{service: "sqs", op: "CreateQueue", args: []string{"--queue-name", "awscli-batch"}, save: map[string]string{"queue": "QueueUrl"},
			want: []check{matches("QueueUrl", `/awscli-batch$`)}},
		{name: "DeleteMessageBatch of unknown receipts", service: "sqs", op: "DeleteMessageBatch", args: []string{"--queue-url", "{queue}", "--entries",
			`[{"Id":"x","ReceiptHandle":"not-a-receipt"}]`},
			want: []check{count("Failed", 1), eq("Failed.0.Id", "x"), eq("Failed.0.SenderFault", "true"), eq("Failed.0.Code", "ReceiptHandleIsInvalid")}},
		{name: "SendMessageBatch with duplicate ids", service: "sqs", op: "SendMessageBatch", args: []string{"--queue-url", "{queue}",
			"--entries", "Id=a,MessageBody=one", "Id=a,MessageBody=two"},
			err: "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"},
	}},
}
