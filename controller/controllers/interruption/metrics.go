package interruption

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	messagesReceived = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nodewright_interruption_messages_received_total",
		Help: "Interruption queue messages received, by kind; malformed or unknown messages are kind=\"malformed\".",
	}, []string{"kind"})
	actions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nodewright_interruption_actions_total",
		Help: "Actions taken on interruption messages, by action.",
	}, []string{"action"})
	messageLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "nodewright_interruption_message_latency_seconds",
		Help:    "Time from an event's emission to the start of its action.",
		Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120},
	})
	warningToRescheduled = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "nodewright_interruption_warning_to_rescheduled_seconds",
		Help:    "Time from an interruption warning to every pod of the node's controllers Running and Ready elsewhere.",
		Buckets: []float64{1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300},
	})
)

func init() {
	metrics.Registry.MustRegister(messagesReceived, actions, messageLatency, warningToRescheduled)
}

// Action labels.
const (
	ActionMarkUnavailable = "mark_unavailable"
	ActionReplace         = "replace"
	ActionDelete          = "delete"
	ActionCordon          = "cordon"
	ActionIgnore          = "ignore"
	ActionDuplicate       = "duplicate"
	ActionBudgetBlocked   = "budget_blocked"
	ActionDropped         = "dropped"
)
