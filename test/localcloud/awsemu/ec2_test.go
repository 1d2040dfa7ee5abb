package awsemu

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	clocktesting "k8s.io/utils/clock/testing"
)

func newEC2(t testing.TB, opts Options) (*Server, *ec2.Client) {
	s := NewForTest(t, opts)
	cfg := s.Config()
	cfg.RetryMaxAttempts = 1
	return s, ec2.NewFromConfig(cfg)
}

func filter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

func TestEC2DescribeInstanceTypes(t *testing.T) {
	_, c := newEC2(t, Options{})
	ctx := context.Background()
	var all []types.InstanceTypeInfo
	pages := 0
	p := ec2.NewDescribeInstanceTypesPaginator(c, &ec2.DescribeInstanceTypesInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, out.InstanceTypes...)
	}
	if len(all) != 1382 || pages != 14 {
		t.Fatalf("got %d types in %d pages, want 1382 in 14", len(all), pages)
	}
	out, err := c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{Filters: []types.Filter{filter("instance-type", "m5.*")}})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]types.InstanceTypeInfo{}
	for _, it := range out.InstanceTypes {
		if !strings.HasPrefix(string(it.InstanceType), "m5.") {
			t.Errorf("filter m5.* returned %s", it.InstanceType)
		}
		byName[string(it.InstanceType)] = it
	}
	m5 := byName["m5.large"]
	if aws.ToInt32(m5.VCpuInfo.DefaultVCpus) != 2 || aws.ToInt64(m5.MemoryInfo.SizeInMiB) != 8192 ||
		m5.ProcessorInfo.SupportedArchitectures[0] != types.ArchitectureTypeX8664 ||
		aws.ToInt32(m5.NetworkInfo.MaximumNetworkInterfaces) != 3 || aws.ToInt32(m5.NetworkInfo.Ipv4AddressesPerInterface) != 10 ||
		aws.ToInt32(m5.NetworkInfo.NetworkCards[0].MaximumNetworkInterfaces) != 3 || m5.Hypervisor != types.InstanceTypeHypervisorNitro ||
		len(m5.SupportedUsageClasses) != 2 || aws.ToBool(m5.BareMetal) {
		t.Errorf("m5.large = %+v", m5)
	}
	if _, ok := byName["m5d.large"]; ok {
		t.Errorf("m5.* must not match m5d.large")
	}

	out, err = c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{"p3.2xlarge", "m6gd.large", "m5.metal"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range out.InstanceTypes {
		switch it.InstanceType {
		case "p3.2xlarge":
			if it.GpuInfo == nil || aws.ToInt32(it.GpuInfo.Gpus[0].Count) != 1 || aws.ToString(it.GpuInfo.Gpus[0].Manufacturer) != "NVIDIA" {
				t.Errorf("p3.2xlarge gpu info %+v", it.GpuInfo)
			}
		case "m6gd.large":
			if it.ProcessorInfo.SupportedArchitectures[0] != types.ArchitectureTypeArm64 || it.InstanceStorageInfo == nil ||
				aws.ToInt64(it.InstanceStorageInfo.TotalSizeInGB) <= 0 || it.InstanceStorageInfo.NvmeSupport != types.EphemeralNvmeSupportRequired {
				t.Errorf("m6gd.large = %+v %+v", it.ProcessorInfo, it.InstanceStorageInfo)
			}
		case "m5.metal":
			if !aws.ToBool(it.BareMetal) {
				t.Errorf("m5.metal is not bare metal")
			}
		}
	}
	_, err = c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{"m5.nonsense"}})
	expectCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{Filters: []types.Filter{filter("bogus", "x")}})
	expectCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{DryRun: aws.Bool(true)})
	expectCode(t, err, "DryRunOperation")
}

