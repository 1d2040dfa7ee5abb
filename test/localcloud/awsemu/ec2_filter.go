package awsemu

import (
	"strconv"
	"strings"
)

// ---- filters and paging ----

type ec2Filter struct {
	Name   string
	Values []string `query:"Value"`
}

// filterFields reads a resource's values for a named filter.
type filterFields[T any] map[string]func(T) []string

// applyFilters keeps the items every filter matches. Values within a filter
// are ORed, filters are ANDed, and values may use * and ? wildcards, as in EC2.
func applyFilters[T any](list []T, filters []ec2Filter, fields filterFields[T], tags func(T) map[string]string) ([]T, error) {
	for _, f := range filters {
		if f.Name == "" {
			return nil, errMissingParameter("Filter.Name")
		}
		if _, ok := fields[f.Name]; !ok && !strings.HasPrefix(f.Name, "tag:") && !(f.Name == "tag-key" && tags != nil) {
			return nil, errInvalidParameterValue("The filter '%s' is invalid", f.Name)
		}
		if strings.HasPrefix(f.Name, "tag:") && tags == nil {
			return nil, errInvalidParameterValue("The filter '%s' is invalid", f.Name)
		}
	}
	out := list[:0:0]
	for _, it := range list {
		ok := true
		for _, f := range filters {
			var have []string
			switch {
			case strings.HasPrefix(f.Name, "tag:"):
				if v, found := tags(it)[strings.TrimPrefix(f.Name, "tag:")]; found {
					have = []string{v}
				}
			case f.Name == "tag-key" && fields[f.Name] == nil:
				for k := range tags(it) {
					have = append(have, k)
				}
			default:
				have = fields[f.Name](it)
			}
			if !anyMatch(f.Values, have) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, it)
		}
	}
	return out, nil
}

func anyMatch(patterns, values []string) bool {
	for _, p := range patterns {
		for _, v := range values {
			if wildcard(p, v) {
				return true
			}
		}
	}
	return false
}

// wildcard matches EC2 filter patterns: * is any run, ? one character.
func wildcard(pattern, s string) bool {
	if !strings.ContainsAny(pattern, "*?") {
		return pattern == s
	}
	p, v := 0, 0
	star, mark := -1, 0
	for v < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[v]):
			p++
			v++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, v
			p++
		case star >= 0:
			p = star + 1
			mark++
			v = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// page cuts list by an opaque offset token. max 0 returns everything.
func page[T any](list []T, token string, max, lo, hi int) ([]T, string, error) {
	if max != 0 && (max < lo || max > hi) {
		return nil, "", errInvalidParameterValue("MaxResults (%d) must be between %d and %d", max, lo, hi)
	}
	start := 0
	if token != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(token, "lc1-"))
		if err != nil || !strings.HasPrefix(token, "lc1-") || n < 0 || n > len(list) {
			return nil, "", Errorf(400, "InvalidPaginationToken", "The pagination token %q is invalid", token)
		}
		start = n
	}
	if max == 0 || start+max >= len(list) {
		return list[start:], "", nil
	}
	return list[start : start+max], "lc1-" + strconv.Itoa(start+max), nil
}
