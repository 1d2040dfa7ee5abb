package awsemu

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestEC2DescribeCapacityReservations(t *testing.T) {
	s, c := newEC2(t, Options{})
	ctx := context.Background()
	empty, err := c.DescribeCapacityReservations(ctx, &ec2.DescribeCapacityReservationsInput{})
	if err != nil || len(empty.CapacityReservations) != 0 {
		t.Fatalf("no reservations yet: %v %+v", err, empty)
	}
	var open, targeted CapacityReservation
	if code := adminCall(t, s, "ec2/capacity-reservations", map[string]any{"instanceType": "m5.large", "availabilityZone": "us-east-1a",
		"totalInstanceCount": 4, "tags": map[string]string{"team": "ml"}}, &open); code != http.StatusOK {
		t.Fatalf("create open reservation: status %d", code)
	}
	end := s.clock.Now().Add(48 * time.Hour).Truncate(time.Second)
	if code := adminCall(t, s, "ec2/capacity-reservations", map[string]any{"instanceType": "p5.48xlarge", "availabilityZone": "us-east-1b",
		"totalInstanceCount": 1, "availableInstanceCount": 0, "instanceMatchCriteria": "targeted", "reservationType": "capacity-block",
		"endDate": end}, &targeted); code != http.StatusOK {
		t.Fatalf("create targeted reservation: status %d", code)
	}
	for _, bad := range []map[string]any{
		{"instanceType": "m5.huge", "availabilityZone": "us-east-1a", "totalInstanceCount": 1},
		{"instanceType": "m5.large", "availabilityZone": "eu-west-1a", "totalInstanceCount": 1},
		{"instanceType": "m5.large", "availabilityZone": "us-east-1a", "totalInstanceCount": 0},
		{"instanceType": "m5.large", "availabilityZone": "us-east-1a", "totalInstanceCount": 1, "state": "sleeping"},
	} {
		if code := adminCall(t, s, "ec2/capacity-reservations", bad, nil); code != http.StatusBadRequest {
			t.Errorf("bad reservation %v: status %d", bad, code)
		}
	}

	// Karpenter v1.15.0's query by selector (pkg/providers/capacityreservation).
	out, err := c.DescribeCapacityReservations(ctx, &ec2.DescribeCapacityReservationsInput{MaxResults: aws.Int32(1000), Filters: []types.Filter{
		filter("state", "active"), filter("owner-id", AccountID), filter("tag:team", "ml"), filter("tag-key", "team")}})
	if err != nil || len(out.CapacityReservations) != 1 {
		t.Fatalf("by selector: %v %+v", err, out)
	}
	got := out.CapacityReservations[0]
	if aws.ToString(got.CapacityReservationId) != open.ID || got.InstanceType == nil || aws.ToString(got.InstanceType) != "m5.large" ||
		aws.ToInt32(got.AvailableInstanceCount) != 4 || got.State != types.CapacityReservationStateActive ||
		got.InstanceMatchCriteria != types.InstanceMatchCriteriaOpen || got.EndDateType != types.EndDateTypeUnlimited ||
		got.ReservationType != types.CapacityReservationTypeDefault || aws.ToString(got.AvailabilityZoneId) != "use1-az1" ||
		aws.ToString(got.CapacityReservationArn) != "arn:aws:ec2:us-east-1:"+AccountID+":capacity-reservation/"+open.ID {
		t.Errorf("open reservation %+v", got)
	}
	// ... and by id.
	out, err = c.DescribeCapacityReservations(ctx, &ec2.DescribeCapacityReservationsInput{CapacityReservationIds: []string{targeted.ID},
		Filters: []types.Filter{filter("state", "active")}})
	if err != nil || len(out.CapacityReservations) != 1 {
		t.Fatalf("by id: %v %+v", err, out)
	}
	got = out.CapacityReservations[0]
	if got.EndDateType != types.EndDateTypeLimited || !aws.ToTime(got.EndDate).Equal(end) || aws.ToInt32(got.AvailableInstanceCount) != 0 ||
		got.ReservationType != types.CapacityReservationTypeCapacityBlock {
		t.Errorf("targeted reservation %+v", got)
	}
	for _, tc := range []struct {
		f    types.Filter
		want int
	}{
		{filter("instance-match-criteria", "targeted"), 1},
		{filter("end-date-type", "unlimited"), 1},
		{filter("availability-zone", "us-east-1*"), 2},
		{filter("instance-platform", "Linux/UNIX"), 2},
		{filter("tenancy", "dedicated"), 0},
		{filter("state", "expired"), 0},
	} {
		out, err := c.DescribeCapacityReservations(ctx, &ec2.DescribeCapacityReservationsInput{Filters: []types.Filter{tc.f}})
		if err != nil || len(out.CapacityReservations) != tc.want {
			t.Errorf("%s=%v: %v, %d reservations, want %d", aws.ToString(tc.f.Name), tc.f.Values, err, len(out.CapacityReservations), tc.want)
		}
	}
	_, err = c.DescribeCapacityReservations(ctx, &ec2.DescribeCapacityReservationsInput{CapacityReservationIds: []string{"cr-0123456789abcdef0"}})
	expectCode(t, err, "InvalidCapacityReservationId.NotFound")
	_, err = c.DescribeCapacityReservations(ctx, &ec2.DescribeCapacityReservationsInput{CapacityReservationIds: []string{"reservation-1"}})
	expectCode(t, err, "InvalidCapacityReservationId.Malformed")
	_, err = c.DescribeCapacityReservations(ctx, &ec2.DescribeCapacityReservationsInput{CapacityReservationIds: []string{open.ID}, MaxResults: aws.Int32(10)})
	expectCode(t, err, "InvalidParameterCombination")
	_, err = c.DescribeCapacityReservations(ctx, &ec2.DescribeCapacityReservationsInput{MaxResults: aws.Int32(1001)})
	expectCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeCapacityReservations(ctx, &ec2.DescribeCapacityReservationsInput{DryRun: aws.Bool(true)})
	expectCode(t, err, "DryRunOperation")
}

