package awsemu

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	clocktesting "k8s.io/utils/clock/testing"
)

// adminCall posts body to an admin route and decodes the answer into out,
// returning the HTTP status.
func adminCall(t *testing.T, s *Server, route string, body, out any) int {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	r, err := http.Post(s.URL+adminPrefix+route, "application/json", bytes.NewReader(data))
	if err != nil {
		t.Fatalf("POST %s: %v", route, err)
	}
	defer r.Body.Close()
	if r.StatusCode == http.StatusOK && out != nil {
		if err := json.NewDecoder(r.Body).Decode(out); err != nil {
			t.Fatalf("decoding %s: %v", route, err)
		}
	}
	return r.StatusCode
}

// karpenterStatusFilters are the three filter sets Karpenter v1.15.0's
// instance status provider (pkg/providers/instancestatus) sends.
var karpenterStatusFilters = [][]types.Filter{
	{filter("instance-status.status", "impaired")},
	{filter("system-status.status", "impaired")},
	{filter("event.code", "instance-reboot", "system-reboot", "system-maintenance", "instance-retirement", "instance-stop")},
}

func TestEC2InstanceStatusScheduledEvents(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	s, c := newEC2(t, Options{Clock: clk})
	ctx := context.Background()
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(3), MaxCount: aws.Int32(3), ImageId: aws.String(al2023x86), InstanceType: "m5.large"})
	if err != nil {
		t.Fatal(err)
	}
	a, b, quiet := aws.ToString(run.Instances[0].InstanceId), aws.ToString(run.Instances[1].InstanceId), aws.ToString(run.Instances[2].InstanceId)
	clk.Step(2 * time.Second)
	s.Tick()
	statuses := func(f ...types.Filter) []types.InstanceStatus {
		t.Helper()
		out, err := c.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{Filters: f})
		if err != nil {
			t.Fatalf("DescribeInstanceStatus %v: %v", f, err)
		}
		return out.InstanceStatuses
	}
	ids := func(st []types.InstanceStatus) []string {
		var out []string
		for _, x := range st {
			out = append(out, aws.ToString(x.InstanceId))
		}
		slices.Sort(out)
		return out
	}
	for _, f := range karpenterStatusFilters {
		if got := statuses(f...); len(got) != 0 {
			t.Errorf("before any event, %s matched %v", aws.ToString(f[0].Name), ids(got))
		}
	}

	var ev ScheduledEvent
	if code := adminCall(t, s, "faults/scheduled-event", map[string]any{"instanceId": a, "code": "instance-stop",
		"startInSeconds": 3600, "durationSeconds": 7200, "deadlineSeconds": 86400}, &ev); code != http.StatusOK {
		t.Fatalf("scheduled-event: status %d", code)
	}
	adminPost(t, s, "faults/scheduled-change", map[string]any{"instanceId": b, "startInSeconds": 600})
	if code := adminCall(t, s, "faults/scheduled-event", map[string]any{"instanceId": quiet, "code": "meteor-strike"}, nil); code != http.StatusBadRequest {
		t.Errorf("unknown event code: status %d", code)
	}

	got := statuses(karpenterStatusFilters[2]...)
	if want := []string{a, b}; !slices.Equal(ids(got), sortedCopy(want)) {
		t.Fatalf("event.code matched %v, want %v", ids(got), want)
	}
	for _, st := range got {
		if len(st.Events) != 1 {
			t.Fatalf("%s events %+v", aws.ToString(st.InstanceId), st.Events)
		}
		e := st.Events[0]
		switch aws.ToString(st.InstanceId) {
		case a:
			start := clk.Now().Add(time.Hour)
			if e.Code != types.EventCodeInstanceStop || aws.ToString(e.InstanceEventId) != ev.ID || aws.ToString(e.Description) == "" ||
				!aws.ToTime(e.NotBefore).Equal(start) || !aws.ToTime(e.NotAfter).Equal(start.Add(2*time.Hour)) ||
				!aws.ToTime(e.NotBeforeDeadline).Equal(start.Add(24*time.Hour)) {
				t.Errorf("instance-stop event %+v", e)
			}
		case b:
			if e.Code != types.EventCodeInstanceRetirement || !aws.ToTime(e.NotBefore).Equal(clk.Now().Add(10*time.Minute)) || e.NotBeforeDeadline != nil {
				t.Errorf("retirement event %+v", e)
			}
		}
	}
	for _, tc := range []struct {
		f    types.Filter
		want []string
	}{
		{filter("event.code", "system-reboot"), nil},
		{filter("event.instance-event-id", ev.ID), []string{a}},
		{filter("event.not-before", ec2Time(clk.Now().Add(time.Hour))), []string{a}},
		{filter("event.not-before-deadline", "*"), []string{a}},
		{filter("event.description", "The instance is running on degraded hardware"), []string{a, b}},
		{filter("instance-status.reachability", "passed"), []string{a, b, quiet}},
		{filter("attached-ebs-status.status", "ok"), []string{a, b, quiet}},
		{filter("availability-zone-id", "use1-az1"), []string{a, b, quiet}},
	} {
		if got := ids(statuses(tc.f)); !slices.Equal(got, sortedCopy(tc.want)) {
			t.Errorf("%s=%v matched %v, want %v", aws.ToString(tc.f.Name), tc.f.Values, got, tc.want)
		}
	}

	// Events go with the instance.
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{a}}); err != nil {
		t.Fatal(err)
	}
	clk.Step(2*time.Hour + time.Minute)
	s.Tick()
	if got := ids(statuses(karpenterStatusFilters[2]...)); !slices.Equal(got, []string{b}) {
		t.Errorf("after a's termination, events on %v", got)
	}
	_, err = c.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{b}, MaxResults: aws.Int32(5)})
	expectCode(t, err, "InvalidParameterCombination")
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func TestEC2RebootInstances(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	s, c := newEC2(t, Options{Clock: clk})
	ctx := context.Background()
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(2), MaxCount: aws.Int32(2), ImageId: aws.String(al2023x86), InstanceType: "m5.large"})
	if err != nil {
		t.Fatal(err)
	}
	a, b := aws.ToString(run.Instances[0].InstanceId), aws.ToString(run.Instances[1].InstanceId)
	clk.Step(2 * time.Second)
	s.Tick()
	if _, err := c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{a}}); err != nil {
		t.Errorf("reboot: %v", err)
	}
	_, err = c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{a}, DryRun: aws.Bool(true)})
	expectCode(t, err, "DryRunOperation")
	_, err = c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{a, "i-0000000000000000a"}})
	expectCode(t, err, "InvalidInstanceID.NotFound")
	// AWS ignores a reboot of a terminated instance.
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{b}}); err != nil {
		t.Fatal(err)
	}
	clk.Step(3 * time.Second)
	s.Tick()
	if _, err := c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{b}}); err != nil {
		t.Errorf("reboot of a terminated instance: %v", err)
	}
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{a, b}})
	if err != nil || out.Reservations[0].Instances[0].State.Name != types.InstanceStateNameRunning ||
		out.Reservations[0].Instances[1].State.Name != types.InstanceStateNameTerminated {
		t.Errorf("after reboots: %v %+v", err, out)
	}

	// RebootInstances is authorized on the instance, with its tags.
	cfg := userConfig(t, s, "rebooter", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ec2:RebootInstances","Resource":"arn:aws:ec2:*:*:instance/*",
		 "Condition":{"StringEquals":{"aws:ResourceTag/team":"a"}}}]}`)
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{a}, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}); err != nil {
		t.Fatal(err)
	}
	user := ec2.NewFromConfig(cfg)
	if _, err := user.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{a}}); err != nil {
		t.Errorf("reboot of a team-a instance: %v", err)
	}
	_, err = user.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{b}})
	expectCode(t, err, "UnauthorizedOperation")
}
