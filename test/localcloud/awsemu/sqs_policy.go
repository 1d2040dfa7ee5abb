package awsemu

import (
	"strings"

	"github.com/nodewright/nodewright/test/localcloud/iameval"
)

// parsePolicy checks a queue policy as SQS does when it is set: with the
// same IAM grammar as every other resource policy.
func parsePolicy(doc string) (*iameval.Policy, error) {
	return iameval.Parse(doc, iameval.ResourcePolicy)
}

// policyAllowsService evaluates doc for a request an AWS service makes on a
// rule's behalf (EventBridge delivering to a queue). Services connect over
// TLS, so aws:SecureTransport is true and the usual "deny non-TLS"
// statement does not stop them; aws:SourceArn is the rule and
// aws:SourceAccount its account.
func policyAllowsService(doc, service, action, resource, sourceARN string) bool {
	if doc == "" {
		return false
	}
	p, err := parsePolicy(doc)
	if err != nil {
		return false
	}
	ctx := map[string][]string{"aws:SecureTransport": {"true"}}
	if sourceARN != "" {
		ctx["aws:SourceArn"] = []string{sourceARN}
		if parts := strings.SplitN(sourceARN, ":", 6); len(parts) == 6 {
			ctx["aws:SourceAccount"] = []string{parts[4]}
		}
	}
	return p.Evaluate(iameval.Request{Principal: service, Action: action, Resource: resource, Context: ctx}).Decision == iameval.Allow
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
