package lifecycle

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// The steps of a NodeClaim's life, counted per pool, and how long each
// took: what users of Karpenter alert on when nodes are slow to arrive.
var (
	launched = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nodewright_nodeclaims_launched_total",
		Help: "NodeClaims whose instance was launched, by nodepool and capacity type.",
	}, []string{"nodepool", "capacity_type"})
	registered = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nodewright_nodeclaims_registered_total",
		Help: "NodeClaims whose Node joined the cluster, by nodepool.",
	}, []string{"nodepool"})
	initialized = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nodewright_nodeclaims_initialized_total",
		Help: "NodeClaims whose Node became ready for pods, by nodepool.",
	}, []string{"nodepool"})
	stepDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "nodewright_nodeclaims_step_duration_seconds",
		Help: "Time from one step of a NodeClaim's life to the next, by nodepool and step: " +
			"launch (creation to Launched), registration (Launched to Registered), initialization (Registered to Initialized).",
		Buckets: prometheus.ExponentialBuckets(0.25, 2, 14),
	}, []string{"nodepool", "step"})
)

// Steps, as the step label names them.
const (
	StepLaunch         = "launch"
	StepRegistration   = "registration"
	StepInitialization = "initialization"
)

func init() {
	metrics.Registry.MustRegister(launched, registered, initialized, stepDuration)
}

// observeStep records that nc reached a step, and how long it took since
// the previous one began at since.
func observeStep(nc *v1.NodeClaim, step string, since, now time.Time) {
	pool := nc.Labels[v1.NodePoolLabelKey]
	switch step {
	case StepLaunch:
		launched.WithLabelValues(pool, nc.Labels[v1.CapacityTypeLabelKey]).Inc()
	case StepRegistration:
		registered.WithLabelValues(pool).Inc()
	case StepInitialization:
		initialized.WithLabelValues(pool).Inc()
	}
	if !since.IsZero() && now.After(since) {
		stepDuration.WithLabelValues(pool, step).Observe(now.Sub(since).Seconds())
	}
}

// conditionSince is when the claim's condition last changed, or zero.
func conditionSince(nc *v1.NodeClaim, typ string) time.Time {
	if c := nc.GetCondition(typ); c != nil {
		return c.LastTransitionTime.Time
	}
	return time.Time{}
}
