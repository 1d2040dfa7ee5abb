package awsemu

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
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

// The call counts see every authenticated request, refused or answered, and
// only those.
func TestAdminCallCounts(t *testing.T) {
	s := NewForTest(t, Options{})
	ctx := context.Background()
	c := ec2.NewFromConfig(s.Config())
	for range 3 {
		if _, err := c.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{}); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{"i-0000000000000000f"}})
	cfg := s.Config()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(AdminAccessKeyID, "wrong", "")
	cfg.RetryMaxAttempts = 1
	_, _ = ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})

	calls := func() map[string]int {
		resp, err := http.Get(s.URL + adminPrefix + "calls")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out := map[string]int{}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got, want := calls(), map[string]int{"ec2:DescribeAvailabilityZones": 3, "ec2:TerminateInstances": 1}; !maps.Equal(got, want) {
		t.Errorf("calls = %v, want %v", got, want)
	}
	if resp, err := http.Post(s.URL+adminPrefix+"calls/reset", "application/json", nil); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	if got := calls(); len(got) != 0 {
		t.Errorf("after reset, calls = %v", got)
	}
}
