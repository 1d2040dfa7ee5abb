package awsemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
)

// An event pattern is kept as its decoded JSON: validatePattern checks it
// once (PutRule), matchPattern then trusts its shape.

// parseEventPattern decodes and validates an EventBridge event pattern.
func parseEventPattern(doc string) (map[string]any, error) {
	var p any
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	obj, ok := p.(map[string]any)
	if !ok {
		return nil, errors.New("the pattern must be a JSON object")
	}
	if err := validatePatternObject(obj, ""); err != nil {
		return nil, err
	}
	return obj, nil
}

func validatePatternObject(obj map[string]any, at string) error {
	if len(obj) == 0 {
		return fmt.Errorf("empty objects are not allowed (at %q)", at)
	}
	for k, v := range obj {
		here := joinPath(at, k)
		if k == "$or" {
			alts, ok := v.([]any)
			if !ok || len(alts) < 2 {
				return fmt.Errorf("$or must be a list of at least two patterns (at %q)", at)
			}
			for _, a := range alts {
				o, ok := a.(map[string]any)
				if !ok {
					return fmt.Errorf("$or alternatives must be objects (at %q)", at)
				}
				if err := validatePatternObject(o, at); err != nil {
					return err
				}
			}
			continue
		}
		switch v := v.(type) {
		case map[string]any:
			if err := validatePatternObject(v, here); err != nil {
				return err
			}
		case []any:
			if len(v) == 0 {
				return fmt.Errorf("empty arrays are not allowed (at %q)", here)
			}
			for _, m := range v {
				if err := validateMatcher(m, here); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("match value must be an array or an object (at %q)", here)
		}
	}
	return nil
}

func validateMatcher(m any, at string) error {
	switch m := m.(type) {
	case string, float64, bool, nil:
		return nil
	case map[string]any:
		if len(m) != 1 {
			return fmt.Errorf("a matcher object must have exactly one key (at %q)", at)
		}
		for op, arg := range m {
			return validateOperator(op, arg, at)
		}
	}
	return fmt.Errorf("unsupported match value (at %q)", at)
}

func validateOperator(op string, arg any, at string) error {
	switch op {
	case "prefix", "suffix":
		if _, ok := arg.(string); ok {
			return nil
		}
		if o, ok := arg.(map[string]any); ok && len(o) == 1 {
			if _, ok := o["equals-ignore-case"].(string); ok {
				return nil
			}
		}
		return fmt.Errorf("%s match pattern must be a string (at %q)", op, at)
	case "equals-ignore-case", "wildcard":
		if _, ok := arg.(string); !ok {
			return fmt.Errorf("%s match pattern must be a string (at %q)", op, at)
		}
	case "exists":
		if _, ok := arg.(bool); !ok {
			return fmt.Errorf("exists match pattern must be either true or false (at %q)", at)
		}
	case "cidr":
		s, ok := arg.(string)
		if !ok {
			return fmt.Errorf("cidr match pattern must be a string (at %q)", at)
		}
		if _, _, err := net.ParseCIDR(s); err != nil {
			return fmt.Errorf("malformed CIDR %q (at %q)", s, at)
		}
	case "numeric":
		list, ok := arg.([]any)
		if !ok || (len(list) != 2 && len(list) != 4) {
			return fmt.Errorf("numeric match must be a list of one or two comparisons (at %q)", at)
		}
		for i := 0; i < len(list); i += 2 {
			cmp, ok := list[i].(string)
			if !ok || !validNumericOp[cmp] {
				return fmt.Errorf("unrecognized numeric range operator %v (at %q)", list[i], at)
			}
			if _, ok := list[i+1].(float64); !ok {
				return fmt.Errorf("value of %s must be numeric (at %q)", cmp, at)
			}
			if len(list) == 4 && cmp == "=" {
				return fmt.Errorf("= cannot be combined with another comparison (at %q)", at)
			}
		}
	case "anything-but":
		switch a := arg.(type) {
		case string, float64:
			return nil
		case []any:
			if len(a) == 0 {
				return fmt.Errorf("anything-but list must not be empty (at %q)", at)
			}
			for _, x := range a {
				switch x.(type) {
				case string, float64:
				default:
					return fmt.Errorf("anything-but list values must be strings or numbers (at %q)", at)
				}
			}
			return nil
		case map[string]any:
			if len(a) != 1 {
				return fmt.Errorf("anything-but object must have exactly one key (at %q)", at)
			}
			for inner, v := range a {
				switch inner {
				case "prefix", "suffix", "equals-ignore-case", "wildcard":
					if _, ok := v.(string); ok {
						return nil
					}
					if list, ok := v.([]any); ok && len(list) > 0 && allStrings(list) {
						return nil
					}
				}
				return fmt.Errorf("unsupported anything-but matcher %q (at %q)", inner, at)
			}
		}
		return fmt.Errorf("anything-but must be a value, a list or a prefix/suffix object (at %q)", at)
	default:
		return fmt.Errorf("unrecognized match type %s (at %q)", op, at)
	}
	return nil
}

var validNumericOp = map[string]bool{"=": true, "<": true, "<=": true, ">": true, ">=": true}

func allStrings(l []any) bool {
	for _, x := range l {
		if _, ok := x.(string); !ok {
			return false
		}
	}
	return true
}

// matchPattern reports whether the event (decoded JSON) matches a pattern
// from parseEventPattern: every field must match; list values are ORs.
func matchPattern(p map[string]any, event map[string]any) bool {
	for k, pv := range p {
		if k == "$or" {
			ok := false
			for _, alt := range pv.([]any) {
				if matchPattern(alt.(map[string]any), event) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
			continue
		}
		ev, present := event[k]
		switch pv := pv.(type) {
		case map[string]any:
			if !matchNested(pv, ev) {
				return false
			}
		case []any:
			if !matchLeaf(pv, ev, present) {
				return false
			}
		}
	}
	return true
}

// matchNested matches an object pattern against an event value: an object,
// or an array holding at least one object that matches.
func matchNested(p map[string]any, ev any) bool {
	switch ev := ev.(type) {
	case map[string]any:
		return matchPattern(p, ev)
	case []any:
		for _, e := range ev {
			if o, ok := e.(map[string]any); ok && matchPattern(p, o) {
				return true
			}
		}
		return false
	default:
		// A missing object only matches patterns made of exists:false.
		return matchPattern(p, map[string]any{})
	}
}

func matchLeaf(matchers []any, ev any, present bool) bool {
	var values []any
	if present {
		switch v := ev.(type) {
		case []any:
			for _, x := range v {
				if _, isObj := x.(map[string]any); !isObj {
					values = append(values, x)
				}
			}
		case map[string]any:
			// Matchers apply to leaves only.
		default:
			values = []any{v}
		}
	}
	for _, m := range matchers {
		if o, ok := m.(map[string]any); ok {
			if exists, ok := o["exists"]; ok {
				if exists.(bool) == (len(values) > 0) {
					return true
				}
				continue
			}
		}
		for _, v := range values {
			if matchValue(m, v) {
				return true
			}
		}
	}
	return false
}

func matchValue(m, v any) bool {
	switch m := m.(type) {
	case string:
		s, ok := v.(string)
		return ok && s == m
	case float64:
		f, ok := v.(float64)
		return ok && f == m
	case bool:
		b, ok := v.(bool)
		return ok && b == m
	case nil:
		return v == nil
	case map[string]any:
		for op, arg := range m {
			return matchOperator(op, arg, v)
		}
	}
	return false
}

func matchOperator(op string, arg, v any) bool {
	s, isString := v.(string)
	switch op {
	case "prefix", "suffix":
		want, fold := stringArg(arg)
		if !isString {
			return false
		}
		if fold {
			s, want = strings.ToLower(s), strings.ToLower(want)
		}
		if op == "prefix" {
			return strings.HasPrefix(s, want)
		}
		return strings.HasSuffix(s, want)
	case "equals-ignore-case":
		return isString && strings.EqualFold(s, arg.(string))
	case "wildcard":
		return isString && globMatch(arg.(string), s)
	case "cidr":
		ip := net.ParseIP(s)
		_, network, _ := net.ParseCIDR(arg.(string))
		return isString && ip != nil && network != nil && network.Contains(ip)
	case "numeric":
		f, ok := v.(float64)
		if !ok {
			return false
		}
		list := arg.([]any)
		for i := 0; i < len(list); i += 2 {
			if !compareNumeric(list[i].(string), f, list[i+1].(float64)) {
				return false
			}
		}
		return true
	case "anything-but":
		switch a := arg.(type) {
		case string, float64:
			return !matchValue(a, v)
		case []any:
			for _, x := range a {
				if matchValue(x, v) {
					return false
				}
			}
			return true
		case map[string]any:
			if !isString {
				return false
			}
			for inner, x := range a {
				list := []any{x}
				if l, ok := x.([]any); ok {
					list = l
				}
				for _, y := range list {
					if matchOperator(inner, y, v) {
						return false
					}
				}
			}
			return true
		}
	}
	return false
}

// stringArg reads a prefix/suffix argument: a string, or
// {"equals-ignore-case": string} for a case-insensitive comparison.
func stringArg(arg any) (string, bool) {
	if s, ok := arg.(string); ok {
		return s, false
	}
	o, _ := arg.(map[string]any)
	s, _ := o["equals-ignore-case"].(string)
	return s, true
}

func compareNumeric(op string, v, bound float64) bool {
	switch op {
	case "=":
		return v == bound
	case "<":
		return v < bound
	case "<=":
		return v <= bound
	case ">":
		return v > bound
	case ">=":
		return v >= bound
	}
	return false
}
