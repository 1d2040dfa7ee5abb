package awscli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/nodewright/nodewright/test/localcloud/awsemu"
)

// EC2 speaks the EC2 query protocol: form in, XML out, lists as <item>.

func TestEC2(t *testing.T) { runScenarios(t, ec2Scenarios) }

var ec2Scenarios = []scenario{
	{name: "catalog", steps: []step{
		{service: "ec2", op: "DescribeAvailabilityZones",
			want: []check{count("AvailabilityZones", 3), eq("AvailabilityZones.0.ZoneName", "us-east-1a"),
				eq("AvailabilityZones.*.State", "available"), eq("AvailabilityZones.*.RegionName", "us-east-1"), matches("AvailabilityZones.*.ZoneId", `^use1-az\d$`)}},
		{service: "ec2", op: "DescribeInstanceTypes", args: []string{"--instance-types", "m5.large", "m6g.large"},
			want: []check{count("InstanceTypes", 2), some("InstanceTypes.*.InstanceType", "m5.large"), some("InstanceTypes.*.ProcessorInfo.SupportedArchitectures.0", "arm64"),
				some("InstanceTypes.*.VCpuInfo.DefaultVCpus", "2"), some("InstanceTypes.*.MemoryInfo.SizeInMiB", "8192"), eq("InstanceTypes.*.Hypervisor", "nitro")}},
		// Unfiltered, the answer comes in pages that the CLI follows by NextToken.
		{name: "DescribeInstanceTypes every page", service: "ec2", op: "DescribeInstanceTypes",
			want: []check{count("InstanceTypes", 1382), absent("NextToken")}},
		{service: "ec2", op: "DescribeInstanceTypeOfferings", args: []string{"--location-type", "availability-zone", "--filters", "Name=instance-type,Values=m5.large"},
			want: []check{count("InstanceTypeOfferings", 3), eq("InstanceTypeOfferings.*.InstanceType", "m5.large"),
				eq("InstanceTypeOfferings.*.LocationType", "availability-zone"), some("InstanceTypeOfferings.*.Location", "us-east-1c")}},
		{service: "ec2", op: "DescribeSpotPriceHistory", args: []string{"--instance-types", "m5.large", "--product-descriptions", "Linux/UNIX", "--availability-zone", "us-east-1a"},
			want: []check{atLeast("SpotPriceHistory", 1), eq("SpotPriceHistory.*.InstanceType", "m5.large"), eq("SpotPriceHistory.*.AvailabilityZone", "us-east-1a"),
				eq("SpotPriceHistory.*.ProductDescription", "Linux/UNIX"), matches("SpotPriceHistory.*.SpotPrice", `^0\.\d+$`), matches("SpotPriceHistory.*.Timestamp", `^20\d\d-`)}},
		{service: "ec2", op: "DescribeImages", args: []string{"--owners", "602401143452", "--filters", "Name=name,Values=amazon-eks-node-al2023-arm64-standard-1.37-*"},
			want: []check{count("Images", 1), eq("Images.0.Architecture", "arm64"), matches("Images.0.ImageId", `^ami-[0-9a-f]{17}$`),
				eq("Images.0.OwnerId", "602401143452"), eq("Images.0.State", "available")}},
		{service: "ec2", op: "DescribeSubnets",
			want: []check{count("Subnets", 3), matches("Subnets.*.SubnetId", `^subnet-`), matches("Subnets.*.VpcId", `^vpc-`),
				some("Subnets.*.Tags.*.Key", "kubernetes.io/cluster/localcloud"), some("Subnets.*.AvailabilityZone", "us-east-1b")}},
		{service: "ec2", op: "DescribeSecurityGroups", args: []string{"--filters", "Name=tag:kubernetes.io/cluster/localcloud,Values=owned"},
			want: []check{count("SecurityGroups", 1), matches("SecurityGroups.0.GroupId", `^sg-`), matches("SecurityGroups.0.VpcId", `^vpc-`)}},
	}},
	{name: "instances", steps: []step{
		{service: "ec2", op: "DescribeImages", args: []string{"--owners", "602401143452", "--filters", "Name=name,Values=amazon-eks-node-al2023-x86_64-standard-1.37-*"},
			want: []check{count("Images", 1)}, save: map[string]string{"ami": "Images.0.ImageId"}},
		{service: "ec2", op: "DescribeSubnets", args: []string{"--filters", "Name=availability-zone,Values=us-east-1a"},
			want: []check{count("Subnets", 1)}, save: map[string]string{"subnet": "Subnets.0.SubnetId"}},
		{service: "ec2", op: "DescribeSecurityGroups",
			want: []check{atLeast("SecurityGroups", 1)}, save: map[string]string{"sg": "SecurityGroups.0.GroupId"}},
		{service: "ec2", op: "CreateLaunchTemplate", args: []string{"--launch-template-name", "awscli-lt",
			"--launch-template-data", `{"ImageId":"{ami}","InstanceType":"m5.large","SecurityGroupIds":["{sg}"]}`},
			want: []check{eq("LaunchTemplate.LaunchTemplateName", "awscli-lt"), matches("LaunchTemplate.LaunchTemplateId", `^lt-`),
				eq("LaunchTemplate.DefaultVersionNumber", "1"), eq("LaunchTemplate.LatestVersionNumber", "1")},
			save: map[string]string{"lt": "LaunchTemplate.LaunchTemplateId"}},
		{service: "ec2", op: "DescribeLaunchTemplates", args: []string{"--launch-template-ids", "{lt}"},
			want: []check{count("LaunchTemplates", 1), eq("LaunchTemplates.0.LaunchTemplateName", "awscli-lt")}},
		{service: "ec2", op: "CreateFleet", args: []string{"--type", "instant",
			"--target-capacity-specification", "TotalTargetCapacity=2,DefaultTargetCapacityType=spot",
			"--launch-template-configs", `[{"LaunchTemplateSpecification":{"LaunchTemplateId":"{lt}","Version":"1"},"Overrides":[{"InstanceType":"m5.large","SubnetId":"{subnet}"}]}]`,
			"--tag-specifications", "ResourceType=instance,Tags=[{Key=launched-by,Value=fleet}]"},
			want: []check{matches("FleetId", `^fleet-`), count("Instances", 1), count("Instances.0.InstanceIds", 2),
				eq("Instances.0.Lifecycle", "spot"), eq("Instances.0.InstanceType", "m5.large"),
				eq("Instances.0.LaunchTemplateAndOverrides.Overrides.SubnetId", "{subnet}")},
			save: map[string]string{"fleetInstance": "Instances.0.InstanceIds.0"}},
		{service: "ec2", op: "RunInstances", args: []string{"--image-id", "{ami}", "--instance-type", "m5.large", "--subnet-id", "{subnet}",
			"--count", "1", "--tag-specifications", "ResourceType=instance,Tags=[{Key=Name,Value=awscli}]"},
			want: []check{count("Instances", 1), eq("Instances.0.State.Name", "pending"), eq("Instances.0.InstanceType", "m5.large"),
				eq("Instances.0.ImageId", "{ami}"), eq("Instances.0.SubnetId", "{subnet}"), eq("Instances.0.Placement.AvailabilityZone", "us-east-1a"),
				matches("Instances.0.PrivateIpAddress", `^10\.`), matches("ReservationId", `^r-`)},
			save: map[string]string{"instance": "Instances.0.InstanceId"}},
		{service: "ec2", op: "DescribeInstances", args: []string{"--instance-ids", "{instance}"},
			want: []check{count("Reservations", 1), eq("Reservations.0.Instances.0.InstanceId", "{instance}"),
				some("Reservations.0.Instances.0.Tags.*.Value", "awscli"), eq("Reservations.0.Instances.0.Architecture", "x86_64"),
				eq("Reservations.0.Instances.0.SecurityGroups.0.GroupId", "{sg}")}},
		{service: "ec2", op: "DescribeInstanceStatus", args: []string{"--instance-ids", "{instance}", "{fleetInstance}", "--include-all-instances"},
			want: []check{count("InstanceStatuses", 2), some("InstanceStatuses.*.InstanceId", "{instance}"), eq("InstanceStatuses.*.AvailabilityZone", "us-east-1a")}},
		{name: "RebootInstances dry run", service: "ec2", op: "RebootInstances", args: []string{"--instance-ids", "{instance}", "--dry-run"}, err: "DryRunOperation"},
		{service: "ec2", op: "RebootInstances", args: []string{"--instance-ids", "{instance}"}},
		{service: "ec2", op: "CreateTags", args: []string{"--resources", "{instance}", "--tags", "Key=team,Value=cli"}},
		{name: "DescribeInstances by the new tag", service: "ec2", op: "DescribeInstances", args: []string{"--filters", "Name=tag:team,Values=cli"},
			want: []check{count("Reservations", 1), eq("Reservations.0.Instances.*.InstanceId", "{instance}")}},
		{service: "ec2", op: "DeleteTags", args: []string{"--resources", "{instance}", "--tags", "Key=team"}},
		{name: "DescribeInstances by the deleted tag", service: "ec2", op: "DescribeInstances", args: []string{"--filters", "Name=tag:team,Values=cli"},
			want: []check{count("Reservations", 0)}},
		{service: "ec2", op: "TerminateInstances", args: []string{"--instance-ids", "{instance}", "{fleetInstance}"},
			want: []check{count("TerminatingInstances", 2), eq("TerminatingInstances.*.CurrentState.Name", "shutting-down"),
				some("TerminatingInstances.*.InstanceId", "{fleetInstance}")}},
		{service: "ec2", op: "DeleteLaunchTemplate", args: []string{"--launch-template-id", "{lt}"},
			want: []check{eq("LaunchTemplate.LaunchTemplateId", "{lt}"), eq("LaunchTemplate.LaunchTemplateName", "awscli-lt")}},
		{name: "DescribeLaunchTemplates after DeleteLaunchTemplate", service: "ec2", op: "DescribeLaunchTemplates", args: []string{"--launch-template-ids", "{lt}"},
			err: "InvalidLaunchTemplateId.NotFound"},
	}},
	// Neither has a Create call in the emulator: the admin API seeds them, as
	// clients such as Karpenter only read reservations and groups made elsewhere.
	{name: "capacity reservations and placement groups", seed: seedReservations, steps: []step{
		{service: "ec2", op: "DescribeCapacityReservations",
			want: []check{count("CapacityReservations", 1), eq("CapacityReservations.0.CapacityReservationId", "{cr}"),
				eq("CapacityReservations.0.InstanceType", "m5.large"), eq("CapacityReservations.0.AvailabilityZone", "us-east-1a"),
				eq("CapacityReservations.0.TotalInstanceCount", "2"), eq("CapacityReservations.0.AvailableInstanceCount", "1"),
				eq("CapacityReservations.0.State", "active"), eq("CapacityReservations.0.InstancePlatform", "Linux/UNIX"),
				eq("CapacityReservations.0.InstanceMatchCriteria", "targeted"), eq("CapacityReservations.0.Tags.0.Value", "cli")}},
		{name: "DescribeCapacityReservations by id", service: "ec2", op: "DescribeCapacityReservations", args: []string{"--capacity-reservation-ids", "{cr}"},
			want: []check{count("CapacityReservations", 1), eq("CapacityReservations.0.CapacityReservationId", "{cr}")}},
		{name: "DescribeCapacityReservations of an unknown id", service: "ec2", op: "DescribeCapacityReservations",
			args: []string{"--capacity-reservation-ids", "cr-00000000000000000"}, err: "InvalidCapacityReservationId.NotFound"},
		{service: "ec2", op: "DescribePlacementGroups",
			want: []check{count("PlacementGroups", 1), eq("PlacementGroups.0.GroupName", "awscli-pg"), eq("PlacementGroups.0.GroupId", "{pg}"),
				eq("PlacementGroups.0.Strategy", "partition"), eq("PlacementGroups.0.PartitionCount", "3"), eq("PlacementGroups.0.State", "available")}},
		{name: "DescribePlacementGroups by id", service: "ec2", op: "DescribePlacementGroups", args: []string{"--group-ids", "{pg}"},
			want: []check{count("PlacementGroups", 1), eq("PlacementGroups.0.GroupName", "awscli-pg")}},
		{name: "DescribePlacementGroups of an unknown name", service: "ec2", op: "DescribePlacementGroups", args: []string{"--group-names", "nothing"},
			err: "InvalidPlacementGroup.Unknown"},
	}},
}

// seedReservations puts a targeted capacity reservation, one of its two
// instances in use, and a partition placement group in the emulator; it
// saves their ids as {cr} and {pg}.
func seedReservations(t *testing.T, srv *awsemu.Server, vars map[string]string) {
	cr := postAdmin(t, srv, "ec2/capacity-reservations", `{"instanceType":"m5.large","availabilityZone":"us-east-1a","totalInstanceCount":2,`+
		`"availableInstanceCount":1,"instanceMatchCriteria":"targeted","tags":{"team":"cli"}}`)
	pg := postAdmin(t, srv, "ec2/placement-groups", `{"name":"awscli-pg","strategy":"partition","partitionCount":3}`)
	vars["cr"], vars["pg"] = cr["id"].(string), pg["id"].(string)
}

// postAdmin posts to the emulator's admin API and returns its JSON answer.
func postAdmin(t *testing.T, srv *awsemu.Server, route, body string) map[string]any {
	t.Helper()
	resp, err := http.Post(srv.URL+"/_localcloud/"+route, "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s: %s", route, resp.Status, data)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("POST %s: %v: %s", route, err, data)
	}
	return out
}
