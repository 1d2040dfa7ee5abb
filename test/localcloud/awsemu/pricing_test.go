package awsemu

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	pricingtypes "github.com/aws/aws-sdk-go-v2/service/pricing/types"
)

// priceListItem is the part of a Price List document the tests read.
type priceListItem struct {
	Product struct {
		ProductFamily string            `json:"productFamily"`
		Attributes    map[string]string `json:"attributes"`
		SKU           string            `json:"sku"`
	} `json:"product"`
	ServiceCode string `json:"serviceCode"`
	Terms       struct {
		OnDemand map[string]struct {
			SKU             string `json:"sku"`
			OfferTermCode   string `json:"offerTermCode"`
			PriceDimensions map[string]struct {
				Unit         string            `json:"unit"`
				PricePerUnit map[string]string `json:"pricePerUnit"`
			} `json:"priceDimensions"`
		} `json:"OnDemand"`
	} `json:"terms"`
}

func (it priceListItem) usd(t *testing.T) float64 {
	t.Helper()
	if len(it.Terms.OnDemand) != 1 {
		t.Fatalf("want one OnDemand term, got %d", len(it.Terms.OnDemand))
	}
	for _, term := range it.Terms.OnDemand {
		if term.SKU != it.Product.SKU || term.OfferTermCode != pricingOnDemandTerm || len(term.PriceDimensions) != 1 {
			t.Fatalf("malformed term %+v", term)
		}
		for _, d := range term.PriceDimensions {
			if d.Unit != "Hrs" {
				t.Fatalf("unit = %s", d.Unit)
			}
			f, err := strconv.ParseFloat(d.PricePerUnit["USD"], 64)
			if err != nil {
				t.Fatalf("USD price %q: %v", d.PricePerUnit["USD"], err)
			}
			return f
		}
	}
	return 0
}

func newPricingClient(s *Server, region string) *pricing.Client {
	cfg := s.Config()
	cfg.RetryMaxAttempts = 1
	cfg.Region = region
	return pricing.NewFromConfig(cfg)
}

func termMatch(field, value string) pricingtypes.Filter {
	return pricingtypes.Filter{Type: pricingtypes.FilterTypeTermMatch, Field: aws.String(field), Value: aws.String(value)}
}

func decodePriceList(t *testing.T, docs []string) []priceListItem {
	t.Helper()
	out := make([]priceListItem, len(docs))
	for i, d := range docs {
		if err := json.Unmarshal([]byte(d), &out[i]); err != nil {
			t.Fatalf("price list item %d is not JSON: %v\n%s", i, err, d)
		}
	}
	return out
}

func TestPricingGetProductsM5Large(t *testing.T) {
	s := NewForTest(t, Options{})
	want, ok := s.catalog.ByName["m5.large"].Price("us-east-1")
	if !ok || want <= 0 {
		t.Fatal("catalog has no us-east-1 price for m5.large")
	}
	ctx := context.Background()
	for _, region := range []string{"us-east-1", "ap-south-1"} {
		client := newPricingClient(s, region)
		out, err := client.GetProducts(ctx, &pricing.GetProductsInput{
			ServiceCode: aws.String("AmazonEC2"),
			Filters: []pricingtypes.Filter{
				termMatch("instanceType", "m5.large"), termMatch("location", "US East (N. Virginia)"),
				termMatch("operatingSystem", "Linux"), termMatch("tenancy", "Shared"), termMatch("preInstalledSw", "NA"),
				termMatch("capacitystatus", "Used"), termMatch("marketoption", "OnDemand"),
			},
		})
		if err != nil {
			t.Fatalf("GetProducts via %s: %v", region, err)
		}
		if len(out.PriceList) != 1 || out.NextToken != nil || aws.ToString(out.FormatVersion) != "aws_v1" {
			t.Fatalf("got %d items, token %v", len(out.PriceList), out.NextToken)
		}
		item := decodePriceList(t, out.PriceList)[0]
		a := item.Product.Attributes
		if item.ServiceCode != "AmazonEC2" || item.Product.ProductFamily != "Compute Instance" || a["instanceType"] != "m5.large" ||
			a["vcpu"] != "2" || a["memory"] != "8 GiB" || a["regionCode"] != "us-east-1" || a["usagetype"] != "BoxUsage:m5.large" {
			t.Fatalf("product = %+v", item.Product)
		}
		if got := item.usd(t); got != want {
			t.Fatalf("m5.large us-east-1 price = %v, catalog says %v", got, want)
		}
	}
}

