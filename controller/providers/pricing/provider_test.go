package pricing

import (
	"context"
	"testing"

	awspricing "github.com/aws/aws-sdk-go-v2/service/pricing"

	"github.com/nodewright/nodewright/controller/catalog"
	"github.com/nodewright/nodewright/test/localcloud/awsemu"
)

type fakePricing struct{ docs []string }

func (f fakePricing) GetProducts(context.Context, *awspricing.GetProductsInput, ...func(*awspricing.Options)) (*awspricing.GetProductsOutput, error) {
	return &awspricing.GetProductsOutput{PriceList: f.docs}, nil
}

const m5Doc = `{"product":{"productFamily":"Compute Instance","attributes":{"instanceType":"m5.large","regionCode":"us-east-1"}},
"terms":{"OnDemand":{"X.JRTCKXETXF":{"priceDimensions":{"X.JRTCKXETXF.6YS6EN2CT7":{"unit":"Hrs","pricePerUnit":{"USD":"0.1234000000"}}}}}}}`

func TestOnDemandPricesFromPriceList(t *testing.T) {
	p := NewDefaultProvider(Options{Region: "us-east-1"}, fakePricing{docs: []string{m5Doc, `not json`, `{"product":{}}`}}, nil)
	got, err := p.fetchOnDemand(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["m5.large"] != 0.1234 {
		t.Fatalf("prices %v", got)
	}
	pr := &Prices{region: "us-east-1", onDemand: got}
	if v, _ := pr.OnDemand(catalog.InstanceType{Name: "m5.large"}); v != 0.1234 {
		t.Errorf("m5.large = %v, want the Price List's 0.1234", v)
	}
	// Types the Price List misses fall back to the embedded catalog.
	c5 := catalog.InstanceType{Name: "c5.large", OnDemandPrice: map[string]float64{"us-east-1": 0.085}}
	if v, ok := pr.OnDemand(c5); !ok || v != 0.085 {
		t.Errorf("c5.large = %v %v, want the catalog's 0.085", v, ok)
	}
	if _, ok := pr.Spot(c5, "us-east-1a"); ok {
		t.Error("a type without spot history has a spot price")
	}
}

// Against the emulator's Price List, which files bare metal apart (as AWS
// does), both kinds of type get their on-demand price.
func TestOnDemandPricesCoverBareMetal(t *testing.T) {
	emu := awsemu.NewForTest(t, awsemu.Options{})
	p := NewDefaultProvider(Options{Region: "us-east-1"}, awspricing.NewFromConfig(emu.Config()), nil)
	got, err := p.fetchOnDemand(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	types, err := catalog.InstanceTypes()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, it := range types {
		if it.Name != "m5.large" && it.Name != "m5.metal" && it.Name != "c7g.metal" {
			continue
		}
		checked++
		if want, _ := it.Price("us-east-1"); got[it.Name] != want || want == 0 {
			t.Errorf("%s = %v, want %v", it.Name, got[it.Name], want)
		}
	}
	if checked != 3 {
		t.Fatalf("the catalog holds %d of the three types checked", checked)
	}
}
