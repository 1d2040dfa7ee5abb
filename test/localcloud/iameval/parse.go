package iameval

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Policy language versions. Only 2012-10-17 substitutes policy variables.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Policy is a parsed policy document.
type Policy struct {
	Version    string
	ID         string
	Statements []Statement
}

// Effect is a statement's Effect element.
type Effect string

// The two effects a statement can have.
const (
	EffectAllow Effect = "Allow"
	EffectDeny  Effect = "Deny"
)

// Statement is one entry of a policy's Statement element. For each pair
// (Action/NotAction and so on) at most one is set.
type Statement struct {
	Sid                     string
	Effect                  Effect
	Principal, NotPrincipal *Principals // nil when absent
	Action, NotAction       []string
	Resource, NotResource   []string
	Condition               []Condition
}

// Principals is the value of a Principal or NotPrincipal element. All is the
// bare "*" form; {"AWS":"*"} is kept as AWS: ["*"] and matches the same way.
type Principals struct {
	All                     bool
	AWS, Service, Federated []string
}

// Kind says what a document is for; it decides which elements are required
// or forbidden.
type Kind int

// The document kinds Parse knows.
const (
	IdentityPolicy Kind = iota // attached to a user, group or role; also boundaries and session policies
	ResourcePolicy             // attached to a resource, e.g. an SQS queue policy
	TrustPolicy                // a role's AssumeRolePolicyDocument
)

// ParseError is returned by Parse. Message is worded like IAM's
// MalformedPolicyDocument messages so it can be sent back unchanged.
type ParseError struct {
	Message   string
	Statement int   // index of the statement at fault, or -1 for the document
	Err       error // underlying JSON error, if any
}

func (e *ParseError) Error() string {
	if e.Statement >= 0 {
		return fmt.Sprintf("iameval: malformed policy: statement %d: %s", e.Statement, e.Message)
	}
	return "iameval: malformed policy: " + e.Message
}

func (e *ParseError) Unwrap() error { return e.Err }

const (
	msgSyntax         = "Syntax errors in policy."
	msgHasPrincipal   = "Policy document should not specify a principal."
	msgNoPrincipal    = "Missing required field Principal"
	msgNoAction       = "Missing required field Action"
	msgNoEffect       = "Missing required field Effect"
	msgNoStatement    = "Missing required field Statement"
	msgNoResource     = "Policy statement must contain resources."
	msgTrustResource  = "Has prohibited field Resource"
	msgLegacy         = "The policy failed legacy parsing"
	msgVersion        = "Invalid Version"
	msgVendor         = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgOneColon       = "Actions/Condition can contain only one colon."
	msgDuplicateSid   = "Statement IDs (SID) in a single policy must be unique."
	msgAlphanumericID = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
)

func syntaxErr(stmt int, err error) *ParseError {
	return &ParseError{Message: msgSyntax, Statement: stmt, Err: err}
}

