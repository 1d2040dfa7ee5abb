package counter

import (
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// A pool's usage beside its limits, per resource ("nodes" included): what
// to alert on before a pool stops launching.
var (
	usage = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "nodewright_nodepool_usage",
		Help: "What a NodePool's NodeClaims hold, by nodepool and resource (cpu in cores, memory in bytes, nodes).",
	}, []string{"nodepool", "resource"})
	limit = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "nodewright_nodepool_limit",
		Help: "A NodePool's limits, by nodepool and resource; a resource without a limit has no series.",
	}, []string{"nodepool", "resource"})
	// What a pool's running instances cost per hour at their offerings'
	// prices: what to alert on when spot falls back to on-demand, say.
	price = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "nodewright_nodepool_price_dollars_per_hour",
		Help: "The summed hourly price (US dollars) of the instances a NodePool's launched NodeClaims run on, at their offerings' spot or on-demand prices, by nodepool and capacity_type.",
	}, []string{"nodepool", "capacity_type"})
)

func init() {
	metrics.Registry.MustRegister(usage, limit, price)
}

// observe replaces the pool's series with its current usage and limits, so
// a resource that left either one leaves no stale series.
func observe(np *v1.NodePool, resources corev1.ResourceList, nodes int64) {
	usage.DeletePartialMatch(prometheus.Labels{"nodepool": np.Name})
	limit.DeletePartialMatch(prometheus.Labels{"nodepool": np.Name})
	for name, q := range resources {
		usage.WithLabelValues(np.Name, string(name)).Set(q.AsApproximateFloat64())
	}
	usage.WithLabelValues(np.Name, "nodes").Set(float64(nodes))
	for name, q := range np.Spec.Limits {
		limit.WithLabelValues(np.Name, string(name)).Set(q.AsApproximateFloat64())
	}
}

// observePrices replaces the pool's price series. Spot and on-demand always
// have one, 0 when the pool runs none, so a pool that loses its last node
// reads 0 rather than nothing.
func observePrices(np *v1.NodePool, prices map[string]float64) {
	price.DeletePartialMatch(prometheus.Labels{"nodepool": np.Name})
	for _, ct := range []string{v1.CapacityTypeSpot, v1.CapacityTypeOnDemand} {
		price.WithLabelValues(np.Name, ct).Set(0)
	}
	for ct, p := range prices {
		price.WithLabelValues(np.Name, ct).Set(p)
	}
}
