package nodeclaim

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// Reasons a NodeClaim is deleted outright, whatever blocks voluntary
// disruption, as the disrupted metric's reason label names them
// (Karpenter's metrics.ExpiredReason and UnhealthyReason).
const (
	ReasonExpired   = "expired"
	ReasonUnhealthy = "unhealthy"
)

// disrupted is shared by the controllers that delete claims forcefully
// (expiration, node health), so it lives here rather than in either.
var disrupted = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "nodewright_nodeclaims_disrupted_total",
	Help: "NodeClaims deleted forcefully, whatever do-not-disrupt or disruption budgets say, by reason (expired, unhealthy), nodepool and capacity type.",
}, []string{"reason", "nodepool", "capacity_type"})

func init() {
	metrics.Registry.MustRegister(disrupted)
}

// CountDisrupted counts nc as deleted for reason.
func CountDisrupted(nc *v1.NodeClaim, reason string) {
	disrupted.WithLabelValues(reason, nc.Labels[v1.NodePoolLabelKey], nc.Labels[v1.CapacityTypeLabelKey]).Inc()
}
