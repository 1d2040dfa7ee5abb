package awsemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// queuePolicy is the subset of an IAM resource policy that decides whether
// an AWS service may send to a queue.
type queuePolicy struct {
	Statements []policyStatement
}

type policyStatement struct {
	Effect    string
	Principal json.RawMessage
	Action    stringOrList
	Resource  stringOrList
	Condition map[string]map[string]stringOrList
}

// stringOrList is an IAM policy value that may be a string or a list of strings.
type stringOrList []string

func (l *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("expected a string or a list of strings")
	}
	*l = many
	return nil
}

func parsePolicy(doc string) (*queuePolicy, error) {
	var raw struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, fmt.Errorf("policy is not a JSON object: %w", err)
	}
	if len(raw.Statement) == 0 {
		return nil, errors.New("policy has no Statement")
	}
	p := &queuePolicy{}
	var one policyStatement
	if strings.HasPrefix(strings.TrimSpace(string(raw.Statement)), "{") {
		if err := json.Unmarshal(raw.Statement, &one); err != nil {
			return nil, fmt.Errorf("invalid statement: %w", err)
		}
		p.Statements = []policyStatement{one}
	} else if err := json.Unmarshal(raw.Statement, &p.Statements); err != nil {
		return nil, fmt.Errorf("invalid statements: %w", err)
	}
	for _, st := range p.Statements {
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return nil, fmt.Errorf("invalid Effect %q", st.Effect)
		}
	}
	return p, nil
}

// policyAllowsService evaluates doc for a request by an AWS service
// principal: allowed when some statement allows it and none denies it.
func policyAllowsService(doc, service, action, resource, sourceARN string) bool {
	if doc == "" {
		return false
	}
	p, err := parsePolicy(doc)
	if err != nil {
		return false
	}
	allowed := false
	for _, st := range p.Statements {
		if !st.principalMatches(service) || !anyGlob(st.Action, action, true) ||
			!anyGlob(st.Resource, resource, false) || !st.conditionsMatch(sourceARN) {
			continue
		}
		if st.Effect == "Deny" {
			return false
		}
		allowed = true
	}
	return allowed
}

func (st policyStatement) principalMatches(service string) bool {
	var star string
	if json.Unmarshal(st.Principal, &star) == nil {
		return star == "*"
	}
	var m map[string]stringOrList
	if json.Unmarshal(st.Principal, &m) != nil {
		return false
	}
	for _, v := range m["Service"] {
		if v == service || v == "*" {
			return true
		}
	}
	for _, v := range m["AWS"] {
		if v == "*" {
			return true
		}
	}
	return false
}

// conditionsMatch checks aws:SourceArn conditions; other condition keys
// are not modelled and do not restrict.
func (st policyStatement) conditionsMatch(sourceARN string) bool {
	for op, kv := range st.Condition {
		base, ifExists := strings.CutSuffix(op, "IfExists")
		for key, values := range kv {
			// Services deliver over TLS, so aws:SecureTransport is true; this
			// keeps the usual "deny non-TLS" statement from denying them.
			if strings.EqualFold(key, "aws:SecureTransport") {
				if base == "Bool" && !contains(values, "true") {
					return false
				}
				continue
			}
			if !strings.EqualFold(key, "aws:SourceArn") {
				continue
			}
			if sourceARN == "" {
				if ifExists {
					continue
				}
				return false
			}
			switch base {
			case "ArnEquals", "StringEquals":
				if !contains(values, sourceARN) {
					return false
				}
			case "ArnLike", "StringLike":
				if !anyGlob(values, sourceARN, false) {
					return false
				}
			case "ArnNotEquals", "StringNotEquals":
				if contains(values, sourceARN) {
					return false
				}
			case "ArnNotLike", "StringNotLike":
				if anyGlob(values, sourceARN, false) {
					return false
				}
			}
		}
	}
	return true
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// anyGlob reports whether value matches one of the IAM wildcard patterns
// (* and ?); actions compare case-insensitively.
func anyGlob(patterns []string, value string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			p, value = strings.ToLower(p), strings.ToLower(value)
		}
		if globMatch(p, value) {
			return true
		}
	}
	return false
}

// globMatch matches value against a pattern where * is any run of
// characters and ? any one character.
func globMatch(pattern, value string) bool {
	// Greedy match with backtracking to the last star: linear in practice.
	p, v, star, mark := 0, 0, -1, 0
	for v < len(value) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == value[v]):
			p++
			v++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, v
			p++
		case star >= 0:
			mark++
			p, v = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
