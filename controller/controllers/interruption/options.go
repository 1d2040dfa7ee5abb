package interruption

import (
	"fmt"
	"strings"
	"time"
)

// RebalancePolicy says what a rebalance recommendation does.
type RebalancePolicy string

// Rebalance policies.
const (
	RebalanceReplace RebalancePolicy = "Replace"
	RebalanceCordon  RebalancePolicy = "Cordon"
	RebalanceIgnore  RebalancePolicy = "Ignore"
)

// ParseRebalancePolicy accepts Replace, Cordon or Ignore (any case).
func ParseRebalancePolicy(s string) (RebalancePolicy, error) {
	for _, p := range []RebalancePolicy{RebalanceReplace, RebalanceCordon, RebalanceIgnore} {
		if strings.EqualFold(s, string(p)) {
			return p, nil
		}
	}
	return "", fmt.Errorf("rebalance policy %q: want Replace, Cordon or Ignore", s)
}

// Options tune the controller.
type Options struct {
	// Queue is the queue's name or URL.
	Queue string
	// RebalancePolicy defaults to Replace.
	RebalancePolicy RebalancePolicy
	// DeleteFraction of the warning time (2 minutes for spot) after which
	// the claim is deleted, and so drained, even if its replacement has not
	// launched. In (0, 1]; default 0.5.
	DeleteFraction float64
	// UnavailableFor is how long an interrupted pool is avoided. Default 3m.
	UnavailableFor time.Duration
	// RebalanceDeleteAfter bounds how long a rebalanced node waits for its
	// replacement. Default 10m.
	RebalanceDeleteAfter time.Duration
	// Workers handle messages concurrently. Default 10.
	Workers int
	// BatchWindow collects interrupted nodes into one replacement. Default 1s.
	BatchWindow time.Duration
}

// DefaultDeleteFraction leaves half of a warning for the drain.
const DefaultDeleteFraction = 0.5

func (o Options) withDefaults() Options {
	if o.RebalancePolicy == "" {
		o.RebalancePolicy = RebalanceReplace
	}
	if !(o.DeleteFraction > 0 && o.DeleteFraction <= 1) {
		o.DeleteFraction = DefaultDeleteFraction
	}
	if o.UnavailableFor <= 0 {
		o.UnavailableFor = 3 * time.Minute
	}
	if o.RebalanceDeleteAfter <= 0 {
		o.RebalanceDeleteAfter = 10 * time.Minute
	}
	if o.Workers <= 0 {
		o.Workers = 10
	}
	if o.BatchWindow <= 0 {
		o.BatchWindow = time.Second
	}
	return o
}
