package awscli

import "testing"

// EventBridge speaks JSON 1.1. Its rules deliver to SQS queues whose
// policy lets events.amazonaws.com send, so the scenario reads the
// delivered event back with the SQS commands.

func TestEvents(t *testing.T) { runScenarios(t, eventsScenarios) }

const eventsQueuePolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},` +
	`"Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:111122223333:awscli-events"}]}`

var eventsScenarios = []scenario{
	{name: "rule", steps: []step{
		{service: "events", op: "PutRule", args: []string{"--name", "awscli-rule", "--event-pattern", `{"source":["awscli.test"]}`,
			"--description", "made by the AWS CLI", "--tags", "Key=team,Value=cli"},
			want: []check{eq("RuleArn", "arn:aws:events:us-east-1:{account}:rule/awscli-rule")}, save: map[string]string{"rule": "RuleArn"}},
		{service: "events", op: "DescribeRule", args: []string{"--name", "awscli-rule"},
			want: []check{eq("Name", "awscli-rule"), eq("Arn", "{rule}"), eq("State", "ENABLED"), eq("Description", "made by the AWS CLI"),
				eq("EventBusName", "default"), inJSON("EventPattern", eq("source.0", "awscli.test"))}},
		{service: "events", op: "ListRules", args: []string{"--name-prefix", "awscli"},
			want: []check{count("Rules", 1), eq("Rules.0.Arn", "{rule}")}},
		{service: "events", op: "PutTargets", args: []string{"--rule", "awscli-rule", "--targets", "Id=queue,Arn=arn:aws:sqs:us-east-1:{account}:awscli-events"},
			want: []check{eq("FailedEntryCount", "0"), count("FailedEntries", 0)}},
		{service: "events", op: "ListTargetsByRule", args: []string{"--rule", "awscli-rule"},
			want: []check{count("Targets", 1), eq("Targets.0.Id", "queue"), eq("Targets.0.Arn", "arn:aws:sqs:us-east-1:{account}:awscli-events")}},
		{service: "events", op: "DisableRule", args: []string{"--name", "awscli-rule"}},
		{name: "DescribeRule after DisableRule", service: "events", op: "DescribeRule", args: []string{"--name", "awscli-rule"},
			want: []check{eq("State", "DISABLED")}},
		{service: "events", op: "EnableRule", args: []string{"--name", "awscli-rule"}},
		{name: "DescribeRule after EnableRule", service: "events", op: "DescribeRule", args: []string{"--name", "awscli-rule"},
			want: []check{eq("State", "ENABLED")}},
		{service: "events", op: "PutEvents", args: []string{"--entries", `[{"Source":"awscli.test","DetailType":"CLI Test","Detail":"{}"}]`},
			want: []check{eq("FailedEntryCount", "0"), count("Entries", 1), matches("Entries.0.EventId", uuidPattern)}},
		{name: "PutEvents with bad entries", service: "events", op: "PutEvents", args: []string{"--entries",
			`[{"Source":"aws.ec2","DetailType":"x","Detail":"{}"},{"Source":"awscli.test","DetailType":"x","Detail":"not json"}]`},
			want: []check{eq("FailedEntryCount", "2"), eq("Entries.0.ErrorCode", "NotAuthorizedForSourceException"), eq("Entries.1.ErrorCode", "MalformedDetail")}},
		{service: "events", op: "TagResource", args: []string{"--resource-arn", "{rule}", "--tags", "Key=env,Value=test"}},
		{service: "events", op: "ListTagsForResource", args: []string{"--resource-arn", "{rule}"},
			want: []check{count("Tags", 2), some("Tags.*.Key", "env"), some("Tags.*.Value", "cli")}},
		{service: "events", op: "UntagResource", args: []string{"--resource-arn", "{rule}", "--tag-keys", "team"}},
		{name: "ListTagsForResource after UntagResource", service: "events", op: "ListTagsForResource", args: []string{"--resource-arn", "{rule}"},
			want: []check{count("Tags", 1), eq("Tags.0.Key", "env")}},
		{name: "DeleteRule with targets", service: "events", op: "DeleteRule", args: []string{"--name", "awscli-rule"}, err: "ValidationException"},
		{service: "events", op: "RemoveTargets", args: []string{"--rule", "awscli-rule", "--ids", "queue"},
			want: []check{eq("FailedEntryCount", "0")}},
		{service: "events", op: "DeleteRule", args: []string{"--name", "awscli-rule"}},
		{name: "DescribeRule after DeleteRule", service: "events", op: "DescribeRule", args: []string{"--name", "awscli-rule"}, err: "ResourceNotFoundException"},
	}},
	{name: "delivery to a queue", steps: []step{
		{service: "sqs", op: "CreateQueue", args: []string{"--queue-name", "awscli-events", "--attributes", `{"VisibilityTimeout":"600","Policy":` + jsonString(eventsQueuePolicy) + `}`},
			want: []check{matches("QueueUrl", `/awscli-events$`)}, save: map[string]string{"queue": "QueueUrl"}},
		{service: "events", op: "PutRule", args: []string{"--name", "awscli-rule", "--event-pattern", `{"source":["awscli.test"],"detail":{"n":[{"numeric":[">",0]}]}}`},
			want: []check{eq("RuleArn", "arn:aws:events:us-east-1:{account}:rule/awscli-rule")}},
		{service: "events", op: "PutTargets", args: []string{"--rule", "awscli-rule", "--targets", "Id=queue,Arn=arn:aws:sqs:us-east-1:{account}:awscli-events"},
			want: []check{eq("FailedEntryCount", "0")}},
		{service: "events", op: "PutEvents", args: []string{"--entries", `[{"Source":"awscli.test","DetailType":"CLI Test","Detail":"{\"n\":1}",` +
			`"Resources":["arn:aws:ec2:us-east-1:111122223333:instance/i-0abc"]},{"Source":"awscli.test","DetailType":"Unmatched","Detail":"{\"n\":0}"}]`},
			want: []check{eq("FailedEntryCount", "0"), count("Entries", 2)}, save: map[string]string{"event": "Entries.0.EventId"}},
		{name: "ReceiveMessage of the matching event", service: "sqs", op: "ReceiveMessage", args: []string{"--queue-url", "{queue}", "--max-number-of-messages", "10"},
			want: []check{count("Messages", 1), inJSON("Messages.0.Body", eq("id", "{event}"), eq("source", "awscli.test"), eq("detail-type", "CLI Test"),
				eq("detail.n", "1"), eq("account", "{account}"), eq("region", "us-east-1"), eq("resources.0", "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc"))}},
		{service: "events", op: "DisableRule", args: []string{"--name", "awscli-rule"}},
		{name: "PutEvents to the disabled rule", service: "events", op: "PutEvents", args: []string{"--entries", `[{"Source":"awscli.test","DetailType":"CLI Test","Detail":"{\"n\":2}"}]`},
			want: []check{eq("FailedEntryCount", "0")}},
		// The event received above stays in flight (VisibilityTimeout 600); nothing else arrives.
		{name: "ReceiveMessage after the disabled rule", service: "sqs", op: "ReceiveMessage", args: []string{"--queue-url", "{queue}"}},
	}},
}
