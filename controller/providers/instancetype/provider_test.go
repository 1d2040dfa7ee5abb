package instancetype

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	clocktesting "k8s.io/utils/clock/testing"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/providers/cache"
	"github.com/nodewright/nodewright/controller/providers/pricing"
)

// fakeEC2 describes m5.large, offered in zones a and b, and c5.large, in
// zone a only, and counts DescribeInstanceTypes calls.
type fakeEC2 struct{ describes int }

func (f *fakeEC2) DescribeInstanceTypes(context.Context, *ec2.DescribeInstanceTypesInput, ...func(*ec2.Options)) (*ec2.DescribeInstanceTypesOutput, error) {
	f.describes++
	info := func(name string, vcpu int32, mib int64) ec2types.InstanceTypeInfo {
		return ec2types.InstanceTypeInfo{InstanceType: ec2types.InstanceType(name), VCpuInfo: &ec2types.VCpuInfo{DefaultVCpus: aws.Int32(vcpu)},
			MemoryInfo:    &ec2types.MemoryInfo{SizeInMiB: aws.Int64(mib)},
			ProcessorInfo: &ec2types.ProcessorInfo{SupportedArchitectures: []ec2types.ArchitectureType{ec2types.ArchitectureTypeX8664}}}
	}
	return &ec2.DescribeInstanceTypesOutput{InstanceTypes: []ec2types.InstanceTypeInfo{info("m5.large", 2, 8192), info("c5.large", 2, 4096)}}, nil
}

func (f *fakeEC2) DescribeInstanceTypeOfferings(context.Context, *ec2.DescribeInstanceTypeOfferingsInput, ...func(*ec2.Options)) (*ec2.DescribeInstanceTypeOfferingsOutput, error) {
	offer := func(name, zone string) ec2types.InstanceTypeOffering {
		return ec2types.InstanceTypeOffering{InstanceType: ec2types.InstanceType(name), Location: aws.String(zone)}
	}
	return &ec2.DescribeInstanceTypeOfferingsOutput{InstanceTypeOfferings: []ec2types.InstanceTypeOffering{
		offer("m5.large", "us-east-1a"), offer("m5.large", "us-east-1b"), offer("c5.large", "us-east-1a")}}, nil
}

// catalogPrices is a pricing.Provider over the embedded catalog.
type catalogPrices struct{}

func (catalogPrices) Prices(context.Context) (*pricing.Prices, error) {
	return pricing.NewPrices("us-east-1", nil, nil), nil
}
func (catalogPrices) ReadAt() time.Time          { return time.Time{} }
func (catalogPrices) Fallback() pricing.Fallback { return pricing.Fallback{} }

// Offerings follow the node class's subnets' zones and EC2's offerings,
// pools out of capacity show unavailable, and EC2 is asked once per TTL.
func TestListOffersWhereTheClassHasSubnets(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Now())
	f := &fakeEC2{}
	ice := cache.NewUnavailableOfferings(clk, time.Minute)
	p := NewDefaultProvider(Options{Region: "us-east-1", Clock: clk, TTL: 5 * time.Minute}, f, catalogPrices{}, ice)
	nc := &v1.EC2NodeClass{Status: v1.EC2NodeClassStatus{Subnets: []v1.Subnet{{ID: "subnet-b", Zone: "us-east-1b"}, {ID: "subnet-c", Zone: "us-east-1c"}}}}
	ice.Mark("m5.large", "us-east-1b", v1.CapacityTypeOnDemand)
	types, err := p.List(context.Background(), nc)
	if err != nil {
		t.Fatal(err)
	}
	// c5.large is offered in zone a only, where the class has no subnet.
	if len(types) != 1 || types[0].Name != "m5.large" {
		t.Fatalf("types %v, want m5.large only", types)
	}
	if o := types[0].Offerings; len(o) != 1 || o[0].Zone != "us-east-1b" || o[0].CapacityType != v1.CapacityTypeOnDemand || o[0].Available || o[0].Price == 0 {
		t.Errorf("offerings %+v, want one priced, unavailable on-demand offering in us-east-1b", o)
	}
	if it, ok := p.Get(context.Background(), "c5.large"); !ok || it.MemoryMiB != 4096 {
		t.Errorf("Get(c5.large) = %+v, %v", it, ok)
	}
	if f.describes != 1 {
		t.Errorf("%d DescribeInstanceTypes calls, want 1", f.describes)
	}
}

// fixedPrices returns the same prices every call, as the pricing provider
// does between two refreshes.
type fixedPrices struct {
	catalogPrices
	prices *pricing.Prices
}

func (f fixedPrices) Prices(context.Context) (*pricing.Prices, error) { return f.prices, nil }

// A List is reused while nothing it was built from changes, and rebuilt
// when a pool is marked unavailable, when the mark expires, and when the
// class's zones change.
func TestListIsRebuiltWhenWhatItReadsChanges(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Now())
	ice := cache.NewUnavailableOfferings(clk, time.Minute)
	p := NewDefaultProvider(Options{Region: "us-east-1", Clock: clk, TTL: time.Hour}, &fakeEC2{},
		fixedPrices{prices: pricing.NewPrices("us-east-1", nil, nil)}, ice)
	nc := &v1.EC2NodeClass{Status: v1.EC2NodeClassStatus{Subnets: []v1.Subnet{{ID: "subnet-b", Zone: "us-east-1b"}}}}
	list := func() []*scheduling.InstanceType {
		t.Helper()
		types, err := p.List(context.Background(), nc)
		if err != nil {
			t.Fatal(err)
		}
		return types
	}
	first, second := list(), list()
	if len(first) != 1 || first[0] != second[0] {
		t.Fatalf("List built %v then %v, want the same m5.large reused", first, second)
	}
	available := func() bool { return list()[0].Offerings[0].Available }
	ice.Mark("m5.large", "us-east-1b", v1.CapacityTypeOnDemand)
	if available() {
		t.Error("the pool marked unavailable is still offered")
	}
	clk.Step(2 * time.Minute)
	if !available() {
		t.Error("the pool is still unavailable after its mark expired")
	}
	nc.Status.Subnets = append(nc.Status.Subnets, v1.Subnet{ID: "subnet-a", Zone: "us-east-1a"})
	if types := list(); len(types) != 2 {
		t.Errorf("after a subnet in us-east-1a was added: %d types, want m5.large and c5.large", len(types))
	}
}
