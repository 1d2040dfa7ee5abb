package iameval

import "fmt"

// Request is one authorization question.
type Request struct {
	// Principal is the caller's ARN (arn:aws:iam::ACCT:user/NAME,
	// arn:aws:sts::ACCT:assumed-role/ROLE/SESSION, arn:aws:iam::ACCT:root,
	// arn:aws:sts::ACCT:federated-user/NAME), a service principal such as
	// "pods.eks.amazonaws.com", or a federated identity provider's ARN.
	Principal string
	// PrincipalAccount overrides the account read from Principal.
	PrincipalAccount string
	Action           string // "ec2:RunInstances"
	Resource         string // an ARN, or "*" for actions that take no resource
	// Context holds the condition keys with one or more values each. Key
	// names match without regard to case; an absent key (or one with no
	// values) is not present in the request. Global keys such as
	// aws:username are not derived from Principal: the caller supplies them.
	Context map[string][]string
}

// Decision is the outcome of an evaluation.
type Decision int

// The three outcomes AWS distinguishes.
const (
	ImplicitDeny Decision = iota
	Allow
	ExplicitDeny
)

func (d Decision) String() string {
	if names := []string{"ImplicitDeny", "Allow", "ExplicitDeny"}; d >= 0 && int(d) < len(names) {
		return names[d]
	}
	return fmt.Sprintf("Decision(%d)", int(d))
}

// Match names a statement that took part in a decision.
type Match struct {
	Policy string // NamedPolicy.Name, or Policy.ID for (*Policy).Evaluate
	Sid    string
	Index  int // position of the statement in the policy
}

// NamedPolicy is a policy with the name used for it in Match.
type NamedPolicy struct {
	Name   string
	Policy *Policy
}

// PolicySet is everything that applies to one request in one account.
type PolicySet struct {
	Identity []NamedPolicy // managed and inline policies of the user or role, group policies included
	Boundary *NamedPolicy  // permissions boundary; nil means none
	Session  []NamedPolicy // session policies; empty means none
	Resource *NamedPolicy  // resource-based policy (queue policy, role trust policy); nil means none
	// TrustEvaluation marks an sts:AssumeRole* or sts:TagSession request
	// checked against the role's trust policy (in Resource). The trust
	// policy must then allow the caller, unlike other resource policies.
	// When it names the caller (or "*") that is enough; when it names only
	// the caller's account, the caller's identity policies must allow the
	// action too, as the AssumeRole reference describes for one account.
	TrustEvaluation bool
}

// Result is the decision with what decided it.
type Result struct {
	Decision Decision
	Deciding []Match // the explicit denies, or the allows that decided; nil for an implicit deny
	// Reason completes AWS's AccessDenied wording, e.g. "no identity-based
	// policy allows the ec2:RunInstances action" or "an explicit deny in a
	// resource-based policy". Empty when allowed.
	Reason string
}

// AccessDeniedMessage words a denial the way AWS's AccessDenied errors do.
func (r Result) AccessDeniedMessage(req Request) string {
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s", req.Principal, req.Action)
	if req.Resource != "" && req.Resource != "*" {
		msg += " on resource: " + req.Resource
	}
	switch {
	case r.Decision == ExplicitDeny:
		return msg + " with " + r.Reason
	case r.Decision == ImplicitDeny && r.Reason != "":
		return msg + " because " + r.Reason
	}
	return msg
}

type hit struct {
	match Match
	grant grant
}

// scan returns the statements of one policy that apply to the request.
// denyNotPrincipal makes Deny statements with NotPrincipal apply whatever
// they name: AWS documents that they always deny a principal that has a
// permissions boundary.
func scan(np NamedPolicy, req Request, ec *evalCtx, c caller, denyNotPrincipal bool) (denies, allows []hit) {
	if np.Policy == nil {
		return nil, nil
	}
	vars := np.Policy.Version == Version2012
	for i := range np.Policy.Statements {
		s := &np.Policy.Statements[i]
		g := s.principalGrant(c)
		if denyNotPrincipal && s.Effect == EffectDeny && s.NotPrincipal != nil {
			g = grantDirect
		}
		if g == grantNone || !s.applies(req, ec, vars) {
			continue
		}
		h := hit{Match{Policy: np.Name, Sid: s.Sid, Index: i}, g}
		if s.Effect == EffectDeny {
			denies = append(denies, h)
		} else if s.Effect == EffectAllow {
			allows = append(allows, h)
		}
	}
	return denies, allows
}

// applies checks action, resource and conditions; the principal is checked
// by the caller of applies. A statement with neither Action nor NotAction
// (only possible when built by hand) applies to nothing.
func (s *Statement) applies(req Request, ec *evalCtx, vars bool) bool {
	switch {
	case s.Action != nil:
		if !anyOf(s.Action, func(p string) bool { return actionMatches(p, req.Action) }) {
			return false
		}
	case s.NotAction != nil:
		if anyOf(s.NotAction, func(p string) bool { return actionMatches(p, req.Action) }) {
			return false
		}
	default:
		return false
	}
	resMatch := func(p string) bool { return ec.resourceMatches(p, req.Resource, vars) }
	switch {
	case s.Resource != nil && !anyOf(s.Resource, resMatch):
		return false
	case s.NotResource != nil && anyOf(s.NotResource, resMatch):
		return false
	}
	for i := range s.Condition {
		if !s.Condition[i].eval(ec, vars) {
			return false
		}
	}
	return true
}

