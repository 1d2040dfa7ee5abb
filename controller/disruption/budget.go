package disruption

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
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
			if _, err := ParseCron(*b.Schedule); err != nil {
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
	c, err := ParseCron(schedule)
	if err != nil {
		return time.Time{}, false, err
	}
	now = now.UTC()
	t := now.Truncate(time.Minute)
	// Walk back minute by minute; a year of minutes bounds the search.
	for steps := 0; now.Sub(t) < d && steps < 366*24*60; steps++ {
		if c.Matches(t) {
			return t.Add(d), true, nil
		}
		t = t.Add(-time.Minute)
	}
	return time.Time{}, false, nil
}

// Cron is a parsed five-field cron expression: minute hour day-of-month
// month day-of-week.
type Cron struct {
	fields [5]map[int]bool
	// Standard cron: when both day fields are restricted, either may match.
	domStar, dowStar bool
}

var macros = map[string]string{
	"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
	"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}

var bounds = [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}}

// ParseCron parses numbers, *, ?, ranges, lists and steps, and the @ macros.
// Month and weekday names are not supported.
func ParseCron(s string) (*Cron, error) {
	if m, ok := macros[strings.TrimSpace(s)]; ok {
		s = m
	}
	parts := strings.Fields(s)
	if len(parts) != 5 {
		return nil, fmt.Errorf("cron %q: want 5 fields", s)
	}
	c := &Cron{domStar: parts[2] == "*" || parts[2] == "?", dowStar: parts[4] == "*" || parts[4] == "?"}
	for i, p := range parts {
		set, err := parseField(p, bounds[i][0], bounds[i][1])
		if err != nil {
			return nil, fmt.Errorf("cron %q field %d: %w", s, i+1, err)
		}
		c.fields[i] = set
	}
	if c.fields[4][7] {
		c.fields[4][0] = true
	}
	return c, nil
}

func parseField(p string, lo, hi int) (map[int]bool, error) {
	set := map[int]bool{}
	for _, item := range strings.Split(p, ",") {
		rng, stepStr, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepStr)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("bad step %q", item)
			}
			step = n
		}
		a, b := lo, hi
		switch {
		case rng == "*" || rng == "?":
		case strings.Contains(rng, "-"):
			x, y, _ := strings.Cut(rng, "-")
			var err1, err2 error
			a, err1 = strconv.Atoi(x)
			b, err2 = strconv.Atoi(y)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("bad range %q", item)
			}
		default:
			n, err := strconv.Atoi(rng)
			if err != nil {
				return nil, fmt.Errorf("bad value %q", item)
			}
			a, b = n, n
			if hasStep {
				b = hi
			}
		}
		if a < lo || b > hi || a > b {
			return nil, fmt.Errorf("%q out of range %d-%d", item, lo, hi)
		}
		for v := a; v <= b; v += step {
			set[v] = true
		}
	}
	return set, nil
}

// Matches reports whether the minute t (UTC) is a tick.
func (c *Cron) Matches(t time.Time) bool {
	if !c.fields[0][t.Minute()] || !c.fields[1][t.Hour()] || !c.fields[3][int(t.Month())] {
		return false
	}
	dom, dow := c.fields[2][t.Day()], c.fields[4][int(t.Weekday())]
	switch {
	case c.domStar && c.dowStar:
		return true
	case c.domStar:
		return dow
	case c.dowStar:
		return dom
	default:
		return dom || dow
	}
}