func TestEC2DescribePlacementGroups(t *testing.T) {
	s, c := newEC2(t, Options{})
	ctx := context.Background()
	var cluster, spread PlacementGroup
	if code := adminCall(t, s, "ec2/placement-groups", map[string]any{"name": "training", "strategy": "cluster",
		"tags": map[string]string{"team": "ml"}}, &cluster); code != http.StatusOK {
		t.Fatalf("create cluster group: status %d", code)
	}
	if code := adminCall(t, s, "ec2/placement-groups", map[string]any{"name": "web", "strategy": "spread"}, &spread); code != http.StatusOK {
		t.Fatalf("create spread group: status %d", code)
	}
	for _, bad := range []map[string]any{{"name": "training", "strategy": "cluster"}, {"name": "x", "strategy": "huddle"},
		{"name": "y", "strategy": "cluster", "partitionCount": 3}} {
		if code := adminCall(t, s, "ec2/placement-groups", bad, nil); code != http.StatusBadRequest {
			t.Errorf("bad group %v: status %d", bad, code)
		}
	}

	// Karpenter v1.15.0 looks a group up by name or id, filtered to available (pkg/providers/placementgroup).
	avail := []types.Filter{filter("state", "available")}
	byName, err := c.DescribePlacementGroups(ctx, &ec2.DescribePlacementGroupsInput{GroupNames: []string{"training"}, Filters: avail})
	if err != nil || len(byName.PlacementGroups) != 1 {
		t.Fatalf("by name: %v %+v", err, byName)
	}
	g := byName.PlacementGroups[0]
	if aws.ToString(g.GroupId) != cluster.ID || g.Strategy != types.PlacementStrategyCluster || g.State != types.PlacementGroupStateAvailable ||
		aws.ToString(g.GroupArn) != "arn:aws:ec2:us-east-1:"+AccountID+":placement-group/training" || len(g.Tags) != 1 {
		t.Errorf("cluster group %+v", g)
	}
	byID, err := c.DescribePlacementGroups(ctx, &ec2.DescribePlacementGroupsInput{GroupIds: []string{spread.ID}, Filters: avail})
	if err != nil || len(byID.PlacementGroups) != 1 || byID.PlacementGroups[0].SpreadLevel != types.SpreadLevelRack {
		t.Fatalf("by id: %v %+v", err, byID)
	}
	for _, tc := range []struct {
		f    types.Filter
		want int
	}{
		{filter("strategy", "spread"), 1},
		{filter("tag:team", "ml"), 1},
		{filter("group-name", "*"), 2},
		{filter("spread-level", "host"), 0},
	} {
		out, err := c.DescribePlacementGroups(ctx, &ec2.DescribePlacementGroupsInput{Filters: []types.Filter{tc.f}})
		if err != nil || len(out.PlacementGroups) != tc.want {
			t.Errorf("%s=%v: %v, %d groups, want %d", aws.ToString(tc.f.Name), tc.f.Values, err, len(out.PlacementGroups), tc.want)
		}
	}
	_, err = c.DescribePlacementGroups(ctx, &ec2.DescribePlacementGroupsInput{GroupNames: []string{"nope"}})
	expectCode(t, err, "InvalidPlacementGroup.Unknown")
	_, err = c.DescribePlacementGroups(ctx, &ec2.DescribePlacementGroupsInput{GroupIds: []string{"pg-0123456789abcdef0"}})
	expectCode(t, err, "InvalidPlacementGroup.Unknown")
	_, err = c.DescribePlacementGroups(ctx, &ec2.DescribePlacementGroupsInput{GroupIds: []string{"training"}})
	expectCode(t, err, "InvalidPlacementGroupId.Malformed")
	// group-id is not a documented filter of DescribePlacementGroups.
	_, err = c.DescribePlacementGroups(ctx, &ec2.DescribePlacementGroupsInput{Filters: []types.Filter{filter("group-id", cluster.ID)}})
	expectCode(t, err, "InvalidParameterValue")
}
