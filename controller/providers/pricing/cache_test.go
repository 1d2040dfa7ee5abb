package pricing

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	awspricing "github.com/aws/aws-sdk-go-v2/service/pricing"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/nodewright/nodewright/controller/catalog"
)

// countingPricing serves m5Doc, or fails, and counts the calls.
type countingPricing struct {
	calls int
	fail  bool
}

func (f *countingPricing) GetProducts(context.Context, *awspricing.GetProductsInput, ...func(*awspricing.Options)) (*awspricing.GetProductsOutput, error) {
	f.calls++
	if f.fail {
		return nil, errors.New("AccessDenied")
	}
	return &awspricing.GetProductsOutput{PriceList: []string{m5Doc}}, nil
}

// spotHistory serves two points of one pool, the newer one second.
type spotHistory struct{ calls int }

func (f *spotHistory) DescribeSpotPriceHistory(context.Context, *ec2.DescribeSpotPriceHistoryInput, ...func(*ec2.Options)) (*ec2.DescribeSpotPriceHistoryOutput, error) {
	f.calls++
	t0 := time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC)
	point := func(price string, at time.Time) ec2types.SpotPrice {
		return ec2types.SpotPrice{InstanceType: "m5.large", AvailabilityZone: aws.String("us-east-1a"), SpotPrice: aws.String(price), Timestamp: aws.Time(at)}
	}
	return &ec2.DescribeSpotPriceHistoryOutput{SpotPriceHistory: []ec2types.SpotPrice{point("0.05", t0), point("0.04", t0.Add(time.Hour))}}, nil
}

// Prices are read once per TTL (both Price List queries and one spot
// history), and the newest spot point wins.
func TestPricesAreCachedForTheTTL(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC))
	pl, spot := &countingPricing{}, &spotHistory{}
	p := NewDefaultProvider(Options{Region: "us-east-1", Clock: clk, TTL: 5 * time.Minute}, pl, spot)
	ctx := context.Background()
	for range 3 {
		pr, err := p.Prices(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := pr.Spot(catalog.InstanceType{Name: "m5.large"}, "us-east-1a"); !ok || v != 0.04 {
			t.Errorf("spot = %v %v, want the newest point 0.04", v, ok)
		}
	}
	if pl.calls != len(onDemandQueries) || spot.calls != 1 || !p.ReadAt().Equal(clk.Now()) {
		t.Fatalf("%d Price List and %d spot calls, read at %s; want %d and 1 at %s", pl.calls, spot.calls, p.ReadAt(), len(onDemandQueries), clk.Now())
	}
	clk.Step(5 * time.Minute)
	if _, err := p.Prices(ctx); err != nil || spot.calls != 2 {
		t.Errorf("after the TTL: %v, %d spot calls, want 2", err, spot.calls)
	}
}

// A Price List the controller may not read leaves on-demand prices to the
// embedded catalog rather than failing.
func TestPriceListFailureFallsBackToTheCatalog(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Now())
	p := NewDefaultProvider(Options{Region: "us-east-1", Clock: clk, TTL: time.Minute}, &countingPricing{fail: true}, &spotHistory{})
	pr, err := p.Prices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c5 := catalog.InstanceType{Name: "c5.large", OnDemandPrice: map[string]float64{"us-east-1": 0.085}}
	if v, ok := pr.OnDemand(c5); !ok || v != 0.085 {
		t.Errorf("on-demand = %v %v, want the catalog's 0.085", v, ok)
	}
}