func TestEC2OfferingsZonesAndSpotPrices(t *testing.T) {
	s, c := newEC2(t, Options{World: WorldOptions{Offerings: map[string][]string{
		"us-east-1a": {"m5.large", "c5.large"}, "us-east-1b": {"m5.large"}, "us-east-1c": {"m6g.*"},
	}}})
	ctx := context.Background()
	out, err := c.DescribeInstanceTypeOfferings(ctx, &ec2.DescribeInstanceTypeOfferingsInput{LocationType: types.LocationTypeAvailabilityZone,
		Filters: []types.Filter{filter("instance-type", "m5.large", "c5.large")}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range out.InstanceTypeOfferings {
		got = append(got, string(o.InstanceType)+"@"+aws.ToString(o.Location))
	}
	sort.Strings(got)
	if want := "c5.large@us-east-1a m5.large@us-east-1a m5.large@us-east-1b"; strings.Join(got, " ") != want {
		t.Errorf("offerings %v, want %s", got, want)
	}
	out, err = c.DescribeInstanceTypeOfferings(ctx, &ec2.DescribeInstanceTypeOfferingsInput{LocationType: types.LocationTypeRegion,
		Filters: []types.Filter{filter("location", "us-east-1")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.InstanceTypeOfferings) < 3 || len(out.InstanceTypeOfferings) > 20 {
		t.Errorf("%d region offerings", len(out.InstanceTypeOfferings))
	}

	zones, err := c.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(zones.AvailabilityZones) != 3 || aws.ToString(zones.AvailabilityZones[0].ZoneId) != "use1-az1" {
		t.Errorf("zones %+v", zones.AvailabilityZones)
	}

	hist, err := c.DescribeSpotPriceHistory(ctx, &ec2.DescribeSpotPriceHistoryInput{
		InstanceTypes: []types.InstanceType{"m5.large"}, ProductDescriptions: []string{"Linux/UNIX"}, StartTime: aws.Time(s.clock.Now())})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.SpotPriceHistory) != 2 {
		t.Fatalf("want m5.large prices in 2 zones, got %d", len(hist.SpotPriceHistory))
	}
	od, _ := s.catalog.ByName["m5.large"].Price("us-east-1")
	for _, p := range hist.SpotPriceHistory {
		v, _ := strconv.ParseFloat(aws.ToString(p.SpotPrice), 64)
		if v < 0.3*od || v > 0.7*od {
			t.Errorf("spot price %v outside 30-70%% of %v", v, od)
		}
	}
	hist, err = c.DescribeSpotPriceHistory(ctx, &ec2.DescribeSpotPriceHistoryInput{
		Filters:   []types.Filter{filter("instance-type", "m5.large"), filter("availability-zone", "us-east-1b"), filter("product-description", "Linux/UNIX")},
		StartTime: aws.Time(s.clock.Now().Add(-5 * time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(hist.SpotPriceHistory); n < 5 || n > 6 {
		t.Errorf("5h of hourly history gave %d points", n)
	}
}

func TestEC2DefaultNetworkAndImages(t *testing.T) {
	_, c := newEC2(t, Options{World: WorldOptions{ClusterName: "demo", DiscoveryTags: map[string]string{"team": "infra"}}})
	ctx := context.Background()
	subnets, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("tag:nodewright.dev/discovery", "demo")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(subnets.Subnets) != 3 {
		t.Fatalf("want 3 subnets, got %d", len(subnets.Subnets))
	}
	sn := subnets.Subnets[1]
	if aws.ToString(sn.AvailabilityZone) != "us-east-1b" || aws.ToString(sn.CidrBlock) != "10.0.16.0/20" || aws.ToInt32(sn.AvailableIpAddressCount) != 4091 {
		t.Errorf("subnet %+v", sn)
	}
	for _, tc := range []struct {
		filters []types.Filter
		want    int
	}{
		{[]types.Filter{filter("tag:team", "infra")}, 3},
		{[]types.Filter{filter("tag-key", "kubernetes.io/cluster/demo")}, 3},
		{[]types.Filter{filter("tag:Name", "demo-private-*a")}, 1},
		{[]types.Filter{filter("tag:team", "other")}, 0},
	} {
		out, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: tc.filters})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Subnets) != tc.want {
			t.Errorf("%v: %d subnets, want %d", *tc.filters[0].Name, len(out.Subnets), tc.want)
		}
	}
	_, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-0000"}})
	expectCode(t, err, "InvalidSubnetID.NotFound")

	sgs, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{filter("group-name", "eks-cluster-sg-*"), filter("tag:team", "infra")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(sgs.SecurityGroups) != 1 {
		t.Fatalf("want the cluster security group, got %d", len(sgs.SecurityGroups))
	}
	sgID := aws.ToString(sgs.SecurityGroups[0].GroupId)
	if _, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{sgID}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"sg-000"}})
	expectCode(t, err, "InvalidGroup.NotFound")

	imgs, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"},
		Filters: []types.Filter{filter("name", "amazon-eks-node-al2023-*-standard-1.37-*"), filter("architecture", "arm64")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs.Images) != 1 || imgs.Images[0].Architecture != types.ArchitectureValuesArm64 || aws.ToString(imgs.Images[0].CreationDate) == "" {
		t.Fatalf("images %+v", imgs.Images)
	}
	imgs, err = c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
	if err != nil || len(imgs.Images) != 0 {
		t.Errorf("self-owned images: %v %d", err, len(imgs.Images))
	}
	_, err = c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-0123456789abcdef0"}})
	expectCode(t, err, "InvalidAMIID.NotFound")

	// Tags on subnets, groups and images.
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{aws.ToString(sn.SubnetId), sgID, "ami-0a102300000000001"},
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("test")}}}); err != nil {
		t.Fatal(err)
	}
	out, _ := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("tag:env", "test")}})
	imgs, _ = c.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []types.Filter{filter("tag:env", "test")}})
	if len(out.Subnets) != 1 || len(imgs.Images) != 1 {
		t.Errorf("tagged: %d subnets, %d images", len(out.Subnets), len(imgs.Images))
	}
	if _, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{aws.ToString(sn.SubnetId)}, Tags: []types.Tag{{Key: aws.String("env")}}}); err != nil {
		t.Fatal(err)
	}
	out, _ = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("tag:env", "test")}})
	if len(out.Subnets) != 0 {
		t.Errorf("tag survived DeleteTags")
	}
	_, err = c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"i-00000000000000000"}, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	expectCode(t, err, "InvalidInstanceID.NotFound")
}

