package awscloud

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	pricingtypes "github.com/aws/aws-sdk-go-v2/service/pricing/types"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/nodewright/nodewright/controller/catalog"
	"github.com/nodewright/nodewright/controller/providers/cache"
)

// prices are the region's current prices: on-demand from the Price List,
// spot from the latest spot price history point per (type, zone).
type prices struct {
	region   string
	onDemand map[string]float64
	spot     map[string]map[string]float64 // type -> zone -> price
}

type priceCache struct{ cache.Value[*prices] }

// OnDemand implements Pricing, falling back to the embedded catalog's price
// for types the Price List did not list.
func (p *prices) OnDemand(it catalog.InstanceType) (float64, bool) {
	if v, ok := p.onDemand[it.Name]; ok && v > 0 {
		return v, true
	}
	return it.Price(p.region)
}

// Spot implements Pricing: no spot history, no spot offering.
func (p *prices) Spot(it catalog.InstanceType, zone string) (float64, bool) {
	v, ok := p.spot[it.Name][zone]
	return v, ok && v > 0
}

// PricesReadAt is when the prices offerings now carry were read from AWS;
// zero before the first read. They are cached for PricesTTL and spot prices
// change on the hour, so this, not a batch's own time, is the moment at
// which `nodewright simulate --at` prices a recorded batch as it was solved.
func (p *CloudProvider) PricesReadAt() time.Time { return p.prices.FetchedAt() }

func (p *CloudProvider) pricesFor(ctx context.Context, _ *typeCatalog) (*prices, error) {
	return p.prices.Get(p.clock.Now(), p.opts.PricesTTL, func() (*prices, error) {
		od, err := p.fetchOnDemand(ctx)
		if err != nil {
			// The embedded catalog prices on-demand well enough to keep
			// scheduling; a denied or failing Price List is worth a line.
			log.FromContext(ctx).Error(err, "reading on-demand prices from the Price List; using the embedded catalog's until the next refresh")
			od = map[string]float64{}
		}
		spot, err := p.fetchSpot(ctx)
		if err != nil {
			return nil, err
		}
		return &prices{region: p.opts.Region, onDemand: od, spot: spot}, nil
	})
}

// priceListItem is the part of a Price List product document we read.
type priceListItem struct {
	Product struct {
		Attributes map[string]string `json:"attributes"`
	} `json:"product"`
	Terms struct {
		OnDemand map[string]struct {
			PriceDimensions map[string]struct {
				Unit         string            `json:"unit"`
				PricePerUnit map[string]string `json:"pricePerUnit"`
			} `json:"priceDimensions"`
		} `json:"OnDemand"`
	} `json:"terms"`
}

// onDemandQueries are the two Price List queries that between them cover
// every Linux on-demand type: the Price List files bare-metal types under
// their own product family with tenancy Dedicated, apart from the shared
// virtualised ones (Karpenter's pricing provider queries the same way).
var onDemandQueries = [][2]string{
	{"Compute Instance", "Shared"},
	{"Compute Instance (bare metal)", "Dedicated"},
}

func (p *CloudProvider) fetchOnDemand(ctx context.Context) (map[string]float64, error) {
	term := func(field, value string) pricingtypes.Filter {
		return pricingtypes.Filter{Type: pricingtypes.FilterTypeTermMatch, Field: aws.String(field), Value: aws.String(value)}
	}
	out := map[string]float64{}
	for _, q := range onDemandQueries {
		family, tenancy := q[0], q[1]
		pages := pricing.NewGetProductsPaginator(p.pricing, &pricing.GetProductsInput{
			ServiceCode:   aws.String("AmazonEC2"),
			FormatVersion: aws.String("aws_v1"),
			Filters: []pricingtypes.Filter{
				term("regionCode", p.opts.Region), term("operatingSystem", "Linux"), term("tenancy", tenancy),
				term("productFamily", family), term("preInstalledSw", "NA"), term("capacitystatus", "Used"),
			},
		})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("getting on-demand prices (%s, tenancy %s): %w", family, tenancy, err)
			}
			for _, doc := range page.PriceList {
				if name, price, ok := parsePriceListItem(doc); ok {
					out[name] = price
				}
			}
		}
	}
	return out, nil
}

// parsePriceListItem reads an hourly USD price out of one product document.
func parsePriceListItem(doc string) (string, float64, bool) {
	var item priceListItem
	if err := json.Unmarshal([]byte(doc), &item); err != nil {
		return "", 0, false
	}
	name := item.Product.Attributes["instanceType"]
	if name == "" {
		return "", 0, false
	}
	for _, t := range item.Terms.OnDemand {
		for _, d := range t.PriceDimensions {
			if d.Unit != "Hrs" {
				continue
			}
			v, err := strconv.ParseFloat(d.PricePerUnit["USD"], 64)
			if err == nil && v > 0 {
				return name, v, true
			}
		}
	}
	return "", 0, false
}

func (p *CloudProvider) fetchSpot(ctx context.Context) (map[string]map[string]float64, error) {
	pages := ec2.NewDescribeSpotPriceHistoryPaginator(p.ec2, &ec2.DescribeSpotPriceHistoryInput{
		ProductDescriptions: []string{"Linux/UNIX"},
		StartTime:           aws.Time(p.clock.Now()),
	})
	out := map[string]map[string]float64{}
	at := map[string]map[string]time.Time{}
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describing spot price history: %w", err)
		}
		for _, sp := range page.SpotPriceHistory {
			record(out, at, sp)
		}
	}
	return out, nil
}

// record keeps the newest price per (type, zone).
func record(out map[string]map[string]float64, at map[string]map[string]time.Time, sp ec2types.SpotPrice) {
	typ, zone := string(sp.InstanceType), aws.ToString(sp.AvailabilityZone)
	v, err := strconv.ParseFloat(aws.ToString(sp.SpotPrice), 64)
	if err != nil || typ == "" || zone == "" {
		return
	}
	ts := aws.ToTime(sp.Timestamp)
	if out[typ] == nil {
		out[typ], at[typ] = map[string]float64{}, map[string]time.Time{}
	}
	if prev, ok := at[typ][zone]; ok && prev.After(ts) {
		return
	}
	out[typ][zone], at[typ][zone] = v, ts
}
