package iameval

import (
	"bytes"
	"encoding/json"
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

func (k Kind) String() string {
	switch k {
	case IdentityPolicy:
		return "identity policy"
	case ResourcePolicy:
		return "resource policy"
	case TrustPolicy:
		return "trust policy"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

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
	top, err := object([]byte(doc))
	if err != nil {
		return nil, syntaxErr(-1, err)
	}
	p := &Policy{}
	var stmts []json.RawMessage
	hasVersion, hasStatement := false, false
	for _, k := range sortedKeys(top) {
		raw := top[k]
		switch k {
		case "Version":
			hasVersion = true
			if p.Version, err = str(raw); err != nil {
				return nil, syntaxErr(-1, fmt.Errorf("Version: %w", err))
			}
		case "Id":
			if p.ID, err = str(raw); err != nil {
				return nil, syntaxErr(-1, fmt.Errorf("Id: %w", err))
			}
		case "Statement":
			hasStatement = true
			switch lead(raw) {
			case '{':
				stmts = []json.RawMessage{raw}
			case '[':
				if err := json.Unmarshal(raw, &stmts); err != nil {
					return nil, syntaxErr(-1, fmt.Errorf("Statement: %w", err))
				}
			default:
				return nil, syntaxErr(-1, fmt.Errorf("Statement is neither an object nor a list"))
			}
		default:
			return nil, &ParseError{Message: "Unknown field " + k, Statement: -1}
		}
	}
	if hasVersion && p.Version != Version2012 && p.Version != Version2008 {
		return nil, &ParseError{Message: msgVersion, Statement: -1}
	}
	if !hasStatement {
		return nil, &ParseError{Message: msgNoStatement, Statement: -1}
	}
	sids := map[string]bool{}
	for i, raw := range stmts {
		s, err := parseStatement(raw, i, kind, p.Version == Version2012)
		if err != nil {
			return nil, err
		}
		if s.Sid != "" {
			if sids[s.Sid] {
				return nil, &ParseError{Message: msgDuplicateSid, Statement: i}
			}
			sids[s.Sid] = true
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

func parseStatement(raw json.RawMessage, i int, kind Kind, modern bool) (Statement, error) {
	var s Statement
	m, err := object(raw)
	if err != nil {
		return s, syntaxErr(i, err)
	}
	fail := func(msg string) (Statement, error) { return s, &ParseError{Message: msg, Statement: i} }
	for _, k := range sortedKeys(m) {
		v := m[k]
		var err error
		switch k {
		case "Sid":
			s.Sid, err = str(v)
		case "Effect":
			var e string
			e, err = str(v)
			s.Effect = Effect(e)
		case "Principal":
			s.Principal, err = parsePrincipals(v, i)
		case "NotPrincipal":
			s.NotPrincipal, err = parsePrincipals(v, i)
		case "Action":
			s.Action, err = strList(v)
		case "NotAction":
			s.NotAction, err = strList(v)
		case "Resource":
			s.Resource, err = strList(v)
		case "NotResource":
			s.NotResource, err = strList(v)
		case "Condition":
			s.Condition, err = parseConditions(v, i)
		default:
			return fail("Unknown field " + k)
		}
		if err != nil {
			if pe, ok := err.(*ParseError); ok {
				return s, pe
			}
			return s, syntaxErr(i, fmt.Errorf("%s: %w", k, err))
		}
	}
	_, hasAction := m["Action"]
	_, hasNotAction := m["NotAction"]
	_, hasResource := m["Resource"]
	_, hasNotResource := m["NotResource"]
	switch {
	case s.Effect == "":
		return fail(msgNoEffect)
	case s.Effect != EffectAllow && s.Effect != EffectDeny:
		return fail("Invalid effect: " + string(s.Effect))
	case hasAction && hasNotAction, hasResource && hasNotResource, s.Principal != nil && s.NotPrincipal != nil:
		return fail(msgSyntax)
	case len(s.Action) == 0 && len(s.NotAction) == 0:
		return fail(msgNoAction)
	}
	for _, a := range append(append([]string{}, s.Action...), s.NotAction...) {
		if msg := checkAction(a); msg != "" {
			return fail(msg)
		}
	}
	hasPrincipal := s.Principal != nil || s.NotPrincipal != nil
	switch kind {
	case IdentityPolicy:
		if hasPrincipal {
			return fail(msgHasPrincipal)
		}
		if len(s.Resource) == 0 && len(s.NotResource) == 0 {
			return fail(msgNoResource)
		}
	case ResourcePolicy, TrustPolicy:
		if !hasPrincipal {
			return fail(msgNoPrincipal)
		}
		// A trust policy's resource is always the role it is attached to.
		if kind == TrustPolicy && (hasResource || hasNotResource) {
			return fail(msgTrustResource)
		}
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

func checkAction(a string) string {
	if a == "*" {
		return ""
	}
	switch n := strings.Count(a, ":"); {
	case n == 0 || strings.HasPrefix(a, ":"):
		return msgVendor
	case n > 1:
		return msgOneColon
	}
	return ""
}

func parsePrincipals(raw json.RawMessage, i int) (*Principals, error) {
	invalid := func(s string) error {
		return &ParseError{Message: "Invalid principal in policy: " + s, Statement: i}
	}
	if lead(raw) == '"' {
		s, err := str(raw)
		if err != nil {
			return nil, err
		}
		if s != "*" {
			return nil, invalid(fmt.Sprintf("%q", s))
		}
		return &Principals{All: true}, nil
	}
	m, err := object(raw)
	if err != nil {
		return nil, err
	}
	p := &Principals{}
	for _, k := range sortedKeys(m) {
		vals, err := strList(m[k])
		if err != nil {
			return nil, err
		}
		for _, v := range vals {
			// A wildcard may only stand for everything, never part of a name.
			bad := v == "" || (v != "*" && strings.ContainsAny(v, "*?"))
			if k == "AWS" && !bad && v != "*" && !isAccountID(v) && !strings.HasPrefix(v, "arn:") {
				bad = true
			}
			if bad {
				return nil, invalid(fmt.Sprintf("%q:%q", k, v))
			}
		}
		switch k {
		case "AWS":
			p.AWS = vals
		case "Service":
			p.Service = vals
		case "Federated":
			p.Federated = vals
		default:
			return nil, invalid(fmt.Sprintf("%q", k))
		}
	}
	return p, nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	return strings.Trim(s, "0123456789") == ""
}

// lead returns the first significant byte of a JSON value; it tells strings,
// lists, objects and literals apart without the null-into-string trap.
func lead(raw []byte) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

func object(raw []byte) (map[string]json.RawMessage, error) {
	if lead(raw) != '{' {
		return nil, fmt.Errorf("expected a JSON object")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("decode object: %w", err)
	}
	return m, nil
}

func str(raw json.RawMessage) (string, error) {
	if lead(raw) != '"' {
		return "", fmt.Errorf("expected a string")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("decode string: %w", err)
	}
	return s, nil
}

// strList accepts the single-string shorthand AWS allows for list elements.
func strList(raw json.RawMessage) ([]string, error) {
	if lead(raw) == '"' {
		s, err := str(raw)
		if err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	if lead(raw) != '[' {
		return nil, fmt.Errorf("expected a string or a list of strings")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("decode list: %w", err)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, err := str(it)
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