const al2023x86 = "ami-0a102300000000005" // 1.36 x86_64

func createLT(t *testing.T, c *ec2.Client, name string) string {
	t.Helper()
	out, err := c.CreateLaunchTemplate(context.Background(), &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(name),
		LaunchTemplateData: &types.RequestLaunchTemplateData{
			ImageId: aws.String(al2023x86), UserData: aws.String(base64.StdEncoding.EncodeToString([]byte("#!/bin/bash\necho hi"))),
			IamInstanceProfile: &types.LaunchTemplateIamInstanceProfileSpecificationRequest{Name: aws.String("nodes")},
			MetadataOptions:    &types.LaunchTemplateInstanceMetadataOptionsRequest{HttpTokens: types.LaunchTemplateHttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(1)},
			BlockDeviceMappings: []types.LaunchTemplateBlockDeviceMappingRequest{{DeviceName: aws.String("/dev/xvda"),
				Ebs: &types.LaunchTemplateEbsBlockDeviceRequest{VolumeSize: aws.Int32(20), VolumeType: types.VolumeTypeGp3}}},
			TagSpecifications: []types.LaunchTemplateTagSpecificationRequest{{ResourceType: types.ResourceTypeInstance,
				Tags: []types.Tag{{Key: aws.String("from-lt"), Value: aws.String("yes")}}}},
		},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeLaunchTemplate,
			Tags: []types.Tag{{Key: aws.String("nodewright.dev/cluster"), Value: aws.String("localcloud")}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.LaunchTemplate.LaunchTemplateId)
}

func TestEC2LaunchTemplates(t *testing.T) {
	s, c := newEC2(t, Options{})
	ctx := context.Background()
	id := createLT(t, c, "nodes-a")
	var stored LaunchTemplate
	s.Do(func(w *World) { stored = *w.EC2.LaunchTemplates[id] })
	if stored.Data.ImageID != al2023x86 || stored.Data.IamInstanceProfile.arn() != "arn:aws:iam::111122223333:instance-profile/nodes" ||
		stored.Data.MetadataOptions.HttpTokens != "required" || len(stored.Data.BlockDeviceMappings) != 1 ||
		stored.Data.BlockDeviceMappings[0].Ebs.VolumeSize != 20 || stored.Data.UserData == "" {
		t.Errorf("stored %+v", stored.Data)
	}
	_, err := c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("nodes-a"), LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(al2023x86)}})
	expectCode(t, err, "InvalidLaunchTemplateName.AlreadyExistsException")
	createLT(t, c, "nodes-b")

	for _, tc := range []struct {
		in   ec2.DescribeLaunchTemplatesInput
		want int
		code string
	}{
		{ec2.DescribeLaunchTemplatesInput{}, 2, ""},
		{ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{id}}, 1, ""},
		{ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"nodes-b"}}, 1, ""},
		{ec2.DescribeLaunchTemplatesInput{Filters: []types.Filter{filter("tag:nodewright.dev/cluster", "localcloud")}}, 2, ""},
		{ec2.DescribeLaunchTemplatesInput{Filters: []types.Filter{filter("tag-key", "other")}}, 0, ""},
		{ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{"lt-0000"}}, 0, "InvalidLaunchTemplateId.NotFound"},
		{ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"nope"}}, 0, "InvalidLaunchTemplateName.NotFoundException"},
	} {
		out, err := c.DescribeLaunchTemplates(ctx, &tc.in)
		if tc.code != "" {
			expectCode(t, err, tc.code)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(out.LaunchTemplates) != tc.want {
			t.Errorf("%+v: got %d templates, want %d", tc.in, len(out.LaunchTemplates), tc.want)
		}
	}
	if _, err := c.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateName: aws.String("nodes-b")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateName: aws.String("nodes-b")})
	expectCode(t, err, "InvalidLaunchTemplateName.NotFoundException")
}