// Karpenter finds bare-metal prices with productFamily "Compute Instance
// (bare metal)" and tenancy Dedicated, and virtualised ones with "Compute
// Instance" and Shared: each query must find its kind and only that.
func TestPricingFilesBareMetalApart(t *testing.T) {
	s := NewForTest(t, Options{})
	client := newPricingClient(s, "us-east-1")
	query := func(family, tenancy string) map[string]bool {
		t.Helper()
		p := pricing.NewGetProductsPaginator(client, &pricing.GetProductsInput{
			ServiceCode: aws.String("AmazonEC2"),
			Filters: []pricingtypes.Filter{termMatch("regionCode", "us-east-1"), termMatch("tenancy", tenancy),
				termMatch("productFamily", family)},
		})
		got := map[string]bool{}
		for p.HasMorePages() {
			page, err := p.NextPage(context.Background())
			if err != nil {
				t.Fatalf("GetProducts %s/%s: %v", family, tenancy, err)
			}
			for _, item := range decodePriceList(t, page.PriceList) {
				if item.Product.ProductFamily != family || item.Product.Attributes["tenancy"] != tenancy {
					t.Fatalf("query %s/%s returned %s/%s", family, tenancy, item.Product.ProductFamily, item.Product.Attributes["tenancy"])
				}
				got[item.Product.Attributes["instanceType"]] = true
			}
		}
		return got
	}
	metal, shared := query("Compute Instance (bare metal)", "Dedicated"), query("Compute Instance", "Shared")
	if !metal["m5.metal"] || !metal["c7g.metal"] || len(metal) < 50 {
		t.Errorf("bare-metal query found %d types, m5.metal %v, c7g.metal %v", len(metal), metal["m5.metal"], metal["c7g.metal"])
	}
	if shared["m5.metal"] || !shared["m5.large"] {
		t.Errorf("shared query: m5.metal %v (want false), m5.large %v (want true)", shared["m5.metal"], shared["m5.large"])
	}
	if len(query("Compute Instance", "Dedicated")) != 0 {
		t.Error("virtualised types are not offered with tenancy Dedicated here, yet some were found")
	}
}

func TestPricingGetProductsPaginatesOneRegion(t *testing.T) {
	s := NewForTest(t, Options{})
	wantCount := 0
	for _, it := range s.catalog.Types {
		if p, ok := it.Price("us-west-2"); ok && p > 0 {
			wantCount++
		}
	}
	client := newPricingClient(s, "us-east-1")
	p := pricing.NewGetProductsPaginator(client, &pricing.GetProductsInput{
		ServiceCode: aws.String("AmazonEC2"), MaxResults: aws.Int32(100),
		Filters: []pricingtypes.Filter{termMatch("regionCode", "us-west-2"), termMatch("operatingSystem", "linux"),
			{Type: pricingtypes.FilterTypeAnyOf, Field: aws.String("capacitystatus"), Value: aws.String("Used,UnusedCapacityReservation")}},
	})
	seen := map[string]bool{}
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		pages++
		for _, item := range decodePriceList(t, page.PriceList) {
			a := item.Product.Attributes
			if a["location"] != "US West (Oregon)" || a["usagetype"] != "USW2-BoxUsage:"+a["instanceType"] {
				t.Fatalf("wrong region attributes %v", a)
			}
			if seen[a["instanceType"]] {
				t.Fatalf("%s listed twice", a["instanceType"])
			}
			seen[a["instanceType"]] = true
		}
	}
	if len(seen) != wantCount || pages != (wantCount+99)/100 {
		t.Fatalf("got %d products in %d pages, want %d", len(seen), pages, wantCount)
	}
	if wantCount < 1000 {
		t.Fatalf("catalog unexpectedly small: %d", wantCount)
	}
}

