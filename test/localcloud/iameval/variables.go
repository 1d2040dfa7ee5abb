package iameval

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// pchar is one element of a match pattern. Keeping wildcards apart from
// literal characters lets ${*} and substituted values carry a literal '*'.
type pchar struct {
	r    rune
	kind uint8
}

const (
	litChar uint8 = iota
	anyRun        // '*'
	anyOne        // '?'
)

// rawPattern reads '*' and '?' in s as wildcards and everything else as is.
func rawPattern(s string) []pchar {
	out := make([]pchar, 0, len(s))
	for _, r := range s {
		out = append(out, wildOrLit(r))
	}
	return out
}

func wildOrLit(r rune) pchar {
	switch r {
	case '*':
		return pchar{kind: anyRun}
	case '?':
		return pchar{kind: anyOne}
	}
	return pchar{r: r}
}

func appendLiteral(out []pchar, s string) []pchar {
	for _, r := range s {
		out = append(out, pchar{r: r})
	}
	return out
}

// patText spells a pattern back as a string, wildcards as '*' and '?'.
func patText(p []pchar) string {
	var b strings.Builder
	for _, c := range p {
		switch c.kind {
		case anyRun:
			b.WriteByte('*')
		case anyOne:
			b.WriteByte('?')
		default:
			b.WriteRune(c.r)
		}
	}
	return b.String()
}

// evalCtx is the request context with key names folded to lower case:
// AWS matches context key names, tag keys in aws:RequestTag/ and
// aws:ResourceTag/ included, without regard to case.
type evalCtx struct {
	keys map[string][]string
}

func newEvalCtx(ctx map[string][]string) *evalCtx {
	names := make([]string, 0, len(ctx))
	for k := range ctx {
		names = append(names, k)
	}
	// When two keys differ only in case, the first in sorted order wins so
	// the outcome does not depend on map iteration.
	sort.Strings(names)
	ec := &evalCtx{keys: make(map[string][]string, len(ctx))}
	for _, k := range names {
		lk := strings.ToLower(k)
		if _, dup := ec.keys[lk]; !dup {
			ec.keys[lk] = ctx[k]
		}
	}
	return ec
}

// lookup reports a key with no values as absent.
func (ec *evalCtx) lookup(key string) ([]string, bool) {
	v := ec.keys[strings.ToLower(key)]
	return v, len(v) > 0
}

// policyValues prepares condition values. A value whose variable cannot be
// resolved is dropped: it matches no request value, so it neither satisfies
// a positive operator nor excludes anything for a negated one.
func (ec *evalCtx) policyValues(vals []string, vars bool) []policyValue {
	out := make([]policyValue, 0, len(vals))
	for _, v := range vals {
		if !vars {
			out = append(out, policyValue{text: v, pat: rawPattern(v)})
			continue
		}
		if pat, ok := ec.expand(v); ok {
			out = append(out, policyValue{text: patText(pat), pat: pat})
		}
	}
	return out
}

// expand substitutes ${...} policy variables. Substituted text is literal;
// the rest of s keeps its wildcards. ok is false when a variable names a key
// that is absent (or multivalued) and has no default.
func (ec *evalCtx) expand(s string) (pat []pchar, ok bool) {
	out := make([]pchar, 0, len(s))
	for len(s) > 0 {
		if strings.HasPrefix(s, "${") {
			if end := strings.IndexByte(s, '}'); end > 0 {
				val, ok := ec.variable(s[2:end])
				if !ok {
					return nil, false
				}
				out = appendLiteral(out, val)
				s = s[end+1:]
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(s)
		out = append(out, wildOrLit(r))
		s = s[size:]
	}
	return out, true
}

// variable resolves the inside of ${...}: the escapes *, ? and $, or a
// context key with an optional default written as "key, 'default'".
func (ec *evalCtx) variable(inner string) (string, bool) {
	switch inner {
	case "*", "?", "$":
		return inner, true
	}
	key, def, hasDef := strings.Cut(inner, ",")
	key = strings.TrimSpace(key)
	if hasDef {
		def = strings.TrimSpace(def)
		if len(def) < 2 || def[0] != '\'' || def[len(def)-1] != '\'' {
			return "", false
		}
		def = def[1 : len(def)-1]
	}
	// Multivalued keys cannot serve as variables, AWS says.
	if v, _ := ec.lookup(key); len(v) == 1 {
		return v[0], true
	}
	return def, hasDef
}
