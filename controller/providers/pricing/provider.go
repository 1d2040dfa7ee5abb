// Package pricing prices what nodewright launches: on-demand prices from
// the AWS Price List and spot prices from EC2's spot price history (I/O,
// cached for a TTL), the embedded catalog's prices for offline planning,
// and the EBS volumes a node class launches with (no I/O).
package pricing

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	awspricing "github.com/aws/aws-sdk-go-v2/service/pricing"
	pricingtypes "github.com/aws/aws-sdk-go-v2/service/pricing/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/nodewright/nodewright/controller/catalog"
	"github.com/nodewright/nodewright/controller/providers/cache"
)

// Provider reads the region's current prices.
type Provider interface {
	// Prices are the region's prices, read from AWS at most once per TTL.
	// When a refresh fails, the prices read before are returned; only
	// the first read can fail.
	Prices(ctx context.Context) (*Prices, error)
	// ReadAt is when the prices Prices returns were read from AWS; zero
	// before the first read.
	ReadAt() time.Time
	// Fallback says whether on-demand prices come from the embedded
	// catalog now, and why.
	Fallback() Fallback
}

// Fallback is one stretch of time in which the Price List could not be
// read. Episode numbers the stretches from 1, so that whoever reports a
// fallback can report each stretch once; it is 0 while prices are AWS's.
type Fallback struct {
	Episode uint64
	// Region is the cluster's region; PriceRegion the region whose
	// embedded list prices stand in (catalog.PriceRegion).
	Region, PriceRegion string
	// Reason is the Price List error that started the stretch.
	Reason string
}

// Options say which region's prices are read and how long they are kept.
type Options struct {
	Region string
	Clock  clock.Clock
	// TTL is how long prices are reused before AWS is asked again.
	TTL time.Duration
}

// DefaultProvider is the Provider on the Price List and EC2.
type DefaultProvider struct {
	opts    Options
	pricing PricingAPI
	ec2     EC2API
	prices  cache.Value[*Prices]
	// embedded is whether the last refresh fell back to the embedded
	// catalog's on-demand prices, so that a fallback is reported when it
	// starts and when it ends, not at every refresh.
	embedded atomic.Bool
	fallback atomic.Pointer[Fallback]
	episodes atomic.Uint64
}

var _ Provider = (*DefaultProvider)(nil)

// NewDefaultProvider reads prices with the clients given.
func NewDefaultProvider(opts Options, p PricingAPI, e EC2API) *DefaultProvider {
	return &DefaultProvider{opts: opts, pricing: p, ec2: e}
}

// Prices are the region's current prices: on-demand from the Price List,
// spot from the latest spot price history point per (type, zone).
type Prices struct {
	region   string
	onDemand map[string]float64
	spot     map[string]map[string]float64 // type -> zone -> price
}

// OnDemand implements instancetype.Pricing, falling back to the embedded catalog's price
// for types the Price List did not list.
func (p *Prices) OnDemand(it catalog.InstanceType) (float64, bool) {
	if v, ok := p.onDemand[it.Name]; ok && v > 0 {
		return v, true
	}
	return it.Price(p.region)
}

// Spot implements instancetype.Pricing: no spot history, no spot offering.
func (p *Prices) Spot(it catalog.InstanceType, zone string) (float64, bool) {
	v, ok := p.spot[it.Name][zone]
	return v, ok && v > 0
}

// ReadAt implements Provider. Prices are cached for the TTL and spot prices
// change on the hour, so this, not a batch's own time, is the moment at
// which `nodewright simulate --at` prices a recorded batch as it was solved.
func (p *DefaultProvider) ReadAt() time.Time { return p.prices.FetchedAt() }

// Fallback implements Provider.
func (p *DefaultProvider) Fallback() Fallback {
	if f := p.fallback.Load(); f != nil {
		return *f
	}
	return Fallback{}
}

// Prices implements Provider.
func (p *DefaultProvider) Prices(ctx context.Context) (*Prices, error) {
	return p.prices.Get(p.opts.Clock.Now(), p.opts.TTL, func() (*Prices, error) {
		od, err := p.fetchOnDemand(ctx)
		// The embedded catalog prices on-demand well enough to keep
		// scheduling; a denied or failing Price List is worth a line when
		// the fallback starts and one when it ends.
		switch {
		case err != nil:
			od = map[string]float64{}
			if !p.embedded.Swap(true) {
				log.FromContext(ctx).Error(err, "reading on-demand prices from the Price List; using the embedded catalog's until it answers",
					"region", p.opts.Region, "embeddedPricesOf", catalog.PriceRegion(p.opts.Region))
				p.fallback.Store(&Fallback{Episode: p.episodes.Add(1), Region: p.opts.Region,
					PriceRegion: catalog.PriceRegion(p.opts.Region), Reason: err.Error()})
			}
			embeddedOnDemand.Set(1)
		case p.embedded.Swap(false):
			log.FromContext(ctx).Info("on-demand prices come from the Price List again", "region", p.opts.Region, "types", len(od))
			p.fallback.Store(nil)
			embeddedOnDemand.Set(0)
		}
		spot, err := p.fetchSpot(ctx)
		if err != nil {
			return nil, err
		}
		return &Prices{region: p.opts.Region, onDemand: od, spot: spot}, nil
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

func (p *DefaultProvider) fetchOnDemand(ctx context.Context) (map[string]float64, error) {
	term := func(field, value string) pricingtypes.Filter {
		return pricingtypes.Filter{Type: pricingtypes.FilterTypeTermMatch, Field: aws.String(field), Value: aws.String(value)}
	}
	out := map[string]float64{}
	for _, q := range onDemandQueries {
		family, tenancy := q[0], q[1]
		pages := awspricing.NewGetProductsPaginator(p.pricing, &awspricing.GetProductsInput{
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

func (p *DefaultProvider) fetchSpot(ctx context.Context) (map[string]map[string]float64, error) {
	pages := ec2.NewDescribeSpotPriceHistoryPaginator(p.ec2, &ec2.DescribeSpotPriceHistoryInput{
		ProductDescriptions: []string{"Linux/UNIX"},
		StartTime:           aws.Time(p.opts.Clock.Now()),
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

// NewPrices are prices from what was read: on-demand by type, spot by type
// and zone; types with no on-demand price fall back to the embedded
// catalog's.
func NewPrices(region string, onDemand map[string]float64, spot map[string]map[string]float64) *Prices {
	return &Prices{region: region, onDemand: onDemand, spot: spot}
}