func TestPricingGetProductsFiltersAndErrors(t *testing.T) {
	s := NewForTest(t, Options{})
	client := newPricingClient(s, "us-east-1")
	ctx := context.Background()
	count := func(code string, filters ...pricingtypes.Filter) int {
		t.Helper()
		n := 0
		p := pricing.NewGetProductsPaginator(client, &pricing.GetProductsInput{ServiceCode: aws.String(code), Filters: filters})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			n += len(page.PriceList)
		}
		return n
	}
	regions := len(pricingLocations)
	for _, tc := range []struct {
		name    string
		code    string
		filters []pricingtypes.Filter
		want    int
	}{
		{"type in every region", "AmazonEC2", []pricingtypes.Filter{termMatch("instanceType", "m5.large")}, regions},
		{"location name", "AmazonEC2", []pricingtypes.Filter{termMatch("instanceType", "c5.xlarge"), termMatch("location", "Asia Pacific (Singapore)")}, 1},
		{"EU location", "AmazonEC2", []pricingtypes.Filter{termMatch("instanceType", "c5.xlarge"), termMatch("location", "EU (Frankfurt)")}, 1},
		{"Windows is not offered", "AmazonEC2", []pricingtypes.Filter{termMatch("instanceType", "m5.large"), termMatch("operatingSystem", "Windows")}, 0},
		{"unknown type", "AmazonEC2", []pricingtypes.Filter{termMatch("instanceType", "m99.huge")}, 0},
		{"unknown field", "AmazonEC2", []pricingtypes.Filter{termMatch("instanceType", "m5.large"), termMatch("noSuchField", "x")}, 0},
		{"none of", "AmazonEC2", []pricingtypes.Filter{termMatch("instanceType", "m5.large"),
			{Type: pricingtypes.FilterTypeNoneOf, Field: aws.String("regionCode"), Value: aws.String("us-east-1,us-west-2")}}, regions - 2},
		{"contains", "AmazonEC2", []pricingtypes.Filter{termMatch("regionCode", "us-east-2"),
			{Type: pricingtypes.FilterTypeContains, Field: aws.String("instanceType"), Value: aws.String("m5.")}}, -1},
		{"unknown service", "AmazonRDS", nil, 0},
	} {
		got := count(tc.code, tc.filters...)
		if tc.want == -1 {
			// m5.large ... m5.metal and the m5d/m5n/... variants: several, all m5-ish.
			if got < 8 {
				t.Errorf("%s: got %d", tc.name, got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("%s: got %d products, want %d", tc.name, got, tc.want)
		}
	}

	_, err := client.GetProducts(ctx, &pricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"),
		Filters: []pricingtypes.Filter{{Type: "FUZZY", Field: aws.String("instanceType"), Value: aws.String("m5.large")}}})
	expectCode(t, err, "InvalidParameterException")
	_, err = client.GetProducts(ctx, &pricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"), MaxResults: aws.Int32(101)})
	expectCode(t, err, "InvalidParameterException")
	_, err = client.GetProducts(ctx, &pricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"), NextToken: aws.String("not-a-token")})
	expectCode(t, err, "InvalidNextTokenException")
}

func TestPricingDescribeServicesAndAttributeValues(t *testing.T) {
	s := NewForTest(t, Options{})
	client := newPricingClient(s, "us-east-1")
	ctx := context.Background()

	out, err := client.DescribeServices(ctx, &pricing.DescribeServicesInput{ServiceCode: aws.String("AmazonEC2")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Services) != 1 || aws.ToString(out.Services[0].ServiceCode) != "AmazonEC2" {
		t.Fatalf("services = %+v", out.Services)
	}
	found := false
	for _, n := range out.Services[0].AttributeNames {
		found = found || n == "instanceType"
	}
	if !found {
		t.Fatalf("attribute names lack instanceType: %v", out.Services[0].AttributeNames)
	}
	all, err := client.DescribeServices(ctx, &pricing.DescribeServicesInput{})
	if err != nil || len(all.Services) != len(pricingServices) {
		t.Fatalf("all services: %v %d", err, len(all.Services))
	}
	_, err = client.DescribeServices(ctx, &pricing.DescribeServicesInput{ServiceCode: aws.String("AmazonNothing")})
	expectCode(t, err, "NotFoundException")

	vals, err := client.GetAttributeValues(ctx, &pricing.GetAttributeValuesInput{ServiceCode: aws.String("AmazonEC2"), AttributeName: aws.String("location")})
	if err != nil {
		t.Fatal(err)
	}
	if len(vals.AttributeValues) != len(pricingLocations) {
		t.Fatalf("locations = %d", len(vals.AttributeValues))
	}
	_, err = client.GetAttributeValues(ctx, &pricing.GetAttributeValuesInput{ServiceCode: aws.String("AmazonEC2"), AttributeName: aws.String("bogus")})
	expectCode(t, err, "NotFoundException")
}

func TestFormatGiB(t *testing.T) {
	for mib, want := range map[int64]string{512: "0.5 GiB", 8192: "8 GiB", 3840: "3.75 GiB", 15616: "15.25 GiB", 1998848: "1,952 GiB", 25165824: "24,576 GiB"} {
		if got := formatGiB(mib); got != want {
			t.Errorf("formatGiB(%d) = %q, want %q", mib, got, want)
		}
	}
}
