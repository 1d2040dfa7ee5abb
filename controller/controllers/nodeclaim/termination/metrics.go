package termination

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	terminated = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nodewright_nodeclaims_terminated_total",
		Help: "NodeClaims whose termination finished (Node and instance gone), by nodepool.",
	}, []string{"nodepool"})
	terminationDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "nodewright_nodeclaims_termination_duration_seconds",
		Help:    "Time from a NodeClaim's deletion to the end of its termination (drain included), by nodepool.",
		Buckets: prometheus.ExponentialBuckets(0.25, 2, 16),
	}, []string{"nodepool"})
)

func init() {
	metrics.Registry.MustRegister(terminated, terminationDuration)
}
