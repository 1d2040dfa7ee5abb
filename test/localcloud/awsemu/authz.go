package awsemu

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/nodewright/nodewright/test/localcloud/iameval"
)

// Authorization: after a request authenticates, every resource the action
// is authorized against (authzRules, from the Service Authorization
// Reference) is evaluated with the caller's policies by iameval, as AWS's
// policy evaluation logic describes. The administrator is not evaluated.

// authzCheck is one action authorized against some resources. A request
// may need several: RunInstances also needs iam:PassRole for its instance
// profile's role, and ec2:CreateTags for the tags it creates.
type authzCheck struct {
	action    string
	resources []authzResource
}

// authzResource is a resource ARN with the condition keys that belong to
// it: its tags (aws:ResourceTag), the tags requested for it at creation
// (aws:RequestTag, aws:TagKeys), and the like.
type authzResource struct {
	arn  string
	keys map[string][]string
	// policy is the resource's own policy (a queue policy, a role's trust
	// policy), evaluated with the caller's.
	policy     string
	policyKind iameval.Kind
}

// authzRule lists what a request must be authorized for.
type authzRule func(s *Server, c *Call) []authzCheck

func check(action string, resources ...authzResource) []authzCheck {
	return []authzCheck{{action: action, resources: resources}}
}

// anyResource is an action with no resource-level permissions: AWS
// authorizes it against "*".
func anyResource(action string) authzRule {
	return func(*Server, *Call) []authzCheck { return check(action, authzResource{arn: "*"}) }
}

// authorize refuses the call unless the caller may make it.
func (s *Server) authorize(c *Call) *Error {
	if c.Caller == nil {
		return nil
	}
	key := c.Service + ":" + c.Action
	rule, ok := authzRules[key]
	if !ok {
		return Errorf(500, "InternalFailure", "the local cloud has no authorization rule for %s; add it to authzRules", key)
	}
	base := s.callerContext(c)
	identity := s.policySet(c.Caller)
	for _, chk := range rule(s, c) {
		for _, res := range chk.resources {
			// The administrator's identity allows everything; only a
			// resource's own policy (a trust policy, a queue policy's deny)
			// can still refuse it.
			if c.Caller.Admin && res.policy == "" {
				continue
			}
			req := iameval.Request{Principal: c.Caller.ARN, PrincipalAccount: AccountID, Action: chk.action, Resource: res.arn, Context: base}
			if len(res.keys) > 0 {
				req.Context = make(map[string][]string, len(base)+len(res.keys))
				for k, v := range base {
					req.Context[k] = v
				}
				for k, v := range res.keys {
					req.Context[k] = v
				}
			}
			set := identity
			if res.policy != "" {
				if p, err := s.parsedPolicy(res.policy, res.policyKind); err == nil {
					set.Resource = &iameval.NamedPolicy{Name: "resource policy", Policy: p}
				}
				set.TrustEvaluation = res.policyKind == iameval.TrustPolicy
			}
			r := iameval.Evaluate(req, set)
			if r.Decision != iameval.Allow {
				s.log.Info("request refused: not authorized", "caller", c.Caller.ARN, "action", chk.action, "resource", res.arn, "decision", r.Decision.String())
				return s.accessDenied(c, req, r)
			}
		}
	}
	return nil
}

// callerContext is the request's global condition keys.
func (s *Server) callerContext(c *Call) map[string][]string {
	now := s.clock.Now().UTC()
	ctx := map[string][]string{
		"aws:RequestedRegion":  {c.Region},
		"aws:PrincipalArn":     {c.Caller.ARN},
		"aws:PrincipalAccount": {AccountID},
		"aws:userid":           {c.Caller.UserID},
		"aws:CurrentTime":      {now.Format("2006-01-02T15:04:05Z")},
		"aws:EpochTime":        {strconv.FormatInt(now.Unix(), 10)},
		// Clients reach AWS over TLS; the loopback endpoint is the one
		// local difference, so policies that require TLS still apply.
		"aws:SecureTransport": {"true"},
	}
	var tags []IAMTag
	switch {
	case c.Caller.User != nil:
		ctx["aws:username"] = []string{c.Caller.User.Name}
		ctx["aws:PrincipalType"] = []string{"User"}
		tags = c.Caller.User.Tags
	case c.Caller.Role != nil:
		// For a role session aws:PrincipalArn is the role's ARN.
		ctx["aws:PrincipalArn"] = []string{c.Caller.Role.ARN}
		ctx["aws:PrincipalType"] = []string{"AssumedRole"}
		tags = c.Caller.Role.Tags
	}
	for _, t := range tags {
		ctx["aws:PrincipalTag/"+t.Key] = []string{t.Value}
	}
	if c.Caller.Session != nil {
		for k, v := range c.Caller.Session.Tags {
			ctx["aws:PrincipalTag/"+k] = []string{v}
		}
	}
	return ctx
}