func anyOf(list []string, f func(string) bool) bool {
	for _, v := range list {
		if f(v) {
			return true
		}
	}
	return false
}

func matches(hits []hit) []Match {
	var out []Match
	for _, h := range hits {
		out = append(out, h.match)
	}
	return out
}

// Evaluate decides one request for a single policy document: an applicable
// Deny wins, then an applicable Allow, else the request is implicitly
// denied. Principal and NotPrincipal are checked against req.Principal.
func (p *Policy) Evaluate(req Request) Result {
	denies, allows := scan(NamedPolicy{Name: p.ID, Policy: p}, req, newEvalCtx(req.Context), parseCaller(req.Principal, req.PrincipalAccount), false)
	switch {
	case len(denies) > 0:
		return Result{Decision: ExplicitDeny, Deciding: matches(denies), Reason: "an explicit deny in the policy"}
	case len(allows) > 0:
		return Result{Decision: Allow, Deciding: matches(allows)}
	}
	return Result{Decision: ImplicitDeny, Reason: fmt.Sprintf("no statement allows the %s action", req.Action)}
}

// Evaluate decides a request against every policy that applies to it,
// following AWS's logic for one account:
//
//  1. An applicable Deny in any policy is final.
//  2. The root user is allowed everything else, but may not assume roles.
//  3. A resource-based Allow that names the caller itself (a user, a role
//     session, a federated user, a service, or "*") is enough on its own.
//  4. Otherwise an identity-based Allow is needed, or a resource-based Allow
//     naming the caller's role; an Allow that names only the account
//     delegates to the identity policies and adds nothing. A trust
//     evaluation also needs the trust policy to allow.
//  5. A permissions boundary and session policies, when present, must also
//     allow; a federated user session without session policies has no
//     permissions.
func Evaluate(req Request, set PolicySet) Result {
	ec := newEvalCtx(req.Context)
	c := parseCaller(req.Principal, req.PrincipalAccount)
	var denies []Match
	var reason string
	run := func(list []NamedPolicy, what string, denyNotPrincipal bool) []hit {
		var allows []hit
		for _, np := range list {
			d, a := scan(np, req, ec, c, denyNotPrincipal)
			if len(d) > 0 && reason == "" {
				reason = "an explicit deny in " + what
			}
			denies = append(denies, matches(d)...)
			allows = append(allows, a...)
		}
		return allows
	}
	one := func(np *NamedPolicy) []NamedPolicy {
		if np == nil {
			return nil
		}
		return []NamedPolicy{*np}
	}
	idAllows := run(set.Identity, "an identity-based policy", false)
	boundAllows := run(one(set.Boundary), "a permissions boundary", false)
	sessAllows := run(set.Session, "a session policy", false)
	resAllows := run(one(set.Resource), "a resource-based policy", set.Boundary != nil)
	if len(denies) > 0 {
		return Result{Decision: ExplicitDeny, Deciding: denies, Reason: reason}
	}
	notAllowed := func(layer string) Result {
		return Result{Decision: ImplicitDeny, Reason: fmt.Sprintf("no %s allows the %s action", layer, req.Action)}
	}
	if c.kind == callerRoot {
		if set.TrustEvaluation {
			return Result{Decision: ImplicitDeny, Reason: "roles may not be assumed by root accounts"}
		}
		return Result{Decision: Allow}
	}
	best := grantNone
	for _, h := range resAllows {
		best = max(best, h.grant)
	}
	pick := func(g grant) []Match {
		var out []Match
		for _, h := range resAllows {
			if h.grant == g {
				out = append(out, h.match)
			}
		}
		return out
	}
	switch {
	case best == grantDirect:
		return Result{Decision: Allow, Deciding: pick(grantDirect)}
	case !c.isIAM():
		// Services and identity providers have no identity-based policies.
		return notAllowed("resource-based policy")
	case set.TrustEvaluation && best == grantNone:
		return notAllowed("resource-based policy")
	case best != grantRole && len(idAllows) == 0:
		return notAllowed("identity-based policy")
	}
	deciding := append(pick(grantRole), matches(idAllows)...)
	if set.TrustEvaluation {
		deciding = append(pick(grantAccount), deciding...)
	}
	if set.Boundary != nil {
		if len(boundAllows) == 0 {
			return notAllowed("permissions boundary")
		}
		deciding = append(deciding, matches(boundAllows)...)
	}
	if len(set.Session) > 0 || c.kind == callerFedUser {
		if len(sessAllows) == 0 {
			return notAllowed("session policy")
		}
		deciding = append(deciding, matches(sessAllows)...)
	}
	return Result{Decision: Allow, Deciding: deciding}
}
