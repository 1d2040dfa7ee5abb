package simulate

import (
	"fmt"
	"time"

	"github.com/nodewright/nodewright/controller/catalog"
)

// PriceSources says where the plan's prices come from, so that a reader of
// simulate's output never takes a synthetic spot price for a real one: the
// catalog file's own prices, or the embedded catalog's on-demand list
// prices with a synthetic spot price for the hour simulated.
func (o Options) PriceSources() string {
	if o.CatalogFile != "" {
		return fmt.Sprintf("prices: as given in %s", o.CatalogFile)
	}
	region := o.Region
	if region == "" {
		region = "us-east-1"
	}
	listed, instead := catalog.PriceRegion(region), ""
	if listed != region {
		instead = fmt.Sprintf(", standing in for %s, which the catalog has none for", region)
	}
	return fmt.Sprintf("prices: on-demand from the embedded EC2 catalog's %s list prices%s (controller/catalog/data/README.md says when they were taken); "+
		"spot synthetic, for the hour of %s; the controller reads both from AWS", listed, instead, o.At.UTC().Truncate(time.Hour).Format(time.RFC3339))
}