func testFleetInput(lt string, capType types.DefaultTargetCapacityType, typesAndSubnets [][2]string) *ec2.CreateFleetInput {
	var ov []types.FleetLaunchTemplateOverridesRequest
	for _, ts := range typesAndSubnets {
		ov = append(ov, types.FleetLaunchTemplateOverridesRequest{InstanceType: types.InstanceType(ts[0]), SubnetId: aws.String(ts[1])})
	}
	return &ec2.CreateFleetInput{
		Type: types.FleetTypeInstant,
		LaunchTemplateConfigs: []types.FleetLaunchTemplateConfigRequest{{
			LaunchTemplateSpecification: &types.FleetLaunchTemplateSpecificationRequest{LaunchTemplateId: aws.String(lt), Version: aws.String("$Latest")},
			Overrides:                   ov,
		}},
		TargetCapacitySpecification: &types.TargetCapacitySpecificationRequest{TotalTargetCapacity: aws.Int32(1), DefaultTargetCapacityType: capType},
		SpotOptions:                 &types.SpotOptionsRequest{AllocationStrategy: types.SpotAllocationStrategyLowestPrice},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance,
			Tags: []types.Tag{{Key: aws.String("nodewright.dev/nodepool"), Value: aws.String("default")}}}},
	}
}

func (s *Server) subnetIDs() []string {
	var ids []string
	s.Do(func(w *World) {
		for _, sn := range w.EC2.Subnets {
			ids = append(ids, sn.ID)
		}
	})
	return ids
}

