package pricing

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// embeddedOnDemand is 1 while on-demand prices come from the embedded
// catalog because the Price List could not be read: plans are then priced
// at the catalog's list prices, which may be out of date.
var embeddedOnDemand = prometheus.NewGauge(prometheus.GaugeOpts{
	Name: "nodewright_cloudprovider_prices_embedded",
	Help: "1 while on-demand prices come from the embedded catalog because the AWS Price List could not be read, else 0.",
})

func init() {
	metrics.Registry.MustRegister(embeddedOnDemand)
}
