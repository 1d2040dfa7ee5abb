package awsmetrics_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/nodewright/nodewright/controller/test/expectations"
	"github.com/nodewright/nodewright/controller/utils/awsmetrics"
	"github.com/nodewright/nodewright/test/localcloud/awsemu"
)

// Calls through an instrumented config are counted once each, by the code
// AWS answered with, and timed.
func TestInstrumentCountsCallsByCode(t *testing.T) {
	emu := awsemu.NewForTest(t, awsemu.Options{})
	cfg := emu.Config()
	awsmetrics.Instrument(&cfg)
	client := ec2.NewFromConfig(cfg)
	ctx := context.Background()
	ok := map[string]string{"service": "EC2", "operation": "DescribeAvailabilityZones", "code": awsmetrics.OK}
	bad := map[string]string{"service": "EC2", "operation": "DescribeInstances", "code": "InvalidInstanceID.Malformed"}
	timed := map[string]string{"service": "EC2", "operation": "DescribeInstances"}
	okBefore, badBefore, timedBefore := expectations.Metric(t, "nodewright_cloudprovider_api_calls_total", ok),
		expectations.Metric(t, "nodewright_cloudprovider_api_calls_total", bad),
		expectations.Metric(t, "nodewright_cloudprovider_api_duration_seconds", timed)

	if _, err := client.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"not-an-id"}}); err == nil {
		t.Fatal("DescribeInstances of a malformed id succeeded")
	}
	if got := expectations.Metric(t, "nodewright_cloudprovider_api_calls_total", ok) - okBefore; got != 1 {
		t.Errorf("OK DescribeAvailabilityZones counted %v times, want 1", got)
	}
	if got := expectations.Metric(t, "nodewright_cloudprovider_api_calls_total", bad) - badBefore; got != 1 {
		t.Errorf("failed DescribeInstances counted %v times under its code, want 1", got)
	}
	if got := expectations.Metric(t, "nodewright_cloudprovider_api_duration_seconds", timed) - timedBefore; got != 1 {
		t.Errorf("DescribeInstances timed %v times, want 1", got)
	}
}

func TestCode(t *testing.T) {
	if awsmetrics.Code(nil) != awsmetrics.OK || awsmetrics.Code(context.Canceled) != awsmetrics.Unknown {
		t.Error("Code: want OK for nil and Unknown for an error without an AWS code")
	}
}
