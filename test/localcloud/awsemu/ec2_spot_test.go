package awsemu

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestEC2SpotPriceHistoryLargePages asks as Karpenter v1.15.0 does
// (pkg/providers/pricing): MaxResults 2000, which EC2 takes, answering a
// page and a NextToken until the history is read.
func TestEC2SpotPriceHistoryLargePages(t *testing.T) {
	s, c := newEC2(t, Options{})
	ctx := context.Background()
	in := &ec2.DescribeSpotPriceHistoryInput{ProductDescriptions: []string{"Linux/UNIX", "Linux/UNIX (Amazon VPC)"},
		StartTime: aws.Time(s.clock.Now()), MaxResults: aws.Int32(2000)}
	first, err := c.DescribeSpotPriceHistory(ctx, in)
	if err != nil {
		t.Fatalf("MaxResults 2000: %v", err)
	}
	if len(first.SpotPriceHistory) != spotPageSize || aws.ToString(first.NextToken) == "" {
		t.Errorf("first page: %d prices, next token %q", len(first.SpotPriceHistory), aws.ToString(first.NextToken))
	}
	total, pages := 0, 0
	p := ec2.NewDescribeSpotPriceHistoryPaginator(c, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total += len(out.SpotPriceHistory)
		pages++
	}
	// The current price of every spot-priced type, in each of 3 zones, for both products.
	priced := 0
	for _, it := range s.catalog.Types {
		if _, ok := s.spotPrice(&it, "us-east-1a", s.clock.Now()); ok {
			priced++
		}
	}
	if want := priced * 3 * 2; total != want || pages != (want+spotPageSize-1)/spotPageSize {
		t.Errorf("read %d prices in %d pages, want %d", total, pages, want)
	}

	small, err := c.DescribeSpotPriceHistory(ctx, &ec2.DescribeSpotPriceHistoryInput{MaxResults: aws.Int32(7), StartTime: in.StartTime})
	if err != nil || len(small.SpotPriceHistory) != 7 || small.NextToken == nil {
		t.Errorf("MaxResults 7: %v, %d prices", err, len(small.SpotPriceHistory))
	}
	_, err = c.DescribeSpotPriceHistory(ctx, &ec2.DescribeSpotPriceHistoryInput{MaxResults: aws.Int32(-1)})
	expectCode(t, err, "InvalidParameterValue")

	byID, err := c.DescribeSpotPriceHistory(ctx, &ec2.DescribeSpotPriceHistoryInput{AvailabilityZoneId: aws.String("use1-az2"),
		InstanceTypes: []types.InstanceType{"m5.large"}, StartTime: in.StartTime,
		Filters: []types.Filter{filter("availability-zone-id", "use1-az2")}})
	if err != nil || len(byID.SpotPriceHistory) != 2 {
		t.Fatalf("by zone id: %v, %d prices", err, len(byID.SpotPriceHistory))
	}
	for _, p := range byID.SpotPriceHistory {
		if aws.ToString(p.AvailabilityZone) != "us-east-1b" || aws.ToString(p.AvailabilityZoneId) != "use1-az2" {
			t.Errorf("price in %s/%s", aws.ToString(p.AvailabilityZone), aws.ToString(p.AvailabilityZoneId))
		}
	}
}
