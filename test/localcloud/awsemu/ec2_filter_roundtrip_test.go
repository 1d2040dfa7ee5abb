package awsemu

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	clocktesting "k8s.io/utils/clock/testing"
)

// findsItself checks every honoured filter of op on one sample resource:
// filtering by each value the sample's answer shows finds the sample, and
// a value no resource has does not. ids runs the operation through the SDK
// and returns the ids of what it answered.
func findsItself[T any](t *testing.T, op string, fields filterFields[T], sample T, id string,
	ids func(f []types.Filter) ([]string, error)) {
	t.Helper()
	checked := 0
	for name, read := range fields {
		if ec2FilterTable[op][name] != "" {
			continue
		}
		values := read(sample)
		if len(values) == 0 {
			continue
		}
		v := values[0]
		if strings.ContainsAny(v, "*?") {
			continue // would be a wildcard
		}
		got, err := ids([]types.Filter{filter(name, v)})
		if err != nil {
			t.Errorf("%s %s=%s: %v", op, name, v, err)
			continue
		}
		if !slices.Contains(got, id) {
			t.Errorf("%s %s=%s did not find %s (got %d others)", op, name, v, id, len(got))
		}
		if got, _ := ids([]types.Filter{filter(name, v+"-none")}); slices.Contains(got, id) {
			t.Errorf("%s %s=%s-none found %s", op, name, v, id)
		}
		checked++
	}
	if checked == 0 {
		t.Errorf("%s: no filter had a value on %s", op, id)
	}
}

func TestEC2InstanceTypeFiltersFindTheirTypes(t *testing.T) {
	s, c := newEC2(t, Options{})
	ctx := context.Background()
	ids := func(f []types.Filter) ([]string, error) {
		var out []string
		p := ec2.NewDescribeInstanceTypesPaginator(c, &ec2.DescribeInstanceTypesInput{Filters: f})
		for p.HasMorePages() {
			pg, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, it := range pg.InstanceTypes {
				out = append(out, string(it.InstanceType))
			}
		}
		return out, nil
	}
	for _, name := range []string{"m5.large", "m5d.24xlarge", "inf1.xlarge", "p3.2xlarge", "m5.metal", "t3.micro", "m6g.large"} {
		x := typeInfo(s.catalog.ByName[name])
		// Naming the type keeps each call to one page; the filters still
		// run, and the calls below cover the whole catalog.
		findsItself(t, "DescribeInstanceTypes", typeFields, &x, name, func(f []types.Filter) ([]string, error) {
			out, err := c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{types.InstanceType(name)}, Filters: f})
			if err != nil {
				return nil, err
			}
			var got []string
			for _, it := range out.InstanceTypes {
				got = append(got, string(it.InstanceType))
			}
			return got, nil
		})
	}

	// What Karpenter v1.15.0 asks (pkg/providers/instancetype): hvm types of
	// both architectures, which is every type in the catalog.
	all, err := ids([]types.Filter{filter("supported-virtualization-type", "hvm"),
		filter("processor-info.supported-architecture", "x86_64", "arm64")})
	if err != nil || len(all) != len(s.catalog.Types) {
		t.Errorf("hvm x86_64|arm64: %v, %d of %d types", err, len(all), len(s.catalog.Types))
	}
	pv, err := ids([]types.Filter{filter("supported-virtualization-type", "paravirtual")})
	if err != nil || len(pv) != 0 {
		t.Errorf("paravirtual: %v, %v", err, pv)
	}
}

func TestEC2InstanceFiltersFindTheirInstance(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	s, c := newEC2(t, Options{Clock: clk})
	ctx := context.Background()
	lt := createLT(t, c, "filters")
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(2), MaxCount: aws.Int32(2), InstanceType: "m5.large",
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt)}, KeyName: aws.String("ops"),
		ClientToken:           aws.String("token-1"),
		InstanceMarketOptions: &types.InstanceMarketOptionsRequest{MarketType: types.MarketTypeSpot},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeNetworkInterface,
			Tags: []types.Tag{{Key: aws.String("eni"), Value: aws.String("primary")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	clk.Step(2 * time.Second)
	s.Tick()
	second := aws.ToString(run.Instances[1].InstanceId)
	ids := func(f []types.Filter) ([]string, error) {
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: f})
		if err != nil {
			return nil, err
		}
		var got []string
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				got = append(got, aws.ToString(in.InstanceId))
			}
		}
		return got, nil
	}
	s.mu.Lock()
	inst := s.ec2().Instances[second]
	view := instanceView{in: inst, x: s.instanceXML(inst), eniTags: s.launchOf(second).ENITags, reservation: s.reservationOf(second)}
	s.mu.Unlock()
	findsItself(t, "DescribeInstances", instanceFields, view, second, ids)

	// The launch's details reach the answer the SDK reads.
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{second}})
	if err != nil {
		t.Fatal(err)
	}
	got := out.Reservations[0].Instances[0]
	if aws.ToInt32(got.AmiLaunchIndex) != 1 || aws.ToString(got.KeyName) != "ops" || aws.ToString(got.ClientToken) != "token-1" ||
		got.MetadataOptions.HttpTokens != types.HttpTokensStateRequired || len(got.NetworkInterfaces) != 1 ||
		aws.ToString(got.NetworkInterfaces[0].PrivateIpAddress) != aws.ToString(got.PrivateIpAddress) ||
		len(got.BlockDeviceMappings) != 1 || aws.ToString(got.BlockDeviceMappings[0].DeviceName) != "/dev/xvda" {
		t.Errorf("instance %+v", got)
	}
	for _, tc := range []struct {
		f    types.Filter
		want int
	}{
		{filter("network-interface.tag-key", "eni"), 2},
		{filter("network-interface.tag-value", "primary"), 2},
		{filter("launch-index", "0"), 1},
		{filter("ip-address", "*"), 0}, // private subnets: no public address
		{filter("tenancy", "default"), 2},
		{filter("metadata-options.http-tokens", "optional"), 0},
	} {
		got, err := ids([]types.Filter{tc.f})
		if err != nil || len(got) != tc.want {
			t.Errorf("%s=%v: %v, %d instances, want %d", aws.ToString(tc.f.Name), tc.f.Values, err, len(got), tc.want)
		}
	}
}

func TestEC2NetworkAndImageFiltersFindTheirResources(t *testing.T) {
	s, c := newEC2(t, Options{})
	ctx := context.Background()
	s.mu.Lock()
	sn := s.ec2().Subnets[1]
	subnet := subnetView{sn, s.subnetXML(sn)}
	g := s.ec2().SecurityGroups[0]
	group := securityGroupView{g, s.securityGroupXML(g)}
	im := s.ec2().Images[0]
	image := imageView{im, imageXMLOf(im)}
	s.mu.Unlock()

	findsItself(t, "DescribeSubnets", subnetFields, subnet, sn.ID, func(f []types.Filter) ([]string, error) {
		out, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: f})
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, x := range out.Subnets {
			ids = append(ids, aws.ToString(x.SubnetId))
		}
		return ids, nil
	})
	findsItself(t, "DescribeSecurityGroups", securityGroupFields, group, g.ID, func(f []types.Filter) ([]string, error) {
		out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: f})
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, x := range out.SecurityGroups {
			ids = append(ids, aws.ToString(x.GroupId))
		}
		return ids, nil
	})
	findsItself(t, "DescribeImages", imageFields, image, im.ID, func(f []types.Filter) ([]string, error) {
		out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: f})
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, x := range out.Images {
			ids = append(ids, aws.ToString(x.ImageId))
		}
		return ids, nil
	})
}