func TestEC2CreateFleet(t *testing.T) {
	s, c := newEC2(t, Options{})
	ctx := context.Background()
	lt := createLT(t, c, "fleet-lt")
	subnets := s.subnetIDs()
	candidates := [][2]string{}
	for _, typ := range []string{"m5.large", "c5.large", "m5a.large", "r5.large"} {
		for _, sn := range subnets {
			candidates = append(candidates, [2]string{typ, sn})
		}
	}
	// The cheapest pool by the emulator's own price formula.
	now := s.clock.Now()
	best, bestPrice := "", 1e9
	for _, cand := range candidates {
		sn := s.subnetByID(cand[1])
		p, _ := s.spotPrice(s.catalog.ByName[cand[0]], sn.Zone, now)
		if p < bestPrice {
			best, bestPrice = cand[0]+"/"+sn.Zone, p
		}
	}
	out, err := c.CreateFleet(ctx, testFleetInput(lt, types.DefaultTargetCapacityTypeSpot, candidates))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) != 0 || len(out.Instances) != 1 || len(out.Instances[0].InstanceIds) != 1 {
		t.Fatalf("fleet %+v errors %+v", out.Instances, out.Errors)
	}
	got := out.Instances[0]
	if key := string(got.InstanceType) + "/" + aws.ToString(got.LaunchTemplateAndOverrides.Overrides.AvailabilityZone); key != best {
		t.Errorf("lowest-price launched %s, cheapest is %s", key, best)
	}
	if got.Lifecycle != types.InstanceLifecycleSpot {
		t.Errorf("lifecycle %s", got.Lifecycle)
	}
	id := got.InstanceIds[0]
	desc, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	inst := desc.Reservations[0].Instances[0]
	tags := map[string]string{}
	for _, tg := range inst.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if inst.InstanceLifecycle != types.InstanceLifecycleTypeSpot || inst.State.Name != types.InstanceStateNamePending ||
		tags["nodewright.dev/nodepool"] != "default" || tags["from-lt"] != "yes" || tags["aws:ec2launchtemplate:id"] != lt ||
		aws.ToString(inst.IamInstanceProfile.Arn) != "arn:aws:iam::111122223333:instance-profile/nodes" ||
		!strings.HasPrefix(aws.ToString(inst.PrivateIpAddress), "10.0.") || !strings.HasSuffix(aws.ToString(inst.PrivateDnsName), ".ec2.internal") ||
		aws.ToString(inst.ImageId) != al2023x86 || inst.Architecture != types.ArchitectureValuesX8664 || len(inst.SecurityGroups) != 1 {
		t.Errorf("instance %+v tags %v", inst, tags)
	}
	var stored Instance
	s.Do(func(w *World) { stored = *w.EC2.Instances[id] })
	if ud, _ := base64.StdEncoding.DecodeString(stored.UserData); string(ud) != "#!/bin/bash\necho hi" {
		t.Errorf("user data %q", stored.UserData)
	}

	// On-demand prioritized takes the first priority even when pricier.
	in := testFleetInput(lt, types.DefaultTargetCapacityTypeOnDemand, [][2]string{{"m5.xlarge", subnets[0]}, {"t3.small", subnets[0]}})
	in.LaunchTemplateConfigs[0].Overrides[0].Priority = aws.Float64(0)
	in.LaunchTemplateConfigs[0].Overrides[1].Priority = aws.Float64(1)
	in.OnDemandOptions = &types.OnDemandOptionsRequest{AllocationStrategy: types.FleetOnDemandAllocationStrategyPrioritized}
	out, err = c.CreateFleet(ctx, in)
	if err != nil || len(out.Instances) != 1 || out.Instances[0].InstanceType != "m5.xlarge" || out.Instances[0].Lifecycle != types.InstanceLifecycleOnDemand {
		t.Fatalf("prioritized: %v %+v", err, out)
	}
}

func TestEC2CreateFleetICEFallback(t *testing.T) {
	s, c := newEC2(t, Options{})
	ctx := context.Background()
	lt := createLT(t, c, "ice")
	sn := s.subnetIDs()
	zone := s.subnetByID(sn[0]).Zone
	s.mu.Lock()
	s.faults.ICE[PoolKey("m5.large", zone, "on-demand")] = true
	s.mu.Unlock()
	// m5.large is cheaper than m5.xlarge, so it is tried first and fails.
	out, err := c.CreateFleet(ctx, testFleetInput(lt, types.DefaultTargetCapacityTypeOnDemand, [][2]string{{"m5.large", sn[0]}, {"m5.xlarge", sn[0]}}))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) != 1 || aws.ToString(out.Errors[0].ErrorCode) != "InsufficientInstanceCapacity" ||
		out.Errors[0].LaunchTemplateAndOverrides.Overrides.InstanceType != "m5.large" ||
		aws.ToString(out.Errors[0].LaunchTemplateAndOverrides.Overrides.AvailabilityZone) != zone {
		t.Errorf("errors %+v", out.Errors)
	}
	if len(out.Instances) != 1 || out.Instances[0].InstanceType != "m5.xlarge" {
		t.Errorf("instances %+v", out.Instances)
	}
	// No pool left: only errors, as AWS answers.
	out, err = c.CreateFleet(ctx, testFleetInput(lt, types.DefaultTargetCapacityTypeOnDemand, [][2]string{{"m5.large", sn[0]}}))
	if err != nil || len(out.Instances) != 0 || len(out.Errors) != 1 {
		t.Errorf("all ICE: %v %+v", err, out)
	}
	// A missing template is a per-config error too.
	out, err = c.CreateFleet(ctx, testFleetInput("lt-00000000000000000", types.DefaultTargetCapacityTypeOnDemand, [][2]string{{"m5.large", sn[1]}}))
	if err != nil || len(out.Errors) != 1 || aws.ToString(out.Errors[0].ErrorCode) != "InvalidLaunchTemplateId.NotFound" {
		t.Errorf("missing LT: %v %+v", err, out)
	}
}

