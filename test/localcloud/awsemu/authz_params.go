package awsemu

import (
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
)

// Reading request parameters whatever the protocol, for the authorization
// rules, which see a request before its handler decodes it.

// --- request parameters, whatever the protocol ---

// param is a top-level string parameter: a form value for the query
// protocols, a JSON member otherwise.
func (c *Call) param(name string) string {
	if c.Form != nil {
		return c.Form.Get(name)
	}
	var v string
	_ = json.Unmarshal(c.jsonMember(name), &v)
	return v
}

func (c *Call) paramList(name string) []string {
	if c.Form != nil {
		return formList(c.Form, name)
	}
	var v []string
	_ = json.Unmarshal(c.jsonMember(name), &v)
	return v
}

// paramTags reads a list of {Key, Value} (EventBridge tags).
func (c *Call) paramTags(name string) map[string]string {
	var v []struct{ Key, Value string }
	_ = json.Unmarshal(c.jsonMember(name), &v)
	out := map[string]string{}
	for _, t := range v {
		out[t.Key] = t.Value
	}
	return out
}

func (c *Call) jsonMember(name string) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(c.Body, &m) != nil {
		return nil
	}
	return m[name]
}

// formList reads Name.1, Name.2, ... (or Name.member.N).
func formList(f url.Values, name string) []string {
	var out []string
	for i := 1; ; i++ {
		v := f.Get(name + "." + itoa(i))
		if v == "" {
			v = f.Get(name + ".member." + itoa(i))
		}
		if v == "" {
			return out
		}
		out = append(out, v)
	}
}

// formTags reads Prefix.N.Key / Prefix.N.Value (or .Name/.Value pairs).
func formTags(f url.Values, prefix string) map[string]string {
	out := map[string]string{}
	for i := 1; ; i++ {
		p := prefix + "." + itoa(i) + "."
		k := f.Get(p + "Key")
		if k == "" {
			k = f.Get(p + "Name")
		}
		if k == "" {
			return out
		}
		out[k] = f.Get(p + "Value")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func orStar(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

func dedupe(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > 0 && out[0] == "" {
		out = out[1:]
	}
	return out
}
