package iameval

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Qualifier is a condition set operator prefix.
type Qualifier string

// The set operators; QualifierNone is a plain operator.
const (
	QualifierNone Qualifier = ""
	ForAllValues  Qualifier = "ForAllValues"
	ForAnyValue   Qualifier = "ForAnyValue"
)

// Condition is one operator/key pair of a Condition element, e.g.
// "ForAllValues:StringEqualsIfExists": {"aws:TagKeys": ["a", "b"]}.
type Condition struct {
	Operator  string // base operator in its canonical spelling, e.g. "StringEquals"
	Qualifier Qualifier
	IfExists  bool
	Key       string
	Values    []string // numbers and booleans are kept in their JSON spelling
}

// operator describes one base condition operator. match is the positive
// comparison of one request value with one policy value; negated operators
// invert the outcome over the whole value list, which gives AWS's NOR.
type operator struct {
	name    string
	negated bool
	vars    bool // values may hold policy variables
	match   func(req string, pv policyValue) bool
}

// policyValue is one condition value after variable substitution: text is
// the literal string, pat keeps wildcards apart from substituted characters.
type policyValue struct {
	text string
	pat  []pchar
}

var operators = map[string]*operator{}

func init() {
	add := func(name string, negated, vars bool, match func(string, policyValue) bool) {
		operators[strings.ToLower(name)] = &operator{name: name, negated: negated, vars: vars, match: match}
	}
	strEq := func(r string, p policyValue) bool { return r == p.text }
	strFold := func(r string, p policyValue) bool { return strings.EqualFold(r, p.text) }
	strLike := func(r string, p policyValue) bool { return glob(p.pat, r) }
	arnLike := func(r string, p policyValue) bool { return arnGlob(splitARN(p.pat), r) }
	add("StringEquals", false, true, strEq)
	add("StringNotEquals", true, true, strEq)
	add("StringEqualsIgnoreCase", false, true, strFold)
	add("StringNotEqualsIgnoreCase", true, true, strFold)
	add("StringLike", false, true, strLike)
	add("StringNotLike", true, true, strLike)
	for _, n := range []struct {
		suffix string
		want   func(int) bool
	}{
		{"Equals", func(c int) bool { return c == 0 }},
		{"LessThan", func(c int) bool { return c < 0 }},
		{"LessThanEquals", func(c int) bool { return c <= 0 }},
		{"GreaterThan", func(c int) bool { return c > 0 }},
		{"GreaterThanEquals", func(c int) bool { return c >= 0 }},
	} {
		num := func(r string, p policyValue) bool { return compare(r, p.text, parseNumber, n.want) }
		date := func(r string, p policyValue) bool { return compare(r, p.text, parseDate, n.want) }
		add("Numeric"+n.suffix, false, false, num)
		add("Date"+n.suffix, false, false, date)
		if n.suffix == "Equals" {
			add("NumericNotEquals", true, false, num)
			add("DateNotEquals", true, false, date)
		}
	}
	// The current operator reference lists policy variables as supported
	// for Bool; older copies of the variables page said otherwise.
	add("Bool", false, true, func(r string, p policyValue) bool {
		a, okA := parseBool(r)
		b, okB := parseBool(p.text)
		return okA && okB && a == b
	})
	add("BinaryEquals", false, false, binaryEquals)
	add("IpAddress", false, false, ipMatch)
	add("NotIpAddress", true, false, ipMatch)
	add("ArnEquals", false, true, arnLike)
	add("ArnLike", false, true, arnLike)
	add("ArnNotEquals", true, true, arnLike)
	add("ArnNotLike", true, true, arnLike)
	add("Null", false, false, nil)
}

// parseOperator splits "ForAnyValue:StringLikeIfExists" into its parts.
// Operator names are matched without regard to case.
func parseOperator(name string) (op *operator, q Qualifier, ifExists bool, ok bool) {
	rest := name
	for _, cand := range []Qualifier{ForAllValues, ForAnyValue} {
		prefix := string(cand) + ":"
		if len(rest) > len(prefix) && strings.EqualFold(rest[:len(prefix)], prefix) {
			q, rest = cand, rest[len(prefix):]
			break
		}
	}
	lower := strings.ToLower(rest)
	if base, found := strings.CutSuffix(lower, "ifexists"); found && base != "null" {
		ifExists, lower = true, base
	}
	op = operators[lower]
	if op == nil || (op.name == "Null" && q != QualifierNone) {
		return nil, "", false, false
	}
	return op, q, ifExists, true
}

