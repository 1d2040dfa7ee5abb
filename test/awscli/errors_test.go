package awscli

import (
	"testing"

	"github.com/nodewright/nodewright/test/localcloud/awsemu"
)

// TestErrors checks the main error paths of each protocol as the CLI
// reports them: a missing resource, a wrong secret (the signature does not
// match), an access key nobody issued, a dry run, and an operation the
// emulator does not serve. Each must name AWS's error code and exit as the
// CLI does on a service error.
func TestErrors(t *testing.T) {
	cli := cliFor(t)
	srv := awsemu.NewForTest(t, awsemu.Options{})
	wrongSecret := creds{id: awsemu.AdminAccessKeyID, secret: "not-the-secret"}
	unknownKey := creds{id: "AKIAUNKNOWNKEY000000", secret: awsemu.AdminSecretAccessKey}

	for _, tc := range []struct {
		name    string
		creds   creds // zero: the administrator's
		service string
		op      string
		args    []string
		code    string
	}{
		// EC2 query.
		{"EC2 unknown instance", creds{}, "ec2", "DescribeInstances", []string{"--instance-ids", "i-0123456789abcdef0"}, "InvalidInstanceID.NotFound"},
		{"EC2 malformed instance id", creds{}, "ec2", "DescribeInstances", []string{"--instance-ids", "instance-1"}, "InvalidInstanceID.Malformed"},
		{"EC2 unknown launch template", creds{}, "ec2", "DeleteLaunchTemplate", []string{"--launch-template-name", "nothing"}, "InvalidLaunchTemplateName.NotFoundException"},
		{"EC2 unknown image", creds{}, "ec2", "RunInstances", []string{"--image-id", "ami-00000000000000000", "--instance-type", "m5.large"}, "InvalidAMIID.NotFound"},
		{"EC2 dry run of a read", creds{}, "ec2", "DescribeAvailabilityZones", []string{"--dry-run"}, "DryRunOperation"},
		{"EC2 dry run of a launch", creds{}, "ec2", "CreateFleet", []string{"--dry-run", "--type", "instant",
			"--target-capacity-specification", "TotalTargetCapacity=1,DefaultTargetCapacityType=on-demand",
			"--launch-template-configs", `[{"LaunchTemplateSpecification":{"LaunchTemplateName":"any","Version":"$Latest"}}]`}, "DryRunOperation"},
		{"EC2 wrong secret", wrongSecret, "ec2", "DescribeInstances", nil, "AuthFailure"},
		{"EC2 unknown access key", unknownKey, "ec2", "DescribeInstances", nil, "AuthFailure"},
		{"EC2 operation not served", creds{}, "ec2", "DescribeVpcs", nil, "InvalidAction"},

		// AWS query: IAM and STS.
		{"IAM unknown role", creds{}, "iam", "GetRole", []string{"--role-name", "nothing"}, "NoSuchEntity"},
		{"IAM malformed policy", creds{}, "iam", "CreateRole", []string{"--role-name", "bad", "--assume-role-policy-document", `{"Statement":"nope"}`}, "MalformedPolicyDocument"},
		{"IAM invalid name", creds{}, "iam", "CreateUser", []string{"--user-name", "no spaces"}, "ValidationError"},
		{"IAM wrong secret", wrongSecret, "iam", "ListRoles", nil, "SignatureDoesNotMatch"},
		{"IAM unknown access key", unknownKey, "iam", "ListRoles", nil, "InvalidClientTokenId"},
		{"IAM operation not served", creds{}, "iam", "ListGroups", nil, "InvalidAction"},
		{"STS unknown role", creds{}, "sts", "AssumeRole", []string{"--role-arn", "arn:aws:iam::111122223333:role/nothing", "--role-session-name", "cli"}, "AccessDenied"},
		{"STS wrong secret", wrongSecret, "sts", "GetCallerIdentity", nil, "SignatureDoesNotMatch"},
		{"STS unknown access key", unknownKey, "sts", "GetCallerIdentity", nil, "InvalidClientTokenId"},

		// SQS: JSON 1.0, whose errors carry the query protocol's codes, or
		// the query protocol itself for a CLI released before 2024.
		{"SQS unknown queue", creds{}, "sqs", "GetQueueUrl", []string{"--queue-name", "nothing"}, "AWS.SimpleQueueService.NonExistentQueue"},
		{"SQS invalid attribute", creds{}, "sqs", "CreateQueue", []string{"--queue-name", "q", "--attributes", "VisibilityTimeout=99999"}, "InvalidAttributeValue"},
		{"SQS wrong secret", wrongSecret, "sqs", "ListQueues", nil, "SignatureDoesNotMatch"},
		{"SQS unknown access key", unknownKey, "sqs", "ListQueues", nil, "InvalidClientTokenId"},
		{"SQS operation not served", creds{}, "sqs", "ListDeadLetterSourceQueues", []string{"--queue-url", srv.URL + "/111122223333/q"}, "UnknownOperationException"},

		// JSON 1.1: EventBridge, SSM, Pricing.
		{"EventBridge unknown rule", creds{}, "events", "DescribeRule", []string{"--name", "nothing"}, "ResourceNotFoundException"},
		{"EventBridge wrong secret", wrongSecret, "events", "ListRules", nil, "InvalidSignatureException"},
		{"EventBridge unknown access key", unknownKey, "events", "ListRules", nil, "UnrecognizedClientException"},
		{"EventBridge operation not served", creds{}, "events", "ListEventBuses", nil, "UnknownOperationException"},
		{"SSM unknown parameter", creds{}, "ssm", "GetParameter", []string{"--name", "/nothing"}, "ParameterNotFound"},
		{"SSM wrong secret", wrongSecret, "ssm", "GetParameter", []string{"--name", al2023Param}, "InvalidSignatureException"},
		{"SSM unknown access key", unknownKey, "ssm", "GetParameter", []string{"--name", al2023Param}, "UnrecognizedClientException"},
		{"Pricing invalid filter", creds{}, "pricing", "GetProducts", []string{"--service-code", "AmazonEC2", "--filters", "Type=SOMETIMES,Field=instanceType,Value=m5.large"}, "InvalidParameterException"},
		{"Pricing unknown service", creds{}, "pricing", "DescribeServices", []string{"--service-code", "AmazonNothing"}, "NotFoundException"},
		{"Pricing wrong secret", wrongSecret, "pricing", "DescribeServices", nil, "InvalidSignatureException"},

		// REST-JSON: EKS.
		{"EKS unknown cluster", creds{}, "eks", "DescribeCluster", []string{"--name", "nothing"}, "ResourceNotFoundException"},
		{"EKS unknown association", creds{}, "eks", "DescribePodIdentityAssociation", []string{"--cluster-name", "localcloud", "--association-id", "a-nothing"}, "ResourceNotFoundException"},
		{"EKS wrong secret", wrongSecret, "eks", "ListClusters", nil, "InvalidSignatureException"},
		{"EKS unknown access key", unknownKey, "eks", "ListClusters", nil, "UnrecognizedClientException"},
		{"EKS operation not served", creds{}, "eks", "ListNodegroups", []string{"--cluster-name", "localcloud"}, "NotFoundException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cr := tc.creds
			if cr == (creds{}) {
				cr = admin
			}
			code := tc.code
			if tc.service == "sqs" && code == "UnknownOperationException" && cli.sqsProtocol(t) == sqsQuery {
				// The query protocol answers an unknown Action as IAM's does.
				code = "InvalidAction"
			}
			out := cli.run(t, srv.URL, cr, append([]string{tc.service, xformName(tc.op)}, tc.args...)...)
			out.skipUnknownCommand(t, cli)
			out.wantError(t, cli, tc.op, code)
		})
	}
}
