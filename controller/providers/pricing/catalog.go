package pricing

import (
	"time"

	"github.com/nodewright/nodewright/controller/catalog"
)

// CatalogPricing prices from the embedded catalog as the local cloud's
// endpoints serve it at At: on-demand from the price table (what its Price
// List GetProducts returns), spot from the synthetic formula for At's hour
// (what its DescribeSpotPriceHistory returns as the newest point). It is the
// offline fallback, and what `nodewright simulate --at` uses.
type CatalogPricing struct {
	Region string
	// At picks the hour of the synthetic spot prices.
	At time.Time
}

// OnDemand implements instancetype.Pricing.
func (p CatalogPricing) OnDemand(it catalog.InstanceType) (float64, bool) { return it.Price(p.Region) }

// Spot implements instancetype.Pricing.
func (p CatalogPricing) Spot(it catalog.InstanceType, zone string) (float64, bool) {
	return it.SyntheticSpotPrice(p.Region, zone, p.At)
}