func parseConditions(v any, stmt int) ([]Condition, error) {
	block, err := asObject(v)
	if err != nil {
		return nil, err
	}
	var out []Condition
	for _, opName := range sortedKeys(block) {
		// A missing operator level shows up as a non-object here, which AWS
		// reports as a plain syntax error.
		keys, err := asObject(block[opName])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", opName, err)
		}
		op, q, ifExists, ok := parseOperator(opName)
		if !ok {
			return nil, &ParseError{Message: "Invalid Condition type : " + opName, Statement: stmt}
		}
		for _, key := range sortedKeys(keys) {
			items, isList := keys[key].([]any)
			if !isList {
				items = []any{keys[key]}
			}
			c := Condition{Operator: op.name, Qualifier: q, IfExists: ifExists, Key: key, Values: []string{}}
			for _, it := range items {
				switch x := it.(type) {
				case string:
					c.Values = append(c.Values, x)
				case json.Number:
					c.Values = append(c.Values, x.String())
				case bool:
					c.Values = append(c.Values, strconv.FormatBool(x))
				default:
					return nil, fmt.Errorf("%s %s: values must be strings, numbers or booleans", opName, key)
				}
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// eval decides one condition against the request context. vars is false for
// documents whose Version predates policy variables.
func (c *Condition) eval(ec *evalCtx, vars bool) bool {
	op := operators[strings.ToLower(c.Operator)]
	if op == nil {
		return false
	}
	reqVals, present := ec.lookup(c.Key)
	if op.name == "Null" {
		// "true" asks for the key to be absent, "false" for it to be present.
		for _, v := range c.Values {
			if b, ok := parseBool(v); ok && b != present {
				return true
			}
		}
		return false
	}
	pvs := ec.policyValues(c.Values, vars && op.vars)
	anyMatch := func(r string) bool {
		for _, pv := range pvs {
			if op.match(r, pv) {
				return true
			}
		}
		return false
	}
	// For a negated operator a request value passes when it matches none of
	// the policy values.
	passes := func(r string) bool { return anyMatch(r) != op.negated }
	switch c.Qualifier {
	case ForAllValues:
		// Vacuously true for a missing or empty key, as AWS documents.
		for _, r := range reqVals {
			if !passes(r) {
				return false
			}
		}
		return true
	case ForAnyValue:
		if !present {
			return c.IfExists
		}
		for _, r := range reqVals {
			if passes(r) {
				return true
			}
		}
		return false
	}
	if !present {
		// A missing key fails a positive operator and satisfies a negated
		// one; IfExists makes either kind true.
		return c.IfExists || op.negated
	}
	// AWS says a key with several request values needs a set operator and
	// leaves the plain case unspecified. Here a plain operator treats the
	// values as a set: positive operators need some value to match, negated
	// ones need none to.
	hit := false
	for _, r := range reqVals {
		if anyMatch(r) {
			hit = true
			break
		}
	}
	return hit != op.negated
}

// compare parses both sides and applies want to their ordering; a value that
// does not parse makes the comparison false rather than an error, since the
// request context is not under the policy author's control.
func compare[T interface{ Compare(T) int }](req, pol string, parse func(string) (T, bool), want func(int) bool) bool {
	a, okA := parse(req)
	b, okB := parse(pol)
	return okA && okB && want(a.Compare(b))
}

type number float64

func (n number) Compare(o number) int { return cmp.Compare(n, o) }

func parseNumber(s string) (number, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return number(f), err == nil && !math.IsNaN(f)
}

// W3C profile of ISO 8601, the formats AWS names for date conditions.
var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02", "2006-01"}

// parseDate reads ISO 8601 or epoch seconds. A bare number is taken as epoch
// seconds, so a year on its own ("2024") is not accepted as a date.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s != "" && strings.Trim(strings.TrimPrefix(s, "-"), "0123456789.") == "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Abs(f) > 1e15 {
			return time.Time{}, false
		}
		sec := math.Floor(f)
		return time.Unix(int64(sec), int64((f-sec)*1e9)), true
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// binaryEquals compares the request value with the policy's base64 text. The
// context may carry either the raw bytes or their base64 form, so both count.
func binaryEquals(req string, p policyValue) bool {
	if req == p.text {
		return true
	}
	dec, err := base64.StdEncoding.DecodeString(p.text)
	return err == nil && req == string(dec)
}

// ipMatch treats a policy value without a prefix length as a single host.
func ipMatch(req string, p policyValue) bool {
	addr, err := netip.ParseAddr(strings.TrimSpace(req))
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	pol := strings.TrimSpace(p.text)
	var pfx netip.Prefix
	if strings.Contains(pol, "/") {
		pfx, err = netip.ParsePrefix(pol)
	} else {
		var a netip.Addr
		if a, err = netip.ParseAddr(pol); err == nil {
			pfx = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
	}
	return err == nil && pfx.Masked().Contains(addr)
}
