package disruptionplan

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cron"
)

// Allowed is how many of a pool's total nodes may be disrupted at once for
// reason, now: the smallest value among the active budgets that cover the
// reason (all reasons when a budget lists none). Percentages round up, as
// Karpenter's do. No budgets means the API default, 10%.
func Allowed(budgets []v1.Budget, reason v1.DisruptionReason, total int, now time.Time) (int, error) {
	if len(budgets) == 0 {
		budgets = []v1.Budget{{Nodes: "10%"}}
	}
	allowed := math.MaxInt
	for _, b := range budgets {
		if !covers(b, reason) {
			continue
		}
		if b.Schedule != nil && b.Duration != nil {
			active, err := Active(*b.Schedule, b.Duration.Duration, now)
			if err != nil {
				return 0, err
			}
			if !active {
				continue
			}
		}
		n, err := budgetNodes(b.Nodes, total)
		if err != nil {
			return 0, err
		}
		allowed = min(allowed, n)
	}
	if allowed == math.MaxInt {
		return total, nil
	}
	return allowed, nil
}

// ValidateBudgets reports, for every budget whose nodes or schedule does not
// parse, why: the budgets Allowed could fail on. The API server's schema
// rejects most such values; this catches what it lets through (a schedule
// field out of range, say) and budgets written before a rule existed.
func ValidateBudgets(budgets []v1.Budget) error {
	var errs []error
	for i, b := range budgets {
		if _, err := budgetNodes(b.Nodes, 0); err != nil {
			errs = append(errs, fmt.Errorf("budget %d: %w", i, err))
		}
		if b.Schedule != nil {
			if _, err := cron.Parse(*b.Schedule); err != nil {
				errs = append(errs, fmt.Errorf("budget %d: %w", i, err))
			}
		}
	}
	return errors.Join(errs...)
}

func covers(b v1.Budget, reason v1.DisruptionReason) bool {
	if len(b.Reasons) == 0 {
		return true
	}
	for _, r := range b.Reasons {
		if r == reason {
			return true
		}
	}
	return false
}

func budgetNodes(nodes string, total int) (int, error) {
	if nodes == "" {
		nodes = "10%"
	}
	if pct, ok := strings.CutSuffix(nodes, "%"); ok {
		p, err := strconv.Atoi(pct)
		if err != nil || p < 0 || p > 100 {
			return 0, fmt.Errorf("budget nodes %q: not a percentage", nodes)
		}
		return (total*p + 99) / 100, nil
	}
	n, err := strconv.Atoi(nodes)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("budget nodes %q: not a count", nodes)
	}
	return n, nil
}

// Active reports whether a window of length d opened by the cron schedule
// (UTC) contains now: some tick t with now-d < t <= now.
func Active(schedule string, d time.Duration, now time.Time) (bool, error) {
	_, active, err := WindowEnd(schedule, d, now)
	return active, err
}

// WindowEnd is when the window that contains now closes (the latest tick
// within d before now, plus d), and whether now is in a window at all.
func WindowEnd(schedule string, d time.Duration, now time.Time) (time.Time, bool, error) {
	c, err := cron.Parse(schedule)
	if err != nil {
		return time.Time{}, false, err
	}
	end, active := c.Window(d, now)
	return end, active, nil
}

// budgets: each pool's allowance per reason, less the nodes already being
// disrupted. A pool whose budgets cannot be evaluated is skipped, not the
// whole pass: one malformed NodePool must not stop disruption everywhere.
func (e *evaluator) budgets() {
	total, deleting := map[string]int{}, map[string]int{}
	for _, n := range e.s.Nodes {
		if n.NodeClaim == "" || n.NodePool == "" {
			continue
		}
		total[n.NodePool]++
		if n.Deleting {
			deleting[n.NodePool]++
		}
	}
	for name, p := range e.pools {
		e.left[name] = map[v1.DisruptionReason]int{}
		budgets := p.NodePool.Spec.Disruption.Budgets
		err := ValidateBudgets(budgets)
		for _, r := range []v1.DisruptionReason{v1.DisruptionReasonEmpty, v1.DisruptionReasonUnderutilized, v1.DisruptionReasonDrifted} {
			if err != nil {
				break
			}
			var n int
			if n, err = Allowed(budgets, r, total[name], e.s.Now); err == nil {
				e.left[name][r] = max(n-deleting[name], 0)
			}
		}
		if err != nil {
			e.left[name] = map[v1.DisruptionReason]int{}
			e.skipped[name] = "budgets cannot be evaluated: " + err.Error()
		}
	}
	names := make([]string, 0, len(e.skipped))
	for name := range e.skipped {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		e.res.Skipped = append(e.res.Skipped, SkippedPool{NodePool: name, Reason: e.skipped[name]})
	}
}

// budgetSpent notes that a pool's budget held a node back: the node may
// become a candidate when a scheduled budget's window closes (nodes
// finishing their disruption free budget too, but that is an event).
func (e *evaluator) budgetSpent(pool string) {
	p := e.pools[pool]
	if p == nil || e.spent[pool] {
		return
	}
	e.spent[pool] = true
	for _, b := range p.NodePool.Spec.Disruption.Budgets {
		if b.Schedule == nil || b.Duration == nil {
			continue
		}
		if end, ok, err := WindowEnd(*b.Schedule, b.Duration.Duration, e.s.Now); err == nil && ok {
			e.next(end)
		}
	}
}

// take spends one of the pool's budget for reason, if any is left.
func (e *evaluator) take(pool string, r v1.DisruptionReason) bool {
	if e.left[pool][r] <= 0 {
		e.budgetSpent(pool)
		return false
	}
	e.left[pool][r]--
	return true
}
