// Package cron parses and evaluates the schedules of disruption budgets.
//
// Parse accepts the five-field language of Kubernetes CronJobs, which is
// robfig/cron's standard parser: numbers, month and weekday names (any
// case), ranges, lists, steps, "*" and "?", and the @yearly … @hourly
// macros. Schedules are in UTC. Two things CronJobs accept are refused,
// because a budget window cannot mean anything with them: a "TZ=" or
// "CRON_TZ=" prefix (budgets are UTC, as in Karpenter) and "@every", which
// fires relative to whenever it is asked rather than at fixed times.
//
// Pattern, with a CEL rule that ranges run forwards, is what the NodePool
// CRD admits: a stricter subset of Parse (no empty list items, no "*-5",
// single spaces or more between fields, at most three step digits). The
// Terraform provider validates with Validate, which is both, so a plan that
// passes validation is one the API server admits.
// It is pure.
package cron

import (
	"fmt"
	"math/bits"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed cron expression: one bit per allowed value of each
// field, and starBit on fields written as "*" or "?" (unstepped), which
// decides how the two day fields combine.
type Schedule struct {
	minute, hour, dom, month, dow uint64
}

const starBit = 1 << 63

type field struct {
	name     string
	min, max uint
	names    map[string]uint
}

var (
	minutes = field{name: "minute", min: 0, max: 59}
	hours   = field{name: "hour", min: 0, max: 23}
	doms    = field{name: "day of month", min: 1, max: 31}
	months  = field{name: "month", min: 1, max: 12, names: map[string]uint{
		"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
	}}
	dows = field{name: "day of week", min: 0, max: 6, names: map[string]uint{
		"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
	}}
)

// Macros are the fixed-time descriptors, as five-field equivalents.
var macros = map[string]string{
	"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
	"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}

// Parse parses a schedule. Its errors name the field and the offending
// part, so they can go into a condition or an event unchanged.
func Parse(spec string) (*Schedule, error) {
	if spec == "" {
		return nil, fmt.Errorf("empty schedule")
	}
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return nil, fmt.Errorf("schedule %q: time zones are not supported; budget schedules are in UTC", spec)
	}
	if strings.HasPrefix(spec, "@") {
		if strings.HasPrefix(spec, "@every ") {
			return nil, fmt.Errorf("schedule %q: @every is not supported; use five fields or @yearly, @monthly, @weekly, @daily or @hourly", spec)
		}
		five, ok := macros[spec]
		if !ok {
			return nil, fmt.Errorf("schedule %q: unknown macro; use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly", spec)
		}
		spec = five
	}
	parts := strings.Fields(spec)
	if len(parts) != 5 {
		return nil, fmt.Errorf("schedule %q: want 5 fields (minute hour day-of-month month day-of-week), found %d", spec, len(parts))
	}
	s := &Schedule{}
	for i, p := range []struct {
		dst *uint64
		f   field
	}{{&s.minute, minutes}, {&s.hour, hours}, {&s.dom, doms}, {&s.month, months}, {&s.dow, dows}} {
		b, err := parseField(parts[i], p.f)
		if err != nil {
			return nil, fmt.Errorf("schedule %q: %s field: %w", spec, p.f.name, err)
		}
		*p.dst = b
	}
	return s, nil
}

// parseField ORs the items of a comma list. Empty items are skipped, as
// CronJobs skip them: "1,,2" is "1,2", and "," never fires.
func parseField(s string, f field) (uint64, error) {
	var out uint64
	for _, item := range strings.Split(s, ",") {
		if item == "" {
			continue
		}
		b, err := parseItem(item, f)
		if err != nil {
			return 0, err
		}
		out |= b
	}
	return out, nil
}

// parseItem parses "*", "?", "v", "a-b", each optionally followed by "/step".
// A single value with a step runs to the field's maximum. A step above one
// makes "*" a plain range for the day-field rule.
func parseItem(item string, f field) (uint64, error) {
	rng, step, stepped, err := cutStep(item)
	if err != nil {
		return 0, err
	}
	lo, hi, _ := strings.Cut(rng, "-")
	var start, end uint
	var star uint64
	switch {
	case lo == "*" || lo == "?":
		// CronJobs ignore anything after "*-".
		start, end, star = f.min, f.max, starBit
	default:
		if start, err = value(lo, f); err != nil {
			return 0, err
		}
		end = start
		if strings.Contains(rng, "-") {
			if strings.Contains(hi, "-") {
				return 0, fmt.Errorf("%q: too many hyphens", item)
			}
			if end, err = value(hi, f); err != nil {
				return 0, err
			}
		} else if stepped {
			end = f.max
		}
	}
	if stepped && step > 1 {
		star = 0
	}
	switch {
	case start < f.min:
		return 0, fmt.Errorf("%q: %d is below the minimum %d", item, start, f.min)
	case end > f.max:
		return 0, fmt.Errorf("%q: %d is above the maximum %d", item, end, f.max)
	case start > end:
		return 0, fmt.Errorf("%q: range starts after it ends", item)
	case step == 0:
		return 0, fmt.Errorf("%q: the step must be a positive number", item)
	}
	var b uint64
	for v := start; v <= end; v += step {
		b |= 1 << v
	}
	return b | star, nil
}

func cutStep(item string) (rng string, step uint, stepped bool, err error) {
	rng, s, stepped := strings.Cut(item, "/")
	if !stepped {
		return rng, 1, false, nil
	}
	if strings.Contains(s, "/") {
		return "", 0, false, fmt.Errorf("%q: too many slashes", item)
	}
	step, err = number(s)
	return rng, step, true, err
}

func value(s string, f field) (uint, error) {
	if v, ok := f.names[strings.ToLower(s)]; ok {
		return v, nil
	}
	return number(s)
}

func number(s string) (uint, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number or a name", s)
	}
	if n < 0 {
		return 0, fmt.Errorf("%q: negative numbers are not allowed", s)
	}
	return uint(n), nil
}