func TestEC2CreateFleetIdempotencyAndDryRun(t *testing.T) {
	s, c := newEC2(t, Options{})
	ctx := context.Background()
	lt := createLT(t, c, "idem")
	sn := s.subnetIDs()
	in := testFleetInput(lt, types.DefaultTargetCapacityTypeSpot, [][2]string{{"m5.large", sn[0]}})
	in.ClientToken = aws.String("token-1")
	in.TargetCapacitySpecification.TotalTargetCapacity = aws.Int32(2)
	a, err := c.CreateFleet(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.CreateFleet(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(a.FleetId) != aws.ToString(b.FleetId) || fmt.Sprint(a.Instances[0].InstanceIds) != fmt.Sprint(b.Instances[0].InstanceIds) {
		t.Errorf("retry got %s %v, first %s %v", *b.FleetId, b.Instances[0].InstanceIds, *a.FleetId, a.Instances[0].InstanceIds)
	}
	var n int
	s.Do(func(w *World) { n = len(w.EC2.Instances) })
	if n != 2 {
		t.Errorf("%d instances after a retried fleet of 2", n)
	}
	in.DryRun = aws.Bool(true)
	_, err = c.CreateFleet(ctx, in)
	expectCode(t, err, "DryRunOperation")
	in.DryRun = nil
	in.Type = types.FleetTypeMaintain
	_, err = c.CreateFleet(ctx, in)
	expectCode(t, err, "Unsupported")
}

// TestEC2MalformedInstanceIDs checks every operation that takes instance
// ids: an id that cannot name an instance is InvalidInstanceID.Malformed,
// even beside an unknown one; a well-formed unknown id (8 or 17 digits) is
// InvalidInstanceID.NotFound. CreateTags and DeleteTags take any resource,
// so only an id with the instance prefix is a malformed instance id there.
func TestEC2MalformedInstanceIDs(t *testing.T) {
	_, c := newEC2(t, Options{})
	ctx := context.Background()
	tag := []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}
	calls := map[string]func(ids []string) error{
		"DescribeInstances": func(ids []string) error {
			_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
			return err
		},
		"DescribeInstanceStatus": func(ids []string) error {
			_, err := c.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: ids})
			return err
		},
		"TerminateInstances": func(ids []string) error {
			_, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids})
			return err
		},
		"RebootInstances": func(ids []string) error {
			_, err := c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: ids})
			return err
		},
		"CreateTags": func(ids []string) error {
			_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: tag})
			return err
		},
		"DeleteTags": func(ids []string) error {
			_, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: ids, Tags: tag})
			return err
		},
	}
	for op, call := range calls {
		t.Run(op, func(t *testing.T) {
			for _, id := range []string{"i-123", "i-0000000000000000", "i-000000000000000000", "i-0123456789ABCDEF0", "i-0123456789abcdefg", "i-"} {
				err := call([]string{id})
				expectCode(t, err, "InvalidInstanceID.Malformed")
				if !strings.Contains(err.Error(), `"`+id+`"`) {
					t.Errorf("%s: the message does not name it: %v", id, err)
				}
			}
			expectCode(t, call([]string{"i-0123456789abcdef0", "i-1"}), "InvalidInstanceID.Malformed")
			if strings.HasSuffix(op, "Tags") {
				expectCode(t, call([]string{"instance-1"}), "InvalidID")
			} else {
				expectCode(t, call([]string{"instance-1"}), "InvalidInstanceID.Malformed")
			}
			for _, id := range []string{"i-0123abcd", "i-0123456789abcdef0"} {
				expectCode(t, call([]string{id}), "InvalidInstanceID.NotFound")
			}
		})
	}
}

