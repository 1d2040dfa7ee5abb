package iameval

import (
	"slices"
	"strings"
	"sync"
)

// glob matches s against p, where '*' spans any run of characters and '?'
// exactly one. It backtracks only to the last star, so it runs in
// O(len(p)*len(s)) at worst, whatever the pattern.
func glob(p []pchar, str string) bool {
	s := []rune(str)
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi].kind == anyOne || (p[pi].kind == litChar && p[pi].r == s[si])):
			pi++
			si++
		case pi < len(p) && p[pi].kind == anyRun:
			star, mark = pi, si
			pi++
		case star >= 0:
			mark++
			pi, si = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi].kind == anyRun {
		pi++
	}
	return pi == len(p)
}

// splitARN cuts a pattern into the six ARN fields; the last (the resource)
// keeps any further colons. Fewer than six fields means "not an ARN".
func splitARN(p []pchar) [][]pchar {
	var parts [][]pchar
	start := 0
	for i, c := range p {
		if len(parts) == 5 {
			break
		}
		if c.kind == litChar && c.r == ':' {
			parts = append(parts, p[start:i])
			start = i + 1
		}
	}
	return append(parts, p[start:])
}

// arnGlob matches an ARN field by field, so a wildcard in the region or
// account cannot reach into the next field, as ArnLike is documented to do.
// A pattern or value that is not ARN-shaped is globbed whole instead.
func arnGlob(parts [][]pchar, arn string) bool {
	fields := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || len(fields) < 6 {
		var whole []pchar
		for i, part := range parts {
			if i > 0 {
				whole = append(whole, pchar{r: ':'})
			}
			whole = append(whole, part...)
		}
		return glob(whole, arn)
	}
	for i := range 6 {
		if !glob(parts[i], fields[i]) {
			return false
		}
	}
	return true
}

// actionMatches compares "service:Action" patterns without regard to case,
// keeping a wildcard in the service prefix out of the action name.
func actionMatches(pattern, action string) bool {
	if pattern == "*" {
		return true
	}
	// Most patterns name one action: no glob needed.
	if !strings.ContainsAny(pattern, "*?") {
		return strings.EqualFold(pattern, action)
	}
	pattern, action = strings.ToLower(pattern), strings.ToLower(action)
	ps, pn, ok1 := strings.Cut(pattern, ":")
	as, an, ok2 := strings.Cut(action, ":")
	if !ok1 || !ok2 {
		return glob(rawPattern(pattern), action)
	}
	return glob(rawPattern(ps), as) && glob(rawPattern(pn), an)
}

// compiledARNs caches Resource patterns split into fields: a policy's
// patterns are few and evaluated on every request. The cached slices are
// never written; substitution works on a copy.
var compiledARNs sync.Map

// resourceMatches applies one Resource entry. Variables are substituted only
// in the resource field, the part after the fifth colon, as AWS documents.
func (ec *evalCtx) resourceMatches(pattern, resource string, vars bool) bool {
	if pattern == "*" {
		return true
	}
	if !strings.ContainsAny(pattern, "*?$") {
		return pattern == resource
	}
	var parts [][]pchar
	if cached, ok := compiledARNs.Load(pattern); ok {
		parts = cached.([][]pchar)
	} else {
		parts = splitARN(rawPattern(pattern))
		compiledARNs.Store(pattern, parts)
	}
	if vars && len(parts) == 6 && strings.Contains(pattern, "${") {
		parts = slices.Clone(parts)
		_, tail, _ := strings.Cut(pattern, ":")
		for range 4 {
			_, tail, _ = strings.Cut(tail, ":")
		}
		last, ok := ec.expand(tail)
		if !ok {
			return false
		}
		parts[5] = last
	}
	return arnGlob(parts, resource)
}

// callerKind classifies Request.Principal.
type callerKind int

const (
	callerOther       callerKind = iota // service principal, identity provider, anonymous
	callerRoot                          // arn:aws:iam::ACCT:root
	callerUser                          // arn:aws:iam::ACCT:user/NAME
	callerRole                          // arn:aws:iam::ACCT:role/NAME, only as an identity in a chain
	callerRoleSession                   // arn:aws:sts::ACCT:assumed-role/ROLE/SESSION
	callerFedUser                       // arn:aws:sts::ACCT:federated-user/NAME
)

type caller struct {
	arn, partition, account, roleName string
	kind                              callerKind
}