// policySet gathers the caller's identity policies, boundary and session
// policy.
func (s *Server) policySet(caller *Caller) iameval.PolicySet {
	var set iameval.PolicySet
	var attached []string
	var inline map[string]string
	var boundary string
	switch {
	case caller.Admin:
		attached = []string{"arn:aws:iam::aws:policy/AdministratorAccess"}
	case caller.User != nil:
		attached, inline, boundary = caller.User.AttachedPolicies, caller.User.InlinePolicies, caller.User.PermissionsBoundary
	case caller.Role != nil:
		attached, inline, boundary = caller.Role.AttachedPolicies, caller.Role.InlinePolicies, caller.Role.PermissionsBoundary
	}
	for _, arn := range attached {
		if p := s.managedPolicy(arn); p != nil {
			set.Identity = append(set.Identity, iameval.NamedPolicy{Name: arn, Policy: p})
		}
	}
	for name, doc := range inline {
		if p, err := s.parsedPolicy(doc, iameval.IdentityPolicy); err == nil {
			set.Identity = append(set.Identity, iameval.NamedPolicy{Name: name, Policy: p})
		}
	}
	if boundary != "" {
		// A boundary that no longer resolves allows nothing.
		p := s.managedPolicy(boundary)
		if p == nil {
			p = &iameval.Policy{}
		}
		set.Boundary = &iameval.NamedPolicy{Name: boundary, Policy: p}
	}
	if caller.Session != nil && caller.Session.SessionPolicy != "" {
		if p, err := s.parsedPolicy(caller.Session.SessionPolicy, iameval.IdentityPolicy); err == nil {
			set.Session = []iameval.NamedPolicy{{Name: "session policy", Policy: p}}
		}
	}
	return set
}

// managedPolicy is the default version of a managed policy, parsed.
func (s *Server) managedPolicy(arn string) *iameval.Policy {
	mp, _, err := s.world.IAM.policy(arn)
	if err != nil {
		return nil
	}
	v := mp.version(mp.DefaultVersion)
	if v == nil {
		return nil
	}
	p, perr := s.parsedPolicy(v.Document, iameval.IdentityPolicy)
	if perr != nil {
		return nil
	}
	return p
}

// parsedPolicy parses a document once; documents are immutable strings,
// so the cache never goes stale.
func (s *Server) parsedPolicy(doc string, kind iameval.Kind) (*iameval.Policy, error) {
	key := strconv.Itoa(int(kind)) + doc
	if p, ok := s.policies[key]; ok {
		return p, nil
	}
	p, err := iameval.Parse(doc, kind)
	if err != nil {
		return nil, err
	}
	if len(s.policies) > 10000 {
		clear(s.policies)
	}
	s.policies[key] = p
	return p, nil
}

// accessDenied words a refusal as the service does. EC2 encodes the
// details in a message only STS DecodeAuthorizationMessage reads.
func (s *Server) accessDenied(c *Call, req iameval.Request, r iameval.Result) *Error {
	msg := r.AccessDeniedMessage(req)
	switch {
	case c.proto == protoEC2Query:
		token := s.encodeAuthorization(req, r)
		return Errorf(403, "UnauthorizedOperation", "You are not authorized to perform this operation. %s. Encoded authorization failure message: %s", msg, token)
	case c.proto == protoQuery || c.Service == "sqs":
		return Errorf(403, "AccessDenied", "%s", msg)
	case c.proto == protoRESTJSON:
		return Errorf(403, "AccessDeniedException", "%s", msg)
	}
	return Errorf(400, "AccessDeniedException", "%s", msg)
}

// DecodedAuthorization is what DecodeAuthorizationMessage returns: whether
// the request was allowed, whether an explicit deny decided, the statements
// that decided, and the request's context.
type DecodedAuthorization struct {
	Allowed           bool              `json:"allowed"`
	ExplicitDeny      bool              `json:"explicitDeny"`
	MatchedStatements decodedStatements `json:"matchedStatements"`
	Failures          decodedFailures   `json:"failures"`
	Context           decodedContext    `json:"context"`
}

type decodedStatements struct {
	Items []decodedStatement `json:"items"`
}

type decodedStatement struct {
	StatementID string `json:"statementId"`
	Policy      string `json:"policy"`
	Effect      string `json:"effect"`
}

type decodedFailures struct {
	Items []string `json:"items"`
}

type decodedContext struct {
	Principal  map[string]string `json:"principal"`
	Action     string            `json:"action"`
	Resource   string            `json:"resource"`
	Conditions decodedConditions `json:"conditions"`
}

type decodedConditions struct {
	Items []decodedCondition `json:"items"`
}

type decodedCondition struct {
	Key    string `json:"key"`
	Values struct {
		Items []map[string]string `json:"items"`
	} `json:"values"`
}

// encodeAuthorization keeps the decoded form and returns an opaque token
// for it, as AWS's encoded messages are opaque to the caller.
func (s *Server) encodeAuthorization(req iameval.Request, r iameval.Result) string {
	d := DecodedAuthorization{
		ExplicitDeny: r.Decision == iameval.ExplicitDeny,
		Failures:     decodedFailures{Items: []string{r.Reason}},
		Context:      decodedContext{Principal: map[string]string{"arn": req.Principal}, Action: req.Action, Resource: req.Resource},
	}
	for _, m := range r.Deciding {
		effect := "ALLOW"
		if r.Decision == iameval.ExplicitDeny {
			effect = "DENY"
		}
		d.MatchedStatements.Items = append(d.MatchedStatements.Items, decodedStatement{StatementID: m.Sid, Policy: m.Policy, Effect: effect})
	}
	keys := make([]string, 0, len(req.Context))
	for k := range req.Context {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		dc := decodedCondition{Key: k}
		for _, v := range req.Context[k] {
			dc.Values.Items = append(dc.Values.Items, map[string]string{"value": v})
		}
		d.Context.Conditions.Items = append(d.Context.Conditions.Items, dc)
	}
	data, _ := json.Marshal(d)
	var b [24]byte
	_, _ = rand.Read(b[:])
	token := strings.ToUpper(hex.EncodeToString(b[:]))
	if len(s.world.STS.Denials) >= 1000 {
		clear(s.world.STS.Denials)
	}
	s.world.STS.Denials[token] = string(data)
	s.dirty = true
	return token
}
