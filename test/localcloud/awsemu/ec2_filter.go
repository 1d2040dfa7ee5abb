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
//
// The filter names op accepts are those ec2FilterTable lists for it; any
// other name gets EC2's InvalidParameterValue. A listed filter with a note
// names data our model does not keep, so it matches nothing. tag:<key> and
// tag-key read tags, unless fields serve tag-key itself.
func applyFilters[T any](op string, list []T, filters []ec2Filter, fields filterFields[T], tags func(T) map[string]string) ([]T, error) {
	table := ec2FilterTable[op]
	inert := make([]bool, len(filters))
	for i, f := range filters {
		if f.Name == "" {
			return nil, errMissingParameter("Filter.Name")
		}
		key := f.Name
		if strings.HasPrefix(key, "tag:") {
			key = "tag:<key>"
		}
		note, ok := table[key]
		if !ok {
			return nil, errInvalidParameterValue("The filter '%s' is invalid", f.Name)
		}
		// A documented, honoured filter without a way to read it is our bug,
		// not the caller's: TestEC2EveryTableFilterIsServed keeps this away.
		served := fields[key] != nil || (tags != nil && (key == "tag:<key>" || key == "tag-key"))
		if note == "" && !served {
			return nil, Errorf(500, "InternalError", "the local cloud lists filter '%s' for %s but does not read it", f.Name, op)
		}
		inert[i] = note != ""
	}
	out := list[:0:0]
	for _, it := range list {
		ok := true
		for i, f := range filters {
			var have []string
			switch {
			case inert[i]:
				// No value of ours can match what AWS would compare against.
			case strings.HasPrefix(f.Name, "tag:"):
				if v, found := tags(it)[strings.TrimPrefix(f.Name, "tag:")]; found {
					have = []string{v}
				}
			case fields[f.Name] != nil:
				have = fields[f.Name](it)
			case f.Name == "tag-key" && tags != nil:
				for k := range tags(it) {
					have = append(have, k)
				}
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

// Readers of filter values, for the common shapes of EC2 fields.
func one(s string) []string { return []string{s} }

// set is s as a value, or none when s is empty: an absent field matches no filter value.
func set(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func boolVal(b bool) []string { return []string{strconv.FormatBool(b)} }

func intVal(n int) []string { return []string{strconv.Itoa(n)} }

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

// filterPage is how every EC2 Describe ends: the request's filters applied
// to list, then the page its MaxResults and NextToken ask for.
func filterPage[T any](op string, list []T, filters []ec2Filter, fields filterFields[T], tags func(T) map[string]string, token string, max, lo, hi int) ([]T, string, error) {
	list, err := applyFilters(op, list, filters, fields, tags)
	if err != nil {
		return nil, "", err
	}
	return page(list, token, max, lo, hi)
}
