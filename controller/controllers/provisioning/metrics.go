package provisioning

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// What one provisioning batch saw and decided.
var (
	podsPending = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "nodewright_provisioner_pods_pending",
		Help:    "Pods a batch found provisionable.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 16),
	})
	solveDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "nodewright_provisioner_solve_duration_seconds",
		Help:    "Duration of one batch's scheduling solve.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
	})
	decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nodewright_provisioner_scheduling_decisions_total",
		Help: "Pods placed by the provisioner's solves, by where they went: existing (a node or an in-flight claim), new (a NodeClaim created), unschedulable.",
	}, []string{"decision"})
	nodeClaimsCreated = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nodewright_nodeclaims_created_total",
		Help: "NodeClaims the provisioner created, by nodepool.",
	}, []string{"nodepool"})
)

// Decisions, as the decision label names them.
const (
	DecisionExisting      = "existing"
	DecisionNew           = "new"
	DecisionUnschedulable = "unschedulable"
)

func init() {
	metrics.Registry.MustRegister(podsPending, solveDuration, decisions, nodeClaimsCreated)
}
