package disruption

import (
	"context"
	"slices"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/nodewright/nodewright/controller/engine/disruptionplan"
)

// pending decisions were found and wait out the validation delay, so a
// burst of pod churn (a rollout, a scale-down in progress) does not
// trigger a disruption the next minute would have regretted.
type pending struct {
	decisions []*disruptionplan.Decision
	due       time.Time
}

func (c *Controller) propose(ctx context.Context, v *view, ds []*disruptionplan.Decision) {
	c.pending = &pending{decisions: ds, due: c.clock.Now().Add(c.opts.ValidationDelay)}
	for _, d := range ds {
		log.FromContext(ctx).Info("found disruption decision, validating", "method", d.Method, "reason", d.Reason,
			"candidates", candidateNames(d), "replacements", len(d.Replacements), "savings", d.Savings, "after", c.opts.ValidationDelay.String())
	}
}

// validate re-evaluates and carries out each pending decision the fresh
// evaluation still makes; the others are dropped.
func (c *Controller) validate(ctx context.Context, r *Report) error {
	p := c.pending
	c.pending = nil
	v, res, err := c.evaluate(ctx)
	if err != nil {
		for _, d := range p.decisions {
			c.drop(ctx, d, "re-evaluation failed: "+err.Error())
			r.Dropped = append(r.Dropped, d)
		}
		return err
	}
	for _, d := range p.decisions {
		fresh := matching(d, res.Decisions)
		if fresh == nil {
			c.drop(ctx, d, "no longer holds")
			r.Dropped = append(r.Dropped, d)
			continue
		}
		// The fresh decision carries current replacement plans and prices.
		r.Started = append(r.Started, fresh)
		if err := c.execute(ctx, v, fresh, r); err != nil {
			return err
		}
	}
	return nil
}

func (c *Controller) drop(ctx context.Context, d *disruptionplan.Decision, why string) {
	decisionsTotal.WithLabelValues(string(d.Method), string(d.Reason), OutcomeDropped).Inc()
	log.FromContext(ctx).Info("dropping disruption decision", "why", why, "method", d.Method, "reason", d.Reason, "candidates", candidateNames(d))
}

// matching is the decision among fresh with the same method, the same
// candidates and the same need (or not) for replacements. Emptiness is
// allowed more: more nodes may have emptied meanwhile, and the ones it
// validated still may go (the fresh decision, within budget, takes them).
func matching(d *disruptionplan.Decision, fresh []*disruptionplan.Decision) *disruptionplan.Decision {
	want := candidateNames(d)
	for _, f := range fresh {
		if f.Method != d.Method || (len(f.Replacements) > 0) != (len(d.Replacements) > 0) {
			continue
		}
		have := candidateNames(f)
		if slices.Equal(have, want) {
			return f
		}
		if d.Method == disruptionplan.MethodEmptiness && len(d.Replacements) == 0 && subset(want, have) {
			out := *f
			out.Candidates = nil
			for _, n := range f.Candidates {
				if slices.Contains(want, claimName(n)) {
					out.Candidates = append(out.Candidates, n)
				}
			}
			return &out
		}
	}
	return nil
}

func subset(small, big []string) bool {
	for _, s := range small {
		if !slices.Contains(big, s) {
			return false
		}
	}
	return true
}

// candidateNames are the candidates' NodeClaim names, sorted.
func candidateNames(d *disruptionplan.Decision) []string {
	out := make([]string, 0, len(d.Candidates))
	for _, n := range d.Candidates {
		out = append(out, claimName(n))
	}
	slices.Sort(out)
	return out
}

func claimName(n *disruptionplan.Node) string {
	if n.NodeClaim != "" {
		return n.NodeClaim
	}
	return n.Name
}