func parseCaller(arn, account string) caller {
	c := caller{arn: arn, account: account}
	f := strings.SplitN(arn, ":", 6)
	if len(f) < 6 || f[0] != "arn" {
		return c
	}
	c.partition = f[1]
	if c.account == "" {
		c.account = f[4]
	}
	res := f[5]
	switch {
	case f[2] == "iam" && res == "root":
		c.kind = callerRoot
	case f[2] == "iam" && strings.HasPrefix(res, "user/"):
		c.kind = callerUser
	case f[2] == "iam" && strings.HasPrefix(res, "role/"):
		c.kind = callerRole
		c.roleName = res[strings.LastIndexByte(res, '/')+1:]
	case f[2] == "sts" && strings.HasPrefix(res, "assumed-role/"):
		c.kind = callerRoleSession
		c.roleName, _, _ = strings.Cut(strings.TrimPrefix(res, "assumed-role/"), "/")
	case f[2] == "sts" && strings.HasPrefix(res, "federated-user/"):
		c.kind = callerFedUser
	}
	return c
}

// isIAM reports whether identity-based policies, boundaries and session
// policies can apply to the caller at all.
func (c caller) isIAM() bool { return c.kind != callerOther }

// identities lists the caller and the principals it is nested in. AWS may
// check NotPrincipal against each (account, role, session), which is why
// its documentation says to list the account and role next to a session.
func (c caller) identities() []caller {
	root := func() caller {
		return parseCaller("arn:"+c.partition+":iam::"+c.account+":root", c.account)
	}
	switch c.kind {
	case callerUser, callerFedUser:
		return []caller{c, root()}
	case callerRoleSession:
		role := parseCaller("arn:"+c.partition+":iam::"+c.account+":role/"+c.roleName, c.account)
		return []caller{c, role, root()}
	}
	return []caller{c}
}

// grant ranks how a resource-based statement named the caller; it decides
// which implicit denies the statement's Allow can override.
type grant int

const (
	grantNone    grant = iota
	grantAccount       // the caller's account: delegates to identity policies
	grantRole          // the caller's role, not the session: boundary and session policies still apply
	grantDirect        // the caller itself, or everyone
)

func (p *Principals) grantTo(c caller) grant {
	if p.All {
		return grantDirect
	}
	best := grantNone
	for _, e := range p.AWS {
		best = max(best, awsEntryGrant(e, c))
	}
	for _, e := range append(append([]string{}, p.Service...), p.Federated...) {
		if e == "*" || e == c.arn {
			best = grantDirect
		}
	}
	return best
}

func awsEntryGrant(entry string, c caller) grant {
	if entry == "*" {
		return grantDirect
	}
	if entry == c.arn && c.arn != "" {
		return grantDirect
	}
	// An account (bare id or its root ARN) stands for every IAM principal
	// in it, not just the root user.
	e := parseCaller(entry, "")
	if (isAccountID(entry) || e.kind == callerRoot) && c.isIAM() {
		acct := entry
		if e.kind == callerRoot {
			acct = e.account
		}
		if acct == c.account {
			return grantAccount
		}
	}
	// A role ARN (with or without a path) covers every session of the role;
	// session ARNs carry only the role name.
	if e.kind == callerRole && e.account == c.account && e.roleName == c.roleName {
		switch c.kind {
		case callerRoleSession:
			return grantRole
		case callerRole:
			return grantDirect
		}
	}
	return grantNone
}

// principalGrant says how a statement's Principal or NotPrincipal applies
// to the caller. Statements with neither (identity policies) apply to it.
func (s *Statement) principalGrant(c caller) grant {
	switch {
	case s.Principal != nil:
		return s.Principal.grantTo(c)
	case s.NotPrincipal != nil:
		for _, id := range c.identities() {
			if !s.NotPrincipal.names(id) {
				return grantDirect
			}
		}
		return grantNone
	}
	return grantDirect
}

// names is NotPrincipal's test, stricter than grantTo: an account entry
// names only the account itself, so the documented pattern of listing a user
// together with its account still applies the statement to everyone else in
// that account.
func (p *Principals) names(id caller) bool {
	if p.All {
		return true
	}
	for _, e := range p.AWS {
		if e == "*" || e == id.arn || (id.kind == callerRoot && e == id.account) {
			return true
		}
		if id.kind == callerRole && awsEntryGrant(e, id) == grantDirect {
			return true
		}
	}
	for _, e := range append(append([]string{}, p.Service...), p.Federated...) {
		if e == "*" || e == id.arn {
			return true
		}
	}
	return false
}