// Matches reports whether the minute containing t (in UTC) is a tick.
// When either day field is "*", both must match; when both are
// restricted, either may ("0 0 1 * mon" fires on the 1st and on Mondays).
func (s *Schedule) Matches(t time.Time) bool {
	t = t.UTC()
	return has(s.minute, t.Minute()) && has(s.hour, t.Hour()) && has(s.month, int(t.Month())) && s.dayMatches(t)
}

func (s *Schedule) dayMatches(t time.Time) bool {
	dom, dow := has(s.dom, t.Day()), has(s.dow, int(t.Weekday()))
	if s.dom&starBit != 0 || s.dow&starBit != 0 {
		return dom && dow
	}
	return dom || dow
}

func has(set uint64, v int) bool { return set&(1<<uint(v)) != 0 }

// horizon bounds the search for a tick: a schedule such as "0 0 30 2 *"
// never fires, and CronJobs give up after five years too.
const horizon = 5

// Next is the first tick strictly after t, or the zero time if there is
// none within five years.
func (s *Schedule) Next(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	limit := t.Year() + horizon
	for t.Year() <= limit {
		switch {
		case !has(s.month, int(t.Month())):
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		case !s.dayMatches(t):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
		case !has(s.hour, t.Hour()):
			t = t.Truncate(time.Hour).Add(time.Hour)
		case !has(s.minute, t.Minute()):
			t = t.Add(time.Duration(nextBit(s.minute, t.Minute())-t.Minute()) * time.Minute)
		default:
			return t
		}
	}
	return time.Time{}
}

// nextBit is the smallest minute above m in set, or 60 to roll the hour.
func nextBit(set uint64, m int) int {
	rest := set &^ starBit >> uint(m+1) << uint(m+1)
	if rest == 0 {
		return 60
	}
	return min(bits.TrailingZeros64(rest), 60)
}

// Window tells whether now lies in a window of length d opened by a tick
// (some tick t with now-d < t <= now) and, if so, when the latest such
// window closes. Later ticks may open the next window before then.
func (s *Schedule) Window(d time.Duration, now time.Time) (end time.Time, active bool) {
	if d <= 0 {
		return time.Time{}, false
	}
	// Next is strictly after its argument; ticks fall on whole minutes, so
	// the minute boundary at now-d itself is excluded as it must be.
	t := s.Next(now.Add(-d))
	if t.IsZero() || t.After(now) {
		return time.Time{}, false
	}
	for {
		n := s.Next(t)
		if n.IsZero() || n.After(now) {
			return t.Add(d), true
		}
		t = n
	}
}

// Pattern is the syntax the NodePool CRD admits for a budget schedule; the
// CRD's kubebuilder marker carries the same string (a test keeps them
// equal). With the CRD's rule that ranges run forwards, it admits only
// schedules Parse accepts.
const Pattern = `^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|` +
	`(\*|\?|0*([0-9]|[1-5][0-9])(-0*([0-9]|[1-5][0-9]))?)(/0*[1-9][0-9]{0,2})?(,(\*|\?|0*([0-9]|[1-5][0-9])(-0*([0-9]|[1-5][0-9]))?)(/0*[1-9][0-9]{0,2})?)* +` +
	`(\*|\?|0*([0-9]|1[0-9]|2[0-3])(-0*([0-9]|1[0-9]|2[0-3]))?)(/0*[1-9][0-9]{0,2})?(,(\*|\?|0*([0-9]|1[0-9]|2[0-3])(-0*([0-9]|1[0-9]|2[0-3]))?)(/0*[1-9][0-9]{0,2})?)* +` +
	`(\*|\?|0*([1-9]|[12][0-9]|3[01])(-0*([1-9]|[12][0-9]|3[01]))?)(/0*[1-9][0-9]{0,2})?(,(\*|\?|0*([1-9]|[12][0-9]|3[01])(-0*([1-9]|[12][0-9]|3[01]))?)(/0*[1-9][0-9]{0,2})?)* +` +
	`(\*|\?|(0*([1-9]|1[0-2])|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))(-(0*([1-9]|1[0-2])|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)))?)(/0*[1-9][0-9]{0,2})?(,(\*|\?|(0*([1-9]|1[0-2])|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))(-(0*([1-9]|1[0-2])|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)))?)(/0*[1-9][0-9]{0,2})?)* +` +
	`(\*|\?|(0*[0-6]|(?i:sun|mon|tue|wed|thu|fri|sat))(-(0*[0-6]|(?i:sun|mon|tue|wed|thu|fri|sat)))?)(/0*[1-9][0-9]{0,2})?(,(\*|\?|(0*[0-6]|(?i:sun|mon|tue|wed|thu|fri|sat))(-(0*[0-6]|(?i:sun|mon|tue|wed|thu|fri|sat)))?)(/0*[1-9][0-9]{0,2})?)*)$`

var patternRE = regexp.MustCompile(Pattern)

// Validate accepts exactly what the NodePool CRD admits: Pattern's syntax,
// and ranges that do not run backwards (which Parse checks, as the CRD's
// CEL rule does).
func Validate(spec string) error {
	if !patternRE.MatchString(spec) {
		if _, err := Parse(spec); err != nil {
			return err
		}
		return fmt.Errorf("schedule %q: use five fields of numbers, names, *, ranges, lists and steps separated by spaces (for example \"0 9 * * mon-fri\"), or a macro such as @daily", spec)
	}
	_, err := Parse(spec)
	return err
}
