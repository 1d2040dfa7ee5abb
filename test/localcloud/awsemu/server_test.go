package awsemu

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
)

// TestUnknownActionsGetAWSErrors checks that the real SDK clients see
// AWS-shaped errors for operations the emulator does not implement.
func TestUnknownActionsGetAWSErrors(t *testing.T) {
	s := NewForTest(t, Options{})
	ctx := context.Background()
	cfg := s.Config()
	cfg.RetryMaxAttempts = 1

	_, err := ec2.NewFromConfig(cfg).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	expectCode(t, err, "InvalidAction")

	_, err = sqs.NewFromConfig(cfg).ListDeadLetterSourceQueues(ctx, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: new(string)})
	expectCode(t, err, "UnknownOperationException")
}

func expectCode(t *testing.T, err error, code string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("want API error %s, got %v", code, err)
	}
	if apiErr.ErrorCode() != code {
		t.Fatalf("want error code %s, got %s (%s)", code, apiErr.ErrorCode(), apiErr.ErrorMessage())
	}
}