// Parse reads a JSON policy document and checks it the way IAM does for a
// document of the given kind.
func Parse(doc string, kind Kind) (*Policy, error) {
	d := json.NewDecoder(bytes.NewReader([]byte(doc)))
	d.UseNumber() // keeps condition numbers in their written form
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, syntaxErr(-1, fmt.Errorf("decode policy: %w", err))
	}
	if strings.TrimSpace(doc[d.InputOffset():]) != "" {
		return nil, syntaxErr(-1, errors.New("data after the policy document"))
	}
	top, err := asObject(v)
	if err != nil {
		return nil, syntaxErr(-1, err)
	}
	p := &Policy{}
	var stmts []any
	for _, k := range sortedKeys(top) {
		switch k {
		case "Version":
			p.Version, err = asString(top[k])
		case "Id":
			p.ID, err = asString(top[k])
		case "Statement":
			stmts, _ = top[k].([]any)
			if _, one := top[k].(map[string]any); one {
				stmts = []any{top[k]}
			} else if stmts == nil {
				err = errors.New("expected an object or a list")
			}
		default:
			return nil, &ParseError{Message: "Unknown field " + k, Statement: -1}
		}
		if err != nil {
			return nil, syntaxErr(-1, fmt.Errorf("%s: %w", k, err))
		}
	}
	if _, has := top["Version"]; has && p.Version != Version2012 && p.Version != Version2008 {
		return nil, &ParseError{Message: msgVersion, Statement: -1}
	}
	if _, has := top["Statement"]; !has {
		return nil, &ParseError{Message: msgNoStatement, Statement: -1}
	}
	sids := map[string]bool{}
	for i, raw := range stmts {
		s, err := parseStatement(raw, i, kind, p.Version == Version2012)
		if err != nil {
			return nil, err
		}
		if s.Sid != "" && sids[s.Sid] {
			return nil, &ParseError{Message: msgDuplicateSid, Statement: i}
		}
		sids[s.Sid] = true
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

func parseStatement(v any, i int, kind Kind, modern bool) (Statement, error) {
	var s Statement
	m, err := asObject(v)
	if err != nil {
		return s, syntaxErr(i, err)
	}
	fail := func(msg string) (Statement, error) { return s, &ParseError{Message: msg, Statement: i} }
	lists := map[string]*[]string{"Action": &s.Action, "NotAction": &s.NotAction, "Resource": &s.Resource, "NotResource": &s.NotResource}
	for _, k := range sortedKeys(m) {
		switch k {
		case "Sid":
			s.Sid, err = asString(m[k])
		case "Effect":
			var e string
			e, err = asString(m[k])
			s.Effect = Effect(e)
		case "Principal":
			s.Principal, err = parsePrincipals(m[k], i)
		case "NotPrincipal":
			s.NotPrincipal, err = parsePrincipals(m[k], i)
		case "Condition":
			s.Condition, err = parseConditions(m[k], i)
		default:
			dst, ok := lists[k]
			if !ok {
				return fail("Unknown field " + k)
			}
			*dst, err = asList(m[k])
		}
		if pe := (*ParseError)(nil); errors.As(err, &pe) {
			return s, pe
		} else if err != nil {
			return s, syntaxErr(i, fmt.Errorf("%s: %w", k, err))
		}
	}
	has := func(k string) bool { _, ok := m[k]; return ok }
	switch {
	case s.Effect == "":
		return fail(msgNoEffect)
	case s.Effect != EffectAllow && s.Effect != EffectDeny:
		return fail("Invalid effect: " + string(s.Effect))
	case has("Action") && has("NotAction"), has("Resource") && has("NotResource"), s.Principal != nil && s.NotPrincipal != nil:
		return fail(msgSyntax)
	case len(s.Action) == 0 && len(s.NotAction) == 0:
		return fail(msgNoAction)
	}
	for _, a := range append(append([]string{}, s.Action...), s.NotAction...) {
		if a == "*" {
			continue
		}
		if n := strings.Count(a, ":"); n == 0 || strings.HasPrefix(a, ":") {
			return fail(msgVendor)
		} else if n > 1 {
			return fail(msgOneColon)
		}
	}
	hasPrincipal := s.Principal != nil || s.NotPrincipal != nil
	switch {
	case kind == IdentityPolicy && hasPrincipal:
		return fail(msgHasPrincipal)
	case kind == IdentityPolicy && len(s.Resource) == 0 && len(s.NotResource) == 0:
		return fail(msgNoResource)
	case kind != IdentityPolicy && !hasPrincipal:
		return fail(msgNoPrincipal)
	case kind == TrustPolicy && (has("Resource") || has("NotResource")):
		// A trust policy's resource is always the role it is attached to.
		return fail(msgTrustResource)
	}
	for _, r := range append(append([]string{}, s.Resource...), s.NotResource...) {
		if r == "*" || (strings.HasPrefix(r, "arn:") && strings.Count(r, ":") >= 5) {
			continue
		}
		// Without Version 2012-10-17 IAM falls back to its legacy parser,
		// which reports every problem with the same sentence.
		if !modern {
			return fail(msgLegacy)
		}
		return fail(fmt.Sprintf("Resource %s must be in ARN format or \"*\".", r))
	}
	// IAM, unlike S3 or SQS, restricts Sids in 2012-10-17 documents.
	if modern && kind != ResourcePolicy && strings.Trim(s.Sid, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != "" {
		return fail(msgAlphanumericID)
	}
	for _, c := range s.Condition {
		if !strings.Contains(c.Key, ":") {
			return fail(msgVendor)
		}
	}
	return s, nil
}

func parsePrincipals(v any, i int) (*Principals, error) {
	invalid := func(s string) error {
		return &ParseError{Message: "Invalid principal in policy: " + s, Statement: i}
	}
	if s, ok := v.(string); ok {
		if s != "*" {
			return nil, invalid(fmt.Sprintf("%q", s))
		}
		return &Principals{All: true}, nil
	}
	m, err := asObject(v)
	if err != nil {
		return nil, err
	}
	p := &Principals{}
	dst := map[string]*[]string{"AWS": &p.AWS, "Service": &p.Service, "Federated": &p.Federated}
	for _, k := range sortedKeys(m) {
		if dst[k] == nil {
			return nil, invalid(fmt.Sprintf("%q", k))
		}
		if *dst[k], err = asList(m[k]); err != nil {
			return nil, err
		}
		for _, e := range *dst[k] {
			// A wildcard may only stand for everything, never part of a name.
			bad := e == "" || (e != "*" && strings.ContainsAny(e, "*?"))
			if bad || (k == "AWS" && e != "*" && !isAccountID(e) && !strings.HasPrefix(e, "arn:")) {
				return nil, invalid(fmt.Sprintf("%q:%q", k, e))
			}
		}
	}
	return p, nil
}

func isAccountID(s string) bool {
	return len(s) == 12 && strings.Trim(s, "0123456789") == ""
}

func asObject(v any) (map[string]any, error) {
	if m, ok := v.(map[string]any); ok {
		return m, nil
	}
	return nil, errors.New("expected a JSON object")
}

func asString(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	return "", errors.New("expected a string")
}

// asList accepts the single-string shorthand AWS allows for list elements.
func asList(v any) ([]string, error) {
	if s, ok := v.(string); ok {
		return []string{s}, nil
	}
	items, ok := v.([]any)
	if !ok {
		return nil, errors.New("expected a string or a list of strings")
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, err := asString(it)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
