package disruption

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Outcomes of a decision; each decision ends with exactly one.
const (
	OutcomeDropped   = "dropped"   // no longer held after the validation delay
	OutcomeCompleted = "completed" // candidates handed to termination
	OutcomeFailed    = "failed"    // a replacement failed; nothing was drained
)

var (
	decisionsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nodewright_disruption_decisions_total",
		Help: "Disruption decisions by method, reason and outcome (dropped, completed, failed).",
	}, []string{"method", "reason", "outcome"})
	nodesDisruptedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nodewright_disruption_nodes_disrupted_total",
		Help: "NodeClaims deleted by disruption, by method and nodepool.",
	}, []string{"method", "nodepool"})
	estimatedSavings = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "nodewright_disruption_estimated_savings_dollars_per_hour",
		Help: "Estimated $/h saved by the last completed decision of each method (negative: it costs more, as drift may).",
	}, []string{"method"})
	evaluationDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "nodewright_disruption_evaluation_duration_seconds",
		Help:    "Duration of one disruption evaluation over a snapshot (all methods).",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
	})
	passDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "nodewright_disruption_pass_duration_seconds",
		Help:    "Duration of one disruption pass: commands carried forward, snapshot, evaluation and validation.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
	})
)

func init() {
	metrics.Registry.MustRegister(decisionsTotal, nodesDisruptedTotal, estimatedSavings, evaluationDuration, passDuration)
}