func TestEC2InstanceLifecycle(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	s, c := newEC2(t, Options{Clock: clk})
	ctx := context.Background()
	var events []Event
	ec2EventObserver = func(e Event) { events = append(events, e) }
	t.Cleanup(func() { ec2EventObserver = nil })

	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(2), MaxCount: aws.Int32(2), ImageId: aws.String(al2023x86),
		InstanceType: "m5.large", UserData: aws.String("dXNlcmRhdGE="),
		InstanceMarketOptions: &types.InstanceMarketOptionsRequest{MarketType: types.MarketTypeSpot},
		TagSpecifications:     []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Instances) != 2 || run.Instances[0].InstanceLifecycle != types.InstanceLifecycleTypeSpot {
		t.Fatalf("run %+v", run.Instances)
	}
	a, b := aws.ToString(run.Instances[0].InstanceId), aws.ToString(run.Instances[1].InstanceId)
	state := func(id string) types.InstanceStateName {
		t.Helper()
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Reservations[0].Instances[0].State.Name
	}
	step := func(d time.Duration) { clk.Step(d); s.Tick() }

	step(500 * time.Millisecond)
	if state(a) != types.InstanceStateNamePending {
		t.Errorf("running too early")
	}
	step(600 * time.Millisecond)
	if state(a) != types.InstanceStateNameRunning {
		t.Errorf("want running after 1.1s, got %s", state(a))
	}
	st, err := c.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{a}})
	if err != nil || len(st.InstanceStatuses) != 1 || st.InstanceStatuses[0].InstanceStatus.Status != types.SummaryStatusOk {
		t.Errorf("status %v %+v", err, st)
	}

	// Spot interruption through the admin route: warning now, gone after the lead.
	resp := adminPost(t, s, "faults/spot-interruption", map[string]any{"instanceId": a, "leadSeconds": 30})
	if resp.InterruptAt.IsZero() || !resp.InterruptAt.Equal(clk.Now().Add(30*time.Second)) {
		t.Errorf("InterruptAt %v", resp.InterruptAt)
	}
	step(29 * time.Second)
	if state(a) != types.InstanceStateNameRunning {
		t.Errorf("interrupted before the lead")
	}
	step(time.Second)
	if state(a) != types.InstanceStateNameShuttingDown {
		t.Errorf("want shutting-down at InterruptAt, got %s", state(a))
	}
	step(2 * time.Second)
	if state(a) != types.InstanceStateNameTerminated {
		t.Errorf("want terminated, got %s", state(a))
	}

	term, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{b}})
	if err != nil || term.TerminatingInstances[0].PreviousState.Name != types.InstanceStateNameRunning ||
		term.TerminatingInstances[0].CurrentState.Name != types.InstanceStateNameShuttingDown || aws.ToInt32(term.TerminatingInstances[0].CurrentState.Code) != 32 {
		t.Fatalf("terminate %v %+v", err, term)
	}
	term, err = c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{a}})
	if err != nil || term.TerminatingInstances[0].CurrentState.Name != types.InstanceStateNameTerminated {
		t.Errorf("terminating a terminated instance: %v %+v", err, term)
	}
	_, err = c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{"i-0000000000000000a"}})
	expectCode(t, err, "InvalidInstanceID.NotFound")

	var kinds []string
	for _, e := range events {
		d, _ := e.Detail.(map[string]string)
		if d["instance-id"] == a {
			kinds = append(kinds, e.DetailType+":"+d["state"])
		}
	}
	want := "EC2 Instance State-change Notification:pending EC2 Instance State-change Notification:running EC2 Spot Instance Interruption Warning: " +
		"EC2 Instance State-change Notification:shutting-down EC2 Instance State-change Notification:terminated"
	if strings.Join(kinds, " ") != want {
		t.Errorf("events for %s:\n%s\nwant\n%s", a, strings.Join(kinds, " "), want)
	}

	// Filters and pagination.
	for _, tc := range []struct {
		f    types.Filter
		want int
	}{
		{filter("instance-state-name", "terminated"), 1},
		{filter("tag:k", "v"), 2},
		{filter("tag-key", "k"), 2},
		{filter("instance-type", "m5.*"), 2},
		{filter("availability-zone", "us-east-1a"), 2},
		{filter("instance-id", a), 1},
	} {
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{tc.f}})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range out.Reservations {
			n += len(r.Instances)
		}
		if n != tc.want {
			t.Errorf("filter %s: %d instances, want %d", *tc.f.Name, n, tc.want)
		}
	}
	for i := 0; i < 5; i++ {
		if _, err := c.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1), ImageId: aws.String(al2023x86), InstanceType: "t3.small"}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range out.Reservations {
			n += len(r.Instances)
		}
	}
	if n != 7 || pages != 2 {
		t.Errorf("paginated %d instances in %d pages, want 7 in 2", n, pages)
	}
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0000000000000000b"}})
	expectCode(t, err, "InvalidInstanceID.NotFound")

	// Terminated instances disappear after the retention.
	step(time.Hour + time.Minute)
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{a}})
	expectCode(t, err, "InvalidInstanceID.NotFound")
}

func TestEC2FaultRoutes(t *testing.T) {
	s, c := newEC2(t, Options{})
	ctx := context.Background()
	var events []Event
	ec2EventObserver = func(e Event) { events = append(events, e) }
	t.Cleanup(func() { ec2EventObserver = nil })
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1), ImageId: aws.String(al2023x86), InstanceType: "m5.large"})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	adminPost(t, s, "faults/rebalance", map[string]any{"instanceId": id})
	adminPost(t, s, "faults/scheduled-change", map[string]any{"instanceId": id, "startInSeconds": 600})
	adminPost(t, s, "faults/capacity-reservation-interruption", map[string]any{"instanceId": id})
	lost := adminPost(t, s, "faults/instance-loss", map[string]any{"instanceId": id})
	if lost.State != "terminated" {
		t.Errorf("instance-loss left %s", lost.State)
	}
	var kinds []string
	for _, e := range events[1:] {
		kinds = append(kinds, e.Source+"/"+e.DetailType)
	}
	want := "aws.ec2/EC2 Instance Rebalance Recommendation aws.health/AWS Health Event aws.ec2/EC2 Capacity Reservation Instance Interruption Warning aws.ec2/EC2 Instance State-change Notification"
	if strings.Join(kinds, ",") != strings.ReplaceAll(want, " aws.", ",aws.") {
		t.Errorf("events %v", kinds)
	}
	health := events[2].Detail.(map[string]any)
	if health["eventTypeCategory"] != "scheduledChange" || !strings.HasSuffix(health["startTime"].(string), "GMT") {
		t.Errorf("health detail %v", health)
	}
	r, err := http.Post(s.URL+adminPrefix+"faults/rebalance", "application/json", strings.NewReader(`{"instanceId":"i-missing"}`))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown instance: status %d", r.StatusCode)
	}
}

func adminPost(t *testing.T, s *Server, route string, body any) Instance {
	t.Helper()
	data, _ := json.Marshal(body)
	r, err := http.Post(s.URL+adminPrefix+route, "application/json", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var in Instance
	if r.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d", route, r.StatusCode)
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		t.Fatal(err)
	}
	return in
}

func BenchmarkDescribeInstanceTypes(b *testing.B) {
	_, c := newEC2(b, Options{})
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

func BenchmarkCreateFleet(b *testing.B) {
	s, c := newEC2(b, Options{})
	ctx := context.Background()
	out, err := c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("bench"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(al2023x86)}})
	if err != nil {
		b.Fatal(err)
	}
	var cands [][2]string
	for _, typ := range []string{"m5.large", "c5.large", "m5a.large", "r5.large", "m6i.large"} {
		for _, sn := range s.subnetIDs() {
			cands = append(cands, [2]string{typ, sn})
		}
	}
	in := testFleetInput(aws.ToString(out.LaunchTemplate.LaunchTemplateId), types.DefaultTargetCapacityTypeSpot, cands)
	in.SpotOptions.AllocationStrategy = types.SpotAllocationStrategyPriceCapacityOptimized
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.CreateFleet(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
